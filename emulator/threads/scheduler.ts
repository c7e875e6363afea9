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
  /** Where the thread is now (`module:function`), for lock-rule reports. */
  readonly site?: string;
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
  /** The thread whose step is running (undefined between steps): who holds what is asked of it. */
  current: EmuThread | undefined;
  private next = 0;
  private readonly random?: () => number;
  /** Per thread: 1 when it reported 'blocked' since any thread last made progress, 2 when done. */
  private readonly state: Uint8Array;
  private readonly runnable: number[] = [];

  /**
   * `progress`: a count that grows whenever a thread does something another may be waiting for
   * (a lock released), so a thread that releases a lock and then blocks in the same step still
   * wakes the others.
   */
  constructor(private readonly threads: EmuThread[], readonly policy: SchedulePolicy = { kind: 'fair' }, private readonly progress: () => number = () => 0) {
    if (policy.kind === 'random') this.random = prng(policy.seed);
    this.state = new Uint8Array(threads.length);
  }

  /** Takes one step of one thread; false once every thread is done. */
  step(): boolean {
    const n = this.threads.length;
    const st = this.state;
    let i: number;
    if (this.random) {
      const r = this.runnable;
      r.length = 0;
      let live = 0;
      for (let k = 0; k < n; k++) {
        if (st[k] !== 2) live++;
        if (st[k] === 0) r.push(k);
      }
      if (live === 0) return false;
      if (r.length === 0) this.deadlock();
      i = r[Math.floor(this.random() * r.length)];
    } else {
      // Round-robin over the thread list, skipping threads that cannot run now.
      let k = 0;
      i = this.next;
      while (k < n && st[i] !== 0) { i = (i + 1) % n; k++; }
      if (k === n) {
        if (st.every((x) => x === 2)) return false;
        this.deadlock();
      }
      this.next = (i + 1) % n;
    }
    const t = this.threads[i];
    this.hostStep++;
    this.current = t;
    let r: StepResult;
    const before = this.progress();
    try {
      r = t.step();
    } finally {
      this.current = undefined;
    }
    if (r === 'blocked') {
      if (this.progress() !== before) for (let k = 0; k < n; k++) if (st[k] === 1) st[k] = 0;
      st[i] = 1;
    } else {
      // Progress: whoever was blocked may be able to go on now.
      for (let k = 0; k < n; k++) if (st[k] === 1) st[k] = 0;
      if (r === 'done') st[i] = 2;
    }
    return true;
  }

  /** Nobody has made progress since each of them blocked, so nothing can ever unblock them. */
  private deadlock(): never {
    const why = this.threads.filter((_, k) => this.state[k] !== 2).map((x) => `${x.name} waits for ${x.waitingFor?.() ?? 'something'}`).join('; ');
    throw new RewindError('DEADLOCK', `emulator threads deadlocked at host step ${this.hostStep}: ${why}`);
  }
}
