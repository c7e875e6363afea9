/**
 * The C extension (unprivileged spec v20191213, chapter 16): every RV32C instruction of
 * quadrants 0-2, immediates at their extremes, HINTs, and the reserved encodings.
 */
import assert from 'node:assert/strict';
import { Loaded, R, loadAsm, runProgram, step, ux } from '../../support/assemble';
import { runWithTrapRecorder } from '../../support/assemble';

/** Runs `body` with a recording trap handler; s9 = -1 afterwards means no trap was taken. */
function exec(body: string, data = ''): Loaded {
  return runWithTrapRecorder(body, data, 'before');
}

/** Runs `body` from the very first byte of the image (so `.org` offsets are absolute). */
function execAt0(body: string): Loaded {
  return runProgram(`${body}\n  EXIT\n`, 'exit');
}

describe('RV32C', () => {
  it('each compressed instruction advances pc by 2', () => {
    const l = loadAsm('c.nop\n c.li a0, 1\n c.addi a0, 2\n c.mv a1, a0\n c.add a1, a0\n c.slli a1, 1\n c.lui a2, 1\n EXIT');
    for (let k = 1; k <= 7; k++) {
      step(l, 1);
      assert.equal(l.h.pc >>> 0, 0x80000000 + 2 * k, `after ${k} instructions`);
    }
    assert.equal(l.h.x[R.a1], 12);
  });

  describe('quadrant 0', () => {
    it('C.ADDI4SPN adds the zero-extended scaled immediate to sp (4, 1020 and split bit patterns)', () => {
      const { h } = exec(`
  li sp, 0x80010000
  c.addi4spn a0, sp, 4
  c.addi4spn a1, sp, 1020
  c.addi4spn s0, sp, 0x154
  c.addi4spn s1, sp, 0x2a8`);
      assert.deepEqual([R.a0, R.a1, R.s0, R.s1].map((r) => ux(h, r) - 0x80010000), [4, 1020, 0x154, 0x2a8]);
    });

    it('C.LW / C.SW use a zero-extended word offset 0..124', () => {
      const l = exec(`
  la a1, buf
  c.lw a0, 124(a1)
  c.lw a2, 0(a1)
  c.lw a3, 68(a1)
  c.lw a4, 56(a1)
  li a5, -5
  c.sw a5, 124(a1)
  c.sw a0, 4(a1)`, 'buf: .word 0x11111111\n .space 52\n .word 0x56565656\n .space 8\n .word 0x68686868\n .space 52\n .word 0x12345678');
      const { h, sym, m } = l;
      assert.equal(h.x[R.s9], -1);
      assert.equal(ux(h, R.a0), 0x12345678);
      assert.equal(ux(h, R.a2), 0x11111111);
      assert.equal(ux(h, R.a3), 0x68686868);
      assert.equal(ux(h, R.a4), 0x56565656);
      assert.equal(m.bus.load(sym.buf + 124, 4), 0xfffffffb);
      assert.equal(m.bus.load(sym.buf + 4, 4), 0x12345678);
    });
  });

  describe('quadrant 1', () => {
    it('C.NOP does nothing; C.ADDI adds a sign-extended 6-bit immediate (-32, 31)', () => {
      const { h } = exec('li a0, 100\n li a1, 100\n c.nop\n c.addi a0, -32\n c.addi a1, 31');
      assert.equal(h.x[R.a0], 68);
      assert.equal(h.x[R.a1], 131);
    });

    it('C.LI loads a sign-extended 6-bit immediate (-32, 31)', () => {
      const { h } = exec('c.li a0, -32\n c.li a1, 31\n c.li a2, 0');
      assert.deepEqual([h.x[R.a0], h.x[R.a1], h.x[R.a2]], [-32, 31, 0]);
    });

    it('C.ADDI16SP adds a sign-extended multiple of 16 to sp (-512, 496, 16, 0x1a0)', () => {
      const { h } = exec(`
  li sp, 0x80010000
  c.addi16sp sp, -512
  mv a0, sp
  c.addi16sp sp, 496
  mv a1, sp
  c.addi16sp sp, 16
  mv a2, sp
  c.addi16sp sp, 0x1a0
  mv a3, sp`);
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3].map((r) => ux(h, r) - 0x80010000), [-512, -16, 0, 0x1a0]);
    });

    it('C.LUI loads a sign-extended nzimm[17:12] (1, 0x1f, 0xfffe0, 0xfffff)', () => {
      const { h } = exec('c.lui a0, 1\n c.lui a1, 0x1f\n c.lui a2, 0xfffe0\n c.lui a3, 0xfffff');
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3].map((r) => ux(h, r)), [0x1000, 0x1f000, 0xfffe0000, 0xfffff000]);
    });

    it('C.SRLI / C.SRAI shift by 1 and 31; C.ANDI masks with a sign-extended immediate', () => {
      const { h } = exec(`
  li a0, 0x80000000
  mv a1, a0
  mv a2, a0
  mv a3, a0
  c.srli a0, 31
  c.srli a1, 1
  c.srai a2, 31
  c.srai a3, 1
  li a4, -1
  li a5, -1
  c.andi a4, -32
  c.andi a5, 31`);
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3, R.a4, R.a5].map((r) => ux(h, r)), [1, 0x40000000, 0xffffffff, 0xc0000000, 0xffffffe0, 0x1f]);
    });

    it('C.SUB / C.XOR / C.OR / C.AND on the compressed registers', () => {
      const { h } = exec(`
  li s1, 0x0ff00ff0
  li a0, 0xff00ff00
  mv a1, a0
  mv a2, a0
  mv a3, a0
  c.sub a0, s1
  c.xor a1, s1
  c.or a2, s1
  c.and a3, s1`);
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3].map((r) => ux(h, r)), [0xef10ef10, 0xf0f0f0f0, 0xfff0fff0, 0x0f000f00]);
    });

    it('C.J reaches +2046 and -2048 (12-bit offset extremes)', () => {
      const l = execAt0(`
start:
  c.j fwd
back:
  c.li s1, 2
  j out
  .org 0x7fe
fwd:
  c.li s0, 1
  c.nop
bk:
  c.j back
out:`);
      assert.equal(l.sym.fwd - l.sym.start, 2046);
      assert.equal(l.sym.back - l.sym.bk, -2048);
      assert.deepEqual([l.h.x[R.s0], l.h.x[R.s1]], [1, 2]);
    });

    it('C.JAL links pc+2 into ra and reaches +2046 and -2048', () => {
      const l = execAt0(`
start:
  c.jal fwd
back:
  c.mv s3, ra
  j out
  .org 0x7fe
fwd:
  c.mv s2, ra
  c.nop
bk:
  c.jal back
out:`);
      assert.equal(l.sym.fwd - l.sym.start, 2046);
      assert.equal(l.sym.back - l.sym.bk, -2048);
      assert.equal(ux(l.h, R.s2), l.sym.start + 2);
      assert.equal(ux(l.h, R.s3), l.sym.bk + 2);
    });

    for (const [op, val] of [['c.beqz', 0], ['c.bnez', 7]] as const) {
      it(`${op.toUpperCase()} is taken at +254 and -256 (9-bit offset extremes)`, () => {
        const l = execAt0(`
  c.li a4, ${val}
start:
  ${op} a4, fwd
back:
  c.li s1, 2
  j out
  .org 0x100
fwd:
  c.li s0, 1
  c.nop
bk:
  ${op} a4, back
out:`);
        assert.equal(l.sym.fwd - l.sym.start, 254);
        assert.equal(l.sym.back - l.sym.bk, -256);
        assert.deepEqual([l.h.x[R.s0], l.h.x[R.s1]], [1, 2]);
      });
    }

    it('C.BEQZ / C.BNEZ fall through when not taken, including on negative values', () => {
      const { h } = exec(`
  li a4, -1
  li a5, 0
  c.beqz a4, 1f
  c.li a0, 1
1:
  c.bnez a5, 2f
  c.li a1, 1
2:
  c.bnez a4, 3f
  c.li a2, 1
3:`);
      assert.deepEqual([h.x[R.a0], h.x[R.a1], h.x[R.a2]], [1, 1, 0]);
    });
  });

  describe('quadrant 2', () => {
    it('C.SLLI shifts by 1 and 31', () => {
      const { h } = exec('li a0, 0x40000001\n mv a1, a0\n c.slli a0, 1\n c.slli a1, 31');
      assert.deepEqual([ux(h, R.a0), ux(h, R.a1)], [0x80000002, 0x80000000]);
    });

    it('C.LWSP / C.SWSP use a zero-extended offset 0..252 from sp', () => {
      const l = exec(`
  la sp, buf
  c.lwsp a0, 252(sp)
  c.lwsp a1, 0(sp)
  c.lwsp a2, 196(sp)
  li a3, 0x7777
  c.swsp a3, 252(sp)
  c.swsp a0, 192(sp)`, 'buf: .word 0x11111111\n .space 188\n .word 0xc0c0c0c0\n .word 0xc4c4c4c4\n .space 52\n .word 0xfcfcfcfc');
      const { h, m, sym } = l;
      assert.deepEqual([ux(h, R.a0), ux(h, R.a1), ux(h, R.a2)], [0xfcfcfcfc, 0x11111111, 0xc4c4c4c4]);
      assert.equal(m.bus.load(sym.buf + 252, 4), 0x7777);
      assert.equal(m.bus.load(sym.buf + 192, 4), 0xfcfcfcfc);
    });

    it('C.JR jumps to rs1 without linking; C.JALR links pc+2 and reads rs1 before writing ra', () => {
      const l = exec(`
  li ra, 5
  la a0, t1
  c.jr a0
  c.li s2, 9
t1:
  mv s3, ra
  la ra, t2
j2:
  c.jalr ra
  c.li s2, 9
t2:
  mv s4, ra`);
      assert.equal(l.h.x[R.s2], 0);
      assert.equal(l.h.x[R.s3], 5);
      assert.equal(ux(l.h, R.s4), l.sym.j2 + 2);
    });

    it('C.MV copies and C.ADD adds', () => {
      const { h } = exec('li a1, 0x7fffffff\n c.mv a0, a1\n li a2, 1\n c.add a0, a2\n c.add a2, a2');
      assert.equal(ux(h, R.a0), 0x80000000);
      assert.equal(h.x[R.a2], 2);
    });

    // mtval may be 0 or the pc (priv §3.1.16); QEMU 7.2 writes 0 and Rewind matches it.
    it('C.EBREAK raises a breakpoint (mcause 3, mepc = its address, mtval = 0 as QEMU)', () => {
      const l = exec('bp: c.ebreak');
      assert.deepEqual([ux(l.h, R.s9), ux(l.h, R.s10), ux(l.h, R.s11)], [3, l.sym.bp, 0]);
    });
  });

  describe('HINTs (§16.7) execute as no-ops', () => {
    it('c.nop nzimm!=0, c.addi nzimm=0, c.li/c.lui/c.mv/c.add/c.slli with rd=x0, shifts by 0', () => {
      const { h } = exec(`
  li a0, 0x1234
  .hword 0x0005    # c.nop 1
  .hword 0x0501    # c.addi a0, 0
  .hword 0x4015    # c.li x0, 5
  .hword 0x6005    # c.lui x0, 1
  .hword 0x802a    # c.mv x0, a0
  .hword 0x902a    # c.add x0, a0
  .hword 0x0006    # c.slli x0, 1
  .hword 0x0502    # c.slli a0, 0
  .hword 0x8101    # c.srli a0, 0
  .hword 0x8501    # c.srai a0, 0`);
      assert.equal(h.x[R.s9], -1, 'no trap');
      assert.equal(h.x[0], 0);
      assert.equal(h.x[R.a0], 0x1234);
    });
  });

  describe('reserved and unsupported encodings raise illegal instruction (mcause 2, mtval = the 16 bits)', () => {
    const cases: [string, number][] = [
      ['the all-zero halfword', 0x0000],
      ['C.ADDI4SPN with nzuimm = 0', 0x0008],
      ['C.ADDI16SP with nzimm = 0', 0x6101],
      ['C.LUI with nzimm = 0', 0x6501],
      ['C.LWSP with rd = x0', 0x4002],
      ['C.JR with rs1 = x0', 0x8002],
      ['C.SRLI with shamt[5] = 1', 0x9105],
      ['C.SRAI with shamt[5] = 1', 0x9505],
      ['C.SLLI with shamt[5] = 1', 0x1506],
      ['C.SUBW (RV64 only)', 0x9d0d],
      ['C.ADDW (RV64 only)', 0x9d2d],
      ['the reserved quadrant-1 slot 100111...10', 0x9d4d],
      ['the reserved quadrant-1 slot 100111...11', 0x9d6d],
      ['the reserved quadrant-0 slot (funct3 100)', 0x8188],
      ['C.FLW (no F)', 0x6188],
      ['C.FSW (no F)', 0xe188],
      ['C.FLD (no D)', 0x2188],
      ['C.FSD (no D)', 0xa188],
      ['C.FLWSP (no F)', 0x6502],
      ['C.FSWSP (no F)', 0xe02a],
      ['C.FLDSP (no D)', 0x2502],
      ['C.FSDSP (no D)', 0xa02a],
    ];
    for (const [what, enc] of cases) {
      it(`${what} (0x${enc.toString(16).padStart(4, '0')})`, () => {
        const l = exec(`  li a0, 0x80000040\n  li a1, 0x80000040\n  mv sp, a0\nbad: .hword 0x${enc.toString(16)}\n  li s8, 1`);
        assert.equal(ux(l.h, R.s9), 2, 'mcause');
        assert.equal(ux(l.h, R.s10), l.sym.bad, 'mepc');
        assert.equal(ux(l.h, R.s11), enc, 'mtval');
        assert.equal(l.h.x[R.s8], 0, 'did not continue past it');
      });
    }
  });
});
