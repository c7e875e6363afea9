import { LockStats, LockViolation } from './lockStats';
import { LockTracer } from './lockTracer';
import { TicketLock } from './ticketLock';

/**
 * The lock rules, checked while the emulator runs rather than read off a trace afterwards:
 * every lock operation goes through LockStats (the replay mutex is never taken under the BQL, no
 * relock, no release of a lock not held), and every replay-log append is checked to come from
 * the replay mutex's holder. Each violation reaches the listeners once, as it happens: the
 * recording marks it in the trace, the CLI reports it.
 */
export class LockChecker {
  stats = new LockStats({ maxViolations: 10_000 });
  readonly violations: LockViolation[] = [];
  private readonly listeners: ((v: LockViolation) => void)[] = [];
  private seen = 0;

  constructor(private readonly tracer: LockTracer, private readonly replay: TicketLock) {
    tracer.onCheck((op) => {
      this.stats.add(op);
      if (op.violation) this.collect();
    });
  }

  /**
   * The machine was restored from a snapshot: threads start afresh with nothing held, so what
   * the checker knew about holders no longer applies (violations found so far are kept).
   */
  restart(): void {
    this.stats = new LockStats({ maxViolations: 10_000 });
    this.seen = 0;
  }

  onViolation(listener: (v: LockViolation) => void): void {
    this.listeners.push(listener);
  }

  /** A replay-log event written (or replayed) by `thread` at `site`: it must hold the replay mutex. */
  checkAppend(thread: string, site: string, event: string, icount: number): void {
    if (this.replay.holder === thread) return;
    const holder = this.replay.holder;
    const v = this.stats.appendUnlocked({
      thread, site, event, icount,
      ...(holder !== undefined ? { holder, heldSite: this.replay.holderSite, heldIndex: this.replay.holderOp } : {}),
    });
    this.seen++;
    this.emit(v);
  }

  get count(): number {
    return Object.values(this.stats.report().violationCounts).reduce((a, b) => a + b, 0);
  }

  /** New violations LockStats found at the last op. */
  private collect(): void {
    const all = this.stats.report().violations;
    for (const v of all.slice(this.seen)) this.emit(v);
    this.seen = all.length;
  }

  private emit(v: LockViolation): void {
    this.violations.push(v);
    for (const l of this.listeners) l(v);
  }
}
