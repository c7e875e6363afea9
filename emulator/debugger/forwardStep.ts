import type { DebugInfo } from '../debuginfo/debugInfo';
import { RewindError } from '../errors';
import type { Machine } from '../machine/machine';
import type { StepPlan } from './forwardRun';
import { frameChain, FramePosition, framePosition, sameLine } from './framePosition';
import type { PrologueAnalyzer } from './prologue';
import type { HitContext } from './stops';

/**
 * gdb's `next` and `step`, as rules over arrivals at statements (DWARF is_stmt rows):
 *
 * - in the frame being stepped, stop at the first statement whose line differs from the line
 *   being stepped (other entries of the same line do not end the step);
 * - a call from that frame is stepped over as a whole (step-resume at its return address, so a
 *   long callee runs at full speed); `step` instead enters a callee called directly from the
 *   frame and stops where its body starts (after the prologue, PrologueAnalyzer);
 * - returning from the frame lands in the middle of the caller's line: stepping goes on there,
 *   with the caller's line as the one being stepped — unless the return address itself starts a
 *   statement, where it stops.
 */
export class LineStep implements StepPlan {
  private frame: FramePosition;
  private line: { file?: string; line?: number };
  /** Step-resume: the run is inside a call, waiting for its return (pc, with sp = cfa). */
  private resume?: { pc: number; sp: number };
  /** `step` entered a callee: run to its body start, in that frame. */
  private body?: { pc: number; cfa: number };
  private readonly statements: ReadonlySet<number>;
  private probes: Set<number>;
  /** The inlined calls the stepping started in (innermost first), as shown then. */
  private inline: InlineCall[];

  constructor(private readonly m: Machine, private readonly info: DebugInfo, private readonly prologue: PrologueAnalyzer, private readonly hart: number, private readonly into: boolean, statements: ReadonlySet<number>, keepInline?: string) {
    this.statements = statements;
    this.frame = framePosition(m, info, hart);
    this.line = { file: this.frame.file, line: this.frame.line };
    this.probes = this.rangeProbes();
    // The inlined calls shown at the start: those starting here are hidden, unless a breakpoint on the function showed its copy.
    const pc = m.harts[hart].pc >>> 0;
    this.inline = inlineChain(info, pc).slice(hiddenAt(info, pc, keepInline));
  }

  private rangeProbes(): Set<number> {
    const s = new Set(this.statements);
    if (this.frame.returnPc !== undefined) s.add(this.frame.returnPc >>> 0);
    return s;
  }

  pcs(): ReadonlySet<number> {
    return this.probes;
  }

  arrival(ctx: HitContext): 'stop' | 'go' | 'reprobe' {
    if (ctx.hart !== this.hart) return 'go';
    const h = this.m.harts[this.hart];
    const sp = h.x[2] >>> 0;
    const pc = ctx.pc >>> 0;
    if (this.resume) {
      if (pc !== this.resume.pc || sp !== this.resume.sp) return 'go';
      this.resume = undefined;
      this.probes = this.rangeProbes();
      // Back from the call, in the middle of the line that made it (or at a new statement).
      return this.isStatement(pc) && !sameLine(this.lineOf(pc), this.line) ? 'stop' : 'reprobe';
    }
    if (this.body) {
      if (pc !== this.body.pc) return 'go';
      return framePosition(this.m, this.info, this.hart).cfa === this.body.cfa ? 'stop' : 'go';
    }
    if (pc === this.frame.returnPc && sp === this.frame.cfa) {
      // Returned from the frame being stepped.
      if (this.isStatement(pc) && !sameLine(this.lineOf(pc), this.line)) return 'stop';
      this.frame = framePosition(this.m, this.info, this.hart);
      this.line = this.lineOf(pc);
      this.probes = this.rangeProbes();
      return 'reprobe';
    }
    if (!this.isStatement(pc)) return 'go';
    const pos = framePosition(this.m, this.info, this.hart);
    if (pos.cfa === this.frame.cfa) {
      if (sameLine(pos, this.line)) return 'go';
      return this.into ? 'stop' : this.overInline(pc);
    }
    if (pos.cfa > this.frame.cfa) return 'stop'; // an outer frame reached without returning (longjmp, a tail call)
    // A callee of the frame being stepped, at a statement.
    const chain = frameChain(this.m, this.info, this.hart);
    const k = chain.findIndex((f) => f.cfa >= this.frame.cfa);
    if (this.into && k === 1) {
      const fn = this.info.functionAt(pc);
      const start = fn ? this.prologue.bodyStart(fn.address) : pc;
      if (pc >= start) return 'stop';
      this.body = { pc: start, cfa: pos.cfa };
      this.probes = new Set([start]);
      return 'reprobe';
    }
    // Step over it: resume when the outermost callee below this frame returns into it.
    const callee = k > 0 ? chain[k - 1] : undefined;
    if (!callee || callee.returnPc === undefined) return 'go';
    this.resume = { pc: callee.returnPc >>> 0, sp: callee.cfa };
    this.probes = new Set([this.resume.pc]);
    return 'reprobe';
  }

  /**
   * `next` and inlined calls, as gdb's infrun has them: inside an inlined call made from the
   * frame being stepped the step goes on (it is stepped over like a call); at the entry of one,
   * whose frame is not shown yet, it stops only if the call site is on another line.
   */
  private overInline(pc: number): 'stop' | 'go' {
    const now = inlineChain(this.info, pc);
    const shown = now.filter((n) => n.entry !== pc);
    if (shown.length > this.inline.length && sameTail(shown, this.inline)) return 'go';
    if (shown.length === this.inline.length && sameTail(shown, this.inline) && shown.length < now.length) {
      const site = now[now.length - shown.length - 1];
      return site.callLine === this.line.line ? 'go' : 'stop';
    }
    return 'stop';
  }

  private isStatement(pc: number): boolean {
    return this.statements.has(pc >>> 0);
  }

  private lineOf(pc: number): { file?: string; line?: number } {
    const loc = this.info.sourceLineAt(pc);
    return { file: loc?.file, line: loc?.line };
  }
}

interface InlineCall {
  die: number;
  entry: number;
  callLine?: number;
}

/** The inlined calls at pc, innermost first (empty without .debug_info). */
function inlineChain(info: DebugInfo, pc: number): InlineCall[] {
  return info.source.scopesAt(pc).filter((n) => n.kind === 'inline').map((n) => ({ die: n.die.offset, entry: n.ranges[0]?.lo, callLine: n.callLine }));
}

function hiddenAt(info: DebugInfo, pc: number, keep?: string): number {
  try {
    return info.source.inlineEntriesAt(pc, keep);
  } catch (e) {
    if (e instanceof RewindError) return 0;
    throw e;
  }
}

/** `inner` continues `outer`: its outermost calls are `outer`'s, in order. */
function sameTail(inner: InlineCall[], outer: InlineCall[]): boolean {
  const d = inner.length - outer.length;
  return d >= 0 && outer.every((o, i) => o.die === inner[i + d].die);
}

/** gdb's `finish` (and `nexti` over a call): run until the frame returns, stopping at the return address. */
export class ReturnStep implements StepPlan {
  private readonly probes: Set<number>;

  constructor(private readonly m: Machine, private readonly hart: number, readonly returnPc: number, private readonly sp: number) {
    this.probes = new Set([returnPc >>> 0]);
  }

  pcs(): ReadonlySet<number> {
    return this.probes;
  }

  arrival(ctx: HitContext): 'stop' | 'go' {
    return ctx.hart === this.hart && (this.m.harts[this.hart].x[2] >>> 0) === this.sp ? 'stop' : 'go';
  }
}

/** The frame's return: where `finish` stops. Undefined in the outermost frame. */
export function finishTarget(m: Machine, info: DebugInfo, hart: number): { pc: number; sp: number } | undefined {
  const f = framePosition(m, info, hart);
  return f.returnPc === undefined || f.cfa === Infinity ? undefined : { pc: f.returnPc, sp: f.cfa };
}

/**
 * Whether the instruction at `pc` is a call (jal/jalr linking through ra or t0, as the psABI's
 * calls and millicode calls do; c.jal, c.jalr), and its length: `nexti` steps over it.
 */
export function callAt(m: Machine, pc: number): number | undefined {
  const lo = m.bus.peek(pc, 2);
  if ((lo & 3) !== 3) {
    const funct3 = lo >>> 13, op = lo & 3;
    // c.jal (RV32 only): funct3 001, quadrant 1. c.jalr: 1001 rs1 00000 10 with rs1 != 0.
    if (op === 1 && funct3 === 1) return 2;
    if (op === 2 && (lo >>> 12) === 0b1001 && ((lo >>> 7) & 31) !== 0 && ((lo >>> 2) & 31) === 0) return 2;
    return undefined;
  }
  const w = (lo | (m.bus.peek(pc + 2, 2) << 16)) >>> 0;
  const opcode = w & 0x7f, rd = (w >>> 7) & 31;
  if ((opcode === 0x6f || opcode === 0x67) && (rd === 1 || rd === 5)) return 4;
  return undefined;
}
