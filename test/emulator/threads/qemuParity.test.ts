/**
 * Rewind's threads, locks and replay log against QEMU's own: each guest is recorded fresh by
 * Debian's QEMU 7.2 (`-icount shift=0,sleep=off,rr=record`, `-trace 'qemu_mutex_*'`) and by
 * Rewind, and the two are compared per thread role and lock, on lock order, and event by event;
 * then the same with QEMU 10.0 (bookworm-backports) and Rewind's `--qemu 10.0`.
 *
 * What differs, and why (each allowance below is one of these, nothing else):
 * - Start-up, before the guest's first instruction. QEMU's qemu_init arms the board's timers
 *   (7 timer-list acquisitions on the main loop), checks vm-stop requests (4 vmstop_lock) and
 *   takes the BQL and the replay mutex once more than Rewind's start-up does; its vCPU thread
 *   runs about 33 queued work items (cpu-work: reset and TB-flush work, run_on_cpu) before it
 *   enters guest code, where Rewind's runs one. The allowance per lock is these counts.
 * - QEMU's start-up logs 3 QEMU_CLOCK_HOST reads and 2 EVENT_RANDOM (the FDT's rng-seed) at
 *   icount 0; Rewind's board has neither source (its RTC counts from the guest's first read, its
 *   FDT has no rng-seed). They are left out of the event comparison, and only they.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { QemuVersion } from '../../../emulator/machine/qemuVersion';
import { GuestLocks, QEMU_7_2, QemuUnderTest, recordWithQemu, recordWithRewind, Role } from '../../support/qemuLockParity';
import { qemu10 } from '../../support/qemu10';

const guestDir = path.join(__dirname, '../../../emulator/guest');
interface Guest { name: string; input: string | null; harts: number; exitCode: number; qemuIcount: boolean; long?: boolean }
const guests: Guest[] = JSON.parse(fs.readFileSync(path.join(guestDir, 'guests.json'), 'utf8'));

/** Locks compared, by the name both traces give them (10.0's rr loop also counts the CPUs under qemu_cpu_list_lock). */
const LOCKS: Record<QemuVersion, string[]> = {
  '7.2': ['bql', 'replay', 'timer-list', 'chr_write_lock', 'tb-region', 'vmstop_lock', 'cpu-work'],
  '10.0': ['bql', 'replay', 'timer-list', 'chr_write_lock', 'tb-region', 'vmstop_lock', 'cpu-work', 'qemu_cpu_list_lock'],
};
/** Counts this small are start-up noise on both sides: compared only from here on. */
const MIN_COUNT = 20;
const TOLERANCE = 0.25;
/** Start-up acquisitions QEMU makes and Rewind does not (see the header). */
const START_UP: Record<QemuVersion, Record<Role, Record<string, number>>> = {
  '7.2': {
    'main-loop': { 'timer-list': 7, vmstop_lock: 4, bql: 2, replay: 1 },
    vcpu: { 'cpu-work': 33, replay: 1 },
    rcu: {},
  },
  '10.0': {
    'main-loop': { 'timer-list': 7, vmstop_lock: 4, bql: 2, replay: 1 },
    vcpu: { 'cpu-work': 33, replay: 1 },
    rcu: {},
  },
};
/** QEMU's start-up clock and random reads at icount 0 (absent from Rewind's board). */
const START_UP_EVENTS: Record<QemuVersion, number> = { '7.2': 5, '10.0': 4 };
/**
 * RCU's locks, a handful of acquisitions per run. Each vCPU registers with RCU as it starts
 * (twice under the registry lock, every QEMU run). QEMU's RCU thread runs on host time: in some
 * runs its grace period (rcu_sync_lock, then the registry lock as often as it polls the
 * readers) and the callbacks under the BQL (once or twice) fall inside the recording, in others
 * nothing does.
 * Rewind's does it once, at start-up; never more than QEMU when QEMU's is seen at all.
 */
const RCU_LOCKS = ['bql', 'rcu_sync_lock', 'rcu_registry_lock', 'replay'];

/** Per role: replay-mutex releases with and without the BQL held, and replay taken under the BQL. */
function order(l: GuestLocks, role: Role) {
  let bql = 0, underBql = 0, withoutBql = 0, replayUnderBql = 0;
  for (const o of l.ops[role]) {
    if (o.lock === 'bql' && o.action === 'acquired') bql++;
    else if (o.lock === 'bql' && o.action === 'released') bql--;
    else if (o.lock === 'replay' && o.action === 'acquired' && bql > 0) replayUnderBql++;
    else if (o.lock === 'replay' && o.action === 'released') {
      if (bql > 0) underBql++;
      else withoutBql++;
    }
  }
  return { underBql, withoutBql, replayUnderBql };
}

function close(what: string, q: number, r: number, allowance: number, insns: number): void {
  if (Math.max(q, r) < MIN_COUNT) return;
  const perM = (n: number) => (n / insns * 1e6).toFixed(0);
  assert.ok(Math.abs(r - q) <= TOLERANCE * q + allowance,
    `${what}: Rewind ${r} (${perM(r)} per million instructions), QEMU ${q} (${perM(q)}): more than ±${TOLERANCE * 100} % apart${allowance ? ` beyond the start-up allowance of ${allowance}` : ''}`);
}

type Ev = { name: string; icount: number };
const key = (e: Ev) => `${e.name} at icount ${e.icount}`;

/**
 * The end of a 10.0 log. Its test finisher requests the shutdown (qemu_system_shutdown_request):
 * the cause is logged without an instruction count of its own (at the previous event's icount),
 * and the vCPU stops when the main loop gets to it, on host time: at once (at the icount Rewind
 * stops at), or once the guest has run on to its WFI (the warp-start checkpoint and the
 * virtual-RT read the idle main loop makes, then the exit). Rewind stops at once and logs the
 * cause where the finisher was written.
 */
function compareEnd10(q: Ev[], r: Ev[]): void {
  const qi = q.findIndex((e) => /^EVENT_SHUTDOWN_GUEST_/.test(e.name));
  const ri = r.findIndex((e) => /^EVENT_SHUTDOWN_GUEST_/.test(e.name));
  assert.ok(qi > 0 && ri > 0, `a guest shutdown event in both logs (QEMU #${qi}, Rewind #${ri})`);
  assert.deepEqual(r.slice(0, ri).map(key), q.slice(0, qi).map(key), 'the events before the shutdown request');
  assert.equal(q[qi].name, r[ri].name, 'the shutdown cause');
  assert.equal(q[qi].icount, q[qi - 1].icount, 'QEMU 10.0 logs the cause without an instruction count');
  assert.ok(r[ri].icount >= q[qi].icount, 'Rewind logs it where the finisher was written');
  const end = r[r.length - 1].icount;
  const rTail = r.slice(ri + 1).filter((e) => e.name !== 'EVENT_INSTRUCTION');
  assert.deepEqual(rTail.map(key), [`EVENT_SHUTDOWN_HOST_SIGNAL at icount ${end}`, `EVENT_END at icount ${end}`]);
  const tail = q.slice(qi + 1).filter((e) => e.name !== 'EVENT_INSTRUCTION');
  const atOnce = tail.map(key).join(', ') === rTail.map(key).join(', ');
  const ranOn = tail.length === 4 && tail.every((e) => e.icount === tail[0].icount && e.icount > end)
    && tail.map((e) => e.name).join() === 'EVENT_CP_CLOCK_WARP_START,EVENT_CLOCK_VIRTUAL_RT,EVENT_SHUTDOWN_HOST_SIGNAL,EVENT_END';
  assert.ok(atOnce || ranOn, `QEMU's log after the request: ${tail.map(key).join(', ')}; Rewind's stop: icount ${end}`);
}

const qemus: { name: string; get: () => QemuUnderTest }[] = [
  { name: 'QEMU 7.2', get: () => QEMU_7_2 },
  { name: 'QEMU 10.0 (bookworm-backports), Rewind --qemu 10.0', get: qemu10 },
];

for (const { name, get } of qemus) {
  describe(`threads, locks and the replay log against ${name} (recorded fresh in the test)`, function () {
    this.timeout(300_000);
    for (const g of guests.filter((x) => x.qemuIcount && !x.long && x.harts === 1 && !x.input)) {
      for (const opt of ['O0', 'O2']) {
        const file = `${g.name}-${opt}.elf`;
        it(`${file}: acquisitions per role and lock within ±25 %, the replay mutex never under the BQL and released where QEMU does, the same events at the same icounts`, () => {
          const qemu = get();
          const v = qemu.version;
          const elf = path.join(guestDir, 'bin', file);
          const q = recordWithQemu(elf, g.exitCode, qemu);
          const r = recordWithRewind(elf, g.exitCode, v);
          // 10.0 may run on a little past the finisher (see compareEnd10); the rates are per QEMU's count.
          if (v === '7.2') assert.equal(r.locks.instructions, q.locks.instructions, 'instructions');
          else assert.ok(q.locks.instructions >= r.locks.instructions && q.locks.instructions - r.locks.instructions < 100, `instructions: QEMU ${q.locks.instructions}, Rewind ${r.locks.instructions}`);
          const insns = q.locks.instructions;
          const start = START_UP[v];
          for (const role of ['main-loop', 'vcpu'] as Role[]) {
            for (const lock of LOCKS[v]) {
              close(`${role} ${lock}`, q.locks.acquisitions[role][lock] ?? 0, r.locks.acquisitions[role][lock] ?? 0, start[role][lock] ?? 0, insns);
            }
            const qo = order(q.locks, role), ro = order(r.locks, role);
            assert.equal(qo.replayUnderBql, 0, `QEMU's ${role} took the replay mutex under the BQL`);
            assert.equal(ro.replayUnderBql, 0, `${role} took the replay mutex under the BQL`);
            close(`${role} replay released under the BQL`, qo.underBql, ro.underBql, start[role].replay ?? 0, insns);
            close(`${role} replay released without the BQL`, qo.withoutBql, ro.withoutBql, start[role].replay ?? 0, insns);
            // Where QEMU never releases it under the BQL (its main loop), neither does Rewind.
            if (qo.underBql === 0) assert.equal(ro.underBql, 0, `${role} released the replay mutex under the BQL, QEMU never does`);
          }
          // The RCU thread: one grace period at start-up, then the callbacks under the BQL; each
          // vCPU registers with RCU as it starts.
          assert.equal(r.locks.acquisitions.vcpu.rcu_registry_lock ?? 0, q.locks.acquisitions.vcpu.rcu_registry_lock ?? 0, 'vcpu rcu_registry_lock acquisitions');
          const qr = q.locks.acquisitions.rcu, rr = r.locks.acquisitions.rcu;
          assert.ok(!qr.replay, `QEMU's RCU thread took the replay mutex: ${JSON.stringify(qr)}`);
          if (qr.bql) for (const lock of RCU_LOCKS) assert.ok((rr[lock] ?? 0) <= (qr[lock] ?? 0), `rcu ${lock}: Rewind ${rr[lock] ?? 0}, QEMU ${qr[lock] ?? 0}`);
          assert.deepEqual([rr.bql, rr.rcu_sync_lock, rr.rcu_registry_lock, rr.replay ?? 0], [1, 1, 1, 0], 'Rewind\'s RCU thread: one grace period, the callbacks once under the BQL');
          const startUp = (e: Ev) => e.icount === 0 && (e.name === 'EVENT_CLOCK_HOST' || e.name === 'EVENT_RANDOM');
          const qe = q.events.events.filter((e) => !startUp(e));
          assert.equal(q.events.events.length - qe.length, START_UP_EVENTS[v], 'QEMU\'s start-up clock and random reads');
          if (v === '7.2') assert.deepEqual(r.events.events.map(key), qe.map(key));
          else compareEnd10(qe, r.events.events);
        });
      }
    }
  });
}
