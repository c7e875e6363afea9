import type { DebugInfo } from '../debuginfo/debugInfo';
import { RewindError } from '../errors';
import type { TimeTravel } from '../timetravel/timeTravel';
import { Advance, ForwardRun } from './forwardRun';
import { callAt, finishTarget, LineStep, ReturnStep } from './forwardStep';
import { framePosition } from './framePosition';
import { functionLocations, LineLocation, lineLocations } from './lineLocations';
import { gdbPrologues, PrologueAnalyzer } from './prologue';
import { ReverseRun } from './reverseRun';
import { LineStepBack, ReturnStepBack } from './reverseSteps';
import { describeStop } from './runEnd';
import { NO_STOPS, Stop, StopSet } from './stops';

/** A long piece of debugger work, done in slices (see ForwardRun.advance). */
export interface Operation {
  advance(budget: number): Advance;
  /** Gives up where it is (pause, cancel); the machine stays at a consistent position. */
  cancel(): void;
  /** How far it has come, 0..1, when that is known. */
  progress?(): number;
}

export type StepKind = 'over' | 'into' | 'out';
export type Granularity = 'line' | 'instruction';

/** An operation that is over before it starts (a stop decided without running). */
function done(stop: Stop): Operation {
  return { advance: () => ({ stop }), cancel: () => undefined };
}

/**
 * The engine side of a debugger, for any front end: one recording (live or replayed) under time
 * travel, its debug info, and the operations a debugger runs on it — continue, step and their
 * reverse, go to a point in time — each as a sliced Operation that ends in a Stop. Knows nothing
 * of DAP.
 */
export class DebugTarget {
  readonly prologue: PrologueAnalyzer;
  private statementSet?: Set<number>;

  constructor(readonly tt: TimeTravel, readonly info: DebugInfo, readonly live: boolean) {
    this.prologue = gdbPrologues(info);
  }

  /** Where a breakpoint on the function `name` goes (gdb's placement, inlined copies included). */
  functionLocations(name: string): LineLocation[] {
    return functionLocations(this.info, this.prologue, name);
  }

  /** Where a breakpoint on `file`:`line` goes (gdb's placement; see lineLocations). */
  lineLocations(file: string, line: number): { line: number; locations: LineLocation[] } {
    return lineLocations(this.info, this.prologue, file, line);
  }

  get statements(): ReadonlySet<number> {
    this.statementSet ??= new Set(this.info.lines?.statementAddresses() ?? []);
    return this.statementSet;
  }

  get machine() {
    return this.tt.machine;
  }

  /** The hart stops are about by default: the one that ran last. */
  get currentHart(): number {
    return this.tt.machine.lastHart;
  }

  continue(stops: StopSet): Operation {
    return new ForwardRun(this.tt, stops, { live: this.live });
  }

  reverseContinue(stops: StopSet): Operation {
    return new ReverseRun(this.tt, stops);
  }

  /** Runs forward to icount `target` (or stops earlier at a stop of `stops`). */
  runForwardTo(target: number, stops: StopSet = NO_STOPS): Operation {
    return new ForwardRun(this.tt, stops, { live: this.live, limit: target, limitReason: 'goto' });
  }

  /** Goes to `target` in the past (or to here): a snapshot and a short replay, no stops. */
  goBackTo(target: number): Operation {
    this.tt.seek(target);
    return done({ reason: 'goto', hart: this.currentHart });
  }

  /** @param keepInline the function a breakpoint stopped in: its inlined copy starting here is shown (see SourceView.frames). */
  step(kind: StepKind, granularity: Granularity, hart: number, stops: StopSet, keepInline?: string): Operation {
    const m = this.tt.machine;
    const pc = m.harts[hart].pc >>> 0;
    if (kind === 'out') return this.finish(hart, stops);
    if (granularity === 'instruction') {
      const len = kind === 'over' ? callAt(m, pc) : undefined;
      if (len === undefined) return new InstructionStep(this.tt, hart, this.live);
      const sp = m.harts[hart].x[2] >>> 0;
      return new ForwardRun(this.tt, stops, { live: this.live, plan: new ReturnStep(m, hart, (pc + len) >>> 0, sp) });
    }
    // gdb: stepping where there is no line information runs until the function returns.
    if (!this.info.sourceLineAt(pc)) {
      return finishTarget(m, this.info, hart) ? this.finish(hart, stops) : new InstructionStep(this.tt, hart, this.live);
    }
    return new ForwardRun(this.tt, stops, { live: this.live, plan: new LineStep(m, this.info, this.prologue, hart, kind === 'into', this.statements, keepInline) });
  }

  private finish(hart: number, stops: StopSet): Operation {
    const t = finishTarget(this.tt.machine, this.info, hart);
    if (!t) throw new RewindError('NO_CALLER', '"finish" not meaningful in the outermost frame');
    return new ForwardRun(this.tt, stops, { live: this.live, plan: new ReturnStep(this.tt.machine, hart, t.pc, t.sp) });
  }

  stepBack(kind: StepKind, granularity: Granularity, hart: number, stops: StopSet): Operation {
    const m = this.tt.machine;
    if (kind === 'out') {
      const f = framePosition(m, this.info, hart);
      if (f.returnPc === undefined || f.cfa === Infinity) throw new RewindError('NO_CALLER', '"reverse-finish" not meaningful in the outermost frame');
      return new ReverseRun(this.tt, stops, new ReturnStepBack(hart, f.returnPc, f.cfa));
    }
    if (granularity === 'instruction' || !this.info.sourceLineAt(m.harts[hart].pc >>> 0)) return new InstructionStepBack(this.tt);
    return new ReverseRun(this.tt, stops, new LineStepBack(m, this.info, this.prologue, hart, kind === 'over', this.statements));
  }
}

/** stepi: one instruction of `hart` (the others run as the round-robin has them run meanwhile). */
class InstructionStep implements Operation {
  constructor(private readonly tt: TimeTravel, private readonly hart: number, private readonly live: boolean) {}

  advance(): Advance {
    const m = this.tt.machine;
    for (let tries = 0; tries < 4 * m.harts.length; tries++) {
      const before = m.icount;
      const r = this.tt.runTo(m.icount + 1);
      if (r.reason === 'idle' && this.live) return { idle: true };
      if (r.reason !== 'limit') return { stop: describeStop(m, r) };
      if (m.icount === before) return { stop: { reason: 'end', hart: m.lastHart, description: 'end of the recording', text: `the end of the recording, at icount ${m.icount}` } };
      if (m.lastHart === this.hart) break;
    }
    return { stop: { reason: 'step', hart: this.hart } };
  }

  cancel(): void {}
}

/** reverse-stepi: to the instruction boundary before this one. */
class InstructionStepBack implements Operation {
  constructor(private readonly tt: TimeTravel) {}

  advance(): Advance {
    const m = this.tt.machine;
    if (!this.tt.stepBack()) return { stop: { reason: 'start', hart: m.lastHart, description: 'start of the recording', text: 'the start of the recording (icount 0)' } };
    return { stop: { reason: 'step', hart: m.lastHart } };
  }

  cancel(): void {}
}
