import type { LockTracer } from './lockTracer';
import * as S from './qemuSites';
import { TicketLock } from './ticketLock';

/**
 * The QEMU mutexes one machine models: the BQL, the replay mutex, and the short-lived ones
 * (timer lists, chardev writes, TB region, CPU work, vm-stop, RCU) that QEMU's traces are full
 * of. Those are only taken when lock operations are traced or checked (`tracing`): nothing else
 * depends on them.
 */
export class QemuLocks {
  readonly bql: TicketLock;
  readonly replay: TicketLock;
  readonly other = new Map<string, TicketLock>();
  /** Releases of any of them: the scheduler's measure of progress. */
  readonly released = { count: 0 };

  constructor(readonly tracer: LockTracer, private readonly tracing: boolean) {
    this.bql = new TicketLock('bql', tracer, this.released);
    this.replay = new TicketLock('replay', tracer, this.released);
    for (const l of [S.LOCK_TIMERS, S.LOCK_CHR, S.LOCK_TB, S.LOCK_WORK, S.LOCK_VMSTOP, S.LOCK_RCU_SYNC, S.LOCK_RCU_REGISTRY, S.LOCK_CPU_LIST]) this.other.set(l, new TicketLock(l, tracer, this.released));
  }

  /** A lock taken and released at once by `thread` (the short critical sections). */
  touch(lock: string, thread: string, site: string): void {
    if (!this.tracing) return;
    const l = this.other.get(lock)!;
    if (!l.acquire(thread, site)) return; // held across a step by nobody: cannot happen
    l.release(thread, site);
  }

  /** `outer` then `inner` taken, released in reverse (nested lock guards). */
  touchNested(outer: string, inner: string, thread: string, site: string): void {
    if (!this.tracing) return;
    const o = this.other.get(outer)!;
    const i = this.other.get(inner)!;
    if (!o.acquire(thread, site)) return;
    if (i.acquire(thread, site)) i.release(thread, site);
    o.release(thread, site);
  }

  /**
   * Takes the BQL where the caller cannot wait (inside guest code). Only the main loop keeps it
   * across a scheduler step, and only while it also holds the replay mutex, which a vCPU in guest
   * code holds itself: finding it taken means the emulator itself is broken, not the guest.
   */
  takeBql(thread: string, site: string): void {
    if (!this.bql.acquire(thread, site)) throw new Error(`internal: BQL held by ${this.bql.holder} at ${this.bql.holderSite} when ${thread} takes it at ${site}`);
  }

  /** Holders and queues forgotten (a restored machine starts its threads afresh). */
  reset(): void {
    this.bql.reset();
    this.replay.reset();
    for (const l of this.other.values()) l.reset();
  }
}
