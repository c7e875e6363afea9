import { CallFrameInfo, FrameRow } from './cfi';
import { RewindError } from '../errors';

/** RISC-V integer registers as DWARF numbers them (psABI: x0-x31 are DWARF 0-31). */
const RA = 1, SP = 2, FP = 8;

/** A frame's registers: the pc, x0..x31, and a way to read guest memory (32-bit, little-endian). */
export interface UnwindRegisters {
  pc: number;
  x: ArrayLike<number>;
  readWord(addr: number): number;
  /**
   * `pc` is a return address (every frame but the innermost): the call is the instruction
   * before it, and a noreturn call can leave the return address past the end of the function.
   */
  callSite?: boolean;
}

export type UnwindMethod = 'cfi' | 'fp';

/** The caller's frame: pc is the return address, x the registers as they were at the call. */
export interface CallerFrame {
  pc: number;
  sp: number;
  fp: number;
  x: number[];
  /** The canonical frame address of the callee (equal to the caller's sp on RISC-V). */
  cfa: number;
  method: UnwindMethod;
}

/**
 * Frame-pointer frames are at most this big: a chain link further up than this from sp is not
 * a frame pointer but whatever -O2 code keeps in s0.
 */
const MAX_FRAME_BYTES = 1 << 20;

/**
 * One step up the call stack. Where an FDE covers the pc, its CFA and register rules say where
 * the return address and the callee-saved registers were stored. Elsewhere (hand-written
 * assembly, an ELF without .debug_frame) it falls back to GCC's frame-pointer layout, which -O0
 * code always has: s0 = the CFA, the return address at s0-4 and the caller's s0 at s0-8; a
 * leaf function saves only s0, at s0-4, and keeps the return address in ra. The two are told
 * apart by whether the word at s0-4 points into code.
 */
export class Unwinder {
  constructor(
    private readonly cfi: () => CallFrameInfo | undefined,
    private readonly isCode: (addr: number) => boolean,
  ) {}

  unwind(regs: UnwindRegisters): CallerFrame | undefined {
    const lookup = regs.callSite ? (regs.pc >>> 0) - 1 : regs.pc >>> 0;
    const row = this.cfi()?.rowAt(lookup);
    return row ? this.byCfi(regs, row) : this.byFramePointer(regs);
  }

  private byCfi(regs: UnwindRegisters, row: FrameRow): CallerFrame | undefined {
    if (row.cfa.kind !== 'register' || row.cfa.reg > 31) return undefined;
    const cfa = ((regs.x[row.cfa.reg] >>> 0) + row.cfa.offset) >>> 0;
    const out = registers(regs.x);
    out[SP] = cfa;
    for (const [reg, rule] of row.rules) {
      if (reg > 31) continue;
      switch (rule.kind) {
        case 'offset': {
          const v = read(regs, cfa + rule.offset);
          if (v === undefined) return undefined;
          out[reg] = v;
          break;
        }
        case 'valOffset': out[reg] = (cfa + rule.offset) >>> 0; break;
        case 'register': if (rule.reg <= 31) out[reg] = regs.x[rule.reg] >>> 0; break;
        case 'undefined':
          // An undefined return address marks the outermost frame (DWARF 5 section 6.4.4).
          if (reg === row.returnAddressRegister) return undefined;
          break;
        case 'expression': return undefined;
        case 'same': break;
      }
    }
    const pc = out[row.returnAddressRegister] >>> 0;
    return { pc, sp: cfa, fp: out[FP], x: out, cfa, method: 'cfi' };
  }

  private byFramePointer(regs: UnwindRegisters): CallerFrame | undefined {
    const sp = regs.x[SP] >>> 0;
    const fp = regs.x[FP] >>> 0;
    if (fp === 0 || (fp & 3) !== 0 || fp <= sp || fp - sp > MAX_FRAME_BYTES) return undefined;
    const atFp4 = read(regs, fp - 4);
    if (atFp4 === undefined) return undefined;
    let ra: number, savedFp: number | undefined;
    if (!regs.callSite && !this.isCode(atFp4)) {
      ra = regs.x[RA] >>> 0;
      savedFp = atFp4;
    } else {
      ra = atFp4;
      savedFp = read(regs, fp - 8);
    }
    if (savedFp === undefined) return undefined;
    const out = registers(regs.x);
    out[RA] = ra;
    out[SP] = fp;
    out[FP] = savedFp;
    return { pc: ra, sp: fp, fp: savedFp, x: out, cfa: fp, method: 'fp' };
  }
}

/** x0..x31 as unsigned numbers (a hart keeps them in an Int32Array). */
export function registers(x: ArrayLike<number>): number[] {
  const out = new Array<number>(32);
  for (let i = 0; i < 32; i++) out[i] = x[i] >>> 0;
  return out;
}

/**
 * Guest memory that cannot be read ends the walk rather than the debugger; only Rewind's own
 * errors (a malformed section) go through.
 */
function read(regs: UnwindRegisters, addr: number): number | undefined {
  try {
    return regs.readWord(addr >>> 0) >>> 0;
  } catch (e) {
    if (e instanceof RewindError && e.code === 'DEBUGINFO_INVALID') throw e;
    return undefined;
  }
}
