import type { DebugInfo } from '../debuginfo/debugInfo';
import type { Machine } from '../machine/machine';

/** Where a hart is at source level, and which function instance: what stepping judges by. */
export interface FramePosition {
  pc: number;
  file?: string;
  line?: number;
  /** The frame's canonical address (the caller's sp at the call): stable for one function instance, lower for callees. */
  cfa: number;
  /** Where the frame returns to, and the sp there (= cfa); undefined for the outermost frame. */
  returnPc?: number;
}

/** Guest RAM as the unwinder reads it: never a device. */
export function ramWord(m: Machine): (addr: number) => number {
  return (a) => m.bus.peek(a, 4);
}

/** Hart `hart`'s position now (its pc as the hart holds it; hooks fix it up while they report). */
export function framePosition(m: Machine, info: DebugInfo, hart: number): FramePosition {
  const h = m.harts[hart];
  const pc = h.pc >>> 0;
  const loc = info.sourceLineAt(pc);
  const stack = info.callStack(pc, h.x, ramWord(m), 2);
  return { pc, file: loc?.file, line: loc?.line, cfa: stack[1]?.sp ?? Infinity, returnPc: stack[1]?.pc };
}

/**
 * The frames from the innermost outwards as (return address, cfa) pairs: for each frame, where
 * it returns to and the sp it leaves behind. Used to find the frame that a call from a given
 * frame made (to step over it as a whole).
 */
export function frameChain(m: Machine, info: DebugInfo, hart: number, max = 64): { cfa: number; returnPc?: number }[] {
  const h = m.harts[hart];
  const stack = info.callStack(h.pc >>> 0, h.x, ramWord(m), max + 1);
  return stack.map((_, i) => ({ cfa: stack[i + 1]?.sp ?? Infinity, returnPc: stack[i + 1]?.pc })).slice(0, max);
}

/**
 * Just the frame's CFA, as fast as possible: from the call-frame row at pc when there is one
 * (one lookup, cached per pc), else by unwinding. Stepping asks this at every statement it passes.
 */
export class CfaCache {
  private readonly rules = new Map<number, { reg: number; offset: number } | null>();

  constructor(private readonly m: Machine, private readonly info: DebugInfo) {}

  cfa(hart: number): number {
    const h = this.m.harts[hart];
    const pc = h.pc >>> 0;
    let rule = this.rules.get(pc);
    if (rule === undefined) {
      let row;
      try {
        row = this.info.frameInfo.rowAt(pc);
      } catch {
        row = undefined;
      }
      rule = row && row.cfa.kind === 'register' && row.cfa.reg < 32 ? { reg: row.cfa.reg, offset: row.cfa.offset } : null;
      this.rules.set(pc, rule);
    }
    if (rule) return ((h.x[rule.reg] >>> 0) + rule.offset) >>> 0;
    return framePosition(this.m, this.info, hart).cfa;
  }
}

export function sameLine(a: { file?: string; line?: number }, b: { file?: string; line?: number }): boolean {
  return a.line === b.line && a.file === b.file;
}
