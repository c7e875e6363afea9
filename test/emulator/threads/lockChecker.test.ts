/**
 * LockChecker checks the rules on the tracer's compact form (ids, integer-keyed state); LockStats
 * checks the same rules on op objects. Random op streams — legal and not, several threads and
 * locks, relocks, stray releases, the replay mutex under the BQL — must get the same violations
 * from both, with the same text, at the same ops.
 */
import assert from 'node:assert/strict';
import { LockAction, LockOp } from '../../../emulator/threads/lockOp';
import { LockChecker } from '../../../emulator/threads/lockChecker';
import { LockStats } from '../../../emulator/threads/lockStats';
import { LockTracer } from '../../../emulator/threads/lockTracer';
import { TicketLock } from '../../../emulator/threads/ticketLock';

/** A small deterministic PRNG (xorshift32), so a failure names a seed that reproduces it. */
function rng(seed: number): () => number {
  let s = seed | 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const THREADS = ['main-loop', 'vcpu0', 'vcpu1', 'migration'];
const LOCKS = ['bql', 'replay', 'timer-list'];
const SITES = ['a.c:f', 'b.c:g', 'c.c:h'];
const ACTIONS: LockAction[] = ['wait', 'acquired', 'released'];

describe('LockChecker (compact) against LockStats (objects)', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}: the same violations, with the same text, at the same ops`, () => {
      const r = rng(seed);
      const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
      const tracer = new LockTracer('full', { icount: () => 0, hostStep: () => 0 });
      const checker = new LockChecker(tracer, new TicketLock('replay', tracer));
      const stats = new LockStats({ maxViolations: 100_000 });
      const traced: LockOp[] = [];
      tracer.onOp((op) => traced.push(op));
      // Mostly well-formed holds (wait?, acquired, released), with rule-breaking ops mixed in.
      const holding = new Map<string, string[]>();
      for (let i = 0; i < 400; i++) {
        const t = pick(THREADS);
        const held = holding.get(t) ?? [];
        holding.set(t, held);
        const x = r();
        if (x < 0.35 && held.length > 0) {
          tracer.record(t, held.pop()!, 'released', pick(SITES));
        } else if (x < 0.9) {
          const l = pick(LOCKS);
          if (r() < 0.5) tracer.record(t, l, 'wait', pick(SITES));
          tracer.record(t, l, 'acquired', pick(SITES));
          held.push(l);
        } else {
          tracer.record(t, pick(LOCKS), pick(ACTIONS), pick(SITES)); // anything at all
        }
      }
      for (const op of traced) stats.add({ ...op });
      const fromStats = stats.report().violations.map((v) => `${v.index} ${v.kind} ${v.message}`);
      const fromChecker = checker.violations.map((v) => `${v.index} ${v.kind} ${v.message}`);
      assert.deepEqual(fromChecker, fromStats);
      assert.equal(checker.count, fromStats.length);
      assert.ok(fromStats.length > 0, 'the stream broke no rule: the comparison says nothing');
    });
  }
});
