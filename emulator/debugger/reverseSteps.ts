import type { DebugInfo } from '../debuginfo/debugInfo';
import type { Machine } from '../machine/machine';
import { CfaCache, framePosition, sameLine } from './framePosition';
import type { PrologueAnalyzer } from './prologue';
import type { Moment, ReverseRule, Verdict } from './reverseRun';

interface Seen {
  m: Moment;
  file?: string;
  line?: number;
  cfa: number;
}

/**
 * reverse-next (`over`) and reverse-step, as the inverse of the forward LineStep: back to where
 * the previous forward step would have stopped — the start of the previous run of one line in
 * this frame (over calls), or in any frame (into callees, to the start of their last line).
 * Statements in a prologue are not stops (forward `step` skips them), so stepping back out of a
 * function's first line lands on the caller's line that called it. A run of a line that a callee
 * returned into is not a stop either (forward stepping passed it coming back from the callee):
 * stepping back goes on into the callee's last line.
 */
export class LineStepBack implements ReverseRule {
  readonly pcs: ReadonlySet<number>;
  private readonly start: Seen;
  private found?: Seen;
  private readonly cfas: CfaCache;

  constructor(private readonly m: Machine, private readonly info: DebugInfo, private readonly prologue: PrologueAnalyzer, private readonly hart: number, private readonly over: boolean, statements: ReadonlySet<number>) {
    this.cfas = new CfaCache(m, info);
    const p = framePosition(m, info, hart);
    this.start = { m: { icount: m.icount, hart, pc: p.pc, sp: m.harts[hart].x[2] >>> 0, cfa: p.cfa }, file: p.file, line: p.line, cfa: p.cfa };
    this.pcs = statements;
  }

  describe(mo: Moment): void {
    const f = this.cfas.frame(mo.hart);
    mo.cfa = f.cfa;
    mo.returnPc = f.returnPc;
  }

  private inPrologue(pc: number): boolean {
    const fn = this.info.functionAt(pc);
    return fn !== undefined && pc < this.prologue.bodyStart(fn.address);
  }

  pending(): boolean {
    return this.found !== undefined;
  }

  judge(mo: Moment): Verdict {
    if (mo.hart !== this.hart || this.inPrologue(mo.pc)) return 'ignore';
    const loc = this.info.sourceLineAt(mo.pc);
    const seen: Seen = { m: mo, file: loc?.file, line: loc?.line, cfa: mo.cfa ?? Infinity };
    const start = this.start;
    if (this.over && seen.cfa < start.cfa) return 'ignore'; // inside a call made from this frame
    const f = this.found;
    if (!f) {
      if (!(seen.cfa === start.cfa && sameLine(seen, start))) this.found = seen;
      return 'extend';
    }
    if (seen.cfa === f.cfa && sameLine(seen, f)) {
      this.found = seen;
      return 'extend';
    }
    if (!this.over && seen.cfa < f.cfa && this.returnedInto(seen, f)) {
      // This callee returned into the middle of the found line: forward stepping came from the
      // callee and went on through the line without stopping, so the step back goes on into it.
      this.found = seen;
      return 'extend';
    }
    return { stopAt: f.m };
  }

  /** `callee` returns into `found`'s line, past its start (a return to the very start is a stop). */
  private returnedInto(callee: Seen, found: Seen): boolean {
    const ra = callee.m.returnPc;
    if (ra === undefined || ra === found.m.pc) return false;
    const loc = this.info.sourceLineAt(ra);
    return loc !== undefined && sameLine({ file: loc.file, line: loc.line }, found) && this.info.functionAt(ra)?.address === this.info.functionAt(found.m.pc)?.address;
  }

  atStart(): Moment | undefined {
    return this.found?.m;
  }
}

/** reverse-finish: back to the call that made this frame (stopped before the call instruction). */
export class ReturnStepBack implements ReverseRule {
  readonly pcs: ReadonlySet<number>;

  constructor(private readonly hart: number, returnPc: number, private readonly cfa: number) {
    // The call is the instruction before the return address: 4 bytes (jal, jalr) or 2 (c.jal, c.jalr).
    this.pcs = new Set([(returnPc - 4) >>> 0, (returnPc - 2) >>> 0]);
  }

  pending(): boolean {
    return false;
  }

  judge(mo: Moment): Verdict {
    // The call made this frame when the stack pointer was the frame's CFA.
    return mo.hart === this.hart && mo.sp === this.cfa ? 'stop' : 'ignore';
  }
}
