import { Op, pack } from './opcodes';

/**
 * RV32IMAC + Zicsr + Zifencei decoder. Every encoding that the unprivileged spec (v20191213)
 * marks reserved, or that belongs to an extension this core lacks (F, D, RV64-only forms,
 * S-mode instructions), decodes to Op.ILLEGAL. HINT encodings decode to their base
 * instruction with rd = x0, which is how the spec says they must behave.
 *
 * The decoder returns the packed word (see opcodes.ts) and leaves the immediate in
 * `decoded.imm`, so that filling the decode cache allocates nothing.
 */
export const decoded = { imm: 0 };

function sext(v: number, bits: number): number {
  const s = 32 - bits;
  return (v << s) >> s;
}

const illegal = (): number => {
  decoded.imm = 0;
  return Op.ILLEGAL;
};

export function decode32(i: number): number {
  const opcode = i & 0x7f;
  const rd = (i >>> 7) & 31;
  const f3 = (i >>> 12) & 7;
  const rs1 = (i >>> 15) & 31;
  const rs2 = (i >>> 20) & 31;
  const f7 = i >>> 25;
  const immI = i >> 20;
  let op: Op;
  switch (opcode) {
    case 0x37: decoded.imm = i & 0xfffff000; return pack(Op.LUI, rd, 0, 0, false);
    case 0x17: decoded.imm = i & 0xfffff000; return pack(Op.AUIPC, rd, 0, 0, false);
    case 0x6f:
      decoded.imm = sext(((i >>> 31) << 20) | (((i >>> 12) & 0xff) << 12) | (((i >>> 20) & 1) << 11) | (((i >>> 21) & 0x3ff) << 1), 21);
      return pack(Op.JAL, rd, 0, 0, false);
    case 0x67:
      if (f3 !== 0) return illegal();
      decoded.imm = immI;
      return pack(Op.JALR, rd, rs1, 0, false);
    case 0x63: {
      const ops = [Op.BEQ, Op.BNE, Op.ILLEGAL, Op.ILLEGAL, Op.BLT, Op.BGE, Op.BLTU, Op.BGEU];
      op = ops[f3];
      if (op === Op.ILLEGAL) return illegal();
      decoded.imm = sext(((i >>> 31) << 12) | (((i >>> 7) & 1) << 11) | (((i >>> 25) & 0x3f) << 5) | (((i >>> 8) & 0xf) << 1), 13);
      return pack(op, 0, rs1, rs2, false);
    }
    case 0x03: {
      const ops = [Op.LB, Op.LH, Op.LW, Op.ILLEGAL, Op.LBU, Op.LHU, Op.ILLEGAL, Op.ILLEGAL];
      op = ops[f3];
      if (op === Op.ILLEGAL) return illegal();
      decoded.imm = immI;
      return pack(op, rd, rs1, 0, false);
    }
    case 0x23: {
      const ops = [Op.SB, Op.SH, Op.SW];
      if (f3 > 2) return illegal();
      decoded.imm = sext(((i >>> 25) << 5) | ((i >>> 7) & 31), 12);
      return pack(ops[f3], 0, rs1, rs2, false);
    }
    case 0x13: {
      decoded.imm = immI;
      switch (f3) {
        case 0: return pack(Op.ADDI, rd, rs1, 0, false);
        case 2: return pack(Op.SLTI, rd, rs1, 0, false);
        case 3: return pack(Op.SLTIU, rd, rs1, 0, false);
        case 4: return pack(Op.XORI, rd, rs1, 0, false);
        case 6: return pack(Op.ORI, rd, rs1, 0, false);
        case 7: return pack(Op.ANDI, rd, rs1, 0, false);
        // RV32: shamt[5] (bit 25) set is reserved, so funct7 must be exactly 0 / 0x20.
        case 1: if (f7 !== 0) return illegal(); decoded.imm = rs2; return pack(Op.SLLI, rd, rs1, 0, false);
        default:
          decoded.imm = rs2;
          if (f7 === 0) return pack(Op.SRLI, rd, rs1, 0, false);
          if (f7 === 0x20) return pack(Op.SRAI, rd, rs1, 0, false);
          return illegal();
      }
    }
    case 0x33: {
      decoded.imm = 0;
      if (f7 === 0) {
        const ops = [Op.ADD, Op.SLL, Op.SLT, Op.SLTU, Op.XOR, Op.SRL, Op.OR, Op.AND];
        return pack(ops[f3], rd, rs1, rs2, false);
      }
      if (f7 === 1) {
        const ops = [Op.MUL, Op.MULH, Op.MULHSU, Op.MULHU, Op.DIV, Op.DIVU, Op.REM, Op.REMU];
        return pack(ops[f3], rd, rs1, rs2, false);
      }
      if (f7 === 0x20 && f3 === 0) return pack(Op.SUB, rd, rs1, rs2, false);
      if (f7 === 0x20 && f3 === 5) return pack(Op.SRA, rd, rs1, rs2, false);
      return illegal();
    }
    case 0x0f:
      decoded.imm = 0;
      // FENCE ignores its reserved fields (spec §2.7: "base implementations shall ignore" them).
      if (f3 === 0) return pack(Op.FENCE, 0, 0, 0, false);
      if (f3 === 1) return pack(Op.FENCE_I, 0, 0, 0, false);
      return illegal();
    case 0x73: {
      if (f3 === 0) {
        decoded.imm = 0;
        if (i === 0x00000073) return pack(Op.ECALL, 0, 0, 0, false);
        if (i === 0x00100073) return pack(Op.EBREAK, 0, 0, 0, false);
        if (i === 0x30200073) return pack(Op.MRET, 0, 0, 0, false);
        if (i === 0x10500073) return pack(Op.WFI, 0, 0, 0, false);
        return illegal(); // sret, uret, dret, sfence.vma: no S-mode, no debug mode
      }
      if (f3 === 4) return illegal();
      decoded.imm = (i >>> 20) & 0xfff;
      const ops = [Op.ILLEGAL, Op.CSRRW, Op.CSRRS, Op.CSRRC, Op.ILLEGAL, Op.CSRRWI, Op.CSRRSI, Op.CSRRCI];
      return pack(ops[f3], rd, rs1, 0, false);
    }
    case 0x2f: {
      if (f3 !== 2) return illegal();
      decoded.imm = 0;
      const f5 = i >>> 27;
      switch (f5) {
        case 0x02: return rs2 === 0 ? pack(Op.LR_W, rd, rs1, 0, false) : illegal();
        case 0x03: return pack(Op.SC_W, rd, rs1, rs2, false);
        case 0x01: return pack(Op.AMOSWAP_W, rd, rs1, rs2, false);
        case 0x00: return pack(Op.AMOADD_W, rd, rs1, rs2, false);
        case 0x04: return pack(Op.AMOXOR_W, rd, rs1, rs2, false);
        case 0x0c: return pack(Op.AMOAND_W, rd, rs1, rs2, false);
        case 0x08: return pack(Op.AMOOR_W, rd, rs1, rs2, false);
        case 0x10: return pack(Op.AMOMIN_W, rd, rs1, rs2, false);
        case 0x14: return pack(Op.AMOMAX_W, rd, rs1, rs2, false);
        case 0x18: return pack(Op.AMOMINU_W, rd, rs1, rs2, false);
        case 0x1c: return pack(Op.AMOMAXU_W, rd, rs1, rs2, false);
        default: return illegal();
      }
    }
    default:
      return illegal();
  }
}

/** Compressed (RVC) decoder, spec chapter 16, RV32 column of tables 16.5–16.7. */
export function decode16(c: number): number {
  const q = c & 3;
  const f3 = (c >>> 13) & 7;
  const rdp = ((c >>> 2) & 7) + 8; // rd'/rs2' at [4:2]
  const rs1p = ((c >>> 7) & 7) + 8; // rs1'/rd' at [9:7]
  const rd = (c >>> 7) & 31;
  const rs2 = (c >>> 2) & 31;
  const b12 = (c >>> 12) & 1;
  if (q === 0) {
    switch (f3) {
      case 0: { // c.addi4spn
        const imm = (((c >>> 6) & 1) << 2) | (((c >>> 5) & 1) << 3) | (((c >>> 11) & 3) << 4) | (((c >>> 7) & 15) << 6);
        if (imm === 0) return illegal(); // also covers the all-zero 16-bit word
        decoded.imm = imm;
        return pack(Op.ADDI, rdp, 2, 0, true);
      }
      case 2: // c.lw
        decoded.imm = (((c >>> 6) & 1) << 2) | (((c >>> 10) & 7) << 3) | (((c >>> 5) & 1) << 6);
        return pack(Op.LW, rdp, rs1p, 0, true);
      case 6: // c.sw
        decoded.imm = (((c >>> 6) & 1) << 2) | (((c >>> 10) & 7) << 3) | (((c >>> 5) & 1) << 6);
        return pack(Op.SW, 0, rs1p, rdp, true);
      default: return illegal(); // c.fld/c.flw/c.fsd/c.fsw (no F/D) and the reserved slot
    }
  }
  if (q === 1) {
    const imm6 = sext((b12 << 5) | ((c >>> 2) & 31), 6);
    switch (f3) {
      case 0: decoded.imm = imm6; return pack(Op.ADDI, rd, rd, 0, true); // c.nop / c.addi (HINTs too)
      case 1: case 5: { // c.jal (RV32) / c.j
        decoded.imm = sext((b12 << 11) | (((c >>> 11) & 1) << 4) | (((c >>> 9) & 3) << 8) | (((c >>> 8) & 1) << 10)
          | (((c >>> 7) & 1) << 6) | (((c >>> 6) & 1) << 7) | (((c >>> 3) & 7) << 1) | (((c >>> 2) & 1) << 5), 12);
        return pack(Op.JAL, f3 === 1 ? 1 : 0, 0, 0, true);
      }
      case 2: decoded.imm = imm6; return pack(Op.ADDI, rd, 0, 0, true); // c.li
      case 3:
        if (rd === 2) { // c.addi16sp
          const imm = sext((b12 << 9) | (((c >>> 6) & 1) << 4) | (((c >>> 5) & 1) << 6) | (((c >>> 3) & 3) << 7) | (((c >>> 2) & 1) << 5), 10);
          if (imm === 0) return illegal();
          decoded.imm = imm;
          return pack(Op.ADDI, 2, 2, 0, true);
        }
        if (imm6 === 0) return illegal(); // c.lui with nzimm = 0 is reserved
        decoded.imm = imm6 << 12;
        return pack(Op.LUI, rd, 0, 0, true);
      case 4: {
        const f2 = (c >>> 10) & 3;
        if (f2 === 0 || f2 === 1) { // c.srli / c.srai; shamt[5] = 1 is reserved on RV32
          if (b12) return illegal();
          decoded.imm = (c >>> 2) & 31;
          return pack(f2 === 0 ? Op.SRLI : Op.SRAI, rs1p, rs1p, 0, true);
        }
        if (f2 === 2) { decoded.imm = imm6; return pack(Op.ANDI, rs1p, rs1p, 0, true); }
        if (b12) return illegal(); // c.subw / c.addw are RV64-only
        decoded.imm = 0;
        const ops = [Op.SUB, Op.XOR, Op.OR, Op.AND];
        return pack(ops[(c >>> 5) & 3], rs1p, rs1p, rdp, true);
      }
      default: { // c.beqz / c.bnez
        decoded.imm = sext((b12 << 8) | (((c >>> 10) & 3) << 3) | (((c >>> 5) & 3) << 6) | (((c >>> 3) & 3) << 1) | (((c >>> 2) & 1) << 5), 9);
        return pack(f3 === 6 ? Op.BEQ : Op.BNE, 0, rs1p, 0, true);
      }
    }
  }
  // q === 2
  switch (f3) {
    case 0: // c.slli; shamt[5] = 1 is reserved on RV32
      if (b12) return illegal();
      decoded.imm = rs2;
      return pack(Op.SLLI, rd, rd, 0, true);
    case 2: // c.lwsp
      if (rd === 0) return illegal();
      decoded.imm = (b12 << 5) | (((c >>> 4) & 7) << 2) | (((c >>> 2) & 3) << 6);
      return pack(Op.LW, rd, 2, 0, true);
    case 4:
      decoded.imm = 0;
      if (b12 === 0) {
        if (rs2 === 0) return rd === 0 ? illegal() : pack(Op.JALR, 0, rd, 0, true); // c.jr
        return pack(Op.ADD, rd, 0, rs2, true); // c.mv
      }
      if (rs2 === 0) return rd === 0 ? pack(Op.EBREAK, 0, 0, 0, true) : pack(Op.JALR, 1, rd, 0, true); // c.ebreak / c.jalr
      return pack(Op.ADD, rd, rd, rs2, true); // c.add
    case 6: // c.swsp
      decoded.imm = (((c >>> 9) & 15) << 2) | (((c >>> 7) & 3) << 6);
      return pack(Op.SW, 0, 2, rs2, true);
    default: return illegal(); // c.fldsp/c.flwsp/c.fsdsp/c.fswsp
  }
}
