import type { DebugTarget } from '../../emulator/debugger/debugTarget';
import { ABI_NAMES } from '../../emulator/debuginfo/disasm';
import { RewindError } from '../../emulator/errors';
import { hex } from './breakpoints';

const evalError = (msg: string): never => {
  throw new RewindError('EVAL', msg);
};

/**
 * Expressions in the adapter's own terms: registers ($a0, $x5, $pc, $sp), numbers and symbols,
 * for watch, hover, the debug console, breakpoint conditions and log messages. (C expressions
 * over DWARF variables come from the debug info.)
 */
export class ExpressionHost {
  constructor(private readonly target: DebugTarget) {}

  private register(name: string, hart: number): number | undefined {
    const h = this.target.machine.harts[hart];
    if (name === 'pc') return h.pc >>> 0;
    if (name === 'fp') return h.x[8] >>> 0;
    const i = ABI_NAMES.indexOf(name);
    if (i >= 0) return h.x[i] >>> 0;
    const m = /^x(\d+)$/.exec(name);
    if (m && Number(m[1]) < 32) return h.x[Number(m[1])] >>> 0;
    return undefined;
  }

  /** A number: a register, a literal, a symbol's address; `a OP b` comparisons for conditions. */
  number(text: string, hart: number): number {
    const t = String(text).trim();
    const cmp = /^(.+?)\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(t);
    if (cmp) {
      const a = this.number(cmp[1], hart), b = this.number(cmp[3], hart);
      const r = { '==': a === b, '!=': a !== b, '<=': a <= b, '>=': a >= b, '<': a < b, '>': a > b }[cmp[2]]!;
      return r ? 1 : 0;
    }
    if (t.startsWith('$')) {
      const v = this.register(t.slice(1), hart);
      return v ?? evalError(`no register ${t}`);
    }
    if (/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) return Number(t) >>> 0;
    const sym = this.target.info.addressOf(t);
    if (sym !== undefined) return sym;
    return evalError(`No symbol "${t}" in current context.`);
  }

  evaluate(text: string, hart: number, asHex: boolean): { text: string; address?: number } {
    const v = this.number(text, hart);
    return { text: asHex ? hex(v) : `${v | 0}`, address: v };
  }

  condition(text: string, hart: number): { text: string; truthy: boolean } {
    const v = this.number(text, hart);
    return { text: String(v | 0), truthy: v !== 0 };
  }

  /** Where an expression's value lives in memory, and its size (for a data breakpoint). */
  lvalue(text: string, hart: number, asAddress: boolean): { address: number; size: number } | undefined {
    const t = text.trim();
    if (asAddress) return { address: this.number(t, hart), size: 4 };
    const sym = this.target.info.elf.symbols.find((s) => s.name === t && s.shndx !== 0);
    if (sym) return { address: sym.value >>> 0, size: sym.size || 4 };
    return undefined;
  }
}
