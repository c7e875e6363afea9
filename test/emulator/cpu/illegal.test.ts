/**
 * Encodings an RV32IMAC + Zicsr + Zifencei machine-mode hart must reject with an
 * illegal-instruction exception (privileged spec v20211203 §3.1.15 table 3.6: mcause 2; §3.1.16:
 * mtval holds the faulting instruction bits, which this core always reports, truncated to
 * ILEN = 32 bits for longer encodings).
 *
 * Each program sets mtvec, then executes the encoding at `bad`. After exactly four instructions
 * (SET_MTVEC's three, plus the illegal one, which counts like QEMU's) pc must be at the handler.
 */
import assert from 'node:assert/strict';
import { loadAsm, step } from '../../support/assemble';

type Case = [what: string, placement: string, mtval: number];

const w = (n: number): string => `.word 0x${n.toString(16)}`;

const cases: Case[] = [
  ['.word 0 (the all-zero parcel)', w(0), 0],
  ['all ones (0xffffffff)', w(0xffffffff), 0xffffffff],
  ['SLLI with shamt[5] = 1 (funct7 = 1)', w(0x02051513), 0x02051513],
  ['SRLI with shamt[5] = 1', w(0x02055513), 0x02055513],
  ['SRAI with shamt[5] = 1', w(0x42055513), 0x42055513],
  ['OP with funct7 = 0x02', w(0x04b50533), 0x04b50533],
  ['OP with funct7 = 0x40', w(0x80b50533), 0x80b50533],
  ['OP with funct7 = 0x20 and funct3 = 1 (only SUB/SRA use 0x20)', w(0x40b51533), 0x40b51533],
  ['LOAD funct3 = 3 (LD, RV64)', w(0x0005b503), 0x0005b503],
  ['LOAD funct3 = 6 (LWU, RV64)', w(0x0005e503), 0x0005e503],
  ['LOAD funct3 = 7', w(0x0005f503), 0x0005f503],
  ['STORE funct3 = 3 (SD, RV64)', w(0x00a5b023), 0x00a5b023],
  ['STORE funct3 = 4', w(0x00a5c023), 0x00a5c023],
  ['STORE funct3 = 5', w(0x00a5d023), 0x00a5d023],
  ['STORE funct3 = 6', w(0x00a5e023), 0x00a5e023],
  ['STORE funct3 = 7', w(0x00a5f023), 0x00a5f023],
  ['BRANCH funct3 = 2', w(0x00b52063), 0x00b52063],
  ['BRANCH funct3 = 3', w(0x00b53063), 0x00b53063],
  ['JALR funct3 = 1', w(0x000510e7), 0x000510e7],
  ['JALR funct3 = 4', w(0x000540e7), 0x000540e7],
  ['SRET (no S-mode)', w(0x10200073), 0x10200073],
  ['URET (no N extension)', w(0x00200073), 0x00200073],
  ['DRET (not in debug mode)', w(0x7b200073), 0x7b200073],
  ['SFENCE.VMA (no S-mode)', w(0x12000073), 0x12000073],
  ['SFENCE.VMA a0, a1', w(0x12b50073), 0x12b50073],
  ['ECALL with rd != 0 (reserved fields must be zero)', w(0x000000f3), 0x000000f3],
  ['SYSTEM funct3 = 4', w(0x00004073), 0x00004073],
  ['MISC-MEM funct3 = 2 (no Zicbom)', w(0x0000200f), 0x0000200f],
  ['AMO funct3 = 3 (AMOADD.D, RV64)', w(0x00b6352f), 0x00b6352f],
  ['AMO funct3 = 0', w(0x00b6052f), 0x00b6052f],
  ['AMO with an undefined funct5 (0x05)', w(0x28b6252f), 0x28b6252f],
  ['LR.W with rs2 != 0', w(0x1015a52f), 0x1015a52f],
  ['a 48-bit encoding (mtval = its first 32 bits)', '.hword 0x001f, 0x1234, 0x5678', 0x1234001f],
  ['a 64-bit encoding (mtval = its first 32 bits)', '.hword 0x003f, 0xabcd, 0, 0', 0xabcd003f],
  ['FLW (no F)', w(0x00052007), 0x00052007],
  ['FLD (no D)', w(0x00053007), 0x00053007],
  ['FADD.S (no F)', w(0x0020f053), 0x0020f053],
  ['FSW (no F)', w(0x00a52027), 0x00a52027],
  ['ADDIW (RV64)', w(0x0015051b), 0x0015051b],
  ['ADDW (RV64)', w(0x00b5053b), 0x00b5053b],
  ['the custom-0 opcode', w(0x0000000b), 0x0000000b],
];

const hex = (n: number) => '0x' + (n >>> 0).toString(16);

describe('illegal instructions', () => {
  for (const [what, placement, mtval] of cases) {
    it(`${what}: mcause 2, mepc = its address, mtval = ${hex(mtval)}, pc = mtvec`, () => {
      const l = loadAsm(`
  SET_MTVEC handler
bad:
  ${placement}
  li s0, 1
  .balign 4
handler:
  j handler`);
      step(l, 4);
      assert.equal(hex(l.h.pc), hex(l.sym.handler), 'pc = mtvec');
      assert.equal(l.m.icount, 4, 'the illegal instruction counts');
      assert.equal(hex(l.h.readCsr(0x342) ?? -1), '0x2', 'mcause');
      assert.equal(hex(l.h.readCsr(0x341) ?? -1), hex(l.sym.bad), 'mepc');
      assert.equal(hex(l.h.readCsr(0x343) ?? -1), hex(mtval), 'mtval');
      assert.equal(l.h.x[8], 0, 'execution did not fall through');
    });
  }

  it('a 32-bit illegal encoding at a 2-byte-aligned address reports that address', () => {
    const l = loadAsm(`
  SET_MTVEC handler
  c.nop
bad:
  .word 0xffffffff
  .balign 4
handler:
  j handler`);
    step(l, 5);
    assert.equal(l.sym.bad % 4, 2);
    assert.equal(hex(l.h.pc), hex(l.sym.handler));
    assert.equal(hex(l.h.readCsr(0x341) ?? -1), hex(l.sym.bad));
    assert.equal(hex(l.h.readCsr(0x343) ?? -1), '0xffffffff');
  });

  it('an illegal encoding in the middle of a straight-line run: the instructions before it complete, it counts once', () => {
    const l = loadAsm(`
  SET_MTVEC handler
  li a0, 1
  li a1, 2
  add a2, a0, a1
bad:
  .word 0x04b50533
  li a3, 4
  .balign 4
handler:
  j handler`);
    step(l, 7);
    assert.equal(hex(l.h.pc), hex(l.sym.handler));
    assert.equal(l.h.x[12], 3);
    assert.equal(l.h.x[13], 0);
    assert.equal(hex(l.h.readCsr(0x341) ?? -1), hex(l.sym.bad));
    assert.equal(hex(l.h.readCsr(0x343) ?? -1), '0x4b50533');
  });

  it('an illegal instruction does not change the registers or memory it names', () => {
    // 0x0005b503 would be "ld a0, 0(a1)"; 0x00a5b023 "sd a0, 0(a1)".
    const l = loadAsm(`
  SET_MTVEC handler
  la a1, buf
  li a0, 0x1234
  .word 0x0005b503
  .word 0x00a5b023
  EXIT
  .balign 4
handler:
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret
  .balign 8
buf: .word 0x55555555, 0x66666666`);
    step(l, 'exit');
    assert.equal(l.h.x[10], 0x1234);
    assert.equal(l.m.bus.load(l.sym.buf, 4), 0x55555555);
    assert.equal(l.m.bus.load(l.sym.buf + 4, 4), 0x66666666);
  });
});
