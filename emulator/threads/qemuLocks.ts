import { LockTracer, SectionGroup } from './lockTracer';
import * as S from './qemuSites';
import { LockSection, TicketLock } from './ticketLock';

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
  /** The sections a vCPU makes at every device access and TB exit, ids resolved once. */
  readonly ioRead: LockSection;
  readonly handleInterrupt: LockSection;
  readonly handleException: LockSection;
  readonly tbLookup: LockSection;
  /**
   * What a vCPU's device read adds up to, once guest code is left: io_readx's BQL, the TB lookup
   * of cpu_io_recompile, and (7.2) cpu_handle_interrupt's BQL; `withoutInterrupt` for 10.0.
   */
  readonly readExit: LockSectionGroup;
  readonly readExitWithoutInterrupt: LockSectionGroup;
  private lastThread = '';
  private lastThreadId = -1;

  constructor(readonly tracer: LockTracer, private readonly tracing: boolean) {
    this.bql = new TicketLock('bql', tracer, this.released);
    this.replay = new TicketLock('replay', tracer, this.released);
    for (const l of [S.LOCK_TIMERS, S.LOCK_CHR, S.LOCK_TB, S.LOCK_WORK, S.LOCK_VMSTOP, S.LOCK_RCU_SYNC, S.LOCK_RCU_REGISTRY, S.LOCK_CPU_LIST]) this.other.set(l, new TicketLock(l, tracer, this.released));
    this.ioRead = new LockSection(this.bql, S.IO_READX, S.BQL_UNLOCK, tracer);
    this.handleInterrupt = new LockSection(this.bql, S.HANDLE_INTERRUPT, S.BQL_UNLOCK, tracer);
    this.handleException = new LockSection(this.bql, S.HANDLE_EXCEPTION, S.BQL_UNLOCK, tracer);
    this.tbLookup = new LockSection(this.other.get(S.LOCK_TB)!, S.TB_LOOKUP, S.TB_LOOKUP, tracer);
    this.readExit = new LockSectionGroup([this.ioRead, this.tbLookup, this.handleInterrupt]);
    this.readExitWithoutInterrupt = new LockSectionGroup([this.ioRead, this.tbLookup]);
  }

  /** The sections of `g` by `thread`, one after the other (traced in one go when all are free). */
  group(g: LockSectionGroup, thread: string): void {
    const secs = g.sections;
    let free = true;
    for (let k = 0; k < secs.length; k++) if (secs[k].lock.holder !== undefined || secs[k].lock.queued) free = false;
    if (free) {
      if (thread !== this.lastThread) {
        this.lastThread = thread;
        this.lastThreadId = this.tracer.id(thread);
      }
      if (this.tracer.recordGroup(this.lastThreadId, g.traced)) {
        for (let k = 0; k < secs.length; k++) secs[k].lock.passed();
        return;
      }
    }
    for (let k = 0; k < secs.length; k++) this.section(secs[k], thread);
  }

  /**
   * A section at `s` by `thread`. The BQL's are taken where the caller cannot wait (see
   * takeBql); the short-lived locks' only when tracing, as `touch`.
   */
  section(s: LockSection, thread: string): void {
    if (s.lock === this.bql) {
      if (!this.bql.sectionAt(thread, s)) this.takeBql(thread, s.siteIn);
    } else if (this.tracing) {
      s.lock.sectionAt(thread, s);
    }
  }

  /** A lock taken and released at once by `thread` (the short critical sections). */
  touch(lock: string, thread: string, site: string): void {
    if (!this.tracing) return;
    // Held across a step by nobody: it is always free here.
    this.other.get(lock)!.section(thread, site, site);
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

/** Sections always made together (see SectionGroup). */
export class LockSectionGroup {
  readonly traced: SectionGroup;
  constructor(readonly sections: LockSection[]) {
    this.traced = new SectionGroup(sections.map((s) => ({ lock: s.lock.lockId, siteIn: s.inId, siteOut: s.outId })));
  }
}
