import { LockAction, LockName, LockOp } from './lockOp';

/** What gets traced: every lock operation, only the replay mutex's, or nothing. */
export type TraceLevel = 'full' | 'replay-only' | 'off';

export function parseTraceLevel(s: string): TraceLevel {
  if (s === 'full' || s === 'replay-only' || s === 'off') return s;
  throw new Error(`lock trace level must be full, replay-only or off, not '${s}'`);
}

/**
 * Collects the emulator's lock operations as they happen, stamped with the guest icount and the
 * scheduler's host step. Operations are recorded where the locks are really taken, never
 * synthesised later. Checkers see every operation whatever the level (a rule is checked even
 * when the trace keeps nothing); trace sinks see those the level keeps. With no listener at all
 * (a plain run) no op object is even built.
 */
export class LockTracer {
  private index = 0;
  /** Ops the sinks got: a trace numbers its ops consecutively, whatever the level drops. */
  private kept = 0;
  private readonly sinks: ((op: LockOp) => void)[] = [];
  private readonly checkers: ((op: LockOp) => void)[] = [];
  private active = false;

  constructor(public level: TraceLevel = 'full', private readonly clock: { icount(): number; hostStep(): number }) {}

  /** A trace sink: gets the ops the level keeps. */
  onOp(listener: (op: LockOp) => void): void {
    this.sinks.push(listener);
    this.active = true;
  }

  /** A rule checker: gets every op, before the sinks (so a violation it finds is traced with the op). */
  onCheck(listener: (op: LockOp) => void): void {
    this.checkers.push(listener);
    this.active = true;
  }

  /** Ops so far (the index the next one gets). */
  get count(): number {
    return this.index;
  }

  record(thread: string, lock: LockName, action: LockAction, site: string): void {
    if (!this.active) return;
    const op: LockOp = { index: this.index++, thread, lock, action, site, icount: this.clock.icount(), step: this.clock.hostStep() };
    for (const c of this.checkers) c(op);
    if (this.level === 'off' || (this.level === 'replay-only' && lock !== 'replay')) return;
    const out = this.level === 'full' ? op : { ...op, index: this.kept };
    this.kept++;
    for (const l of this.sinks) l(out);
  }
}
