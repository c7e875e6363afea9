import { LockAction, LockName, LockOp } from './lockOp';

/** What gets traced: every lock operation, only the replay mutex's, or nothing. */
export type TraceLevel = 'full' | 'replay-only' | 'off';

export function parseTraceLevel(s: string): TraceLevel {
  if (s === 'full' || s === 'replay-only' || s === 'off') return s;
  throw new Error(`lock trace level must be full, replay-only or off, not '${s}'`);
}

/** Action codes of the compact form (the order of the .rwtrace LOCKS encoding). */
export const ACTION_WAIT = 0, ACTION_ACQUIRED = 1, ACTION_RELEASED = 2;
export const LOCK_ACTIONS: readonly LockAction[] = ['wait', 'acquired', 'released'];

/**
 * A run of kept ops in column form: op i (start <= i < end) is thread[i], lock[i], action[i],
 * site[i] (ids into `names`), icount[i], step[i], index[i]; `violation(i)` its violation text if
 * any. An entry with group[i] = g + 1 stands for a whole instance of section group `groups[g]`
 * by thread[i]: its ops are index[i], index[i] + 1, ... at icount[i] and step[i], in the group's
 * order (groupOps lists them). The arrays are reused for the next batch: a sink copies what it
 * keeps.
 */
export interface LockBatch {
  readonly thread: Uint32Array;
  readonly lock: Uint32Array;
  readonly action: Uint8Array;
  readonly site: Uint32Array;
  readonly icount: Float64Array;
  readonly step: Float64Array;
  readonly index: Float64Array;
  /** 0 for an op, g + 1 for an instance of groups[g] (see above). */
  readonly group: Uint16Array;
  readonly groups: readonly SectionGroup[];
  readonly start: number;
  readonly end: number;
  /** id -> string, for threads, locks and sites alike. */
  readonly names: readonly string[];
  /** How many ops of the batch carry a violation (0: violation() need not be asked). */
  readonly violations: number;
  violation(i: number): string | undefined;
}

/**
 * A rule checker on the compact form: ids (see LockTracer.name), the action code and the op's
 * index; returns the violation text found at this op, if any.
 */
export type CompactChecker = (thread: number, lock: number, action: number, site: number, index: number) => string | undefined;
/**
 * A compact checker's shortcut for a section (lock taken and released at once by a thread, the
 * lock free): true when it has accounted for both ops, having found nothing wrong with them;
 * false, with nothing changed, when they must come op by op.
 */
export type SectionChecker = (thread: number, lock: number) => boolean;
/** The same for several sections by one thread, all or none (`locks` in order, one per section). */
export type GroupChecker = (thread: number, locks: Int32Array) => boolean;

/**
 * Sections one thread makes one after the other, always together, at one icount (a vCPU's
 * device read: io_readx's BQL, the TB lookup, cpu_handle_interrupt's BQL): traced in one call,
 * and kept together in the trace so its writer can store them as one record.
 */
export class SectionGroup {
  /** The tracer's number for it, once it has been used. */
  id = -1;
  readonly locks: Int32Array;
  readonly sitesIn: Int32Array;
  readonly sitesOut: Int32Array;
  constructor(sections: { lock: number; siteIn: number; siteOut: number }[]) {
    this.locks = Int32Array.from(sections.map((s) => s.lock));
    this.sitesIn = Int32Array.from(sections.map((s) => s.siteIn));
    this.sitesOut = Int32Array.from(sections.map((s) => s.siteOut));
  }
}

const BATCH = 4096;

/**
 * Collects the emulator's lock operations as they happen, stamped with the guest icount and the
 * scheduler's host step. Operations are recorded where the locks are really taken, never
 * synthesised later. Checkers see every operation whatever the level (a rule is checked even
 * when the trace keeps nothing); trace sinks see those the level keeps. With no listener at all
 * (a plain run) nothing is done.
 *
 * The hot path is compact: thread, lock and site names are interned into small integer ids (a
 * TicketLock caches the ids of the strings it sees, see `id`), checkers get ids, and batch sinks
 * (`onBatch`) get preallocated typed columns — no object per op. Only `onOp`/`onCheck` listeners
 * (the compatibility path) get LockOp objects, built for them alone.
 */
export class LockTracer {
  private index = 0;
  /** Ops the sinks got: a trace numbers its ops consecutively, whatever the level drops. */
  private kept = 0;
  private readonly sinks: ((op: LockOp) => void)[] = [];
  private readonly checkers: ((op: LockOp) => void)[] = [];
  private readonly compact: CompactChecker[] = [];
  /** The compact checkers' section shortcuts (null: that checker has none). */
  private readonly sectionCheckers: (SectionChecker | null)[] = [];
  private readonly groupCheckers: (GroupChecker | null)[] = [];
  /** The groups used so far, by id. */
  private readonly groups: SectionGroup[] = [];
  private readonly batchSinks: ((b: LockBatch) => void)[] = [];
  private active = false;
  /** Whether anything listens: when not, locks skip even interning their strings. */
  get enabled(): boolean {
    return this.active;
  }
  /** Whether anything wants the kept ops (sinks of either kind, at a level that keeps some). */
  private tracing = false;
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private replayId: number;
  // The batch columns.
  private readonly cThread = new Uint32Array(BATCH);
  private readonly cLock = new Uint32Array(BATCH);
  private readonly cAction = new Uint8Array(BATCH);
  private readonly cSite = new Uint32Array(BATCH);
  private readonly cIcount = new Float64Array(BATCH);
  private readonly cStep = new Float64Array(BATCH);
  private readonly cIndex = new Float64Array(BATCH);
  private readonly cGroup = new Uint16Array(BATCH);
  private readonly cViolation = new Map<number, string>();
  private fill = 0;

  /** `rename`: how a name reads in the trace (the QEMU version's file and function names for sites). */
  constructor(public level: TraceLevel = 'full', private readonly clock: { icount(): number; hostStep(): number }, private readonly rename: (s: string) => string = (s) => s) {
    this.replayId = this.id('replay');
  }

  /** The small integer id of a thread, lock or site name (stable for the tracer's life). */
  id(s: string): number {
    let i = this.ids.get(s);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(this.rename(s));
      this.ids.set(s, i);
    }
    return i;
  }

  /** The name an id stands for. */
  name(id: number): string {
    return this.names[id];
  }

  /** A trace sink that wants objects: gets the ops the level keeps, one LockOp each (compat path). */
  onOp(listener: (op: LockOp) => void): void {
    this.sinks.push(listener);
    this.active = true;
    this.tracing = this.level !== 'off';
  }

  /**
   * A trace sink on the compact form: gets the kept ops in batches of typed columns, when a batch
   * is full and at `flush()`.
   */
  onBatch(listener: (b: LockBatch) => void): void {
    this.batchSinks.push(listener);
    this.active = true;
    this.tracing = this.level !== 'off';
  }

  /** A rule checker on objects (compat path): gets every op, before the sinks. */
  onCheck(listener: (op: LockOp) => void): void {
    this.checkers.push(listener);
    this.active = true;
  }

  /**
   * A rule checker on ids: gets every op, before the sinks (so a violation it finds is traced
   * with the op).
   */
  onCheckCompact(listener: CompactChecker, section?: SectionChecker, group?: GroupChecker): void {
    this.compact.push(listener);
    this.sectionCheckers.push(section ?? null);
    this.groupCheckers.push(group ?? null);
    this.active = true;
  }

  /** Ops so far (the index the next one gets). */
  get count(): number {
    return this.index;
  }

  record(thread: string, lock: LockName, action: LockAction, site: string): void {
    if (!this.active) return;
    this.recordIds(this.id(thread), this.id(lock), action === 'wait' ? 0 : action === 'acquired' ? 1 : 2, this.id(site));
  }

  /** `record` with interned ids and the action code (TicketLock's hot path). */
  recordIds(thread: number, lock: number, action: number, site: number): void {
    if (!this.active) return;
    const index = this.index++;
    let violation: string | undefined;
    for (let i = 0; i < this.compact.length; i++) {
      const v = this.compact[i](thread, lock, action, site, index);
      if (v !== undefined) violation = violation === undefined ? v : `${violation}; ${v}`;
    }
    const keep = this.tracing && (this.level === 'full' || lock === this.replayId);
    if (this.checkers.length === 0 && !keep) return;
    const icount = this.clock.icount();
    const step = this.clock.hostStep();
    if (this.checkers.length > 0) {
      const op: LockOp = { index, thread: this.names[thread], lock: this.names[lock], action: LOCK_ACTIONS[action], site: this.names[site], icount, step };
      if (violation !== undefined) op.violation = violation;
      for (const c of this.checkers) c(op);
      violation = op.violation;
    }
    if (!keep) return;
    const out = this.level === 'full' ? index : this.kept;
    this.kept++;
    if (this.sinks.length > 0) {
      const op: LockOp = { index: out, thread: this.names[thread], lock: this.names[lock], action: LOCK_ACTIONS[action], site: this.names[site], icount, step };
      if (violation !== undefined) op.violation = violation;
      for (const l of this.sinks) l(op);
    }
    if (this.batchSinks.length > 0) {
      const f = this.fill;
      this.cThread[f] = thread;
      this.cLock[f] = lock;
      this.cAction[f] = action;
      this.cSite[f] = site;
      this.cIcount[f] = icount;
      this.cStep[f] = step;
      this.cIndex[f] = out;
      this.cGroup[f] = 0;
      if (violation !== undefined) this.cViolation.set(f, violation);
      this.fill = f + 1;
      if (this.fill === BATCH) this.flush();
    }
  }

  /**
   * A section: `lock` acquired at `siteIn` and released at `siteOut` by `thread`, at once and
   * uncontended (the caller has seen it free). Both ops in one go when every listener can take
   * them so: true. False, with nothing recorded, when they must go through recordIds one by one
   * (an object listener, or a checker that wants to see them).
   */
  recordSection(thread: number, lock: number, siteIn: number, siteOut: number): boolean {
    if (!this.active) return true;
    if (this.checkers.length > 0 || this.sinks.length > 0) return false;
    const sc = this.sectionCheckers;
    if (sc.length === 1) {
      if (sc[0] === null || !sc[0](thread, lock)) return false;
    } else if (sc.length > 1) {
      return false;
    }
    const index = this.index;
    this.index = index + 2;
    if (!this.tracing || (this.level !== 'full' && lock !== this.replayId)) return true;
    const out = this.level === 'full' ? index : this.kept;
    this.kept += 2;
    if (this.batchSinks.length > 0) {
      const icount = this.clock.icount();
      const step = this.clock.hostStep();
      let f = this.fill;
      for (let k = 0; k < 2; k++) {
        this.cThread[f] = thread;
        this.cLock[f] = lock;
        this.cAction[f] = k === 0 ? ACTION_ACQUIRED : ACTION_RELEASED;
        this.cSite[f] = k === 0 ? siteIn : siteOut;
        this.cIcount[f] = icount;
        this.cStep[f] = step;
        this.cIndex[f] = out + k;
        this.cGroup[f] = 0;
        f++;
        if (f === BATCH) {
          this.fill = f;
          this.flush();
          f = 0;
        }
      }
      this.fill = f;
    }
    return true;
  }

  /**
   * A group of sections by `thread` (the caller has seen every lock free): all its ops in one
   * go, true; false, with nothing recorded, when they must come section by section.
   */
  recordGroup(thread: number, g: SectionGroup): boolean {
    if (!this.active) return true;
    if (this.checkers.length > 0 || this.sinks.length > 0 || this.groupCheckers.length > 1) return false;
    const locks = g.locks;
    if (this.groupCheckers.length === 1) {
      const gc = this.groupCheckers[0];
      if (gc === null || !gc(thread, locks)) return false;
    }
    const n = locks.length * 2;
    const index = this.index;
    this.index = index + n;
    if (!this.tracing || this.level !== 'full') return true; // a group holds no replay-mutex op
    this.kept += n;
    if (this.batchSinks.length === 0) return true;
    if (g.id < 0) {
      g.id = this.groups.length;
      this.groups.push(g);
    }
    const f = this.fill;
    this.cThread[f] = thread;
    this.cLock[f] = locks[0];
    this.cAction[f] = ACTION_ACQUIRED;
    this.cSite[f] = g.sitesIn[0];
    this.cIcount[f] = this.clock.icount();
    this.cStep[f] = this.clock.hostStep();
    this.cIndex[f] = index;
    this.cGroup[f] = g.id + 1;
    this.fill = f + 1;
    if (this.fill === BATCH) this.flush();
    return true;
  }

  /** Hands the batch sinks the ops not yet delivered. */
  flush(): void {
    if (this.fill === 0) return;
    const v = this.cViolation;
    const batch: LockBatch = {
      thread: this.cThread, lock: this.cLock, action: this.cAction, site: this.cSite, icount: this.cIcount, step: this.cStep, index: this.cIndex,
      group: this.cGroup, groups: this.groups, start: 0, end: this.fill, names: this.names, violations: v.size, violation: (i) => v.get(i),
    };
    for (const l of this.batchSinks) l(batch);
    this.fill = 0;
    this.cViolation.clear();
  }
}
