import type { DebugInfo } from '../debuginfo/debugInfo';
import { TimeTravel } from './timeTravel';

/** Where the machine is at source level: the line, and which function instance (its frame). */
export interface SourcePosition {
  icount: number;
  pc: number;
  file?: string;
  line?: number;
  /**
   * The frame's canonical address: the stack pointer its caller had (the CFA). A callee's is
   * lower, a caller's higher; the same function instance keeps it.
   */
  frame: number;
}

/**
 * Source-level reverse stepping over a TimeTravel, as gdb's reverse-step, reverse-next and
 * reverse-finish behave: statement boundaries from the line table, frames from the unwinder.
 * Each step is a sequence of reverse-continues to statement boundaries, judged by the line and
 * frame the machine is in there.
 */
export class SourceStepper {
  private readonly statements: Set<number>;

  constructor(private readonly tt: TimeTravel, private readonly info: DebugInfo) {
    this.statements = new Set(info.statementBoundaries);
  }

  /** The source position the machine is at now. */
  where(): SourcePosition {
    const m = this.tt.machine;
    return this.positionOf(m.harts[m.lastHart].hartId, this.tt.icount);
  }

  /** A hart's source position at this moment (also called from inside a probe, mid-run). */
  private positionOf(hart: number, icount: number): SourcePosition {
    const m = this.tt.machine;
    const h = m.harts[hart];
    const pc = h.pc >>> 0;
    const loc = this.info.lineAt(pc);
    const stack = this.info.callStack(pc, h.x, (a) => m.bus.peek(a, 4), 2);
    return { icount, pc, file: loc?.file, line: loc?.line, frame: stack[1]?.sp ?? Infinity };
  }

  /**
   * Statement-boundary arrivals before `before`, newest first, one snapshot interval at a time;
   * each is described (line, frame) while the machine is there, so judging them costs no seeks.
   */
  private *arrivalsBefore(before: number): Generator<SourcePosition> {
    let to = before;
    while (to > 0) {
      const from = this.tt.intervalBefore(to);
      const found: SourcePosition[] = [];
      this.tt.probeInterval(this.statements, from, to, (pc, icount, hart) => {
        // The probe fires at block entry, before pc is stored in the hart.
        const h = this.tt.machine.harts[hart];
        const saved = h.pc;
        h.pc = pc | 0;
        found.push(this.positionOf(hart, icount));
        h.pc = saved;
      });
      for (let i = found.length - 1; i >= 0; i--) yield found[i];
      to = from;
    }
  }

  /** reverse-step: back to the start of the previous line run, entering callees (at their last line). */
  reverseStepInto(): SourcePosition | undefined {
    return this.stepBack(false);
  }

  /** reverse-next: back to the start of the previous line run in this frame, over calls. */
  reverseStepOver(): SourcePosition | undefined {
    return this.stepBack(true);
  }

  /** reverse-finish: back to the call that made this frame, in the caller. */
  reverseStepOut(): SourcePosition | undefined {
    const start = this.where();
    const m = this.tt.machine;
    const h = m.harts[m.lastHart];
    const stack = this.info.callStack(start.pc, h.x, (a) => m.bus.peek(a, 4), 2);
    const caller = stack[1];
    if (!caller) return undefined;
    // The call is the instruction before the return address: 4 bytes (jal, jalr) or 2 (c.jal, c.jalr).
    const calls = new Set([(caller.pc - 4) >>> 0, (caller.pc - 2) >>> 0]);
    for (let hit = this.tt.reverseContinue(calls); hit; hit = this.tt.reverseContinue(calls)) {
      // The call made this frame when the stack pointer was the frame's CFA.
      if ((h.x[2] >>> 0) === start.frame) return this.where();
    }
    this.tt.seek(start.icount);
    return undefined;
  }

  private stepBack(over: boolean): SourcePosition | undefined {
    const start = this.where();
    let found: SourcePosition | undefined;
    for (const p of this.arrivalsBefore(start.icount)) {
      if (over && p.frame < start.frame) continue; // inside a call made from this line: step over it
      if (found === undefined) {
        if (p.frame === start.frame && p.line === start.line && p.file === start.file) continue;
        found = p;
        // Back to the start of that line's run: earlier boundaries of the same line and frame,
        // with nothing else between, belong to it.
        continue;
      }
      if (p.frame === found.frame && p.line === found.line && p.file === found.file) {
        found = p;
        continue;
      }
      break;
    }
    this.tt.seek(found ? found.icount : start.icount);
    return found;
  }
}
