import { Op } from './opcodes';
import { decode16, decode32, decoded } from './decode';
import { BlockSource, CompiledBlock, compileBlock } from './blockCompiler';

/** log2 of the number of block-cache slots (direct-mapped on the block's start pc). */
const TAG_BITS = 16;
const TAG_MASK = (1 << TAG_BITS) - 1;
/** Arena slots for decoded instructions; when it fills up, the whole cache starts over. */
const ARENA = 1 << 19;
/** Longest block, in instructions. */
const MAX_BLOCK = 64;
/** A tag no even pc can match. */
const NO_TAG = 1;
/** Code-tracking granule in RAM: a write into a granule that holds decoded code drops the cache. */
export const LINE_SHIFT = 6;

/** Where to fetch instruction parcels from: -1 means nothing executable is mapped there. */
export interface CodeSource {
  fetch16(addr: number): number;
}

/**
 * Decoded basic blocks, shared by every hart. A block runs from its start pc up to and
 * including the first instruction that can change control flow or machine state the
 * interpreter must look at (jumps, branches, CSR and system instructions, anything that traps
 * by construction), and never crosses a 4 KiB page.
 *
 * Each block's instructions sit in consecutive arena slots (packed word, immediate, pc),
 * followed by one sentinel slot whose pc is the block's fall-through address, so the
 * interpreter can always resume at `slotPc[k]` after the last slot it ran.
 */
export class BlockCache implements BlockSource {
  readonly tag = new Int32Array(1 << TAG_BITS).fill(NO_TAG);
  readonly start = new Int32Array(1 << TAG_BITS);
  readonly length = new Int32Array(1 << TAG_BITS);
  /** Per tag slot: how often the interpreter ran the block, and its compiled form once hot. */
  readonly hits = new Int32Array(1 << TAG_BITS);
  readonly compiled: (CompiledBlock | undefined)[] = new Array(1 << TAG_BITS).fill(undefined);
  /** Whether hot blocks get compiled (off: the pure interpreter, for comparison and debugging). */
  jit = true;
  /**
   * Time travel's breakpoint probe: blocks end before these addresses, so each begins a block
   * and the interpreter sees every arrival there (see setProbe).
   */
  probe: { pcs: Set<number>; hit(pc: number, icount: number, hart: number): void } | null = null;

  /**
   * Watches instruction addresses: each time a hart is about to execute one, `hit` hears of it
   * (the guest is not stopped or changed). Compiled traces return to the interpreter before a
   * probed address (blockCompiler.ts), so they stay on.
   */
  setProbe(probe: { pcs: Set<number>; hit(pc: number, icount: number, hart: number): void } | null): void {
    this.probe = probe && probe.pcs.size ? probe : null;
    this.flush();
  }
  readonly slotWord = new Int32Array(ARENA + MAX_BLOCK + 1);
  readonly slotImm = new Int32Array(ARENA + MAX_BLOCK + 1);
  readonly slotPc = new Int32Array(ARENA + MAX_BLOCK + 1);
  private used = 0;
  /**
   * Blocks decoded where control flow led (QEMU's counterpart is a TB translated and inserted:
   * tcg_tb_insert). A block decoded where a slice resumes, often mid-block after an instruction
   * budget ran out, is Rewind's own split: QEMU's budget-sized TBs are not counted either.
   */
  built = 0;
  /**
   * Whether a slice ends before a block counted in `built` runs: its lock operations are then
   * traced at the icount where QEMU translates it, wherever the scheduler's steps end.
   */
  pauseOnBuild = false;
  /** Start pcs counted in `built`: a block decoded again after a flush is not a new TB. */
  private readonly translated = new Set<number>();
  /** Granules (RAM offset >> LINE_SHIFT) that hold decoded code: bit 0 of `lines`. */
  private readonly touched: number[] = [];

  /**
   * @param lines per-granule flags over RAM, shared with the bus: bit 0 = holds decoded code.
   * @param ramXor the xor that turns an address into a RAM offset (see bus.ts).
   */
  constructor(private readonly src: CodeSource, readonly lines: Uint8Array, private readonly ramXor: number, private readonly ramSize: number) {}

  static slot(pc: number): number {
    return (pc >>> 1) & TAG_MASK;
  }

  /** Decodes the block at pc into the arena; returns its slot in the tag table. */
  build(pc: number, resumed = false): number {
    if (!resumed && !this.translated.has(pc)) {
      this.translated.add(pc);
      this.built++;
    }
    if (this.used + MAX_BLOCK + 1 > ARENA) this.flush();
    const t = BlockCache.slot(pc);
    const first = this.used;
    let k = first;
    let p = pc;
    const page = pc >>> 12;
    let cacheable = true;
    while (k - first < MAX_BLOCK) {
      const lo = this.src.fetch16(p);
      let w: number;
      let len = 2;
      if (lo < 0) {
        w = Op.FETCH_FAULT;
        decoded.imm = p;
      } else if ((lo & 3) !== 3) {
        w = decode16(lo);
        if ((w & 0xff) === Op.ILLEGAL) decoded.imm = lo;
      } else {
        len = 4;
        const hi = this.src.fetch16((p + 2) | 0);
        if (hi < 0) {
          w = Op.FETCH_FAULT;
          decoded.imm = (p + 2) | 0;
        } else {
          const insn = (lo | (hi << 16)) | 0;
          // Encodings of 48 bits and longer ([4:2] = 111) are reserved in this core.
          w = (lo & 0x1c) === 0x1c ? Op.ILLEGAL : decode32(insn);
          if ((w & 0xff) === Op.ILLEGAL) decoded.imm = insn;
        }
      }
      if (w === Op.FETCH_FAULT && k > first) break; // end before it; the next block faults
      if (w === Op.FETCH_FAULT) cacheable = false; // memory may appear there later: never cache
      this.slotWord[k] = w;
      this.slotImm[k] = decoded.imm;
      this.slotPc[k] = p;
      k++;
      if (w !== Op.FETCH_FAULT) this.markCode(p, len);
      p = (p + len) | 0;
      if (endsBlock(w & 0xff) || (p >>> 12) !== page || (this.probe !== null && this.probe.pcs.has(p >>> 0))) break;
    }
    fuseClosingBranch(this.slotWord, first, k);
    this.slotPc[k] = p; // sentinel: where execution continues after the block
    this.used = k + 1;
    this.tag[t] = cacheable ? pc : NO_TAG;
    this.start[t] = first;
    this.length[t] = k - first;
    this.hits[t] = 0;
    this.compiled[t] = undefined;
    return t;
  }

  /** The decoded block that starts at pc, if the cache holds one (for the compiler to inline). */
  find(pc: number): { start: number; length: number; hits: number } | undefined {
    const t = BlockCache.slot(pc);
    if (this.tag[t] !== pc) return undefined;
    return { start: this.start[t], length: this.length[t], hits: this.hits[t] };
  }

  compile(t: number): CompiledBlock {
    const f = compileBlock(this, this.start[t], this.length[t], this.ramSize);
    this.compiled[t] = f;
    return f;
  }

  private markCode(p: number, len: number): void {
    const off = (p ^ this.ramXor) | 0;
    if (off < 0 || off >= this.ramSize) return; // ROM: never written, nothing to track
    for (let l = off >>> LINE_SHIFT; l <= (off + len - 1) >>> LINE_SHIFT; l++) {
      if ((this.lines[l] & 1) === 0) {
        this.lines[l] |= 1;
        this.touched.push(l);
      }
    }
  }

  /**
   * A write hit a granule holding decoded code: forget every block. Coarse, but writes next to
   * code are rare (self-modifying code, loaders), and it keeps the hot paths free of
   * bookkeeping.
   */
  flush(): void {
    this.tag.fill(NO_TAG);
    this.used = 0;
    for (const l of this.touched) this.lines[l] &= ~1;
    this.touched.length = 0;
  }
}

/** Instructions that end a block (see the class comment). */
export function endsBlock(op: number): boolean {
  return (op >= Op.JAL && op <= Op.BGEU) || (op >= Op.FENCE_I && op <= Op.CSRRCI)
    || op === Op.ILLEGAL || op === Op.FETCH_FAULT;
}

/** The ALU + branch pairs the interpreter runs as one dispatch, by [alu op, branch op]. */
const FUSIONS: [Op, Op, Op][] = [
  [Op.ADDI, Op.BNE, Op.ADDI_BNE],
  [Op.ADD, Op.BNE, Op.ADD_BNE],
  [Op.ADD, Op.BLTU, Op.ADD_BLTU],
  [Op.XOR, Op.BNE, Op.XOR_BNE],
];

/** Marks the instruction before a block's closing branch as fused with it, where a pair fits. */
function fuseClosingBranch(word: Int32Array, first: number, end: number): void {
  if (end - first < 2) return;
  const alu = word[end - 2] & 0xff;
  const br = word[end - 1] & 0xff;
  for (const [a, b, fused] of FUSIONS) {
    if (a === alu && b === br) {
      word[end - 2] = (word[end - 2] & ~0xff) | fused;
      return;
    }
  }
}

/** The plain operation of a slot, undoing the fusion mark (for the compiler and tools). */
export function unfused(op: number): number {
  switch (op) {
    case Op.ADDI_BNE: return Op.ADDI;
    case Op.ADD_BNE: case Op.ADD_BLTU: return Op.ADD;
    case Op.XOR_BNE: return Op.XOR;
    default: return op;
  }
}
