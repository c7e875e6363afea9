/**
 * `rewind locks` run as a user runs it (node dist/cli.js): the readable report on the real QEMU 7.2
 * trace, --json, violations on a synthetic trace, and one-line errors with exit 2.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocksAnalysis } from '../../../emulator/cli/locksCommand';
import { ensureCliBuilt, REPO_ROOT, assertOneLineError, CliRun, runCli } from '../../support/rewindCli';

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
