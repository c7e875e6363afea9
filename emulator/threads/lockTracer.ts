import { LockAction, LockName, LockOp } from './lockOp';

/** What gets traced: every lock operation, only the replay mutex's, or nothing. */
export type TraceLevel = 'full' | 'replay-only' | 'off';

/**
 * Collects the emulator's lock operations as they happen, stamped with the guest icount and the
 * scheduler's host step, and hands each to the listeners (the .rwtrace lock stream, the rule
 * checker). Operations are recorded where the locks are really taken, never synthesised later.
 */
export class LockTracer {
  private index = 0;
  private readonly listeners: ((op: LockOp) => void)[] = [];

  constructor(public level: TraceLevel = 'full', private readonly clock: { icount(): number; hostStep(): number }) {}

  onOp(listener: (op: LockOp) => void): void {
    this.listeners.push(listener);
  }

  record(thread: string, lock: LockName, action: LockAction, site: string): void {
    if (this.level === 'off' || (this.level === 'replay-only' && lock !== 'replay')) return;
    const op: LockOp = { index: this.index++, thread, lock, action, site, icount: this.clock.icount(), time: this.clock.hostStep() };
    for (const l of this.listeners) l(op);
  }
}
