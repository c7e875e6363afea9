import assert from 'node:assert/strict';
import { EmuThread, parsePolicy, Scheduler, StepResult } from '../../../emulator/threads/scheduler';
import { RewindError } from '../../../emulator/errors';

/** A thread that runs `steps` times, logging its name each time, then is done. */
function worker(name: string, steps: number, log: string[]): EmuThread {
  let left = steps;
  return { name, step: (): StepResult => { log.push(name); return --left > 0 ? 'ran' : 'done'; } };
}

function runAll(s: Scheduler): void {
  while (s.step()) { /* until every thread is done */ }
}

describe('Scheduler', () => {
  it('fair: round-robin over the threads that can run', () => {
    const log: string[] = [];
    runAll(new Scheduler([worker('a', 3, log), worker('b', 1, log), worker('c', 2, log)]));
    assert.deepEqual(log, ['a', 'b', 'c', 'a', 'c', 'a']);
  });

  it('random:SEED gives the same interleaving for the same seed, and other seeds give others', () => {
    const order = (seed: number) => {
      const log: string[] = [];
      runAll(new Scheduler([worker('a', 20, log), worker('b', 20, log), worker('c', 20, log)], { kind: 'random', seed }));
      return log.join('');
    };
    assert.equal(order(7), order(7));
    const distinct = new Set([1, 2, 3, 4, 5, 6, 7, 8].map(order));
    assert.ok(distinct.size >= 7, `only ${distinct.size} distinct schedules from 8 seeds`);
  });

  it('retries a blocked thread after another one made progress', () => {
    const log: string[] = [];
    let free = false;
    const waiter: EmuThread = { name: 'w', step: () => { log.push('w'); return free ? 'done' : 'blocked'; } };
    let n = 2;
    const releaser: EmuThread = { name: 'r', step: () => { log.push('r'); if (--n === 0) { free = true; return 'done'; } return 'ran'; } };
    runAll(new Scheduler([waiter, releaser]));
    assert.deepEqual(log, ['w', 'r', 'w', 'r', 'w']);
  });

  it('reports a deadlock, naming what each thread waits for, instead of spinning', () => {
    const t = (name: string, wants: string): EmuThread => ({ name, step: () => 'blocked', waitingFor: () => wants });
    const s = new Scheduler([t('vcpu0', 'the BQL held by migration'), t('migration', 'the replay mutex held by vcpu0')]);
    assert.throws(() => runAll(s), (e: unknown) => e instanceof RewindError && e.code === 'DEADLOCK'
      && /vcpu0 waits for the BQL held by migration; migration waits for the replay mutex held by vcpu0/.test(e.message));
  });

  it('parses --sched values and refuses others with one line', () => {
    assert.deepEqual(parsePolicy('fair'), { kind: 'fair' });
    assert.deepEqual(parsePolicy('random:42'), { kind: 'random', seed: 42 });
    assert.throws(() => parsePolicy('random:x'), /--sched takes 'fair' or 'random:SEED'/);
  });
});
