import { RewindError } from '../errors';

/** What one step of an emulator thread did. */
export type StepResult =
  /** Made progress; may run again. */
  | 'ran'
  /** Waits for something (a lock, an event): run others first. */
  | 'blocked'
  /** Has nothing left to do, ever. */
  | 'done';

/** One of the emulator's threads (main loop, a vCPU, migration): a coroutine stepped by the scheduler. */
export interface EmuThread {
  readonly name: string;
  step(): StepResult;
  /** For deadlock reports: what the thread is waiting for. */
  waitingFor?(): string;
}

export type SchedulePolicy = { kind: 'fair' } | { kind: 'random'; seed: number };

export function parsePolicy(s: string): SchedulePolicy {
  if (s === 'fair') return { kind: 'fair' };
  const m = /^random:(\d+)$/.exec(s);
  if (m && Number.isSafeInteger(Number(m[1]))) return { kind: 'random', seed: Number(m[1]) };
  throw new RewindError('USAGE', `--sched takes 'fair' or 'random:SEED' (SEED a non-negative integer), not '${s}'`);
}

/** mulberry32: a small, well-mixed 32-bit PRNG; the same seed gives the same schedule everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs the emulator's threads one step at a time on the host's one JavaScript thread, in an
 * order fixed by the policy alone: `fair` is round-robin, `random:SEED` picks among the
 * runnable threads with a seeded generator (to shake out ordering bugs, reproducibly). The
 * number of steps taken is the "host step" that lock traces are stamped with.
 */
export class Scheduler {
  hostStep = 0;
  private next = 0;
  private readonly random?: () => number;
  /** Threads that reported 'blocked' since any thread last made progress. */
  private readonly blocked = new Set<EmuThread>();
  private readonly done = new Set<EmuThread>();

  constructor(private readonly threads: EmuThread[], readonly policy: SchedulePolicy = { kind: 'fair' }) {
    if (policy.kind === 'random') this.random = prng(policy.seed);
  }

  /** Takes one step of one thread; false once every thread is done. */
  step(): boolean {
    const live = this.threads.filter((t) => !this.done.has(t));
    if (live.length === 0) return false;
    const runnable = live.filter((t) => !this.blocked.has(t));
    if (runnable.length === 0) {
      // Nobody has made progress since each of them blocked, so nothing can ever unblock them.
      const why = live.map((x) => `${x.name} waits for ${x.waitingFor?.() ?? 'something'}`).join('; ');
      throw new RewindError('DEADLOCK', `emulator threads deadlocked at host step ${this.hostStep}: ${why}`);
    }
    let t: EmuThread;
    if (this.random) {
      t = runnable[Math.floor(this.random() * runnable.length)];
    } else {
      // Round-robin over the thread list, skipping threads that cannot run now.
      let i = this.next;
      while (!runnable.includes(this.threads[i % this.threads.length])) i++;
      t = this.threads[i % this.threads.length];
      this.next = (i + 1) % this.threads.length;
    }
    this.hostStep++;
    const r = t.step();
    if (r === 'blocked') {
      this.blocked.add(t);
    } else {
      if (r === 'done') this.done.add(t);
      this.blocked.clear();
    }
    return true;
  }
}
