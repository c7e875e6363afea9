/**
 * Test support: the same guest recorded by a real QEMU (Debian's 7.2, or 10.0 from
 * bookworm-backports: `-icount shift=0,sleep=off,rr=record` with `-trace 'qemu_mutex_*'`) and by
 * Rewind following that version, reduced to what the two can be compared on: per thread role and
 * lock, the acquisitions; the replay log's events (kind and icount).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine } from '../../emulator/machine/machine';
import type { QemuVersion } from '../../emulator/machine/qemuVersion';
import type { LockOp } from '../../emulator/threads/lockOp';
import { qemuThreadRoles, readQemuMutexTrace, ThreadSiteCounts } from '../../emulator/trace/qemuMutexTrace';
import { decodeQemuReplayLog } from '../../emulator/trace/qemuReplayLog';
import { QEMU } from './qemu';

export type Role = 'main-loop' | 'vcpu' | 'rcu';

/**
 * QEMU's mutexes other than the BQL and the replay mutex, recognised by the file that takes
 * them (addresses change from run to run): the name Rewind's traces give the same lock.
 */
const OTHER_LOCKS: [RegExp, string][] = [
  [/^util\/qemu-timer\.c:/, 'timer-list'],
  [/^chardev\/char\.c:/, 'chr_write_lock'],
  [/^tcg\/region\.c:/, 'tb-region'],
  // cpu->work_mutex (process_queued_cpu_work); cpus-common.c's other mutex is the CPU list lock.
  [/^cpus-common\.c:(3[2-6]\d)$/, 'cpu-work'],
  [/^softmmu\/runstate\.c:24\d$/, 'vmstop_lock'],
  // QEMU 10.0's names for the same two.
  [/^cpu-common\.c:(3[4-8]\d)$/, 'cpu-work'],
  [/^system\/runstate\.c:27\d$/, 'vmstop_lock'],
];

/** A QEMU to compare with: its binary, the environment it runs in, the version Rewind follows for it. */
export interface QemuUnderTest { bin: string; env?: NodeJS.ProcessEnv; version: QemuVersion }
export const QEMU_7_2: QemuUnderTest = { bin: QEMU, version: '7.2' };

export interface GuestLocks {
  instructions: number;
  /** role -> lock -> acquisitions. */
  acquisitions: Record<Role, Record<string, number>>;
  /** Per role, the ops in order (lock, action, site) — for the ordering checks. */
  ops: Record<Role, { lock: string; action: string; site: string }[]>;
}

export interface GuestEvents {
  /** Event names with their icounts, in log order. */
  events: { name: string; icount: number }[];
}

function otherLock(site: string): string | undefined {
  for (const [re, name] of OTHER_LOCKS) if (re.test(site)) return name;
  return undefined;
}

function emptyRoles<T>(make: () => T): Record<Role, T> {
  return { 'main-loop': make(), vcpu: make(), rcu: make() };
}

/** Records `elf` with QEMU; returns the decoded mutex trace and replay log. */
export function recordWithQemu(elf: string, exitCode = 0, qemu: QemuUnderTest = QEMU_7_2): { locks: GuestLocks; events: GuestEvents } {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-parity-'));
  try {
    const log = path.join(work, 'rec.bin');
    const trace = path.join(work, 'trace.log');
    // -audio none: 10.0 otherwise probes every audio module at start-up (and reports those it cannot load).
    const args = ['-machine', 'virt', '-bios', 'none', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-net', 'none',
      ...(qemu.version === '7.2' ? [] : ['-audio', 'none']),
      '-icount', `shift=0,sleep=off,rr=record,rrfile=${log}`, '-msg', 'timestamp=on', '-trace', 'qemu_mutex_*', '-D', trace, '-kernel', elf];
    const r = spawnSync(qemu.bin, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000, env: qemu.env ?? process.env });
    if (r.error) throw new Error(`${qemu.bin}: ${r.error.message}`);
    if (r.status !== exitCode) throw new Error(`${qemu.bin} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    const replay = decodeQemuReplayLog(fs.readFileSync(log));
    const events = replay.events.map((e) => ({ name: e.name, icount: e.icount }));

    // Pass 1: the ops by thread id; roles come from the sites (qemuThreadRoles).
    const byThread = new Map<string, { lock: string; action: string; site: string }[]>();
    const counts: Record<string, ThreadSiteCounts> = {};
    const renames = new Map<string, string>();
    readQemuMutexTrace(trace, {
      op: (o) => {
        let list = byThread.get(o.thread);
        if (!list) byThread.set(o.thread, (list = []));
        list.push({ lock: o.lock, action: o.action, site: o.site });
      },
      rename: (address, name) => { renames.set(address, name); },
    });
    for (const [t, list] of byThread) {
      for (const o of list) {
        o.lock = renames.get(o.lock) ?? o.lock;
        if (o.action !== 'acquired' || (o.lock !== 'bql' && o.lock !== 'replay')) continue;
        const c = (counts[o.lock] ??= { threads: {} });
        const tc = (c.threads[t] ??= { sites: {}, heldAtStart: 0 });
        tc.sites[o.site] = (tc.sites[o.site] ?? 0) + 1;
      }
    }
    const roles = qemuThreadRoles(counts.bql, counts.replay);
    // RCU's two mutexes: the registry lock is the one rcu_register_thread takes (util/rcu.c:3xx);
    // the RCU thread's other lock guard (include/qemu/thread.h) is rcu_sync_lock.
    // (10.0's lock guards are include/qemu/lockable.h's.)
    const namedLocks = new Map<string, string>();
    for (const list of byThread.values()) for (const o of list) if (/^util\/rcu\.c:3\d\d$/.test(o.site)) namedLocks.set(o.lock, 'rcu_registry_lock');
    for (const [t, list] of byThread) {
      if (!(roles[t] ?? []).includes('rcu')) continue;
      for (const o of list) if (/(thread|lockable)\.h:\d+$/.test(o.site) && !namedLocks.has(o.lock) && o.lock !== 'bql' && o.lock !== 'replay') namedLocks.set(o.lock, 'rcu_sync_lock');
    }
    // 10.0's qemu_cpu_list_lock: the lock guard the vCPU takes right after the BQL at its rr loop
    // head (rr_cpu_count).
    for (const [t, list] of byThread) {
      if (!(roles[t] ?? []).includes('vcpu')) continue;
      let last: { lock: string; site: string } | undefined;
      for (const o of list) {
        if (o.action !== 'acquired') continue;
        if (/lockable\.h:\d+$/.test(o.site) && last?.lock === 'bql' && /tcg-accel-ops-rr\.c:/.test(last.site)) namedLocks.set(o.lock, 'qemu_cpu_list_lock');
        last = o;
      }
    }
    const locks: GuestLocks = { instructions: replay.instructions, acquisitions: emptyRoles(() => ({})), ops: emptyRoles(() => []) };
    for (const [t, list] of byThread) {
      const rs = roles[t] ?? [];
      const role: Role | undefined = rs.includes('vcpu') ? 'vcpu' : rs.includes('main-loop') ? 'main-loop' : rs.includes('rcu') ? 'rcu' : undefined;
      if (!role) continue;
      for (const o of list) {
        const lock = o.lock === 'bql' || o.lock === 'replay' ? o.lock : namedLocks.get(o.lock) ?? otherLock(o.site);
        if (!lock) continue;
        locks.ops[role].push({ lock, action: o.action, site: o.site });
        if (o.action === 'acquired') locks.acquisitions[role][lock] = (locks.acquisitions[role][lock] ?? 0) + 1;
      }
    }
    return { locks, events: { events } };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Records `elf` with Rewind (the full lock trace); the same reduction. */
export function recordWithRewind(elf: string, exitCode = 0, qemu: QemuVersion = '7.2'): { locks: GuestLocks; events: GuestEvents } {
  const events: { name: string; icount: number }[] = [];
  const ops: LockOp[] = [];
  const m = new Machine({ qemu, replay: { mode: 'record', sink: (e) => events.push({ name: e.name, icount: e.icount }) }, lockTrace: { level: 'full', sink: (o) => ops.push({ ...o }) } });
  m.loadElf(fs.readFileSync(elf));
  const r = m.run(2_000_000_000);
  if (r.reason !== 'exit' || r.exitCode !== exitCode) throw new Error(`Rewind stopped with ${r.reason} (exit ${r.exitCode}) on ${elf}`);
  m.replay!.end();
  const locks: GuestLocks = { instructions: m.icount, acquisitions: emptyRoles(() => ({})), ops: emptyRoles(() => []) };
  for (const o of ops) {
    const role: Role | undefined = o.thread === 'main-loop' ? 'main-loop' : o.thread.startsWith('vcpu') ? 'vcpu' : o.thread === 'rcu' ? 'rcu' : undefined;
    if (!role) continue;
    locks.ops[role].push({ lock: o.lock, action: o.action, site: o.site });
    if (o.action === 'acquired') locks.acquisitions[role][o.lock] = (locks.acquisitions[role][o.lock] ?? 0) + 1;
  }
  return { locks, events: { events } };
}
