import { LockName } from './lockOp';
import { ACTION_ACQUIRED, ACTION_RELEASED, ACTION_WAIT, LockTracer } from './lockTracer';

const CACHE = 16;

/** A section's two sites with their tracer ids resolved once (the hot call sites have one each). */
export class LockSection {
  readonly inId: number;
  readonly outId: number;
  constructor(readonly lock: TicketLock, readonly siteIn: string, readonly siteOut: string, tracer: LockTracer) {
    this.inId = tracer.id(siteIn);
    this.outId = tracer.id(siteOut);
  }
}

/**
 * A fair FIFO lock for cooperatively scheduled emulator threads, modelled on QEMU's replay mutex
 * (a mutex plus a condition variable handing out tickets): a thread that asks gets a ticket and
 * holds the lock once its ticket is served; tickets are served in the order they were taken.
 *
 * Threads never block inside the emulator: acquire() answers whether the caller now holds the
 * lock, and a caller told "not yet" yields to the scheduler and asks again later, keeping its
 * place in the queue.
 */
export class TicketLock {
  private nextTicket = 0;
  private serving = 0;
  private readonly tickets = new Map<string, number>();
  holder: string | undefined;
  /** Where the current holder took it, for violation reports. */
  holderSite = '';
  /** The index of the op where the current holder took it. */
  holderOp = -1;

  readonly lockId: number;
  /**
   * A tiny cache of the ids of the thread and site strings this lock has seen (the same constant
   * strings recur), so the hot path compares string references instead of hashing them.
   */
  private readonly cacheStr: string[] = [];
  private readonly cacheId: number[] = [];
  private cacheNext = 0;

  /**
   * `released`: counts the releases of every lock of one machine — a release is progress for
   * whoever waits, even when the thread that made it then blocks (the scheduler asks).
   */
  constructor(readonly name: LockName, private readonly tracer: LockTracer, private readonly released: { count: number } = { count: 0 }) {
    this.lockId = tracer.id(name);
  }

  private id(s: string): number {
    const c = this.cacheStr;
    for (let i = 0; i < c.length; i++) if (c[i] === s) return this.cacheId[i];
    const id = this.tracer.id(s);
    if (c.length < CACHE) {
      c.push(s);
      this.cacheId.push(id);
    } else {
      c[this.cacheNext] = s;
      this.cacheId[this.cacheNext] = id;
      this.cacheNext = (this.cacheNext + 1) % CACHE;
    }
    return id;
  }

  private trace(thread: string, action: number, site: string): void {
    if (!this.tracer.enabled) return;
    this.tracer.recordIds(this.id(thread), this.lockId, action, this.id(site));
  }

  acquire(thread: string, site: string): boolean {
    if (this.holder === undefined && this.tickets.size === 0) {
      // Free with nobody queued (nearly always): the next ticket is the one being served.
      this.nextTicket++;
      return this.take(thread, site);
    }
    let ticket = this.tickets.get(thread);
    if (ticket === undefined) {
      ticket = this.nextTicket++;
      this.tickets.set(thread, ticket);
      if (ticket !== this.serving || this.holder !== undefined) this.trace(thread, ACTION_WAIT, site);
    }
    if (ticket !== this.serving || this.holder !== undefined) return false;
    this.tickets.delete(thread);
    return this.take(thread, site);
  }

  /**
   * A short critical section: taken and released at once by `thread` (acquired at `siteIn`,
   * released at `siteOut`), as QEMU's io_readx or a lock guard does. When the lock is free with
   * nobody queued (nearly always) the tracer takes the two ops in one go; otherwise it is an
   * ordinary acquire and release. False (nothing done) when the lock could not be taken now.
   */
  section(thread: string, siteIn: string, siteOut: string): boolean {
    return this.sectionWith(thread, siteIn, siteOut, -1, -1);
  }

  /** `section` at a LockSection of this lock (ids known: the polling path). */
  sectionAt(thread: string, s: LockSection): boolean {
    return this.sectionWith(thread, s.siteIn, s.siteOut, s.inId, s.outId);
  }

  /** Somebody waits for it. */
  get queued(): boolean {
    return this.tickets.size > 0;
  }

  /** A section the tracer took in a group (see QemuLocks.group): the lock was free and is again. */
  passed(): void {
    this.nextTicket++;
    this.serving++;
    this.released.count++;
  }

  /** The sites' ids, when known (else -1: looked up). */
  private sectionWith(thread: string, siteIn: string, siteOut: string, inId: number, outId: number): boolean {
    if (this.holder === undefined && this.tickets.size === 0) {
      const tr = this.tracer;
      if (!tr.enabled || tr.recordSection(this.threadId(thread), this.lockId, inId < 0 ? this.id(siteIn) : inId, outId < 0 ? this.id(siteOut) : outId)) {
        this.passed();
        return true;
      }
    }
    if (!this.acquire(thread, siteIn)) return false;
    this.release(thread, siteOut);
    return true;
  }

  private lastThread = '';
  private lastThreadId = -1;

  /** A thread's id: the same thread asks again and again (one vCPU in guest code). */
  private threadId(t: string): number {
    if (t !== this.lastThread) {
      this.lastThread = t;
      this.lastThreadId = this.tracer.id(t);
    }
    return this.lastThreadId;
  }

  /**
   * Takes the lock only if it is free with nobody queued, without joining the queue: for a
   * thread that must never make another wait behind it (a vCPU cannot wait inside guest code).
   * `traceWait`: trace the wait a refusal is (the first of a run of attempts).
   */
  tryAcquire(thread: string, site: string, traceWait: boolean): boolean {
    if (this.holder === undefined && this.tickets.size === 0) {
      this.nextTicket++;
      return this.take(thread, site);
    }
    if (traceWait) this.trace(thread, ACTION_WAIT, site);
    return false;
  }

  private take(thread: string, site: string): true {
    this.holder = thread;
    this.holderSite = site;
    this.holderOp = this.tracer.count;
    this.trace(thread, ACTION_ACQUIRED, site);
    return true;
  }

  release(thread: string, site: string): void {
    if (this.holder !== thread) {
      // Traced, not thrown: the rule checker reports it with both sites, and the run goes on so
      // the user can see the consequences on the timeline.
      this.trace(thread, ACTION_RELEASED, site);
      return;
    }
    this.holder = undefined;
    this.serving++;
    this.released.count++;
    this.trace(thread, ACTION_RELEASED, site);
  }

  /** A restored machine's thread holds the lock as it did when the snapshot was taken: no op is traced. */
  restoreHolder(thread: string, site: string): void {
    // It holds the ticket being served (its release serves the next one).
    if (this.holder === undefined) this.nextTicket = this.serving + 1;
    this.holder = thread;
    this.holderSite = site;
    this.holderOp = this.tracer.count;
  }

  /** Forgets holder and queue (a machine restored from a snapshot starts its threads afresh). */
  reset(): void {
    this.tickets.clear();
    this.serving = this.nextTicket;
    this.holder = undefined;
  }

  /** Threads waiting, in the order they will get the lock. */
  waiters(): string[] {
    return [...this.tickets.entries()].sort((a, b) => a[1] - b[1]).map(([t]) => t);
  }

  heldBy(thread: string): boolean {
    return this.holder === thread;
  }
}
