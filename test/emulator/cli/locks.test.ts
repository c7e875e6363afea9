/**
 * `rewind locks` run as a user runs it (node dist/cli.js): the readable report on the real QEMU 7.2
 * trace, --json, violations on a synthetic trace, and one-line errors with exit 2.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocksAnalysis } from '../../../emulator/cli/locksCommand';
import type { RwtraceLocksAnalysis } from '../../../emulator/cli/locksRwtrace';
import type { LockOp } from '../../../emulator/threads/lockOp';
import { ensureCliBuilt, REPO_ROOT, assertOneLineError, CliRun, runCli } from '../../support/rewindCli';
import { GUEST_PATH, LockRecording, writeLockRecording } from '../../support/lockRecording';
import { MemorySource } from '../../../emulator/trace/fileAccess';
import { ChunkType } from '../../../emulator/trace/rwtraceFormat';
import { RwtraceReader } from '../../../emulator/trace/rwtraceReader';

const locks = (...args: string[]): CliRun => runCli(['locks', ...args]);

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'qemu-7.2', 'mutex-trace-record.log');


const VERB = { lock: 'waiting on', locked: 'taken', unlock: 'released' } as const;
function line(tid: number, us: number, ev: keyof typeof VERB, addr: string, site: string): string {
  return `${tid}@1795600000.${String(us).padStart(6, '0')}:qemu_mutex_${ev} ${VERB[ev]} mutex ${addr} (../../${site})`;
}

describe('rewind locks', function () {
  this.timeout(120_000);
  let work: string;

  before(function () {
    this.timeout(300_000);
    ensureCliBuilt();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-locks-'));
  });
  after(() => { fs.rmSync(work, { recursive: true, force: true }); });

  it('prints a summary, the threads by role, a table with the BQL and replay mutex first, and "no violations"', () => {
    const r = locks(FIXTURE);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const out = r.stdout;
    assert.match(out, /5000 lines: 1664 lock, 1667 locked, 1669 unlock events; 0 other lines skipped; 0 bad/);
    assert.match(out, /replay mutex sites: replay-internal\.c lines 221\/227\/235\/239 \(QEMU 5\.1–8\.2\)/);
    assert.match(out, /^ {2}30766 +main loop \(the start-up thread\)/m);
    assert.match(out, /^ {2}30767 +RCU /m);
    assert.match(out, /^ {2}30768 +vCPU +844 +3 /m);
    const table = out.slice(out.indexOf('\nlocks ('));
    const rows = table.split('\n').slice(3, 5); // after the title and the header
    assert.match(rows[0], /^ {2}BQL \(0x562b6dc973e0\) +846 +1 \(0\.1%\) +844 +4 \/ 25 \/ 66 \/ 56536 +3 \/ 4 \/ 37 \/ 31228$/);
    assert.match(rows[1], /^ {2}replay mutex \(0x562b6dca9080\) +3 +1 \(33\.3%\) +4 /);
    assert.match(out, /held at the end by 30768 \(taken at replay\/replay-internal\.c:227/);
    assert.match(out, /violations: no violations/);
  });

  it('--top N limits the other mutexes shown', () => {
    const r = locks(FIXTURE, '--top', '0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /locks \(19; BQL, replay mutex, then the 0 busiest of 17 others\)/);
    assert.doesNotMatch(r.stdout, /tcg\/region\.c:234\)/);
  });

  it('--json prints one JSON document with the trace summary, roles and per-lock statistics', () => {
    const r = locks(FIXTURE, '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as LocksAnalysis;
    assert.equal(j.kind, 'qemu-mutex-trace');
    assert.deepEqual(j.trace.events, { lock: 1664, locked: 1667, unlock: 1669 });
    assert.deepEqual(j.trace.aliases, { '0x562b6dc973e0': 'bql', '0x562b6dca9080': 'replay' });
    assert.deepEqual(j.roles, { 30766: ['main-loop', 'start-up'], 30767: ['rcu'], 30768: ['vcpu'] });
    assert.deepEqual(j.report.locks.slice(0, 2).map((l) => [l.lock, l.acquisitions]), [['bql', 846], ['replay', 3]]);
    assert.equal(j.report.locks[0].hold?.unit, 'us');
    assert.deepEqual(j.report.violations, []);
  });

  it('lists violations with thread, both sites and op index', () => {
    const B = '0x5600000013e0', R = '0x55000000a080';
    const f = path.join(work, 'bad-order.log');
    fs.writeFileSync(f, [
      line(7, 1, 'unlock', B, 'softmmu/cpus.c:511'),          // held since before the trace: fine
      line(7, 2, 'lock', B, 'migration/migration.c:3300'), line(7, 3, 'locked', B, 'migration/migration.c:3300'),
      line(7, 4, 'lock', R, 'replay/replay-internal.c:221'), line(7, 5, 'locked', R, 'replay/replay-internal.c:221'),
      line(7, 6, 'unlock', R, 'replay/replay-internal.c:227'),
    ].join('\n') + '\n');
    const r = locks(f);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}7 +migration /m);
    assert.match(r.stdout, /violations: 1 \(1 replay-under-bql\)\n {2}replay-under-bql: thread 7 takes the replay mutex at replay\/replay-internal\.c:221 \(op #3, line 4\) while holding the BQL \(taken at migration\/migration\.c:3300, op #2\)/);
  });

  it('reports damaged lines by count and first line number, and goes on', () => {
    const f = path.join(work, 'damaged.log');
    fs.writeFileSync(f, fs.readFileSync(FIXTURE, 'utf8').split('\n').slice(0, 100).join('\n') + '\n\x01\x02junk\n' + '30768@1795639803.2:qemu_mutex_lock waiting on mu');
    const r = locks(f);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /102 lines: .* 2 bad \(first at line 101: "\\u0001\\u0002junk"\); the last line is cut short/);
  });

  it('says in one line, exit 2, that a file is not a mutex trace, or missing, or the arguments are wrong', () => {
    const text = path.join(work, 'notes.txt');
    fs.writeFileSync(text, 'just some text\n');
    assertOneLineError(locks(text), /notes\.txt is not a QEMU mutex trace: no qemu_mutex_\* events in 1 line \(record one with/);
    assertOneLineError(locks(path.join(REPO_ROOT, 'test', 'fixtures', 'qemu-7.2', 'hello.replay.bin')), /binary/);
    assertOneLineError(locks(path.join(work, 'nope.log')), /cannot read .*nope\.log: no such file/);
    assertOneLineError(locks(work), /is a directory/);
    assertOneLineError(locks(), /expected one trace file \(usage: rewind locks TRACE/);
    assertOneLineError(locks(FIXTURE, '--frobnicate'), /Unknown option '--frobnicate'/);
    assertOneLineError(locks(FIXTURE, '--top', 'lots'), /--top needs an integer/);
  });
});

interface Expected {
  acquired: number; waits: number; released: number; contended: number;
  byThread: Record<string, number>;
  holdInsns: number[]; holdSteps: number[]; waitInsns: number[];
}

/** What `rewind locks` should find, worked out from the ops by the rules' plain definitions. */
function expectLocks(ops: LockOp[]): { locks: Record<string, Expected>; underBql: { op: number; held: number }[] } {
  const locks: Record<string, Expected> = {};
  const holds = new Map<string, LockOp>(); // thread/lock -> its acquired op
  const waits = new Map<string, { op: LockOp; contended: boolean }>();
  const underBql: { op: number; held: number }[] = [];
  for (const op of ops) {
    const l = (locks[op.lock] ??= { acquired: 0, waits: 0, released: 0, contended: 0, byThread: {}, holdInsns: [], holdSteps: [], waitInsns: [] });
    const key = `${op.thread}/${op.lock}`;
    const others = (lock: string) => [...holds.keys()].some((k) => k.endsWith(`/${lock}`) && k !== key);
    if (op.action !== 'wait') for (const [k, w] of waits) if (k.endsWith(`/${op.lock}`) && k !== key) w.contended = true;
    if (op.action === 'wait') {
      l.waits++;
      waits.set(key, { op, contended: others(op.lock) });
    } else if (op.action === 'acquired') {
      l.acquired++;
      l.byThread[op.thread] = (l.byThread[op.thread] ?? 0) + 1;
      const w = waits.get(key);
      waits.delete(key);
      if (w?.contended) l.contended++;
      if (w) l.waitInsns.push(op.icount! - w.op.icount!);
      holds.set(key, op);
    } else {
      l.released++;
      const h = holds.get(key)!;
      holds.delete(key);
      l.holdInsns.push(op.icount! - h.icount!);
      l.holdSteps.push(op.step! - h.step!);
    }
    const bql = holds.get(`${op.thread}/bql`);
    if (op.lock === 'replay' && op.action === 'wait' && bql) underBql.push({ op: op.index, held: bql.index });
  }
  return { locks, underBql };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('rewind locks on a Rewind recording', function () {
  this.timeout(120_000);
  let work: string;
  let file: string;
  let rec: LockRecording;
  let want: ReturnType<typeof expectLocks>;

  before(function () {
    this.timeout(300_000);
    ensureCliBuilt();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-locks-rw-'));
    file = path.join(work, 'run.rwtrace');
    rec = writeLockRecording(file, { lockChunkBytes: 300, lockTrace: 'full', divergence: true });
    want = expectLocks(rec.ops);
  });
  after(() => { fs.rmSync(work, { recursive: true, force: true }); });

  it('names the recording, its lock trace level, op count and icount range, and lists the threads by role', () => {
    const r = locks(file);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const out = r.stdout;
    const count = (a: LockOp['action']) => rec.ops.filter((o) => o.action === a).length;
    const [first, last] = [rec.ops[0], rec.ops[rec.ops.length - 1]];
    assert.ok(out.startsWith(`${file}: Rewind recording of ${GUEST_PATH}\n`), out.slice(0, 200));
    assert.ok(out.includes(`  lock trace level full; ${rec.ops.length} lock ops (${count('wait')} wait, ${count('acquired')} acquired, ${count('released')} released) at icount ${first.icount}..${last.icount}, host steps ${first.step}..${last.step}; 3 threads; recording finished\n`), out.slice(0, 400));
    const rows = out.slice(out.indexOf('\nthreads\n')).split('\n').slice(3, 6);
    const acq = (t: string, l: string) => want.locks[l].byThread[t] ?? 0;
    assert.match(rows[0], new RegExp(`^ {2}main-loop +main loop +${acq('main-loop', 'bql')} +${acq('main-loop', 'replay')} +0$`));
    assert.match(rows[1], new RegExp(`^ {2}vcpu0 +vCPU +${acq('vcpu0', 'bql')} +${acq('vcpu0', 'replay')} +0$`));
    assert.match(rows[2], new RegExp(`^ {2}migration +migration +1 +1 +0$`));
  });

  it('counts acquisitions, waits and contention, and gives hold times in instructions and host steps', () => {
    const out = locks(file).stdout;
    for (const [lock, title] of [['bql', 'BQL'], ['replay', 'replay mutex']] as const) {
      const w = want.locks[lock];
      const row = out.split('\n').find((l) => l.startsWith(`  ${title} `) && /\d/.test(l))!;
      assert.match(row, new RegExp(`^ {2}${title} +${w.acquired} +${w.contended}( \\([\\d.]+%\\))? +${w.waits} +`), row);
      const details = out.slice(out.indexOf(`\n${title}\n`) + 1);
      assert.ok(details.includes(`  ${w.acquired} acquisitions, ${w.contended} contended`), details.slice(0, 300));
      const dist = (name: string, unit: string, xs: number[]) => new RegExp(`\\n {2}${name} ${unit}: n ${xs.length} {2}min ${Math.min(...xs)} .* max ${Math.max(...xs)} {2}mean [\\d.]+ {2}total ${sum(xs)}\\n`);
      assert.match(details, dist('hold', 'insns', w.holdInsns));
      assert.match(details, dist('hold', 'steps', w.holdSteps));
      assert.match(details, dist('wait', 'insns', w.waitInsns));
    }
    assert.ok(want.locks.replay.contended > 0, 'the fixture has contended replay-mutex waits');
  });

  it('lists the violations from the lock stream and the recording\'s marks, each once, with thread, lock and both sites', () => {
    const out = locks(file).stdout;
    assert.equal(want.underBql.length, 1);
    const [u] = want.underBql;
    const append = rec.marks.find((m) => m.violation?.kind === 'append-unlocked')!;
    // The replay-mutex holder at the append, from the ops: vcpu0's last acquisition before it.
    const holder = [...rec.ops].reverse().find((o) => o.index < append.lockOp! && o.lock === 'replay' && o.action === 'acquired')!;
    assert.equal(holder.thread, 'vcpu0');
    const section = out.slice(out.indexOf('\nviolations: ') + 1);
    assert.ok(section.startsWith('violations: 2 (1 replay-under-bql, 1 append-unlocked)\n'), section);
    const lines = section.split('\n').slice(1, -1);
    assert.equal(lines.length, 2, section);
    assert.match(lines[0], new RegExp(`^ {2}replay-under-bql: thread migration takes the replay mutex at migration:saveSetup \\(op #${u.op}\\) while holding the BQL \\(taken at migration:saveSetup, op #${u.held}\\)`));
    assert.match(lines[1], new RegExp(`^ {2}append-unlocked: thread migration writes EVENT_MIGRATION to the replay log at migration:saveSetup \\(icount ${append.icount}, op #${append.lockOp}\\) without holding the replay mutex; thread vcpu0 holds it \\(taken at cpus:rrCpuThread, op #${holder.index}\\)`));
    assert.match(out, /\nmarks: 1\n {2}divergence at icount 2000, event #1: replay diverged at icount 2000/);
  });

  it('--json: the same numbers, roles by thread name, and the marks', () => {
    const r = locks(file, '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as RwtraceLocksAnalysis;
    assert.equal(j.kind, 'rwtrace');
    assert.equal(j.lockTrace, 'full');
    assert.equal(j.report.ops, rec.ops.length);
    assert.equal(j.report.unit, 'insns');
    assert.deepEqual(j.roles, { 'main-loop': ['main-loop'], vcpu0: ['vcpu'], migration: ['migration'] });
    for (const l of j.report.locks) {
      const w = want.locks[l.lock];
      assert.deepEqual([l.acquisitions, l.waits, l.releases, l.contended], [w.acquired, w.waits, w.released, w.contended], l.lock);
      assert.deepEqual([l.hold?.count, l.hold?.min, l.hold?.max, l.hold?.total], [w.holdInsns.length, Math.min(...w.holdInsns), Math.max(...w.holdInsns), sum(w.holdInsns)]);
      assert.equal(j.hostSteps[l.lock].hold?.total, sum(w.holdSteps));
      assert.equal(j.hostSteps[l.lock].hold?.unit, 'steps');
    }
    assert.deepEqual(j.report.violations.map((v) => [v.kind, v.index, v.thread, v.lock]), [
      ['replay-under-bql', want.underBql[0].op, 'migration', 'replay'],
      ['append-unlocked', rec.marks.find((m) => m.violation?.kind === 'append-unlocked')!.lockOp, 'migration', 'replay'],
    ]);
    assert.deepEqual(j.marks, rec.marks);
  });

  it('says in one line that a recording made with lock tracing off has no lock ops, exit 0, and still lists its marks', () => {
    const off = path.join(work, 'off.rwtrace');
    const r0 = writeLockRecording(off, { withLocks: false, lockTrace: 'off' });
    const r = locks(off);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `${off}: Rewind recording of ${GUEST_PATH}, recorded with lock tracing off: no lock ops to analyse; recording finished`);
    assert.equal(lines[1], `marks: ${r0.marks.length}`);
    assert.match(r.stdout, /append-unlocked violation at icount \d+, op #\d+, event #\d+: thread migration writes EVENT_MIGRATION/);
    const bare = path.join(work, 'bare.rwtrace');
    writeLockRecording(bare, { withLocks: false, migrateAt: -1, appendAt: -1 });
    assert.equal(locks(bare).stdout, `${bare}: Rewind recording of ${GUEST_PATH}, recorded with lock tracing off: no lock ops to analyse; recording finished\n`);
  });

  it('analyses the complete chunks of a recording cut short, then says where it stopped (exit 2)', () => {
    const cut = path.join(work, 'cut.rwtrace');
    const bytes = fs.readFileSync(file);
    const reader = new RwtraceReader(new MemorySource(bytes));
    const chunks = reader.stream(ChunkType.LOCKS);
    const mid = chunks[Math.floor(chunks.length / 2)];
    fs.writeFileSync(cut, bytes.subarray(0, mid.offset + 48 + Math.floor(mid.length / 2)));
    const r = locks(cut, '--json');
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `rewind: ${cut}: chunk ${mid.sequence} (locks) is incomplete: the recording was cut short (offset 0x${mid.offset.toString(16)}); analysed the ${mid.firstItem} lock ops before it\n`);
    const j = JSON.parse(r.stdout) as RwtraceLocksAnalysis;
    assert.equal(j.report.ops, mid.firstItem);
    assert.equal(j.finished, false);
  });
});
