import { Op } from './opcodes';
import { mulh, mulhsu, mulhu } from './mulDiv';
import { LINE_SHIFT, unfused } from './blockCache';
import { RAM_XOR } from '../machine/bus';

/** Where a compiled block reports how it ended. */
export interface BlockExit {
  /** Where execution continues, when `at` is -1. */
  pc: number;
  /**
   * -1 (or -2: `pc` is in the middle of a block), or the index of an instruction of the entry
   * block that it left to the interpreter.
   */
  at: number;
}

/**
 * A compiled trace: the entry block followed by the blocks control most likely goes to next
 * (through direct jumps, and through conditional branches in whichever direction has run more
 * often), as straight-line JavaScript with every register number and immediate folded in. The
 * other direction of each branch leaves the trace. When the trace comes back to its entry it
 * loops inside the function while another pass fits in `room`. It returns how many
 * instructions it completed.
 *
 * It stops before anything the interpreter must do (a slow-path access, a CSR or system
 * instruction, an AMO), with nothing of that instruction done: in the entry block it says which
 * instruction in `out.at` (the interpreter resumes in that block's slots, which guarantees
 * progress); elsewhere it leaves that instruction's pc in `out.pc`, as it does when control
 * leaves the trace.
 *
 * A trace rather than a region with both sides of every branch: V8 deoptimises a function each
 * time it first reaches code that has never run, and a trace's code runs on every pass.
 */
export type CompiledBlock = (x: Int32Array, ram8: Uint8Array, ram16: Uint16Array, ram32: Int32Array, lines: Uint8Array, out: BlockExit, room: number) => number;

/** Where the compiler finds decoded blocks to inline (BlockCache). */
export interface BlockSource {
  readonly slotWord: Int32Array;
  readonly slotImm: Int32Array;
  readonly slotPc: Int32Array;
  /** The arena slot and length of the decoded block at pc and how often it has run, or undefined. */
  find(pc: number): { start: number; length: number; hits: number } | undefined;
  /** Time travel's breakpoint probe: a trace must return to the interpreter before these addresses. */
  readonly probe?: { pcs: Set<number> } | null;
}

/**
 * Blocks run this many times by the interpreter before they are compiled: compiling costs about
 * as much as interpreting a block a few hundred times, so only hot code is worth it.
 */
export const COMPILE_THRESHOLD = 40;
/** Most instructions one trace holds, to bound compile time. */
const MAX_TRACE = 192;
/** A block joins a trace only once it has run this often (so its code has type feedback). */
const MIN_HITS = 8;

const hex = (v: number) => (v < 0 ? '-0x' + (-v).toString(16) : '0x' + v.toString(16));

/**
 * Compiles the trace whose entry block is in arena slots [k0, k0 + len). The generated code
 * does exactly what the interpreter's fast paths do and hands every other case back to it, so
 * both always agree (test/emulator/cpu/blockCompiler.test.ts runs every guest both ways).
 */
export function compileBlock(src: BlockSource, k0: number, len: number, ramSize: number): CompiledBlock {
  const { slotWord: word, slotImm: imm, slotPc: pcs } = src;
  const lim1 = ramSize, lim2 = ramSize - 1, lim4 = ramSize - 3;
  const entry = pcs[k0];
  const code: string[] = [];
  const inTrace = new Set<number>([entry]);
  let total = len;
  const addr = (rs1: number, i: number) => `o = ((x[${rs1}] + ${hex(i)}) | 0) ^ ${hex(RAM_XOR)};`;
  // at -2: left mid-block (the interpreter goes on there; that is no new TB, see BlockCache.built).
  const exitTo = (pc: string, count: number, mid = false) => `{ out.pc = ${pc}; out.at = ${mid ? -2 : -1}; return done + ${count}; }`;
  const probed = (pc: number) => src.probe?.pcs.has(pc >>> 0) ?? false;
  const loopOrExit = (target: number, acc: number) => target === entry && !probed(entry)
    ? `{ done += ${acc}; if (done + ${len} <= room) continue; out.pc = ${hex(entry)}; out.at = -1; return done; }`
    : exitTo(hex(target), acc);

  /** The block the trace continues with at `target`, if it should: hot, new, and fitting. */
  const follow = (target: number) => {
    if (inTrace.has(target) || probed(target)) return undefined;
    const b = src.find(target);
    if (!b || b.hits < MIN_HITS || total + b.length > MAX_TRACE) return undefined;
    return b;
  };
  const hitsOf = (pc: number) => (pc === entry ? Infinity : src.find(pc)?.hits ?? 0);

  let k = k0;
  let n = len;
  let acc = 0; // instructions of this pass before block k
  let isEntry = true;
  for (;;) {
    let next: { start: number; length: number } | undefined;
    let nextPc = 0;
    for (let i = 0; i < n; i++) {
      const w = word[k + i];
      const im = imm[k + i];
      const pc = pcs[k + i];
      const fall = pcs[k + i + 1];
      const rd = (w >>> 8) & 63, rs1 = (w >>> 14) & 31, rs2 = (w >>> 19) & 31;
      const X = `x[${rd}]`, A = `x[${rs1}]`, B = `x[${rs2}]`;
      const stop = isEntry ? `{ out.at = ${i}; return done + ${i}; }` : exitTo(hex(pc), acc + i, i > 0);
      const after = acc + i + 1;
      // A conditional branch: the trace goes on in the direction that has run more often.
      const branch = (cond: string) => {
        const taken = (pc + im) | 0;
        const goTaken = hitsOf(taken) >= hitsOf(fall);
        const on = goTaken ? taken : fall;
        const off = goTaken ? fall : taken;
        const b = follow(on);
        const offCode = loopOrExit(off, after);
        if (!b) {
          code.push(`if (${cond}) ${loopOrExit(taken, after)}`, loopOrExit(fall, after));
          return;
        }
        code.push(goTaken ? `if (!(${cond})) ${offCode}` : `if (${cond}) ${offCode}`);
        next = b;
        nextPc = on;
      };
      switch (unfused(w & 0xff)) {
        case Op.ADDI: code.push(`${X} = (${A} + ${hex(im)}) | 0;`); break;
        case Op.LUI: code.push(`${X} = ${hex(im)};`); break;
        case Op.AUIPC: code.push(`${X} = ${hex((pc + im) | 0)};`); break;
        case Op.SLTI: code.push(`${X} = ${A} < ${hex(im)} ? 1 : 0;`); break;
        case Op.SLTIU: code.push(`${X} = (${A} >>> 0) < ${hex(im >>> 0)} ? 1 : 0;`); break;
        case Op.XORI: code.push(`${X} = ${A} ^ ${hex(im)};`); break;
        case Op.ORI: code.push(`${X} = ${A} | ${hex(im)};`); break;
        case Op.ANDI: code.push(`${X} = ${A} & ${hex(im)};`); break;
        case Op.SLLI: code.push(`${X} = ${A} << ${im};`); break;
        case Op.SRLI: code.push(`${X} = ${A} >>> ${im};`); break;
        case Op.SRAI: code.push(`${X} = ${A} >> ${im};`); break;
        case Op.ADD: code.push(`${X} = (${A} + ${B}) | 0;`); break;
        case Op.SUB: code.push(`${X} = (${A} - ${B}) | 0;`); break;
        case Op.SLL: code.push(`${X} = ${A} << (${B} & 31);`); break;
        case Op.SLT: code.push(`${X} = ${A} < ${B} ? 1 : 0;`); break;
        case Op.SLTU: code.push(`${X} = (${A} >>> 0) < (${B} >>> 0) ? 1 : 0;`); break;
        case Op.XOR: code.push(`${X} = ${A} ^ ${B};`); break;
        case Op.SRL: code.push(`${X} = ${A} >>> (${B} & 31);`); break;
        case Op.SRA: code.push(`${X} = ${A} >> (${B} & 31);`); break;
        case Op.OR: code.push(`${X} = ${A} | ${B};`); break;
        case Op.AND: code.push(`${X} = ${A} & ${B};`); break;
        case Op.MUL: code.push(`${X} = Math.imul(${A}, ${B});`); break;
        case Op.MULH: code.push(`${X} = mulh(${A}, ${B});`); break;
        case Op.MULHSU: code.push(`${X} = mulhsu(${A}, ${B});`); break;
        case Op.MULHU: code.push(`${X} = mulhu(${A}, ${B});`); break;
        case Op.DIV: code.push(`{ const b = ${B}; ${X} = b === 0 ? -1 : (${A} / b) | 0; }`); break;
        case Op.DIVU: code.push(`{ const b = ${B} >>> 0; ${X} = b === 0 ? -1 : ((${A} >>> 0) / b) | 0; }`); break;
        case Op.REM: code.push(`{ const b = ${B}; ${X} = b === 0 ? ${A} : (${A} % b) | 0; }`); break;
        case Op.REMU: code.push(`{ const b = ${B} >>> 0; ${X} = b === 0 ? ${A} : ((${A} >>> 0) % b) | 0; }`); break;
        case Op.FENCE: break;
        case Op.LW: code.push(addr(rs1, im), `if (o >= 0 && o < ${lim4} && (o & 3) === 0) ${X} = ram32[o >> 2]; else ${stop}`); break;
        case Op.LBU: code.push(addr(rs1, im), `if (o >= 0 && o < ${lim1}) ${X} = ram8[o]; else ${stop}`); break;
        case Op.LB: code.push(addr(rs1, im), `if (o >= 0 && o < ${lim1}) ${X} = (ram8[o] << 24) >> 24; else ${stop}`); break;
        case Op.LHU: code.push(addr(rs1, im), `if (o >= 0 && o < ${lim2} && (o & 1) === 0) ${X} = ram16[o >> 1]; else ${stop}`); break;
        case Op.LH: code.push(addr(rs1, im), `if (o >= 0 && o < ${lim2} && (o & 1) === 0) ${X} = (ram16[o >> 1] << 16) >> 16; else ${stop}`); break;
        // A store into a granule holding code (or the HTIF mailbox) is left to the interpreter,
        // before anything is written, so it can drop stale blocks and end the slice.
        case Op.SW: code.push(addr(rs1, im), `if (o >= 0 && o < ${lim4} && (o & 3) === 0 && lines[o >>> ${LINE_SHIFT}] === 0) ram32[o >> 2] = ${B}; else ${stop}`); break;
        case Op.SB: code.push(addr(rs1, im), `if (o >= 0 && o < ${lim1} && lines[o >>> ${LINE_SHIFT}] === 0) ram8[o] = ${B}; else ${stop}`); break;
        case Op.SH: code.push(addr(rs1, im), `if (o >= 0 && o < ${lim2} && (o & 1) === 0 && lines[o >>> ${LINE_SHIFT}] === 0) ram16[o >> 1] = ${B}; else ${stop}`); break;
        case Op.JAL: {
          code.push(`${X} = ${hex(fall)};`);
          const target = (pc + im) | 0;
          const b = follow(target);
          if (b) { next = b; nextPc = target; } else code.push(loopOrExit(target, after));
          break;
        }
        case Op.JALR: code.push(`{ const t = (${A} + ${hex(im)}) & ~1; ${X} = ${hex(fall)}; ${exitTo('t', after)} }`); break;
        case Op.BEQ: branch(`${A} === ${B}`); break;
        case Op.BNE: branch(`${A} !== ${B}`); break;
        case Op.BLT: branch(`${A} < ${B}`); break;
        case Op.BGE: branch(`${A} >= ${B}`); break;
        case Op.BLTU: branch(`(${A} >>> 0) < (${B} >>> 0)`); break;
        case Op.BGEU: branch(`(${A} >>> 0) >= (${B} >>> 0)`); break;
        default:
          // AMOs, CSR and system instructions, illegal encodings, fetch faults: the interpreter's.
          code.push(stop);
          i = n; // the block ends here and nothing follows it
          break;
      }
    }
    const lastOp = word[k + n - 1] & 0xff;
    const ranOffEnd = !endsBlockOp(lastOp);
    if (ranOffEnd) {
      // The block ended at a page boundary or the length cap: its successor is the fallthrough.
      const fallPc = pcs[k + n];
      const b = follow(fallPc);
      if (b) { next = b; nextPc = fallPc; } else code.push(loopOrExit(fallPc, acc + n));
    }
    if (!next) break;
    const nb: { start: number; length: number } = next;
    acc += n;
    // Never run past `room`: the machine's timers and the other harts depend on slices ending
    // exactly where the interpreter's would.
    code.push(`if (done + ${acc + nb.length} > room) ${exitTo(hex(nextPc), acc)}`);
    inTrace.add(nextPc);
    total += nb.length;
    k = nb.start;
    n = nb.length;
    isEntry = false;
  }
  const body = `let o = 0, done = 0;\nfor (;;) {\n${code.join('\n')}\n}`;
  const factory = new Function('mulh', 'mulhu', 'mulhsu', `return function trace(x, ram8, ram16, ram32, lines, out, room) {\n${body}\n};`);
  return factory(mulh, mulhu, mulhsu) as CompiledBlock;
}

/** Whether the interpreter's block ends with this op (mirrors blockCache.ts's endsBlock). */
function endsBlockOp(op: number): boolean {
  return (op >= Op.JAL && op <= Op.BGEU) || (op >= Op.FENCE_I && op <= Op.CSRRCI) || op === Op.ILLEGAL || op === Op.FETCH_FAULT;
}
