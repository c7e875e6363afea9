/**
 * The 16-bit (C extension) half of the disassembler: which objdump opcode-table entry a
 * compressed encoding lands on. binutils 2.40 prints most compressed instructions as the base
 * instruction they expand to (`c.addi a0,1` is `add a0,a0,1`, `c.lwsp` is `lw`), and keeps the
 * `c.` name only for the HINT encodings that have no base equivalent worth printing (`c.nop 3`,
 * `c.li zero,5`, `c.slli64`). The choices below were measured against binutils 2.40 on all
 * 65536 halfwords (test/emulator/debuginfo/disasm.test.ts repeats that sweep).
 *
 * Operand formats use objdump's letters (opcodes/riscv-dis.c print_insn_args), so one printer
 * serves both halves: `d` rd, `Cs`/`Ct` rs1'/rs2' (x8-x15), `Cw` rs1' again, `CU` rs1 = rd,
 * `CV` rs2, `Cc` sp, `Cj`/`Co` the CI immediate, `Ck` c.lw's offset, `Cm`/`CM` c.lwsp/c.swsp's,
 * `CK` c.addi4spn's, `CL` c.addi16sp's, `Cu` c.lui's, `C>` a shift amount, `Cp`/`Ca` branch
 * and jump targets.
 */
import type { DisasmIsa } from './disasmIsa';

export type OpChoice = readonly [name: string, format: string];

/** The signed 6-bit immediate of the CI format (bit 12, bits 6:2). */
export function ciImm(w: number): number {
  return (((w >>> 7) & 0x20) | ((w >>> 2) & 0x1f)) << 26 >> 26;
}

export function decode16(w: number, isa: DisasmIsa): OpChoice | undefined {
  if (!isa.c) return undefined;
  const f3 = (w >>> 13) & 7;
  const rd = (w >>> 7) & 31;
  const rs2 = (w >>> 2) & 31;
  const b12 = (w >>> 12) & 1;
  switch (w & 3) {
    case 0:
      if (w === 0) return ['unimp', ''];
      switch (f3) {
        case 0: return (w & 0x1fe0) !== 0 ? ['add', 'Ct,Cc,CK'] : undefined; // c.addi4spn, nzuimm != 0
        case 2: return ['lw', 'Ct,Ck(Cs)'];
        case 6: return ['sw', 'Ct,Ck(Cs)'];
        default: return undefined; // c.fld, c.flw, c.fsd, c.fsw, reserved
      }
    case 1:
      switch (f3) {
        case 0: // c.addi; rd = 0 is c.nop, whose nonzero immediates are HINTs
          if (rd !== 0) return ['add', 'd,CU,Cj'];
          return ciImm(w) === 0 ? ['nop', ''] : ['c.nop', 'Cj'];
        case 1: return ['jal', 'Ca']; // RV32's c.jal
        case 2: return rd === 0 ? ['c.li', 'd,Co'] : ['li', 'd,Co'];
        case 3:
          // binutils 2.40 accepts c.addi16sp with a zero immediate (the spec reserves it).
          if (rd === 2) return ['add', 'Cc,Cc,CL'];
          if (ciImm(w) === 0) return undefined;
          return rd === 0 ? ['c.lui', 'd,Cu'] : ['lui', 'd,Cu'];
        case 4:
          switch ((w >>> 10) & 3) {
            case 0: return (ciImm(w) & 0x3f) !== 0 ? ['srl', 'Cs,Cw,C>'] : ['c.srli64', 'Cs'];
            case 1: return (ciImm(w) & 0x3f) !== 0 ? ['sra', 'Cs,Cw,C>'] : ['c.srai64', 'Cs'];
            case 2: return ['and', 'Cs,Cw,Co'];
            default:
              if (b12) return undefined; // c.subw, c.addw: RV64 only
              return [['sub', 'xor', 'or', 'and'][(w >>> 5) & 3], 'Cs,Cw,Ct'];
          }
        case 5: return ['j', 'Ca'];
        case 6: return ['beqz', 'Cs,Cp'];
        default: return ['bnez', 'Cs,Cp'];
      }
    case 2:
      switch (f3) {
        case 0:
          if ((ciImm(w) & 0x3f) === 0) return ['c.slli64', 'd'];
          return rd !== 0 ? ['sll', 'd,CU,C>'] : ['c.slli', 'd,C>'];
        case 2: return rd !== 0 ? ['lw', 'd,Cm(Cc)'] : undefined;
        case 4:
          if (b12 === 0) {
            if (rs2 === 0) return rd === 0 ? undefined : rd === 1 ? ['ret', ''] : ['jr', 'd'];
            return rd !== 0 ? ['mv', 'd,CV'] : ['c.mv', 'd,CV'];
          }
          if (rs2 === 0) return rd === 0 ? ['ebreak', ''] : ['jalr', 'd'];
          return rd !== 0 ? ['add', 'd,CU,CV'] : ['c.add', 'd,CV'];
        case 6: return ['sw', 'CV,CM(Cc)'];
        default: return undefined; // c.fldsp, c.flwsp, c.fsdsp, c.fswsp
      }
    default:
      return undefined;
  }
}

/** Immediates of the compressed formats (riscv.h's EXTRACT_C*TYPE_* macros). */
export const rvcImm = {
  /** c.addi4spn: nzuimm[5:4|9:6|2|3]. */
  addi4spn: (w: number) => ((w >>> 7) & 0x30) | ((w >>> 1) & 0x3c0) | ((w >>> 4) & 0x4) | ((w >>> 2) & 0x8),
  /** c.addi16sp: nzimm[9|4|6|8:7|5], sign-extended. */
  addi16sp: (w: number) => ((((w >>> 3) & 0x200) | ((w >>> 2) & 0x10) | ((w << 1) & 0x40) | ((w << 4) & 0x180) | ((w << 3) & 0x20)) << 22) >> 22,
  /** c.lw / c.sw: uimm[5:3|2|6]. */
  lw: (w: number) => ((w >>> 7) & 0x38) | ((w >>> 4) & 0x4) | ((w << 1) & 0x40),
  /** c.lwsp: uimm[5|4:2|7:6]. */
  lwsp: (w: number) => ((w >>> 7) & 0x20) | ((w >>> 2) & 0x1c) | ((w << 4) & 0xc0),
  /** c.swsp: uimm[5:2|7:6]. */
  swsp: (w: number) => ((w >>> 7) & 0x3c) | ((w >>> 1) & 0xc0),
  /** c.beqz / c.bnez: offset[8|4:3|7:6|2:1|5], sign-extended. */
  branch: (w: number) => ((((w >>> 4) & 0x100) | ((w >>> 7) & 0x18) | ((w << 1) & 0xc0) | ((w >>> 2) & 0x6) | ((w << 3) & 0x20)) << 23) >> 23,
  /** c.j / c.jal: offset[11|4|9:8|10|6|7|3:1|5], sign-extended. */
  jump: (w: number) => ((((w >>> 1) & 0x800) | ((w >>> 7) & 0x10) | ((w >>> 1) & 0x300) | ((w << 2) & 0x400)
    | ((w >>> 1) & 0x40) | ((w << 1) & 0x80) | ((w >>> 2) & 0xe) | ((w << 3) & 0x20)) << 20) >> 20,
};
