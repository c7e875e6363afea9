import assert from 'node:assert/strict';
import { LockOp } from '../../../emulator/threads/lockOp';
import { LockTracer } from '../../../emulator/threads/lockTracer';
import { TicketLock } from '../../../emulator/threads/ticketLock';

function setup(level: 'full' | 'replay-only' | 'off' = 'full') {
  let icount = 0;
  const ops: LockOp[] = [];
  const tracer = new LockTracer(level, { icount: () => icount, hostStep: () => ops.length });
  tracer.onOp((op) => ops.push(op));
  return { tracer, ops, setIcount: (n: number) => { icount = n; } };
}

describe('TicketLock', () => {
  it('serves waiters in the order they asked (FIFO), not in the order they retry', () => {
    const { tracer } = setup();
    const l = new TicketLock('replay', tracer);
    assert.equal(l.acquire('main-loop', 'main:dispatch'), true);
    assert.equal(l.acquire('vcpu0', 'cpu:exec'), false);
    assert.equal(l.acquire('migration', 'mig:complete'), false);
    l.release('main-loop', 'main:poll');
    // migration retries first, but vcpu0 took its ticket first.
    assert.equal(l.acquire('migration', 'mig:complete'), false);
    assert.equal(l.acquire('vcpu0', 'cpu:exec'), true);
    l.release('vcpu0', 'cpu:exec');
    assert.equal(l.acquire('migration', 'mig:complete'), true);
    assert.deepEqual(l.waiters(), []);
  });

  it('traces wait (once per ticket), acquired and released with thread, lock, site and icount', () => {
    const { tracer, ops, setIcount } = setup();
    const l = new TicketLock('bql', tracer);
    setIcount(100);
    l.acquire('main-loop', 'main:dispatch');
    l.acquire('vcpu0', 'cpu:mmio');
    l.acquire('vcpu0', 'cpu:mmio'); // a retry is not a second wait
    setIcount(150);
    l.release('main-loop', 'main:poll');
    l.acquire('vcpu0', 'cpu:mmio');
    assert.deepEqual(ops.map((o) => [o.thread, o.lock, o.action, o.site, o.icount]), [
      ['main-loop', 'bql', 'acquired', 'main:dispatch', 100],
      ['vcpu0', 'bql', 'wait', 'cpu:mmio', 100],
      ['main-loop', 'bql', 'released', 'main:poll', 150],
      ['vcpu0', 'bql', 'acquired', 'cpu:mmio', 150],
    ]);
    assert.deepEqual(ops.map((o) => o.index), [0, 1, 2, 3]);
  });

  it('traces only the replay mutex at level replay-only, and nothing at level off', () => {
    const a = setup('replay-only');
    new TicketLock('bql', a.tracer).acquire('t', 's');
    new TicketLock('replay', a.tracer).acquire('t', 's');
    assert.deepEqual(a.ops.map((o) => o.lock), ['replay']);
    const b = setup('off');
    new TicketLock('replay', b.tracer).acquire('t', 's');
    assert.equal(b.ops.length, 0);
  });

  it('a release by a thread that does not hold the lock is traced but changes nothing', () => {
    const { tracer, ops } = setup();
    const l = new TicketLock('bql', tracer);
    l.acquire('a', 'x:1');
    l.release('b', 'y:2');
    assert.equal(l.holder, 'a');
    assert.deepEqual(ops.map((o) => [o.thread, o.action]), [['a', 'acquired'], ['b', 'released']]);
  });
});
