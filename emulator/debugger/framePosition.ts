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

interface FastRule {
  reg: number;
  offset: number;
  /** Where the return address is: saved at cfa + raOffset, or still in register raReg. */
  raOffset?: number;
  raReg?: number;
}

/**
 * The frame's CFA and return address, as fast as possible: from the call-frame row at pc when
 * there is one (one lookup, cached per pc), else by unwinding. Stepping asks this at every
 * statement it passes.
 */
export class CfaCache {
  private readonly rules = new Map<number, FastRule | null>();

  constructor(private readonly m: Machine, private readonly info: DebugInfo) {}

  private rule(pc: number): FastRule | null {
    let rule = this.rules.get(pc);
    if (rule !== undefined) return rule;
    let row;
    try {
      row = this.info.frameInfo.rowAt(pc);
    } catch {
      row = undefined;
    }
    rule = null;
    if (row && row.cfa.kind === 'register' && row.cfa.reg < 32) {
      const ra = row.rules.get(row.returnAddressRegister);
      rule = { reg: row.cfa.reg, offset: row.cfa.offset };
      if (ra?.kind === 'offset') rule.raOffset = ra.offset;
      else if (ra === undefined || ra.kind === 'same') rule.raReg = row.returnAddressRegister;
    }
    this.rules.set(pc, rule);
    return rule;
  }

  cfa(hart: number): number {
    const h = this.m.harts[hart];
    const rule = this.rule(h.pc >>> 0);
    if (rule) return ((h.x[rule.reg] >>> 0) + rule.offset) >>> 0;
    return framePosition(this.m, this.info, hart).cfa;
  }

  /** The frame's CFA and where it returns to (undefined when that is not known). */
  frame(hart: number): { cfa: number; returnPc?: number } {
    const h = this.m.harts[hart];
    const rule = this.rule(h.pc >>> 0);
    if (!rule || (rule.raOffset === undefined && rule.raReg === undefined)) {
      const f = framePosition(this.m, this.info, hart);
      return { cfa: f.cfa, returnPc: f.returnPc };
    }
    const cfa = ((h.x[rule.reg] >>> 0) + rule.offset) >>> 0;
    const returnPc = rule.raOffset !== undefined ? this.m.bus.peek((cfa + rule.raOffset) >>> 0, 4) : h.x[rule.raReg!] >>> 0;
    return { cfa, returnPc };
  }
}

export function sameLine(a: { file?: string; line?: number }, b: { file?: string; line?: number }): boolean {
  return a.line === b.line && a.file === b.file;
}
