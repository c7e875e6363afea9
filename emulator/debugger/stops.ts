import type { TrapFilter } from './trapFilters';

/**
 * Where a stop is being judged: the machine is at that moment (registers, memory; the hart's pc
 * is `pc`), so a condition can be evaluated or a log message formatted there.
 */
export interface HitContext {
  hart: number;
  pc: number;
  /** Icount before the instruction at `pc` (for a data breakpoint: before the access). */
  icount: number;
  /** A backward search is replaying: log messages are not shown, counts still move. */
  reverse: boolean;
}

/**
 * What decides whether reaching a breakpoint stops: `condition` is judged at the moment (pure:
 * a backward search asks it of every arrival it replays); `hit` is called for an arrival the
 * debugger actually passes, in the direction of travel — it counts the hit, and says whether to
 * stop (a hit condition; a log point prints and never stops). Neither: always stops.
 */
export interface StopJudge {
  condition?(ctx: HitContext): boolean;
  hit?(ctx: HitContext): boolean;
}

/** A code breakpoint as the engine sees it: its addresses (a source line can have several). */
export interface CodeStop extends StopJudge {
  id: number;
  kind: 'breakpoint' | 'function breakpoint' | 'instruction breakpoint';
  addresses: readonly number[];
}

/**
 * A data breakpoint on guest addresses [lo, hi). A write stops only when it changes the bytes
 * (gdb's watch, VS Code's "Break on Value Change"); a read stops on any load from the range.
 */
export interface WatchStop extends StopJudge {
  id: number;
  lo: number;
  hi: number;
  onWrite: boolean;
  onRead: boolean;
}

/** A data breakpoint that fired, with the watched bytes before and after the access. */
export interface WatchHit {
  id: number;
  old: Uint8Array;
  now: Uint8Array;
  access: 'write' | 'read';
}

export interface StopSet {
  code: readonly CodeStop[];
  watch: readonly WatchStop[];
  traps: ReadonlySet<TrapFilter>;
}

export const NO_STOPS: StopSet = { code: [], watch: [], traps: new Set() };

export type StopReason =
  | 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'instruction breakpoint' | 'data breakpoint'
  | 'exception' | 'pause' | 'goto' | 'start' | 'end';

/** Why the machine stopped, for the front end to show. */
export interface Stop {
  reason: StopReason;
  /** The hart the stop is about (the one that hit the breakpoint, stepped, trapped). */
  hart: number;
  /** The breakpoints that caused it. */
  hitIds?: number[];
  /** A short phrase (VS Code shows it in the call stack's header). */
  description?: string;
  /** The one-line detail: which exception and where, the divergence report, the exit code. */
  text?: string;
  /** For a data breakpoint: what changed (or was read). */
  watch?: WatchHit[];
}

/** Forward: whether reaching a stop with this judge stops (condition, then the hit is counted). */
export function passes(j: StopJudge, ctx: HitContext): boolean {
  return (!j.condition || j.condition(ctx)) && (!j.hit || j.hit(ctx));
}
