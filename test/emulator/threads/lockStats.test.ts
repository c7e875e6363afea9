/**
 * LockStats: counts, hold/wait distributions, contention and the three lock rules, on synthetic
 * op streams in Rewind's own style (named threads, icount) and QEMU's (TIDs, host time).
 */
import assert from 'node:assert/strict';
import { LockAction, LockOp } from '../../../emulator/threads/lockOp';
import { Histogram, LockStats } from '../../../emulator/threads/lockStats';

/** Ops from `[thread, lock, action, site, icount]` rows, indexed in order. */
function ops(rows: [string, string, LockAction, string, number?][]): LockOp[] {
  return rows.map(([thread, lock, action, site, icount], index) => ({ index, thread, lock, action, site, ...(icount !== undefined ? { icount } : {}) }));
}

function run(list: LockOp[], s = new LockStats()): ReturnType<LockStats['report']> {
  for (const op of list) s.add(op);
  return s.report();
}

describe('LockStats: rule violations', () => {
  it('reports taking the replay mutex while holding the BQL, with both sites, the thread and the op index', () => {
    const list = ops([
      ['migration', 'bql', 'acquired', 'migration:postcopy_start'],
      ['migration', 'replay', 'wait', 'replay:replay_mutex_lock'],
      ['migration', 'replay', 'acquired', 'replay:replay_mutex_lock'],
    ]);
    const r = run(list);
    assert.equal(r.violations.length, 1, 'flagged once, at the wait, not again at the acquire');
    const v = r.violations[0];
    assert.deepEqual([v.kind, v.thread, v.lock, v.site, v.index, v.heldLock, v.heldSite, v.heldIndex],
      ['replay-under-bql', 'migration', 'replay', 'replay:replay_mutex_lock', 1, 'bql', 'migration:postcopy_start', 0]);
    assert.match(v.message, /migration takes the replay mutex at replay:replay_mutex_lock \(op #1\) while holding the BQL \(taken at migration:postcopy_start, op #0\)/);
    assert.equal(list[1].violation, v.message, 'the op itself is marked');
    assert.equal(list[2].violation, undefined);
  });

  it('reports the replay mutex taken under the BQL also when the trace has no wait op (an uncontended ticket)', () => {
    const r = run(ops([['t', 'bql', 'acquired', 'a'], ['t', 'replay', 'acquired', 'b']]));
    assert.deepEqual(r.violations.map((v) => [v.kind, v.index]), [['replay-under-bql', 1]]);
  });

  it('allows the documented order: drop the BQL, take the replay mutex, retake the BQL; and keeping the BQL after dropping the replay mutex', () => {
    const r = run(ops([
      ['main-loop', 'bql', 'acquired', 'a'], ['main-loop', 'bql', 'released', 'b'],
      ['main-loop', 'replay', 'wait', 'c'], ['main-loop', 'replay', 'acquired', 'c'], ['main-loop', 'bql', 'acquired', 'd'],
      ['main-loop', 'replay', 'released', 'e'], ['main-loop', 'bql', 'released', 'f'],
    ]));
    assert.deepEqual(r.violations, []);
  });

  it('reports taking a lock the thread already holds, naming where it was taken first', () => {
    const r = run(ops([['vcpu0', '0xabc', 'acquired', 'x.c:1'], ['vcpu0', '0xabc', 'wait', 'y.c:2'], ['vcpu0', '0xabc', 'acquired', 'y.c:2']]));
    assert.deepEqual(r.violations.map((v) => [v.kind, v.index, v.site, v.heldSite, v.heldIndex]), [['relock', 1, 'y.c:2', 'x.c:1', 0]]);
    assert.match(r.violations[0].message, /QemuRecMutex/);
    const bql = run(ops([['t', 'bql', 'acquired', 'a'], ['t', 'bql', 'acquired', 'b']]));
    assert.deepEqual(bql.violations.map((v) => v.kind), ['relock']);
    assert.doesNotMatch(bql.violations[0].message, /QemuRecMutex/, 'the BQL is never recursive');
  });

  it('reports releasing a lock the thread was seen not to hold, and one another thread holds', () => {
    const r = run(ops([
      ['a', 'L', 'acquired', 's1'], ['a', 'L', 'released', 's2'], ['a', 'L', 'released', 's3'],
      ['b', 'L', 'acquired', 's4'], ['c', 'L', 'released', 's5'],
    ]));
    assert.deepEqual(r.violations.map((v) => [v.kind, v.thread, v.index, v.holder]), [['release-unheld', 'a', 2, undefined], ['release-unheld', 'c', 4, 'b']]);
    assert.match(r.violations[1].message, /thread c releases mutex L at s5 \(op #4\) without holding it; thread b holds it \(taken at s4, op #3\)/);
  });

  it('takes a release as a thread\'s first op on a lock as the end of a hold from before the trace, not a violation', () => {
    const r = run(ops([['main', 'bql', 'released', 'cpus.c:650'], ['main', 'replay', 'released', 'r:239'], ['main', 'bql', 'acquired', 'cpus.c:650']]));
    assert.deepEqual(r.violations, []);
    assert.deepEqual(r.locks.map((l) => [l.lock, l.heldAtStart]), [['bql', 1], ['replay', 1]]);
  });

  it('checks nothing per thread when the trace has no thread ids', () => {
    const r = run(ops([['?', 'bql', 'acquired', 'a'], ['?', 'replay', 'wait', 'b'], ['?', 'bql', 'released', 'c'], ['?', 'bql', 'released', 'd']]), new LockStats({ threadsKnown: false }));
    assert.deepEqual(r.violations, []);
    assert.equal(r.threadsKnown, false);
  });

  it('counts all violations but keeps only maxViolations in detail', () => {
    const rows: [string, string, LockAction, string][] = [];
    for (let i = 0; i < 10; i++) rows.push(['t', 'L', 'released', `s${i}`]);
    const r = run(ops(rows), new LockStats({ maxViolations: 3 }));
    assert.deepEqual([r.violationCounts['release-unheld'], r.violations.length, r.violationsDropped], [9, 3, 6]);
  });
});

describe('LockStats: statistics', () => {
  it('measures hold and wait times in instructions when ops carry icount', () => {
    const r = run(ops([
      ['vcpu0', 'replay', 'acquired', 'a', 100], ['main-loop', 'replay', 'wait', 'b', 150],
      ['vcpu0', 'replay', 'released', 'c', 400], ['main-loop', 'replay', 'acquired', 'b', 400],
      ['main-loop', 'replay', 'released', 'd', 410],
    ]));
    const l = r.locks[0];
    assert.equal(r.unit, 'insns');
    assert.deepEqual([l.acquisitions, l.waits, l.releases, l.contended], [2, 1, 2, 1]);
    assert.deepEqual([l.hold?.min, l.hold?.max, l.hold?.count, l.hold?.total, l.hold?.unit], [10, 300, 2, 310, 'insns']);
    assert.deepEqual([l.wait?.min, l.wait?.max], [250, 250]);
    assert.deepEqual(l.threads['main-loop'], { acquisitions: 1, waits: 1, releases: 1, contended: 1, heldAtStart: 0, sites: { b: 1 } });
    assert.deepEqual(l.sites.b, { wait: 1, acquired: 1, released: 0 });
  });

  it('measures host time in whole microseconds and does not call an unopposed wait contended', () => {
    const t0 = 1795639803.08976;
    const list: LockOp[] = [
      { index: 0, thread: '3', lock: 'bql', action: 'wait', site: 'cpu-exec.c:763', time: t0 },
      { index: 1, thread: '3', lock: 'bql', action: 'acquired', site: 'cpu-exec.c:763', time: t0 + 0.000003 },
      { index: 2, thread: '3', lock: 'bql', action: 'released', site: 'cpus.c:511', time: t0 + 0.000010 },
    ];
    const l = run(list).locks[0];
    assert.deepEqual([l.contended, l.wait?.max, l.hold?.max, l.hold?.unit], [0, 3, 7, 'us']);
  });

  it('calls a wait contended when another thread took the lock first, even without a holder at the start', () => {
    const r = run(ops([['a', 'L', 'wait', 's'], ['b', 'L', 'wait', 's'], ['a', 'L', 'acquired', 's'], ['a', 'L', 'released', 's'], ['b', 'L', 'acquired', 's']]));
    assert.deepEqual([r.locks[0].contended, r.locks[0].threads.a.contended, r.locks[0].threads.b.contended], [1, 0, 1]);
  });

  it('orders the BQL and the replay mutex first, then the others by acquisitions', () => {
    const r = run(ops([['t', 'x', 'acquired', 's'], ['t', 'y', 'acquired', 's'], ['t', 'y', 'released', 's'], ['t', 'y', 'acquired', 's'],
      ['t', 'replay', 'acquired', 's'], ['t', 'bql', 'acquired', 's']]));
    assert.deepEqual(r.locks.map((l) => l.lock), ['bql', 'replay', 'y', 'x']);
    assert.deepEqual(r.heldAtEnd.map((h) => h.lock).sort(), ['bql', 'replay', 'x', 'y']);
  });

  it('merges an address into its name on rename, and reports threads still waiting at the end', () => {
    const s = new LockStats();
    for (const op of ops([['v', '0x1', 'wait', 'a'], ['v', '0x1', 'acquired', 'a'], ['v', 'bql', 'released', 'cpus.c'], ['m', 'bql', 'wait', 'main-loop.c']])) {
      s.add(op);
      if (op.index === 1) s.rename('0x1', 'bql');
    }
    const r = s.report();
    assert.deepEqual(r.locks.map((l) => [l.lock, l.acquisitions, l.waits, l.releases, l.heldAtStart]), [['bql', 1, 2, 1, 0]]);
    assert.deepEqual(r.waitingAtEnd, [{ thread: 'm', lock: 'bql', site: 'main-loop.c', index: 3 }]);
    assert.deepEqual(r.violations, []);
  });
});

describe('LockStats: Histogram', () => {
  it('is exact below 256 and within 1% above, with exact min and max', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100_000; v++) h.add(v);
    assert.deepEqual([h.min, h.max, h.count], [1, 100_000, 100_000]);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = q * 100_000;
      assert.ok(Math.abs(h.quantile(q) - exact) / exact < 0.01, `q${q}: ${h.quantile(q)} vs ${exact}`);
    }
    const small = new Histogram();
    for (const v of [5, 1, 3, 2, 4]) small.add(v);
    assert.deepEqual([small.quantile(0.5), small.quantile(0.9), small.quantile(0.99)], [3, 5, 5]);
  });

  it('keeps a bounded number of buckets whatever it is fed', () => {
    const h = new Histogram();
    for (let i = 0; i < 200_000; i++) h.add(Math.floor(Math.random() * 2 ** 40));
    // 256 exact buckets + 128 per power of two up to 2^40.
    assert.ok((h as unknown as { buckets: Map<number, number> }).buckets.size <= 256 + 128 * 33);
  });
});
