import { Op } from './opcodes';
import { mulh, mulhsu, mulhu } from './mulDiv';
import { LINE_SHIFT } from './blockCache';
import { RAM_XOR } from '../machine/bus';

/** Where a compiled block reports how it ended. */
export interface BlockExit {
  /** The next pc, when the block ran to its end (`at` = -1). */
  pc: number;
  /** -1, or the index of the instruction it stopped before, which it leaves to the interpreter. */
  at: number;
}

/**
 * A compiled block. It runs the block's instructions from the first, as straight-line
 * JavaScript with every register number and immediate folded in, and returns how many
 * instructions it completed. A block that branches back to its own start loops inside the
 * function while at least one more full pass fits in `room` instructions.
 *
 * If it stopped before instruction `out.at` (a slow-path access, a CSR or system instruction,
 * an AMO), nothing of that instruction has happened: the interpreter carries on from there.
 */
export type CompiledBlock = (x: Int32Array, ram8: Uint8Array, ram16: Uint16Array, ram32: Int32Array, lines: Uint8Array, out: BlockExit, room: number) => number;

/**
 * Blocks run this many times by the interpreter before they are compiled: compiling costs about
 * as much as interpreting a block a few hundred times, so only hot code is worth it.
 */
export const COMPILE_THRESHOLD = 40;

const hex = (v: number) => (v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16));

/**
 * Compiles the block whose decoded instructions are in slots [k0, k0 + len) (BlockCache's
 * arena). The generated code does exactly what the interpreter's fast paths do and hands every
 * other case back to it, so both always agree (test/emulator/cpu/blockCompiler.test.ts runs
 * every guest both ways).
 */
export function compileBlock(word: Int32Array, imm: Int32Array, pcs: Int32Array, k0: number, len: number, ramSize: number): CompiledBlock {
  const lim1 = ramSize, lim2 = ramSize - 1, lim4 = ramSize - 3;
  const start = pcs[k0];
  const body: string[] = ['let o = 0, done = 0;', 'for (;;) {'];
  const stop = (i: number) => `{ out.at = ${i}; return done + ${i}; }`;
  const addr = (rs1: number, i: number) => `o = ((x[${rs1}] + ${hex(i)}) | 0) ^ ${hex(RAM_XOR)};`;
  for (let i = 0; i < len; i++) {
    const w = word[k0 + i];
    const im = imm[k0 + i];
    const pc = pcs[k0 + i];
    const next = pcs[k0 + i + 1];
    const rd = (w >>> 8) & 63, rs1 = (w >>> 14) & 31, rs2 = (w >>> 19) & 31;
    const X = `x[${rd}]`, A = `x[${rs1}]`, B = `x[${rs2}]`;
    const jump = (target: string) => `out.pc = ${target}; out.at = -1; return done + ${len};`;
    // A taken branch back to the block's start runs the block again, as long as it fits.
    const taken = ((pc + im) | 0) === start
      ? `done += ${len}; if (done + ${len} <= room) continue; out.pc = ${hex(start)}; out.at = -1; return done;`
      : jump(hex((pc + im) | 0));
    const branch = (cond: string) => `if (${cond}) { ${taken} } ${jump(hex(next))}`;
    switch (w & 0xff) {
      case Op.ADDI: body.push(`${X} = (${A} + ${hex(im)}) | 0;`); break;
      case Op.LUI: body.push(`${X} = ${hex(im)};`); break;
      case Op.AUIPC: body.push(`${X} = ${hex((pc + im) | 0)};`); break;
      case Op.SLTI: body.push(`${X} = ${A} < ${hex(im)} ? 1 : 0;`); break;
      case Op.SLTIU: body.push(`${X} = (${A} >>> 0) < ${hex(im >>> 0)} ? 1 : 0;`); break;
      case Op.XORI: body.push(`${X} = ${A} ^ ${hex(im)};`); break;
      case Op.ORI: body.push(`${X} = ${A} | ${hex(im)};`); break;
      case Op.ANDI: body.push(`${X} = ${A} & ${hex(im)};`); break;
      case Op.SLLI: body.push(`${X} = ${A} << ${im};`); break;
      case Op.SRLI: body.push(`${X} = ${A} >>> ${im};`); break;
      case Op.SRAI: body.push(`${X} = ${A} >> ${im};`); break;
      case Op.ADD: body.push(`${X} = (${A} + ${B}) | 0;`); break;
      case Op.SUB: body.push(`${X} = (${A} - ${B}) | 0;`); break;
      case Op.SLL: body.push(`${X} = ${A} << (${B} & 31);`); break;
      case Op.SLT: body.push(`${X} = ${A} < ${B} ? 1 : 0;`); break;
      case Op.SLTU: body.push(`${X} = (${A} >>> 0) < (${B} >>> 0) ? 1 : 0;`); break;
      case Op.XOR: body.push(`${X} = ${A} ^ ${B};`); break;
      case Op.SRL: body.push(`${X} = ${A} >>> (${B} & 31);`); break;
      case Op.SRA: body.push(`${X} = ${A} >> (${B} & 31);`); break;
      case Op.OR: body.push(`${X} = ${A} | ${B};`); break;
      case Op.AND: body.push(`${X} = ${A} & ${B};`); break;
      case Op.MUL: body.push(`${X} = Math.imul(${A}, ${B});`); break;
      case Op.MULH: body.push(`${X} = mulh(${A}, ${B});`); break;
      case Op.MULHSU: body.push(`${X} = mulhsu(${A}, ${B});`); break;
      case Op.MULHU: body.push(`${X} = mulhu(${A}, ${B});`); break;
      case Op.DIV: body.push(`{ const b = ${B}; ${X} = b === 0 ? -1 : (${A} / b) | 0; }`); break;
      case Op.DIVU: body.push(`{ const b = ${B} >>> 0; ${X} = b === 0 ? -1 : ((${A} >>> 0) / b) | 0; }`); break;
      case Op.REM: body.push(`{ const b = ${B}; ${X} = b === 0 ? ${A} : (${A} % b) | 0; }`); break;
      case Op.REMU: body.push(`{ const b = ${B} >>> 0; ${X} = b === 0 ? ${A} : ((${A} >>> 0) % b) | 0; }`); break;
      case Op.FENCE: break;
      case Op.LW: body.push(addr(rs1, im), `if (o >= 0 && o < ${lim4} && (o & 3) === 0) ${X} = ram32[o >> 2]; else ${stop(i)}`); break;
      case Op.LBU: body.push(addr(rs1, im), `if (o >= 0 && o < ${lim1}) ${X} = ram8[o]; else ${stop(i)}`); break;
      case Op.LB: body.push(addr(rs1, im), `if (o >= 0 && o < ${lim1}) ${X} = (ram8[o] << 24) >> 24; else ${stop(i)}`); break;
      case Op.LHU: body.push(addr(rs1, im), `if (o >= 0 && o < ${lim2} && (o & 1) === 0) ${X} = ram16[o >> 1]; else ${stop(i)}`); break;
      case Op.LH: body.push(addr(rs1, im), `if (o >= 0 && o < ${lim2} && (o & 1) === 0) ${X} = (ram16[o >> 1] << 16) >> 16; else ${stop(i)}`); break;
      // A store into a granule holding code (or the HTIF mailbox) is left to the interpreter,
      // before anything is written, so it can drop stale blocks and end the slice.
      case Op.SW: body.push(addr(rs1, im), `if (o >= 0 && o < ${lim4} && (o & 3) === 0 && lines[o >>> ${LINE_SHIFT}] === 0) ram32[o >> 2] = ${B}; else ${stop(i)}`); break;
      case Op.SB: body.push(addr(rs1, im), `if (o >= 0 && o < ${lim1} && lines[o >>> ${LINE_SHIFT}] === 0) ram8[o] = ${B}; else ${stop(i)}`); break;
      case Op.SH: body.push(addr(rs1, im), `if (o >= 0 && o < ${lim2} && (o & 1) === 0 && lines[o >>> ${LINE_SHIFT}] === 0) ram16[o >> 1] = ${B}; else ${stop(i)}`); break;
      case Op.JAL: body.push(`${X} = ${hex(next)};`, taken); break;
      case Op.JALR: body.push(`{ const t = (${A} + ${hex(im)}) & ~1; ${X} = ${hex(next)}; ${jump('t')} }`); break;
      case Op.BEQ: body.push(branch(`${A} === ${B}`)); break;
      case Op.BNE: body.push(branch(`${A} !== ${B}`)); break;
      case Op.BLT: body.push(branch(`${A} < ${B}`)); break;
      case Op.BGE: body.push(branch(`${A} >= ${B}`)); break;
      case Op.BLTU: body.push(branch(`(${A} >>> 0) < (${B} >>> 0)`)); break;
      case Op.BGEU: body.push(branch(`(${A} >>> 0) >= (${B} >>> 0)`)); break;
      default:
        // AMOs, CSR and system instructions, illegal encodings, fetch faults: the interpreter's.
        body.push(stop(i));
        i = len; // nothing after it is reachable
        break;
    }
  }
  body.push(`out.pc = ${hex(pcs[k0 + len])}; out.at = -1; return done + ${len};`, '}');
  const factory = new Function('mulh', 'mulhu', 'mulhsu', `return function block(x, ram8, ram16, ram32, lines, out, room) {\n${body.join('\n')}\n};`);
  return factory(mulh, mulhu, mulhsu) as CompiledBlock;
}
