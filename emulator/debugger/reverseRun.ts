import type { TimeTravel } from '../timetravel/timeTravel';
import type { Advance } from './forwardRun';
import { landBefore } from './forwardRun';
import { MachineHooks } from './machineHooks';
import { CodeStop, HitContext, Stop, StopReason, StopSet, WatchHit, WatchStop } from './stops';
import { describeTrap, isInterrupt, TRAP_FILTERS, trapFilterOf } from './trapFilters';

/**
 * Something that happened in the past, seen while replaying an interval: an arrival at a
 * statement (for reverse stepping), or a stop candidate — a breakpoint arrival whose condition
 * held there, a data breakpoint access, a trap the user stops on.
 */
export interface Moment {
  icount: number;
  hart: number;
  pc: number;
  /** For stepping rules: the stack pointer and the frame's CFA there. */
  sp: number;
  cfa?: number;
  /** Where the moment's frame returns to. */
  returnPc?: number;
  /** At one of the rule's addresses: the rule judges it. */
  ruled?: boolean;
  /** A stop candidate: how it would be reported, and what counts its hit (condition held already). */
  stop?: Stop;
  hit?: () => boolean;
  /** An interrupt is shown after it is taken, everything else before its instruction. */
  after?: boolean;
}

/**
 * What a backward rule makes of one of its moments, newest first: `ignore` it (another hart, a
 * call being stepped over, a prologue), it `extend`s the stretch being stepped back over (the
 * landing is at or before it), `stop` here, or stop at an earlier-seen (newer) moment.
 */
export type Verdict = 'ignore' | 'extend' | 'stop' | { stopAt: Moment };

export interface ReverseRule {
  /** Statement addresses (or call sites) the rule wants to see, beyond the user's breakpoints. */
  readonly pcs: ReadonlySet<number>;
  /** Extra data for a moment at one of pcs, taken while the machine is there (frame CFA). */
  describe?(m: Moment): void;
  judge(m: Moment): Verdict;
  /**
   * The rule has a candidate it may still move further back: a user's stop seen now is only
   * reached if the stretch goes on past it (decided by the rule's next moment).
   */
  pending(): boolean;
  /** The scan reached the start of the recording: where to stop, if the rule has a candidate. */
  atStart?(): Moment | undefined;
}

/**
 * Searches backwards from here for the latest moment a rule accepts — reverse-continue to the
 * last breakpoint, data-breakpoint change or trap; reverse steps — one snapshot interval per
 * slice: replay the interval with the hooks armed, collect what happened in order, then judge it
 * newest first. Nothing the guest does changes; the search leaves the machine at the moment it
 * found (before that instruction), or at the start of the recording.
 */
export class ReverseRun {
  private readonly hooks: MachineHooks;
  private readonly origin: number;
  private cursor: number;
  private readonly codeAt = new Map<number, CodeStop[]>();
  /** Instructions the next backward window covers (grows as the search goes further back). */
  private window = 4096;

  constructor(private readonly tt: TimeTravel, private readonly stops: StopSet, private readonly rule?: ReverseRule) {
    this.hooks = new MachineHooks(tt.machine);
    this.origin = tt.icount;
    this.cursor = tt.icount;
    for (const c of stops.code) for (const a of c.addresses) {
      const list = this.codeAt.get(a >>> 0) ?? [];
      list.push(c);
      this.codeAt.set(a >>> 0, list);
    }
  }

  /** Nothing is armed between slices: the machine is at a consistent position already. */
  cancel(): void {}

  /** How far back the search has come: 0 at the start, 1 at the start of the recording. */
  progress(): number {
    return this.origin > 0 ? (this.origin - this.cursor) / this.origin : 1;
  }

  /** Scans intervals until about `budget` instructions have been replayed, or the search ends. */
  advance(budget: number): Advance {
    let replayed = 0;
    while (replayed < budget) {
      const to = this.cursor;
      if (to <= 0) return this.atStart();
      // Small windows first: what a step back looks for is usually just behind, and only the
      // window itself replays with probes (getting to its start runs compiled code).
      const from = Math.max(this.tt.intervalBefore(to), to - this.window);
      this.window = Math.min(this.window * 8, 1 << 30);
      const moments = this.collect(from, to);
      for (let i = moments.length - 1; i >= 0; i--) {
        const landing = this.judge(moments[i]);
        if (landing) return this.land(landing);
      }
      replayed += to - from;
      this.cursor = from;
    }
    return undefined;
  }

  /**
   * A user's stop met while stepping back is reached first — a breakpoint inside a call being
   * stepped over, a watchpoint in the line being stepped back over — unless the step's landing
   * turns out to be newer than it; that is known at the rule's next moment.
   */
  private deferred?: Moment;

  private judge(mo: Moment): Moment | undefined {
    const user = mo.stop !== undefined && (!mo.hit || mo.hit());
    const rule = this.rule;
    if (!rule) return user ? mo : undefined;
    const v = mo.ruled ? rule.judge(mo) : 'ignore';
    if (typeof v === 'object') return v.stopAt;
    if (v === 'stop') return this.deferred ?? mo;
    if (v === 'extend') {
      if (this.deferred) return this.deferred;
      if (user) return mo;
      return undefined;
    }
    if (user) {
      if (!rule.pending()) return mo;
      this.deferred ??= mo;
    }
    return undefined;
  }

  private atStart(): { stop: Stop } {
    const m = this.tt.machine;
    if (this.deferred) return this.land(this.deferred);
    const c = this.rule?.atStart?.();
    if (c) return this.land(c);
    this.tt.seek(0);
    return { stop: { reason: 'start', hart: m.lastHart, description: 'start of the recording', text: 'the start of the recording (icount 0)' } };
  }

  private land(mo: Moment): { stop: Stop } {
    if (mo.after) {
      this.landAfterInterrupt(mo.icount);
    } else {
      landBefore(this.tt, mo.icount);
    }
    const stop = mo.stop ?? { reason: 'step' as StopReason, hart: mo.hart };
    return { stop: { ...stop, hart: mo.hart } };
  }

  /** Where an interrupt was taken: at the handler, as a forward run stops there. */
  private landAfterInterrupt(icount: number): void {
    const m = this.tt.machine;
    landBefore(this.tt, icount);
    this.hooks.arm({ pcs: new Set(), writes: [], traps: true }, {
      trap: (cause, _tval, _pc, at) => { if (isInterrupt(cause) && at === icount) m.requestStop(); },
    });
    try {
      this.tt.runTo(icount + 1);
    } finally {
      this.hooks.disarm();
    }
  }

  /** Replays [from, to) collecting moments before the origin, in order. */
  private collect(from: number, to: number): Moment[] {
    const tt = this.tt;
    const m = tt.machine;
    tt.seek(from);
    const out: Moment[] = [];
    const limit = Math.min(to, this.origin);
    const inRange = (icount: number) => icount >= from && icount < limit;
    const writes = this.stops.watch.filter((w) => w.onWrite);
    const reads = this.stops.watch.filter((w) => w.onRead);
    const values = new Map<number, Uint8Array>();
    for (const w of writes) values.set(w.id, readBytes(this.tt, w));
    const rulePcs = this.rule?.pcs ?? new Set<number>();
    const pcs = new Set<number>([...this.codeAt.keys(), ...rulePcs]);
    this.hooks.arm({
      pcs,
      writes: writes.map((w) => ({ lo: w.lo, hi: w.hi })),
      read: reads.length ? { lo: Math.min(...reads.map((w) => w.lo)), hi: Math.max(...reads.map((w) => w.hi)) } : undefined,
      traps: this.stops.traps.size > 0,
    }, {
      arrival: (pc, icount, hart) => {
        if (!inRange(icount)) return;
        const ctx: HitContext = { hart, pc, icount, reverse: true };
        const sp = m.harts[hart].x[2] >>> 0;
        // One moment per arrival: the rule's view of it and the user's breakpoints there.
        const mo: Moment = { icount, hart, pc, sp };
        if (rulePcs.has(pc)) {
          mo.ruled = true;
          this.rule!.describe?.(mo);
        }
        const held = (this.codeAt.get(pc) ?? []).filter((c) => !c.condition || c.condition(ctx));
        if (held.length) {
          mo.stop = { reason: held[0].kind, hart, hitIds: held.map((c) => c.id) };
          mo.hit = () => held.map((c) => !c.hit || c.hit(ctx)).some((x) => x);
        }
        if (mo.ruled || mo.stop) out.push(mo);
      },
      write: (addr, len, icount, pc, hart) => this.access(writes, values, 'write', addr, len, icount, pc, hart, inRange, out),
      read: (addr, len, icount, pc, hart) => this.access(reads, values, 'read', addr, len, icount, pc, hart, inRange, out),
      trap: (cause, tval, pc, icount, hart) => {
        const filter = trapFilterOf(cause);
        if (!this.stops.traps.has(filter)) return;
        const after = isInterrupt(cause);
        // An interrupt taken exactly where the search started is the present, not the past.
        if (!(icount >= from && (after ? icount < limit : icount < limit))) return;
        const label = TRAP_FILTERS.find((f) => f.id === filter)!.label;
        out.push({ icount, hart, pc, sp: m.harts[hart].x[2] >>> 0, after, stop: { reason: 'exception', hart, description: label, text: describeTrap(cause, tval, pc) } });
      },
    });
    try {
      tt.runTo(to);
    } finally {
      this.hooks.disarm();
    }
    // Hooks fire in execution order; the sort is stable, so moments at one icount keep theirs.
    return out.sort((a, b) => a.icount - b.icount);
  }

  private access(watches: WatchStop[], values: Map<number, Uint8Array>, access: 'write' | 'read', addr: number, len: number, icount: number, pc: number, hart: number, inRange: (i: number) => boolean, out: Moment[]): void {
    const hits: WatchHit[] = [];
    const ctx: HitContext = { hart, pc, icount, reverse: true };
    for (const w of watches) {
      if (!(addr < w.hi && addr + len > w.lo)) continue;
      const old = values.get(w.id) ?? new Uint8Array(0);
      const now = readBytes(this.tt, w);
      if (access === 'write') {
        if (sameBytes(old, now)) continue;
        values.set(w.id, now);
      }
      if (inRange(icount) && (!w.condition || w.condition(ctx))) hits.push({ id: w.id, old, now, access });
    }
    if (!hits.length) return;
    const byId = new Map(watches.map((w) => [w.id, w]));
    out.push({
      icount, hart, pc, sp: this.tt.machine.harts[hart].x[2] >>> 0,
      stop: { reason: 'data breakpoint', hart, hitIds: hits.map((h) => h.id), watch: hits },
      hit: () => hits.map((h) => { const w = byId.get(h.id)!; return !w.hit || w.hit(ctx); }).some((x) => x),
    });
  }
}

function readBytes(tt: TimeTravel, w: WatchStop): Uint8Array {
  const out = new Uint8Array(Math.max(0, w.hi - w.lo));
  for (let i = 0; i < out.length; i++) out[i] = tt.machine.bus.peek(w.lo + i, 1);
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
