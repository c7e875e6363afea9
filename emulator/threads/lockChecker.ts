import { describe, LockViolation, ViolationKind } from './lockStats';
import { ACTION_ACQUIRED, ACTION_WAIT, LockTracer } from './lockTracer';
import { TicketLock } from './ticketLock';

/**
 * The lock rules, checked while the emulator runs rather than read off a trace afterwards:
 * every lock operation is checked (the replay mutex is never taken under the BQL, no relock, no
 * release of a lock not held), and every replay-log append is checked to come from the replay
 * mutex's holder. Each violation reaches the listeners once, as it happens: the recording marks
 * it in the trace, the CLI reports it.
 *
 * The rules are LockStats' (threads known, Rewind's own lock names), checked on the tracer's
 * compact form: ids in, integer-keyed state, no object per op; strings are looked up only to
 * word a violation. test/emulator/threads/lockStats.test.ts holds the two to the same answers.
 */
const MAX_VIOLATIONS = 10_000;

/** What the checker knows of one thread on one lock. */
class Cell {
  /** Holds open (the lock is reentrant only by mistake: a relock is a violation, still counted). */
  depth = 0;
  /** Where and at which op the outermost hold began. */
  site = 0;
  index = 0;
  /** The thread has had an op on the lock since the last restart. */
  known = false;
  /** 0 not waiting, 1 waiting, 2 waiting and the wait was flagged with a violation. */
  waiting = 0;
}

export class LockChecker {
  readonly violations: LockViolation[] = [];
  private readonly listeners: ((v: LockViolation) => void)[] = [];
  /** Violations kept since the last restart (LockStats kept at most MAX_VIOLATIONS). */
  private kept = 0;
  private counts: Record<ViolationKind, number> = zero();
  /** Ops seen since the last restart (the index an append-unlocked violation is reported at). */
  private ops = 0;
  /** lock id -> thread id -> cell (ids are the tracer's: a few hundred at most). */
  private cells: Cell[][] = [];
  private readonly bqlId: number;
  private readonly replayId: number;

  constructor(private readonly tracer: LockTracer, private readonly replay: TicketLock) {
    this.bqlId = tracer.id('bql');
    this.replayId = tracer.id('replay');
    tracer.onCheckCompact((t, l, a, s, i) => this.check(t, l, a, s, i), (t, l) => this.section(t, l), (t, ls) => this.group(t, ls));
  }

  /**
   * The machine was restored from a snapshot: threads start afresh with nothing held, so what
   * the checker knew about holders no longer applies (violations found so far are kept).
   */
  restart(): void {
    this.epoch++;
    this.cells = [];
    this.counts = zero();
    this.kept = 0;
    this.ops = 0;
  }

  onViolation(listener: (v: LockViolation) => void): void {
    this.listeners.push(listener);
  }

  /** A replay-log event written (or replayed) by `thread` at `site`: it must hold the replay mutex. Returns the violation, if it is one. */
  checkAppend(thread: string, site: string, event: string, icount: number): LockViolation | undefined {
    if (this.replay.holder === thread) return undefined;
    const holder = this.replay.holder;
    const p: Omit<LockViolation, 'message'> = {
      kind: 'append-unlocked', index: this.ops, lock: 'replay', thread, site, event, icount,
      ...(holder !== undefined ? { holder, heldSite: this.replay.holderSite, heldIndex: this.replay.holderOp } : {}),
    };
    this.counts[p.kind]++;
    this.kept++;
    const v = { ...p, message: describe(p) };
    this.emit(v);
    return v;
  }

  get count(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  private cell(l: number, t: number): Cell {
    const row = this.cells[l] ?? (this.cells[l] = []);
    return row[t] ?? (row[t] = new Cell());
  }

  /**
   * A section on a free lock (TicketLock.section): taking a lock nobody holds breaks a rule only
   * if it is the replay mutex (under the BQL) or the thread's own (relock), which this cell shows.
   * Releasing it again at once breaks none.
   */
  private section(t: number, l: number): boolean {
    if (l === this.replayId) return false;
    const c = this.cell(l, t);
    if (c.depth > 0 || c.waiting !== 0) return false;
    c.known = true;
    this.ops += 2;
    return true;
  }

  /**
   * Ops checked one by one since the last restart: the group last found clean stays clean until
   * one of them (or a restart) changes a cell.
   */
  private epoch = 0;
  private cleanEpoch = -1;
  private cleanThread = -1;
  private cleanLocks: Int32Array | undefined;

  /** `section` for several locks, all or none. */
  private group(t: number, locks: Int32Array): boolean {
    if (this.cleanEpoch === this.epoch && this.cleanLocks === locks && this.cleanThread === t) {
      this.ops += 2 * locks.length;
      return true;
    }
    for (let k = 0; k < locks.length; k++) {
      const l = locks[k];
      if (l === this.replayId) return false;
      const c = this.cell(l, t);
      if (c.depth > 0 || c.waiting !== 0) return false;
    }
    for (let k = 0; k < locks.length; k++) this.cell(locks[k], t).known = true;
    this.ops += 2 * locks.length;
    this.cleanEpoch = this.epoch;
    this.cleanThread = t;
    this.cleanLocks = locks;
    return true;
  }

  private check(t: number, l: number, action: number, site: number, index: number): string | undefined {
    this.ops++;
    this.epoch++;
    const c = this.cell(l, t);
    const known = c.known;
    c.known = true;
    if (action === ACTION_WAIT) {
      const v = this.checkTake(t, l, site, index, c);
      c.waiting = v !== undefined ? 2 : 1;
      return v;
    }
    if (action === ACTION_ACQUIRED) {
      const flagged = c.waiting === 2;
      c.waiting = 0;
      const v = flagged ? undefined : this.checkTake(t, l, site, index, c);
      if (c.depth++ === 0) {
        c.site = site;
        c.index = index;
      }
      return v;
    }
    if (c.depth > 0) {
      c.depth--;
      return undefined;
    }
    // Released by a thread that does not hold it: name the holder whose hold began first.
    let other = -1;
    const row = this.cells[l];
    for (let u = 0; u < row.length; u++) {
      const o = row[u];
      if (u !== t && o !== undefined && o.depth > 0 && (other < 0 || o.index < row[other].index)) other = u;
    }
    if (!known && other < 0) return undefined; // the end of a hold that began before the trace
    const n = this.tracer;
    const h = other >= 0 ? row[other] : undefined;
    return this.found({
      kind: 'release-unheld', index, line: undefined, thread: n.name(t), lock: n.name(l), site: n.name(site),
      holder: h && n.name(other), heldSite: h && n.name(h.site), heldIndex: h?.index,
    });
  }

  /** Rule checks when thread `t` starts taking lock `l`. */
  private checkTake(t: number, l: number, site: number, index: number, mine: Cell): string | undefined {
    let out: string | undefined;
    const n = this.tracer;
    if (mine.depth > 0) {
      out = this.found({ kind: 'relock', index, line: undefined, thread: n.name(t), lock: n.name(l), site: n.name(site), heldLock: n.name(l), heldSite: n.name(mine.site), heldIndex: mine.index });
    }
    if (l === this.replayId && l !== this.bqlId) {
      const h = this.cells[this.bqlId]?.[t];
      if (h !== undefined && h.depth > 0) {
        const v = this.found({ kind: 'replay-under-bql', index, line: undefined, thread: n.name(t), lock: n.name(l), site: n.name(site), heldLock: 'bql', heldSite: n.name(h.site), heldIndex: h.index });
        out = out === undefined ? v : `${out}; ${v}`;
      }
    }
    return out;
  }

  private found(p: Omit<LockViolation, 'message'>): string {
    const message = describe(p);
    this.counts[p.kind]++;
    if (this.kept < MAX_VIOLATIONS) {
      this.kept++;
      this.emit({ ...p, message });
    }
    return message;
  }

  private emit(v: LockViolation): void {
    this.violations.push(v);
    for (const l of this.listeners) l(v);
  }
}

function zero(): Record<ViolationKind, number> {
  return { 'replay-under-bql': 0, relock: 0, 'release-unheld': 0, 'append-unlocked': 0 };
}
