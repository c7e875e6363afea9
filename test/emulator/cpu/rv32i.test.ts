/**
 * RV32I base integer instructions (unprivileged spec v20191213, chapter 2). Programs are
 * assembled with `.option norvc` so that every instruction here is its 32-bit form; the
 * compressed forms have their own file.
 */
import assert from 'node:assert/strict';
import { Loaded, R, loadAsm, runProgram, step, ux } from '../../support/assemble';

/** Runs `body` (32-bit encodings only), exits, and returns the machine; `data` follows the exit. */
function exec(body: string, data = ''): Loaded {
  return runProgram(`.option norvc\n${body}\n  EXIT\n  .balign 16\n${data}\n`, 'exit');
}

function bytesAt(l: Loaded, addr: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => l.m.bus.load(addr + i, 1));
}

describe('RV32I', () => {
  describe('loads (§2.6)', () => {
    const data = `
data:
  .byte 0x80, 0x7f, 0xff, 0x01
  .hword 0x8000, 0x7fff
  .hword 0xffff, 0x0000
  .word 0x80000000
bytes:
  .byte 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x00, 0xee, 0xff, 0x00`;

    it('LB sign-extends 0x80 to 0xffffff80 and 0xff to -1; positive bytes stay positive', () => {
      const { h } = exec('la s0, data\n lb a0, 0(s0)\n lb a1, 1(s0)\n lb a2, 2(s0)', data);
      assert.equal(ux(h, R.a0), 0xffffff80);
      assert.equal(ux(h, R.a1), 0x7f);
      assert.equal(h.x[R.a2], -1);
    });

    it('LBU zero-extends 0x80 and 0xff', () => {
      const { h } = exec('la s0, data\n lbu a0, 0(s0)\n lbu a1, 2(s0)', data);
      assert.equal(ux(h, R.a0), 0x80);
      assert.equal(ux(h, R.a1), 0xff);
    });

    it('LH sign-extends 0x8000 to 0xffff8000; LHU zero-extends 0x8000 and 0xffff', () => {
      const { h } = exec('la s0, data\n lh a0, 4(s0)\n lh a1, 6(s0)\n lhu a2, 4(s0)\n lhu a3, 8(s0)\n lh a4, 8(s0)', data);
      assert.equal(ux(h, R.a0), 0xffff8000);
      assert.equal(ux(h, R.a1), 0x7fff);
      assert.equal(ux(h, R.a2), 0x8000);
      assert.equal(ux(h, R.a3), 0xffff);
      assert.equal(h.x[R.a4], -1);
    });

    it('LW loads 32 bits; the 12-bit offset is sign-extended (-2048 and +2047)', () => {
      const { h } = exec('la s0, data+2048\n lw a0, -2036(s0)\n lb a1, -2048(s0)\n la s1, data-2047\n lbu a2, 2047(s1)', data);
      assert.equal(ux(h, R.a0), 0x80000000);
      assert.equal(ux(h, R.a1), 0xffffff80);
      assert.equal(ux(h, R.a2), 0x80);
    });

    it('misaligned LW/LH/LHU on RAM do not trap and read little-endian bytes (QEMU behaviour)', () => {
      const { h } = exec(`
  SET_MTVEC trap
  la s0, bytes
  lw a0, 1(s0)
  lw a1, 2(s0)
  lw a2, 3(s0)
  lh a3, 1(s0)
  lhu a4, 3(s0)
  lh a5, 9(s0)
  lhu a6, 9(s0)
  j out
  .balign 4
trap:
  li s11, 1
out:`, data);
      assert.equal(h.x[R.s11], 0, 'no trap taken');
      assert.equal(ux(h, R.a0), 0x55443322);
      assert.equal(ux(h, R.a1), 0x66554433);
      assert.equal(ux(h, R.a2), 0x77665544);
      assert.equal(ux(h, R.a3), 0x3322);
      assert.equal(ux(h, R.a4), 0x5544);
      assert.equal(ux(h, R.a5), 0xffffffee);
      assert.equal(ux(h, R.a6), 0xffee);
    });
  });

  describe('stores (§2.6)', () => {
    it('misaligned SW/SH on RAM do not trap and write little-endian bytes', () => {
      const l = exec(`
  SET_MTVEC trap
  la s0, buf
  li a0, 0xaabbccdd
  sw a0, 1(s0)
  sh a0, 7(s0)
  sw a0, 10(s0)
  sb a0, 15(s0)
  lw a1, 1(s0)
  j out
  .balign 4
trap:
  li s11, 1
out:`, 'buf: .space 16');
      assert.equal(l.h.x[R.s11], 0, 'no trap taken');
      assert.deepEqual(bytesAt(l, l.sym.buf, 16),
        [0, 0xdd, 0xcc, 0xbb, 0xaa, 0, 0, 0xdd, 0xcc, 0, 0xdd, 0xcc, 0xbb, 0xaa, 0, 0xdd]);
      assert.equal(ux(l.h, R.a1), 0xaabbccdd);
    });

    it('SB and SH write only the low 8 / 16 bits of rs2, leaving neighbours alone', () => {
      const l = exec('la s0, buf\n li a0, 0x12345678\n sb a0, 1(s0)\n sh a0, 4(s0)\n sw a0, -4(s0)',
        '.word 0\nbuf: .byte 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff');
      assert.deepEqual(bytesAt(l, l.sym.buf, 8), [0xff, 0x78, 0xff, 0xff, 0x78, 0x56, 0xff, 0xff]);
      assert.equal(l.m.bus.load(l.sym.buf - 4, 4), 0x12345678);
    });
  });

  describe('integer register-immediate (§2.4.1)', () => {
    it('ADDI sign-extends its immediate and wraps on overflow', () => {
      const { h } = exec('li a0, 0x7fffffff\n addi a1, a0, 1\n addi a2, x0, -2048\n addi a3, x0, 2047\n addi a4, a2, -1');
      assert.equal(ux(h, R.a1), 0x80000000);
      assert.equal(ux(h, R.a2), 0xfffff800);
      assert.equal(h.x[R.a3], 2047);
      assert.equal(h.x[R.a4], -2049);
    });

    it('SLTI compares signed; SLTIU compares unsigned against the sign-extended immediate', () => {
      const { h } = exec(`
  li t0, -1
  li t1, 0x80000000
  slti a0, t0, 0        # -1 < 0
  slti a1, t0, -2       # -1 < -2 ? no
  slti a2, t1, -2048    # INT_MIN < -2048
  sltiu a3, t0, -1      # 0xffffffff < 0xffffffff ? no
  sltiu a4, x0, 1       # seqz
  li t2, 0x7ff
  sltiu a5, t2, -2048   # 0x7ff < 0xfffff800
  sltiu a6, t0, 2047    # 0xffffffff < 0x7ff ? no
  slti a7, t2, 2047     # equal: no`);
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3, R.a4, R.a5, R.a6, R.a7].map((r) => h.x[r]), [1, 0, 1, 0, 1, 1, 0, 0]);
    });

    it('XORI/ORI/ANDI use the sign-extended immediate (XORI -1 is NOT)', () => {
      const { h } = exec(`
  li t0, 0x7ff
  li t1, 0x7fffffff
  xori a0, t0, -1
  ori a1, x0, -2048
  andi a2, t1, -2048
  andi a3, t1, 0x7ff
  xori a4, t1, 0x555`);
      assert.equal(ux(h, R.a0), 0xfffff800);
      assert.equal(ux(h, R.a1), 0xfffff800);
      assert.equal(ux(h, R.a2), 0x7ffff800);
      assert.equal(ux(h, R.a3), 0x7ff);
      assert.equal(ux(h, R.a4), 0x7ffffaaa);
    });

    it('SLLI/SRLI/SRAI by 0, 1 and 31', () => {
      const { h } = exec(`
  li t1, 0x80000001
  li t2, 0x7fffffff
  slli a0, t1, 0
  slli a1, t1, 31
  srli a2, t1, 0
  srli a3, t1, 31
  srai a4, t1, 0
  srai a5, t1, 31
  srai a6, t2, 31
  slli a7, t1, 1
  srli s2, t1, 1
  srai s3, t1, 1`);
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3, R.a4, R.a5, R.a6, R.a7, R.s2, R.s3].map((r) => ux(h, r)),
        [0x80000001, 0x80000000, 0x80000001, 1, 0x80000001, 0xffffffff, 0, 2, 0x40000000, 0xc0000000]);
    });

    it('LUI places imm[31:12] and zeroes the low 12 bits', () => {
      const { h } = exec('li a2, -1\n lui a0, 0xfffff\n lui a1, 0x80000\n lui a2, 0\n lui a3, 0x12345');
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3].map((r) => ux(h, r)), [0xfffff000, 0x80000000, 0, 0x12345000]);
    });

    it('AUIPC adds the upper immediate to its own pc (wrapping)', () => {
      const l = exec('p0: auipc a0, 0\np1: auipc a1, 0xfffff\np2: auipc a2, 0x80000\np3: auipc a3, 1');
      assert.equal(ux(l.h, R.a0), l.sym.p0);
      assert.equal(ux(l.h, R.a1), l.sym.p1 - 0x1000);
      assert.equal(ux(l.h, R.a2), (l.sym.p2 + 0x80000000) >>> 0);
      assert.equal(ux(l.h, R.a3), l.sym.p3 + 0x1000);
    });
  });

  describe('integer register-register (§2.4.2)', () => {
    it('ADD/SUB wrap modulo 2^32', () => {
      const { h } = exec('li t0, 0x7fffffff\n li t1, 1\n li t2, 0x80000000\n add a0, t0, t1\n sub a1, x0, t1\n sub a2, t2, t1\n add a3, t2, t2');
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3].map((r) => ux(h, r)), [0x80000000, 0xffffffff, 0x7fffffff, 0]);
    });

    it('SLT is signed and SLTU unsigned (-1 vs 1, INT_MIN vs INT_MAX, SNEZ form)', () => {
      const { h } = exec(`
  li t0, -1
  li t1, 1
  li t2, 0x80000000
  li t3, 0x7fffffff
  slt a0, t0, t1
  slt a1, t1, t0
  slt a2, t1, t1
  slt a3, t2, t3
  sltu a4, t0, t1
  sltu a5, t1, t0
  sltu a6, t3, t2
  sltu a7, x0, t1
  sltu s2, x0, x0`);
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3, R.a4, R.a5, R.a6, R.a7, R.s2].map((r) => h.x[r]), [1, 0, 0, 1, 0, 1, 1, 1, 0]);
    });

    it('XOR/OR/AND', () => {
      const { h } = exec('li t0, 0xff00ff00\n li t1, 0x0ff00ff0\n xor a0, t0, t1\n or a1, t0, t1\n and a2, t0, t1');
      assert.deepEqual([R.a0, R.a1, R.a2].map((r) => ux(h, r)), [0xf0f0f0f0, 0xfff0fff0, 0x0f000f00]);
    });

    it('SLL/SRL/SRA use only the low 5 bits of rs2 (33 -> 1, 32 -> 0, -1 -> 31, -32 -> 0)', () => {
      const { h } = exec(`
  li t1, 0x80000001
  li t2, 33
  li t3, 32
  li t4, -1
  li s1, -32
  sll a0, t1, t2
  srl a1, t1, t2
  sra a2, t1, t2
  sll a3, t1, t3
  srl a4, t1, t3
  sra a5, t1, t3
  sll a6, t1, t4
  srl a7, t1, t4
  sra s2, t1, t4
  sll s3, t1, s1`);
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3, R.a4, R.a5, R.a6, R.a7, R.s2, R.s3].map((r) => ux(h, r)),
        [2, 0x40000000, 0xc0000000, 0x80000001, 0x80000001, 0x80000001, 0x80000000, 1, 0xffffffff, 0x80000001]);
    });
  });

  describe('x0 (§2.1)', () => {
    it('writes to x0 are discarded: ADDI/LUI/AUIPC/LW/JAL/ADD with rd=x0 leave it zero', () => {
      const { h } = exec(`
  addi x0, x0, 5
  lui x0, 0x12345
  auipc x0, 1
  la t0, word
  lw x0, 0(t0)
  jal x0, 1f
1:
  add x0, t0, t0
  addi a0, x0, 0
  add a1, x0, x0
  addi a2, x0, 7`, 'word: .word 0xdeadbeef');
      assert.equal(h.x[0], 0);
      assert.equal(h.x[R.a0], 0);
      assert.equal(h.x[R.a1], 0);
      assert.equal(h.x[R.a2], 7);
    });
  });

  describe('control transfer (§2.5)', () => {
    it('JAL links pc+4 (none with rd=x0), JALR clears bit 0 of the target and reads rs1 before writing rd', () => {
      const l = exec(`
  li s2, 0
j1: jal ra, t1
  li s2, 99
t1:
  mv s3, ra
  jal x0, t2
  li s2, 98
t2:
  la t0, t3 + 1
j3: jalr ra, 0(t0)
  li s2, 97
t3:
  mv s4, ra
  la a0, t4 - 8
j4: jalr a0, 8(a0)
  li s2, 96
t4:
  la t0, t5 + 2048
  jalr x0, -2048(t0)
  li s2, 95
t5:
  j over
back:
  li s5, 1
  j done
over:
j6: jal ra, back
  li s2, 94
done:
  mv s6, ra`);
      const { h, sym } = l;
      assert.equal(h.x[R.s2], 0, 'no fall-through executed');
      assert.equal(ux(h, R.s3), sym.j1 + 4);
      assert.equal(ux(h, R.s4), sym.j3 + 4);
      assert.equal(ux(h, R.a0), sym.j4 + 4);
      assert.equal(h.x[R.s5], 1);
      assert.equal(ux(h, R.s6), sym.j6 + 4);
    });

    const cases: [string, number, number, boolean][] = [
      ['beq', 5, 5, true], ['beq', 5, 6, false], ['beq', -1, 0xffffffff, true],
      ['bne', 5, 5, false], ['bne', 5, 6, true],
      ['blt', -1, 1, true], ['blt', 1, -1, false], ['blt', 5, 5, false], ['blt', 0x80000000, 0x7fffffff, true],
      ['bge', -1, 1, false], ['bge', 1, -1, true], ['bge', 5, 5, true], ['bge', 0x7fffffff, 0x80000000, true],
      ['bltu', -1, 1, false], ['bltu', 1, -1, true], ['bltu', 5, 5, false], ['bltu', 0x7fffffff, 0x80000000, true],
      ['bgeu', -1, 1, true], ['bgeu', 1, -1, false], ['bgeu', 5, 5, true], ['bgeu', 0, 0xffffffff, false],
    ];
    it('every branch, taken and not taken, signed vs unsigned comparisons', () => {
      const body = ['la s0, res'];
      cases.forEach(([op, a, b], i) => body.push(`li a0, ${a}`, `li a1, ${b}`, `${op} a0, a1, 1f`, 'li a2, 2', 'j 2f', '1: li a2, 1', `2: sb a2, ${i}(s0)`));
      const l = exec(body.join('\n'), `res: .space ${cases.length}`);
      cases.forEach(([op, a, b, taken], i) => {
        assert.equal(l.m.bus.load(l.sym.res + i, 1), taken ? 1 : 2, `${op} ${a}, ${b} should ${taken ? '' : 'not '}be taken`);
      });
    });

    it('backward branches loop (BNE with negative offset)', () => {
      const { h } = exec('li a3, 5\n li a4, 0\n1: addi a4, a4, 1\n addi a3, a3, -1\n bne a3, x0, 1b');
      assert.equal(h.x[R.a4], 5);
    });

    it('branch offsets reach +4094 and -4096 (13-bit immediate extremes)', () => {
      const l = exec(`
start:
  beq x0, x0, fwd
back:
  li s1, 2
  j out
  .org 0xffe
fwd:
  li s0, 1
  .hword 0x0001         # c.nop, to put the next branch at start+0x1004
bk:
  beq x0, x0, back
out:`);
      assert.equal(l.sym.fwd - l.sym.start, 4094);
      assert.equal(l.sym.back - l.sym.bk, -4096);
      assert.equal(l.h.x[R.s0], 1);
      assert.equal(l.h.x[R.s1], 2);
    });

    it('JAL offsets reach -1 MiB and +1 MiB - 2 (21-bit immediate extremes)', () => {
      const l = loadAsm(`
.option norvc
  SET_MTVEC trap
  beqz s0, first
  EXIT                 # second visit, from the jal at +1 MiB
first:
  li s0, 1
  li t0, 0x80100000
  jr t0
  .balign 4
trap:
  csrr s1, mepc
  EXIT`, { machine: { ramMiB: 4 } });
      // jal ra, -0x100000 at 0x80100000 (imm[20] only); j +0xffffe at 0x80200000 -> 0x802ffffe.
      l.m.bus.writeRam(0x80100000, Uint8Array.from([0xef, 0x00, 0x00, 0x80]));
      step(l, 'exit');
      assert.equal(ux(l.h, R.ra), 0x80100004);
      assert.equal(l.h.x[R.s0], 1);

      const f = loadAsm('.option norvc\n SET_MTVEC trap\n li t0, 0x80200000\n jr t0\n .balign 4\ntrap:\n csrr s1, mepc\n csrr s2, mcause\n EXIT', { machine: { ramMiB: 4 } });
      f.m.bus.writeRam(0x80200000, Uint8Array.from([0x6f, 0xf0, 0xff, 0x7f])); // jal x0, +0xffffe
      f.m.bus.writeRam(0x802ffffe, Uint8Array.from([0x73, 0x00, 0x10, 0x00])); // ebreak
      step(f, 'exit');
      assert.equal(ux(f.h, R.s2), 3, 'ebreak reached');
      assert.equal(ux(f.h, R.s1), 0x802ffffe);
    });
  });

  describe('memory ordering (§2.7, Zifencei)', () => {
    it('FENCE is a no-op and FENCE.I makes a store to upcoming code visible', () => {
      const { h } = exec(`
  fence
  fence rw, rw
  la t0, patch
  li t1, 0x02a00513     # addi a0, x0, 42
  sw t1, 0(t0)
  fence.i
patch:
  addi a0, x0, 1`);
      assert.equal(h.x[R.a0], 42);
    });
  });
});
