/**
 * The QEMU mutex-trace reader: the real 7.2 fixture checked against facts counted by hand from
 * its text, a fresh recording from Debian's QEMU 7.2, every line-prefix format QEMU has printed,
 * the replay mutex's layouts, damaged input, and a 2-million-line trace read in bounded memory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { LockStats } from '../../../emulator/threads/lockStats';
import { MutexTraceSummary, QemuLockOp, QemuMutexTraceParser, qemuThreadRoles, readQemuMutexTrace } from '../../../emulator/trace/qemuMutexTrace';
import { RewindError } from '../../../emulator/errors';

const REPO = path.resolve(__dirname, '..', '..', '..');
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'qemu-7.2', 'mutex-trace-record.log');
const HELLO = path.join(REPO, 'emulator', 'guest', 'bin', 'hello-O2.elf');

interface Read { ops: QemuLockOp[]; summary: MutexTraceSummary; stats: LockStats; renames: [string, string][] }

function readFile(file: string, keepOps = true): Read {
  const ops: QemuLockOp[] = [];
  const renames: [string, string][] = [];
  const stats = new LockStats();
  const summary = readQemuMutexTrace(file, {
    op: (op) => { if (keepOps) ops.push(op); stats.add(op); },
    rename: (a, n) => { renames.push([a, n]); stats.rename(a, n); },
  });
  return { ops, summary, stats, renames };
}

function readText(text: string): Read {
  const ops: QemuLockOp[] = [];
  const renames: [string, string][] = [];
  const stats = new LockStats({ threadsKnown: !/^qemu_mutex_/m.test(text) });
  const p = new QemuMutexTraceParser({ op: (op) => { ops.push(op); stats.add(op); }, rename: (a, n) => { renames.push([a, n]); stats.rename(a, n); } });
  const lines = text.split('\n');
  const last = lines.pop()!;
  for (const l of lines) p.line(l);
  if (last !== '') p.line(last, true);
  return { ops, summary: p.end(), stats, renames };
}

const VERB = { lock: 'waiting on', locked: 'taken', unlock: 'released' } as const;
type Ev = keyof typeof VERB;
/** One line as QEMU ≤ 10.1 prints it with -msg timestamp=on. */
function line(tid: number, us: number, ev: Ev, addr: string, site: string): string {
  const sec = 1_795_600_000 + Math.floor(us / 1e6);
  return `${tid}@${sec}.${String(us % 1e6).padStart(6, '0')}:qemu_mutex_${ev} ${VERB[ev]} mutex ${addr} (../../${site})`;
}

let tmp: string;
before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-mutex-')); });
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

describe('QEMU mutex trace: the real 7.2 recording fixture', () => {
  const raw = fs.readFileSync(FIXTURE, 'utf8');
  const rawLines = raw.split('\n').filter((l) => l !== '');
  const parsed = rawLines.map((l) => /^(\d+)@[\d.]+:qemu_mutex_(\w+) .* mutex (0x[0-9a-f]+) \(([^)]+):(\d+)\)$/.exec(l)!);
  const r = readFile(FIXTURE);
  const report = r.stats.report();

  it('counts every line and each event type as grep does', () => {
    assert.equal(r.summary.lines, 5000);
    assert.ok(parsed.every(Boolean), 'every fixture line has the documented shape');
    for (const ev of ['lock', 'locked', 'unlock'] as const) {
      assert.equal(r.summary.events[ev], rawLines.filter((l) => l.includes(`:qemu_mutex_${ev} `)).length, ev);
    }
    assert.deepEqual({ skipped: r.summary.skipped, bad: r.summary.bad.count }, { skipped: 0, bad: 0 });
    assert.deepEqual(r.summary.formats, ['TID@time']);
  });

  it('names as BQL exactly the one address used at cpus.c and the BQL caller sites (a hand check)', () => {
    const bqlSites = /(softmmu\/cpus\.c|accel\/tcg\/tcg-accel-ops-rr\.c|accel\/tcg\/cpu-exec\.c|accel\/tcg\/cputlb\.c|util\/main-loop\.c|util\/rcu\.c:269)$/;
    const byHand = new Set(parsed.filter((m) => bqlSites.test(`${m[4]}:${m[5]}`) || bqlSites.test(m[4])).map((m) => m[3]));
    assert.deepEqual([...byHand], ['0x562b6dc973e0']);
    assert.equal(r.summary.aliases['0x562b6dc973e0'], 'bql');
    // util/rcu.c also takes other mutexes (rcu_registry_lock at rcu.c:359): the file alone is no evidence.
    assert.ok(new Set(parsed.filter((m) => m[4].endsWith('util/rcu.c')).map((m) => m[3])).size > 1);
    const bql = report.locks[0];
    assert.equal(bql.lock, 'bql');
    const acquiredByHand = parsed.filter((m) => m[3] === '0x562b6dc973e0' && m[2] === 'locked').length;
    assert.equal(bql.acquisitions, acquiredByHand);
  });

  it('names the replay mutex by replay-internal.c and folds its internal ops into logical ones', () => {
    const replayAddrs = new Set(parsed.filter((m) => m[4].endsWith('replay/replay-internal.c')).map((m) => m[3]));
    assert.deepEqual([...replayAddrs], ['0x562b6dca9080']);
    assert.equal(r.summary.aliases['0x562b6dca9080'], 'replay');
    assert.match(r.summary.replayLayout ?? '', /221\/227\/235\/239/);
    const at = (ev: string, ln: number) => parsed.filter((m) => m[4].endsWith('replay-internal.c') && m[2] === ev && m[5] === String(ln)).length;
    const replay = report.locks.find((l) => l.lock === 'replay')!;
    assert.equal(replay.waits, at('lock', 221));
    assert.equal(replay.acquisitions, at('unlock', 227));
    assert.equal(replay.releases, at('unlock', 239));
    const internal = parsed.filter((m) => m[4].endsWith('replay-internal.c')).length - at('lock', 221) - at('unlock', 227) - at('unlock', 239);
    assert.equal(r.summary.replayInternal, internal);
    assert.equal(r.summary.ops, 5000 - internal);
    assert.deepEqual(r.ops.map((o) => o.index), r.ops.map((_, i) => i));
  });

  it('reads thread, time, site and line of each op', () => {
    const first = r.ops[0];
    assert.deepEqual({ ...first }, {
      index: 0, thread: '30766', lock: '0x562b6dcc6ec0', action: 'released', site: 'include/qemu/thread.h:128',
      line: 1, address: '0x562b6dcc6ec0', time: 1795639803.08976,
    });
    assert.equal(Math.round(r.ops[1].time! * 1e6) - Math.round(first.time! * 1e6), 116510 - 89760);
  });

  it('gives each thread its role: main loop (found as the start-up thread), RCU, vCPU', () => {
    // This excerpt ends before the main loop first takes the BQL at util/main-loop.c: thread 30766
    // is the main thread because it released the BQL (cpus.c:650) and the replay mutex without
    // having taken them, i.e. it held them from QEMU's start-up.
    assert.ok(!raw.includes('main-loop.c'));
    const find = (l: string) => report.locks.find((x) => x.lock === l);
    assert.deepEqual(qemuThreadRoles(find('bql'), find('replay')), { 30766: ['main-loop', 'start-up'], 30767: ['rcu'], 30768: ['vcpu'] });
  });

  it('finds no violations: the BQL and replay mutex the main thread held before tracing began are not "released unheld"', () => {
    assert.deepEqual(report.violations, []);
    const bql = report.locks[0];
    assert.equal(bql.heldAtStart, 1);
    assert.equal(bql.threads['30766'].heldAtStart, 1);
  });
});

describe('QEMU mutex trace: a fresh recording with QEMU 7.2', function () {
  this.timeout(120_000);

  it('has a BQL, a replay mutex, a main-loop and a vCPU thread, and no replay-mutex-under-BQL violation', () => {
    const trace = path.join(tmp, 'fresh.log');
    const outFile = path.join(tmp, 'out'), errFile = path.join(tmp, 'err');
    const outFd = fs.openSync(outFile, 'w'), errFd = fs.openSync(errFile, 'w');
    let res;
    try {
      // Output to files, not Node pipes: a full pipe stalls the UART and deadlocks the recording.
      res = spawnSync('qemu-system-riscv32', ['-machine', 'virt', '-bios', 'none', '-display', 'none', '-monitor', 'none',
        '-serial', 'stdio', '-net', 'none', '-icount', `shift=0,sleep=off,rr=record,rrfile=${path.join(tmp, 'rec.bin')}`,
        '-msg', 'timestamp=on', '-trace', 'qemu_mutex_*', '-D', trace, '-kernel', HELLO],
      { stdio: ['ignore', outFd, errFd], timeout: 60_000, killSignal: 'SIGKILL' });
    } finally {
      fs.closeSync(outFd); fs.closeSync(errFd);
    }
    if ((res.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new Error('qemu-system-riscv32 is not installed; run: apt-get install -y qemu-system-misc');
    assert.equal(res.error, undefined, `QEMU failed: ${res.error?.message}\n${fs.readFileSync(errFile, 'utf8')}`);
    assert.equal(res.status, 0, fs.readFileSync(errFile, 'utf8'));
    assert.match(fs.readFileSync(outFile, 'utf8'), /Hello/);

    const r = readFile(trace, false);
    const report = r.stats.report();
    const find = (l: string) => report.locks.find((x) => x.lock === l);
    assert.ok(find('bql') && find('bql')!.acquisitions > 0, 'a BQL');
    assert.ok(find('replay') && find('replay')!.acquisitions > 0, 'a replay mutex');
    const roles = Object.values(qemuThreadRoles(find('bql'), find('replay'))).flat();
    assert.ok(roles.includes('main-loop') && roles.includes('vcpu'), `roles: ${roles}`);
    assert.equal(report.violationCounts['replay-under-bql'], 0, JSON.stringify(report.violations));
    assert.equal(r.summary.bad.count, 0);
  });
});

describe('QEMU mutex trace: line formats', () => {
  const BQL = '0x5600000013e0';
  it('reads lines without any prefix (no -msg timestamp=on): thread "?", no time, counts only', () => {
    const text = [
      `qemu_mutex_lock waiting on mutex ${BQL} (../../util/main-loop.c:318)`,
      `qemu_mutex_locked taken mutex ${BQL} (../../util/main-loop.c:318)`,
      `qemu_mutex_unlock released mutex ${BQL} (../../softmmu/cpus.c:511)`,
      `qemu_mutex_unlock released mutex ${BQL} (../../softmmu/cpus.c:511)`,
    ].join('\n') + '\n';
    const r = readText(text);
    assert.deepEqual(r.ops.map((o) => [o.thread, o.action, o.time]), [['?', 'wait', undefined], ['?', 'acquired', undefined], ['?', 'released', undefined], ['?', 'released', undefined]]);
    assert.deepEqual({ ids: r.summary.threadIds, ts: r.summary.timestamps, formats: r.summary.formats }, { ids: false, ts: false, formats: ['plain'] });
    const report = r.stats.report();
    assert.equal(report.locks[0].lock, 'bql');
    assert.equal(report.locks[0].acquisitions, 1);
    assert.deepEqual(report.violations, [], 'rules need thread ids');
    assert.equal(report.locks[0].hold, undefined, 'no time, no hold times');
  });

  it('reads QEMU 10.2 lines with an ISO time and no thread id', () => {
    const r = readText(`2025-07-21T18:43:28.089797Z qemu_mutex_lock waiting on mutex ${BQL} (../system/cpus.c:520)\n`);
    assert.equal(r.ops[0].time, Date.UTC(2025, 6, 21, 18, 43, 28) / 1000 + 0.089797);
    assert.equal(r.ops[0].thread, '?');
    assert.equal(r.ops[0].site, 'system/cpus.c:520');
    assert.equal(r.ops[0].lock, 'bql');
  });

  it('reads the thread-info context prefix (time, guest name, program, TID:thread name)', () => {
    const r = readText(`2026-01-08T12:05:21.000042Z [fish food] qemu-system-riscv32(1146846:CPU 0/TCG): qemu_mutex_locked taken mutex ${BQL} (../accel/tcg/cpu-exec.c:763)\n`
      + `qemu-system-riscv32(1146840:main): qemu_mutex_lock waiting on mutex 0x1 (../util/qemu-timer.c:435)\n`);
    assert.deepEqual(r.ops.map((o) => o.thread), ['1146846', '1146840']);
    assert.equal(r.ops[0].time, Date.UTC(2026, 0, 8, 12, 5, 21) / 1000 + 0.000042);
    assert.deepEqual(r.summary.threadNames, { 1146846: 'CPU 0/TCG', 1146840: 'main' });
    assert.equal(r.summary.threadIds, true);
  });

  it('normalises ../../ and ./ site prefixes and keeps absolute paths recognisable', () => {
    const r = readText([line(1, 0, 'lock', '0xa', 'util/rcu.c:359'), '1@1795600000.000001:qemu_mutex_locked taken mutex 0xa (./include/qemu/thread.h:118)',
      `1@1795600000.000002:qemu_mutex_unlock released mutex ${BQL} (/build/qemu-7.2/softmmu/cpus.c:511)`].join('\n'));
    assert.deepEqual(r.ops.map((o) => o.site), ['util/rcu.c:359', 'include/qemu/thread.h:118', '/build/qemu-7.2/softmmu/cpus.c:511']);
    assert.equal(r.ops[2].lock, 'bql');
  });
});

describe('QEMU mutex trace: the replay mutex by QEMU version', () => {
  const R = '0x55000000a080';
  /** Thread 1 releases the start-up hold while thread 2 queues, cond-waits, then gets the ticket. */
  function handOver(base: number): string[] {
    return [
      line(2, 10, 'lock', R, `replay/replay-internal.c:${base}`), line(2, 11, 'locked', R, `replay/replay-internal.c:${base}`),
      line(2, 12, 'unlock', R, `replay/replay-internal.c:${base + 3}`),
      line(1, 20, 'lock', R, `replay/replay-internal.c:${base + 14}`), line(1, 21, 'locked', R, `replay/replay-internal.c:${base + 14}`),
      line(1, 22, 'unlock', R, `replay/replay-internal.c:${base + 18}`),
      line(2, 23, 'locked', R, `replay/replay-internal.c:${base + 3}`), line(2, 24, 'unlock', R, `replay/replay-internal.c:${base + 6}`),
    ];
  }
  for (const [base, versions] of [[221, '5.1–8.2'], [222, '9.0–10.1'], [257, '10.2+']] as const) {
    it(`maps QEMU ${versions} (lines from ${base}) to wait / released / acquired, the wait contended`, () => {
      const r = readText(handOver(base).join('\n') + '\n');
      assert.deepEqual(r.ops.map((o) => `${o.thread} ${o.lock} ${o.action} ${o.site.split(':')[1]}`),
        [`2 replay wait ${base}`, `1 replay released ${base + 18}`, `2 replay acquired ${base + 6}`]);
      assert.ok(r.summary.replayLayout?.includes(versions));
      assert.equal(r.summary.replayInternal, 5);
      const replay = r.stats.report().locks[0];
      assert.deepEqual([replay.contended, replay.heldAtStart, replay.wait?.max], [1, 1, 14]);
      assert.deepEqual(r.stats.report().violations, []);
    });
  }

  it('infers an unknown layout from the first wait and says so', () => {
    const r = readText(handOver(300).join('\n') + '\n');
    assert.deepEqual(r.ops.map((o) => o.action), ['wait', 'released', 'acquired']);
    assert.match(r.summary.warnings.join(), /not in any known QEMU layout/);
  });
});

describe('QEMU mutex trace: identification by site', () => {
  it('renames an address to the BQL retroactively when its first cpus.c op comes after other ops', () => {
    const A = '0x560000001111', R = '0x55000000a080';
    const r = readText([
      line(5, 0, 'lock', A, 'util/main-loop.c:318'), line(5, 1, 'locked', A, 'util/main-loop.c:318'),
      line(5, 2, 'lock', R, 'replay/replay-internal.c:221'), line(5, 3, 'locked', R, 'replay/replay-internal.c:221'),
      line(5, 4, 'unlock', R, 'replay/replay-internal.c:227'),
      line(5, 5, 'unlock', A, 'softmmu/cpus.c:511'), line(5, 6, 'lock', A, 'util/main-loop.c:318'),
    ].join('\n') + '\n');
    assert.deepEqual(r.ops.map((o) => o.lock), [A, A, 'replay', 'replay', 'bql', 'bql']);
    assert.deepEqual(r.renames, [[A, 'bql']]);
    const report = r.stats.report();
    assert.equal(report.locks.find((l) => l.lock === A), undefined, 'merged into the BQL');
    const bql = report.locks[0];
    assert.deepEqual([bql.lock, bql.acquisitions, bql.waits, bql.releases], ['bql', 1, 2, 1]);
    // Taking the replay mutex while holding A became a violation when A turned out to be the BQL.
    assert.equal(report.violationCounts['replay-under-bql'], 1);
    assert.deepEqual({ ...report.violations[0], message: undefined }, {
      kind: 'replay-under-bql', index: 2, line: 3, thread: '5', lock: 'replay', site: 'replay/replay-internal.c:221',
      heldLock: 'bql', heldSite: 'util/main-loop.c:318', heldIndex: 1, message: undefined,
    });
  });

  it('keeps the first of two would-be BQLs and warns', () => {
    const r = readText([line(1, 0, 'unlock', '0xa', 'softmmu/cpus.c:511'), line(1, 1, 'unlock', '0xb', 'system/cpus.c:511')].join('\n'));
    assert.deepEqual(r.ops.map((o) => o.lock), ['bql', '0xb']);
    assert.match(r.summary.warnings.join(), /two mutexes look like the BQL/);
  });
});

describe('QEMU mutex trace: damaged input', () => {
  it('skips other trace events and QEMU messages, counts bad lines and a truncated last line, and keeps going', () => {
    const text = [
      line(1, 0, 'lock', '0xa', 'tcg/region.c:234'),
      '1@1795600000.000001:qemu_cond_wait cond 0x1 mutex 0x2',          // another trace event
      'qemu-system-riscv32: warning: icount sleep disabled and no active timers',
      '',
      '\x00\x17\x80garbage\x01',                                          // garbage (line 5)
      '1@1795600000.000003:qemu_mutex_locked taken mutex 0xa (../../tcg/reg', // cut (line 6)
      line(1, 4, 'locked', '0xa', 'tcg/region.c:234'),
      '1@1795600000.000005:qemu_mutex_unlock released mutex 0xa (../../tcg/reg', // truncated last line, no newline
    ].join('\n');
    const f = path.join(tmp, 'damaged.log');
    fs.writeFileSync(f, text);
    const r = readFile(f);
    assert.deepEqual(r.ops.map((o) => o.action), ['wait', 'acquired']);
    assert.deepEqual({ lines: r.summary.lines, skipped: r.summary.skipped, bad: r.summary.bad.count, first: r.summary.bad.firstLine, trunc: r.summary.truncatedLastLine },
      { lines: 8, skipped: 3, bad: 3, first: 5, trunc: true });
  });

  it('accepts a complete last line without a newline', () => {
    const f = path.join(tmp, 'nonl.log');
    fs.writeFileSync(f, line(1, 0, 'lock', '0xa', 'tcg/region.c:234'));
    const r = readFile(f);
    assert.equal(r.ops.length, 1);
    assert.equal(r.summary.truncatedLastLine, false);
  });

  it('rejects files that are not mutex traces with a RewindError', () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['text.txt', 'hello\nworld\n', /not a QEMU mutex trace: no qemu_mutex_\* events in 2 lines/],
      ['empty.log', '', /no qemu_mutex_\* events in 0 lines/],
      ['replay.bin', fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'qemu-7.2', 'hello.replay.bin')), /binary/],
      ['x.rwtrace', Buffer.concat([Buffer.from('RWTRACE\x1a', 'latin1'), Buffer.alloc(24)]), /\.rwtrace/],
    ];
    for (const [name, data, re] of cases) {
      const f = path.join(tmp, name);
      fs.writeFileSync(f, data);
      assert.throws(() => readQemuMutexTrace(f, { op: () => undefined }), (e: unknown) => e instanceof RewindError && re.test(e.message), name);
    }
    assert.throws(() => readQemuMutexTrace(path.join(tmp, 'missing.log'), { op: () => undefined }), /cannot read .*: no such file/);
    assert.throws(() => readQemuMutexTrace(tmp, { op: () => undefined }), /is a directory/);
  });

  it('cuts an endless line without newlines instead of buffering it', () => {
    const f = path.join(tmp, 'long.log');
    fs.writeFileSync(f, 'x'.repeat(3 << 20) + '\n' + line(1, 0, 'lock', '0xa', 'tcg/region.c:234') + '\n');
    const r = readFile(f);
    assert.deepEqual([r.summary.lines, r.summary.bad.count, r.ops.length], [2, 1, 1]);
  });
});

describe('QEMU mutex trace: streaming', function () {
  this.timeout(300_000);

  it('reads a generated 2-million-line trace with bounded heap', () => {
    const f = path.join(tmp, 'big.log');
    const BQL = '0x562b6dc973e0', R = '0x562b6dca9080', REG = '0x562b75df06c0';
    // One vCPU loop iteration: take the replay mutex, run, take the BQL for an exit, release both.
    const cycle = (us: number) => [
      line(3, us, 'lock', R, 'replay/replay-internal.c:221'), line(3, us + 1, 'locked', R, 'replay/replay-internal.c:221'),
      line(3, us + 2, 'unlock', R, 'replay/replay-internal.c:227'),
      line(3, us + 3, 'lock', REG, 'tcg/region.c:234'), line(3, us + 4, 'locked', REG, 'tcg/region.c:234'), line(3, us + 5, 'unlock', REG, 'tcg/region.c:236'),
      line(3, us + 6, 'lock', R, 'replay/replay-internal.c:235'), line(3, us + 7, 'locked', R, 'replay/replay-internal.c:235'),
      line(3, us + 8, 'unlock', R, 'replay/replay-internal.c:239'),
      line(3, us + 9, 'lock', BQL, 'accel/tcg/cpu-exec.c:763'), line(3, us + 13, 'locked', BQL, 'accel/tcg/cpu-exec.c:763'),
      line(3, us + 20, 'unlock', BQL, 'softmmu/cpus.c:511'),
    ];
    const CYCLES = 166_667, LINES = CYCLES * 12; // just over 2 million lines
    const fd = fs.openSync(f, 'w');
    for (let i = 0; i < CYCLES;) {
      const batch: string[] = [];
      for (let k = 0; k < 5000 && i < CYCLES; k++, i++) batch.push(...cycle(i * 30));
      fs.writeSync(fd, batch.join('\n') + '\n');
    }
    fs.closeSync(fd);
    const size = fs.statSync(f).size;
    assert.ok(size > 150e6, `the trace is big (${size} bytes)`);

    // Live heap, not allocation churn: collect before each sample (gc exposed at run time).
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const live = () => { gc(); return process.memoryUsage().heapUsed; };
    const base = live();
    let peak = base;
    const stats = new LockStats();
    let n = 0;
    const s = readQemuMutexTrace(f, {
      op: (op) => { stats.add(op); if ((++n & 0x3ffff) === 0) peak = Math.max(peak, live()); },
      rename: (a, nm) => stats.rename(a, nm),
    });
    fs.rmSync(f);
    const report = stats.report();
    assert.equal(s.lines, LINES);
    assert.equal(s.ops, CYCLES * 9); // 3 of the 12 lines are the replay mutex's internal ops
    const bql = report.locks[0];
    assert.deepEqual([bql.lock, bql.acquisitions, bql.hold?.p50, bql.wait?.p99], ['bql', CYCLES, 7, 4]);
    assert.equal(report.locks[1].acquisitions, CYCLES);
    assert.deepEqual(report.violations, []);
    assert.ok(peak - base < 32e6, `live heap grew by ${((peak - base) / 1e6).toFixed(1)} MB while reading ${(size / 1e6).toFixed(0)} MB`);
  });
});
