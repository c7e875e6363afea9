/**
 * Decoded operation numbers. The decoder maps every RV32IMAC + Zicsr + Zifencei encoding
 * (compressed forms included) onto one of these; the interpreter switches on them.
 *
 * A `const enum` so that the production bundle (ts-loader with full type information) inlines
 * the numbers: the interpreter's `switch` then has literal, dense case labels and V8 compiles
 * it to a jump table. Keep the values dense and starting at 0 for the same reason.
 */
export const enum Op {
  ILLEGAL = 0,
  LUI, AUIPC, JAL, JALR,
  BEQ, BNE, BLT, BGE, BLTU, BGEU,
  LB, LH, LW, LBU, LHU,
  SB, SH, SW,
  ADDI, SLTI, SLTIU, XORI, ORI, ANDI, SLLI, SRLI, SRAI,
  ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
  MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU,
  FENCE, FENCE_I, ECALL, EBREAK, MRET, WFI,
  CSRRW, CSRRS, CSRRC, CSRRWI, CSRRSI, CSRRCI,
  LR_W, SC_W, AMOSWAP_W, AMOADD_W, AMOXOR_W, AMOAND_W, AMOOR_W,
  AMOMIN_W, AMOMAX_W, AMOMINU_W, AMOMAXU_W,
  /** Fetch fault marker: the cache entry records that fetching at this pc faulted. */
  FETCH_FAULT,
  /**
   * Fused pairs: the ALU instruction before a block's closing branch, marked so the
   * interpreter runs both in one dispatch (BlockCache.build; the branch keeps its own slot).
   * Together these end about half of all blocks run in the benchmark guests.
   */
  ADDI_BNE, ADD_BNE, ADD_BLTU, XOR_BNE,
}

/**
 * Layout of a decoded instruction word: `op | rd << 8 | rs1 << 14 | rs2 << 19 | compressed << 24`.
 * rd is 6 bits wide: writes to x0 are redirected to the scratch register 32 so that the
 * interpreter never has to test for x0 on the hot path.
 */
export const RD_SHIFT = 8;
export const RS1_SHIFT = 14;
export const RS2_SHIFT = 19;
export const COMPRESSED_BIT = 1 << 24;
/** Index of the scratch register that absorbs writes to x0. */
export const X0_SINK = 32;

export function pack(op: Op, rd: number, rs1: number, rs2: number, compressed: boolean): number {
  return op | ((rd === 0 ? X0_SINK : rd) << RD_SHIFT) | (rs1 << RS1_SHIFT) | (rs2 << RS2_SHIFT) | (compressed ? COMPRESSED_BIT : 0);
}
