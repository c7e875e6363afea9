/**
 * The same ISA semantics once code is hot. Blocks that run often are compiled into JavaScript
 * traces (blockCompiler.ts), which fold registers, immediates and pcs into the generated code;
 * every program here runs its body in a loop of 100 passes so that the later passes run
 * compiled. Each program runs twice, with and without the compiler: final states must be
 * identical (registers, CSRs, RAM, icount), and the values are checked against the spec.
 */
import assert from 'node:assert/strict';
import { stateHash } from '../../../emulator/machine/stateHash';
import { Machine } from '../../../emulator/machine/machine';
import { Loaded, R, runProgram, ux } from '../../support/assemble';

const hex = (n: number) => '0x' + (n >>> 0).toString(16);

/** How many compiled traces the machine holds (0 if the internals changed shape). */
function compiledTraces(m: Machine): number {
  const blocks = (m.bus as unknown as { blocks?: { compiled?: unknown[] } }).blocks;
  return blocks?.compiled?.filter((f) => f !== undefined).length ?? 0;
}

/** Runs `src` with and without the block compiler; asserts identical outcomes; returns the compiled run. */
function both(src: string): Loaded {
  const jit = runProgram(src, 'exit', { machine: { jit: true } });
  const interp = runProgram(src, 'exit', { machine: { jit: false } });
  assert.equal(jit.m.icount, interp.m.icount, 'icount with and without the compiler');
  assert.deepEqual(Array.from(jit.h.x.subarray(0, 32)), Array.from(interp.h.x.subarray(0, 32)), 'registers');
  assert.equal(stateHash(jit.m), stateHash(interp.m), 'whole machine state');
  return jit;
}

/** `body` run `iterations` times (counter in s10); data goes on its own 64-byte lines. */
function hot(body: string, data = '', iterations = 100): Loaded {
  const l = both(`  li s10, ${iterations}\nloop:\n${body}\n  addi s10, s10, -1\n  bnez s10, loop\n  EXIT\n  .balign 64\n${data}\n`);
  assert.ok(compiledTraces(l.m) > 0, 'the loop was compiled');
  return l;
}

describe('compiled (hot) code', () => {
  it('RV32I ALU and shift results match the spec', () => {
    const { h } = hot(`
.option norvc
  li t0, 0x80000001
  li t1, 33
  li t2, -1
  slli a0, t0, 31
  srai a1, t0, 1
  srl a2, t0, t1
  sra a3, t0, t2
  slt a4, t0, t2
  sltu a5, t0, t2
  sltiu a6, t2, -1
  slti a7, t0, 0
  xori s2, t0, -1
  sub s3, x0, t0
  lui s4, 0xfffff
  addi s5, t2, -2048
  andi s6, t2, -2048
  ori s7, x0, 0x555
  addi x0, x0, 1
  add s8, x0, x0`);
    assert.deepEqual([R.a0, R.a1, R.a2, R.a3, R.a4, R.a5, R.a6, R.a7, R.s2, R.s3, R.s4, R.s5, R.s6, R.s7, R.s8].map((r) => hex(h.x[r])),
      ['0x80000000', '0xc0000000', '0x40000000', '0xffffffff', '0x1', '0x1', '0x0', '0x1',
        '0x7ffffffe', '0x7fffffff', '0xfffff000', '0xfffff7ff', '0xfffff800', '0x555', '0x0']);
    assert.equal(h.x[0], 0);
  });

  it('loads sign/zero-extend and stores (aligned and misaligned) write the right bytes', () => {
    const l = hot(`
  la s0, data
  lb a0, 0(s0)
  lbu a1, 0(s0)
  lh a2, 2(s0)
  lhu a3, 2(s0)
  lw a4, 4(s0)
  lw a5, 9(s0)
  sw a4, 16(s0)
  sh a4, 22(s0)
  sb a4, 25(s0)
  sw a4, 29(s0)`, 'data: .byte 0x80, 0, 0, 0x80\n .word 0xdeadbeef\n .byte 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88\n .space 20');
    const { h, m, sym } = l;
    assert.deepEqual([R.a0, R.a1, R.a2, R.a3, R.a4, R.a5].map((r) => hex(h.x[r])),
      ['0xffffff80', '0x80', '0xffff8000', '0x8000', '0xdeadbeef', '0x55443322']);
    const bytes = Array.from({ length: 20 }, (_, i) => m.bus.load(sym.data + 16 + i, 1));
    assert.deepEqual(bytes, [0xef, 0xbe, 0xad, 0xde, 0, 0, 0xef, 0xbe, 0, 0xef, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, 0, 0, 0]);
  });

  it('branches decide the same way compiled (signed vs unsigned, taken and not taken)', () => {
    const cases: [string, number, number, boolean][] = [
      ['beq', 5, 5, true], ['bne', 5, 5, false], ['blt', -1, 1, true], ['blt', 1, -1, false],
      ['bge', -1, 1, false], ['bge', 5, 5, true], ['bltu', -1, 1, false], ['bltu', 1, -1, true],
      ['bgeu', -1, 1, true], ['bgeu', 0, 0xffffffff, false],
    ];
    const body = ['la s0, res'];
    cases.forEach(([op, a, b], i) => body.push(`li a0, ${a | 0}`, `li a1, ${b | 0}`, `${op} a0, a1, 1f`, 'li a2, 2', 'j 2f', '1: li a2, 1', `2: sb a2, ${i}(s0)`));
    const l = hot(body.join('\n'), `res: .space ${cases.length}`);
    cases.forEach(([op, a, b, taken], i) => {
      assert.equal(l.m.bus.load(l.sym.res + i, 1), taken ? 1 : 2, `${op} ${a}, ${b}`);
    });
  });

  it('JAL/JALR link values and AUIPC use each instruction\'s own pc', () => {
    const l = hot(`
.option norvc
j1: jal ra, 1f
1: mv s2, ra
  la t0, 2f + 1
j2: jalr ra, 0(t0)
2: mv s3, ra
p1: auipc s4, 0x1`);
    const { h, sym } = l;
    assert.equal(ux(h, R.s2), sym.j1 + 4);
    assert.equal(ux(h, R.s3), sym.j2 + 4);
    assert.equal(ux(h, R.s4), sym.p1 + 0x1000);
  });

  it('compressed instructions: immediates, 2-byte links (C.JAL/C.JALR), branches, C.LW/C.SW/C.LWSP/C.SWSP', () => {
    const l = hot(`
  li sp, 0x80010000
  c.li a0, -32
  c.lui a1, 0xfffe0
  c.addi a0, 31
  c.srai a1, 4
  c.andi a0, -2
  c.mv s1, a1
  c.slli s1, 3
cj: c.jal 1f
1: c.mv s2, ra
  la a2, 2f
cjr: c.jalr a2
2: c.mv s3, ra
  c.li s4, 0
  c.beqz a0, 3f
  c.bnez a0, 4f
3: c.li s4, 9
4: la a3, data
  c.sw a0, 4(a3)
  c.lw a5, 4(a3)
  c.mv t3, sp
  c.mv sp, a3
  c.swsp s1, 8(sp)
  c.lwsp s6, 8(sp)
  c.mv sp, t3
  c.addi16sp sp, -512
  c.addi4spn a4, sp, 1020`, 'data: .space 16');
    const { h, sym } = l;
    assert.deepEqual([R.a0, R.a1, R.s1, R.a5, R.s6].map((r) => hex(h.x[r])), ['0xfffffffe', '0xffffe000', '0xffff0000', '0xfffffffe', '0xffff0000']);
    assert.equal(ux(h, R.s2), sym.cj + 2);
    assert.equal(ux(h, R.s3), sym.cjr + 2);
    assert.equal(h.x[R.s4], 0, 'c.beqz not taken on nonzero, c.bnez taken');
    assert.equal(hex(h.x[R.sp]), '0x8000fe00');
    assert.equal(hex(h.x[R.a4]), hex(0x8000fe00 + 1020));
  });

  it('every instruction of a hot loop is counted exactly once', () => {
    const body = Array.from({ length: 10 }, (_, i) => `  addi a${i % 6}, a${i % 6}, ${i}`).join('\n');
    const l = hot(`.option norvc\n${body}`, '', 200);
    // li s10 (1) + 200 passes of (10 + addi + bnez) + EXIT (4).
    assert.equal(l.m.icount, 1 + 200 * 12 + 4);
    assert.equal(l.h.x[R.a0], 200 * (0 + 6));
  });

  it('a store + FENCE.I that rewrites an instruction of the hot loop takes effect on the next pass', () => {
    const l = hot(`
.option norvc
  li t0, 50
  bne s10, t0, 1f
  la t1, patch
  li t2, 0x00250513     # addi a0, a0, 2
  sw t2, 0(t1)
  fence.i
1:
patch:
  addi a0, a0, 1`);
    assert.equal(l.h.x[R.a0], 50 * 1 + 50 * 2);
  });

  it('a load that faults on the last pass of a compiled loop traps like the interpreter, uncounted, mtval = address', () => {
    const l = both(`
  SET_MTVEC handler
  li s10, 100
  la s1, data
loop:
  mv s0, s1
  li t0, 1
  bne s10, t0, 1f
  li s0, 0x10
1:
  lw a0, 0(s0)
  add a1, a1, a0
  addi s10, s10, -1
  bnez s10, loop
  EXIT
  .balign 4
handler:
  csrr s2, mcause
  csrr s3, mepc
  csrr s4, mtval
  EXIT
  .balign 64
data: .word 3`);
    assert.deepEqual([hex(l.h.x[R.s2]), hex(l.h.x[R.s4])], ['0x5', '0x10']);
    assert.equal(l.h.x[R.a1], 99 * 3);
    assert.ok(compiledTraces(l.m) > 0, 'the loop was compiled');
  });

  it('a timer interrupt cuts a compiled spin loop at the same instruction as the interpreter', () => {
    const l = both(`
  SET_MTVEC handler
  li t2, 0x0200bff8
  lw a0, 0(t2)
  addi a0, a0, 20
  li t0, 0x02004000
  li t1, -1
  sw t1, 4(t0)
  sw a0, 0(t0)
  sw x0, 4(t0)
  li t0, 0x80
  csrw mie, t0
  csrsi mstatus, 8
spin:
  addi a1, a1, 1
  addi a2, a2, 2
  j spin
  .balign 4
handler:
  csrr s2, mcause
  csrr s3, mepc
  lw a5, 0(t2)
  EXIT`);
    assert.equal(hex(l.h.x[R.s2]), '0x80000007');
    assert.ok(ux(l.h, R.a5) >= ux(l.h, R.a0), 'mtime >= mtimecmp in the handler');
    assert.ok(l.h.x[R.a1] > 500, `${l.h.x[R.a1]} passes of the spin loop`);
    assert.ok(compiledTraces(l.m) > 0, 'the spin loop was compiled');
  });
});
