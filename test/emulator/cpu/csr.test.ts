/**
 * Zicsr (unprivileged spec v20191213, chapter 9) and the machine-mode CSRs of an M-only
 * RV32IMAC hart (privileged spec v20211203, chapters 2 and 3).
 */
import assert from 'node:assert/strict';
import { Loaded, R, csr, loadAsm, step, ux } from '../../support/assemble';
import { runWithTrapRecorder } from '../../support/assemble';

/** Runs `body` with a recording trap handler; s9 = -1 afterwards means no trap was taken. */
function exec(body: string): Loaded {
  return runWithTrapRecorder(body, '', 'before');
}

function assertIllegalAt(l: Loaded, label = 'bad'): void {
  assert.equal(ux(l.h, R.s9), 2, 'mcause = illegal instruction');
  assert.equal(ux(l.h, R.s10), l.sym[label], 'mepc = the CSR instruction');
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16);

describe('Zicsr', () => {
  describe('instructions (§9.1)', () => {
    it('CSRRW swaps rs1 into the CSR and the old value into rd; CSRW (rd = x0) still writes', () => {
      const { h } = exec('li t0, 0x1234\n csrw mscratch, t0\n li t1, 0x5678\n csrrw a0, mscratch, t1\n csrr a1, mscratch\n csrrw a2, mscratch, a2');
      assert.deepEqual([h.x[R.s9], h.x[R.a0], h.x[R.a1], h.x[R.a2], csr(h, 0x340)], [-1, 0x1234, 0x5678, 0x5678, 0]);
    });

    it('CSRRS sets and CSRRC clears the bits of rs1, both returning the old value', () => {
      const { h } = exec('li t0, 0xf0f0\n csrw mscratch, t0\n li t1, 0x0f00\n csrrs a0, mscratch, t1\n li t1, 0x00f0\n csrrc a1, mscratch, t1\n csrr a2, mscratch');
      assert.deepEqual([h.x[R.a0], h.x[R.a1], h.x[R.a2]], [0xf0f0, 0xfff0, 0xff00]);
    });

    it('CSRRWI/CSRRSI/CSRRCI use the zero-extended 5-bit uimm (31 stays 31)', () => {
      const { h } = exec('li t0, -1\n csrw mscratch, t0\n csrrwi a0, mscratch, 31\n csrrsi a1, mscratch, 0x10\n csrrci a2, mscratch, 0x3\n csrr a3, mscratch\n csrrwi a4, mscratch, 0\n csrr a5, mscratch');
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3, R.a4, R.a5].map((r) => ux(h, r)), [0xffffffff, 31, 31, 28, 28, 0]);
    });

    it('CSRRS/CSRRC with rs1 = x0 and CSRRSI/CSRRCI with uimm = 0 do not write: legal on read-only mhartid', () => {
      const l = exec('li a0, 7\n li a1, 7\n li a2, 7\n li a3, 7\n csrrs a0, mhartid, x0\n csrrc a1, mhartid, x0\n csrrsi a2, mhartid, 0\n csrrci a3, mhartid, 0\n csrr a4, cycle');
      assert.equal(l.h.x[R.s9], -1, 'no trap');
      assert.deepEqual([l.h.x[R.a0], l.h.x[R.a1], l.h.x[R.a2], l.h.x[R.a3]], [0, 0, 0, 0]);
    });

    it('CSRRW to mhartid traps even with rd = x0 and rs1 = x0 (it always writes)', () => {
      assertIllegalAt(exec('bad: csrrw x0, mhartid, x0'));
    });

    it('CSRRS with a nonzero rs1 register holding 0 still writes, so it traps on mhartid', () => {
      assertIllegalAt(exec('li t0, 0\nbad: csrrs a0, mhartid, t0'));
    });

    it('CSRRSI / CSRRCI with a nonzero uimm trap on mhartid', () => {
      assertIllegalAt(exec('bad: csrrsi a0, mhartid, 1'));
      assertIllegalAt(exec('bad: csrrci a0, mhartid, 1'));
    });

    it('a CSR instruction that traps leaves rd unwritten and is not counted in icount', () => {
      // SET_MTVEC (3) + li s9 (1) + li a0 (1) + trapping csrrs (0) + handler (3 csrr + 4 for EXIT) = 12.
      const l = exec('li a0, 99\nbad: csrrs a0, time, a0');
      assertIllegalAt(l);
      assert.equal(l.h.x[R.a0], 99);
      assert.equal(l.m.icount, 1 + 3 + 1 + 7);
    });

    it('an illegal CSR access reports its instruction bits in mtval, like every other illegal instruction', () => {
      const l = exec('li t0, 1\nbad: csrw mhartid, t0');
      assertIllegalAt(l);
      assert.equal(hex(ux(l.h, R.s11)), hex(l.m.bus.load(l.sym.bad, 4)));
    });
  });

  describe('read-only and nonexistent CSRs (priv §2.1, §2.2)', () => {
    const readOnly: [string, number][] = [
      ['cycle', 0xc00], ['time', 0xc01], ['instret', 0xc02], ['hpmcounter3', 0xc03],
      ['cycleh', 0xc80], ['timeh', 0xc81], ['instreth', 0xc82],
      ['mvendorid', 0xf11], ['marchid', 0xf12], ['mimpid', 0xf13], ['mhartid', 0xf14], ['mconfigptr', 0xf15],
    ];
    for (const [name, n] of readOnly) {
      it(`${name} (${hex(n)}) reads without trapping but CSRW traps`, () => {
        const r = exec(`csrr a0, ${hex(n)}`);
        assert.equal(r.h.x[R.s9], -1, 'read is legal');
        assertIllegalAt(exec(`li t0, 1\nbad: csrw ${hex(n)}, t0`));
      });
    }

    const missing: [string, number][] = [
      ['custom 0x7c0', 0x7c0], ['satp (no S-mode)', 0x180], ['sstatus (no S-mode)', 0x100],
      ['fcsr (no F)', 0x003], ['fflags (no F)', 0x001], ['dcsr (debug mode only)', 0x7b0],
      ['custom read-only 0xcc0', 0xcc0], ['hstatus (no H)', 0x600],
    ];
    for (const [name, n] of missing) {
      it(`${name} does not exist: reads and writes trap`, () => {
        assertIllegalAt(exec(`bad: csrr a0, ${hex(n)}`));
        assertIllegalAt(exec(`bad: csrw ${hex(n)}, x0`));
      });
    }
  });

  describe('machine information and status registers (priv §3.1)', () => {
    it('misa reads 0x40001105 (MXL=1, A, C, I, M) and ignores writes', () => {
      const { h } = exec('csrr a0, misa\n csrw misa, x0\n csrr a1, misa');
      assert.deepEqual([hex(h.x[R.a0]), hex(h.x[R.a1])], ['0x40001105', '0x40001105']);
    });

    it('mhartid reads 0 on hart 0', () => {
      const { h } = exec('li a0, 5\n csrr a0, mhartid');
      assert.equal(h.x[R.a0], 0);
    });

    it('mstatus: only MIE and MPIE are writable and MPP always reads 3 (M-only, §3.1.6.1)', () => {
      const { h } = exec('li t0, -1\n csrw mstatus, t0\n csrr a0, mstatus\n csrw mstatus, x0\n csrr a1, mstatus\n csrr a2, mstatush');
      assert.deepEqual([hex(h.x[R.a0]), hex(h.x[R.a1]), h.x[R.a2]], ['0x1888', '0x1800', 0]);
    });

    it('mie: only MSIE, MTIE and MEIE are writable', () => {
      const { h } = exec('li t0, -1\n csrw mie, t0\n csrr a0, mie\n csrc mie, t0\n csrr a1, mie');
      assert.deepEqual([hex(h.x[R.a0]), h.x[R.a1]], ['0x888', 0]);
    });

    it('mip: software writes are ignored (MSIP/MTIP/MEIP are read-only in M-only harts)', () => {
      const { h } = exec('li t0, -1\n csrw mip, t0\n csrs mip, t0\n csrr a0, mip');
      assert.equal(h.x[R.s9], -1);
      assert.equal(h.x[R.a0], 0);
    });

    it('mtvec keeps direct (0) and vectored (1) modes; writes with reserved modes 2/3 are ignored', () => {
      const { h } = exec(`
  li t0, 0x80000100
  csrw mtvec, t0
  csrr a0, mtvec
  addi t0, t0, 1
  csrw mtvec, t0
  csrr a1, mtvec
  addi t0, t0, 1
  csrw mtvec, t0
  csrr a2, mtvec
  addi t0, t0, 1
  csrw mtvec, t0
  csrr a3, mtvec
  la t0, trap
  csrw mtvec, t0`);
      assert.deepEqual([R.a0, R.a1, R.a2, R.a3].map((r) => hex(h.x[r])), ['0x80000100', '0x80000101', '0x80000101', '0x80000101']);
    });

    it('mepc bit 0 always reads 0 (IALIGN = 16)', () => {
      const { h } = exec('li t0, 0x80000003\n csrw mepc, t0\n csrr a0, mepc\n li t0, -1\n csrw mepc, t0\n csrr a1, mepc');
      assert.deepEqual([hex(h.x[R.a0]), hex(h.x[R.a1])], ['0x80000002', '0xfffffffe']);
    });

    it('mscratch, mcause and mtval hold 32-bit values', () => {
      const { h } = exec('li t0, 0xdeadbeef\n csrw mscratch, t0\n csrr a0, mscratch\n li t0, 0x8000000b\n csrw mcause, t0\n csrr a1, mcause\n li t0, 0x12345678\n csrw mtval, t0\n csrr a2, mtval');
      assert.deepEqual([R.a0, R.a1, R.a2].map((r) => hex(h.x[r])), ['0xdeadbeef', '0x8000000b', '0x12345678']);
    });

    it('pmpcfg0 and pmpaddr0 are writable', () => {
      const { h } = exec('li t0, 0x1f\n csrw pmpcfg0, t0\n csrr a0, pmpcfg0\n li t0, 0x2000ffff\n csrw pmpaddr0, t0\n csrr a1, pmpaddr0');
      assert.equal(h.x[R.s9], -1);
      assert.deepEqual([hex(h.x[R.a0]), hex(h.x[R.a1])], ['0x1f', '0x2000ffff']);
    });

    it('tselect, tdata1 and tdata2 exist (reads and writes do not trap)', () => {
      const { h } = exec('csrr a0, tselect\n csrw tselect, x0\n csrr a1, tdata1\n csrw tdata1, x0\n csrr a2, tdata2\n csrw tdata2, x0');
      assert.equal(h.x[R.s9], -1);
    });
  });

  describe('counters (unpriv chapter 10, priv §3.1.11)', () => {
    it('cycle, time, instret, their h halves and the machine counters are readable', () => {
      const { h } = exec('csrr a0, cycle\n csrr a1, time\n csrr a2, instret\n csrr a3, cycleh\n csrr a4, timeh\n csrr a5, instreth\n csrr a6, mcycle\n csrr a7, minstret\n csrr s2, mcycleh\n csrr s3, minstreth');
      assert.equal(h.x[R.s9], -1);
      assert.deepEqual([h.x[R.a3], h.x[R.a4], h.x[R.a5], h.x[R.s2], h.x[R.s3]], [0, 0, 0, 0, 0]);
    });

    it('time reads the CLINT mtime', () => {
      const { h } = exec('.rept 300\n nop\n .endr\n li t0, 0x0200bff8\n csrr a0, time\n lw a1, 0(t0)');
      assert.ok(h.x[R.a0] >= 3, `time = ${h.x[R.a0]}`);
      assert.ok(h.x[R.a1] - h.x[R.a0] >= 0 && h.x[R.a1] - h.x[R.a0] <= 1, `time ${h.x[R.a0]} vs mtime ${h.x[R.a1]}`);
    });

    it('minstret counts exactly: two reads 10 instructions apart differ by 10; instret shadows it', () => {
      const { h } = exec('csrr a0, minstret\n .rept 9\n nop\n .endr\n csrr a1, minstret\n csrr a2, instret\n csrr a3, minstret');
      assert.equal(h.x[R.a1] - h.x[R.a0], 10);
      assert.equal(h.x[R.a2] - h.x[R.a1], 1);
      assert.equal(h.x[R.a3] - h.x[R.a2], 1);
    });

    it('a value written to minstret is the value the next instruction reads (Zicsr §9.1: the write replaces the increment)', () => {
      const { h } = exec('li t0, 1000\n csrw minstret, t0\n csrr a0, minstret\n csrw minstret, t0\n nop\n nop\n csrr a1, minstret');
      assert.equal(h.x[R.a0], 1000, 'read right after the write');
      assert.equal(h.x[R.a1], 1002, 'read after two more instructions');
    });

    it('mcycle and mcycleh are writable', () => {
      const { h } = exec('li t0, 1000000\n csrw mcycle, t0\n csrr a0, mcycle\n li t0, 5\n csrw mcycleh, t0\n csrr a1, mcycleh');
      assert.ok(h.x[R.a0] >= 1000000 && h.x[R.a0] <= 1000002, `mcycle read ${h.x[R.a0]}`);
      assert.equal(h.x[R.a1], 5);
    });

    it('minstreth and minstret compose one 64-bit counter: a written high half reads back and the low half carries into it', () => {
      const { h } = exec(`
  li t0, 0x12345678
  csrw minstreth, t0
  csrr a0, minstreth
  li t0, 7
  csrw minstreth, t0
  li t0, -16
  csrw minstret, t0
  .rept 20
  nop
  .endr
  csrr a1, minstreth
  csrr a2, minstret
  csrr a3, instreth`);
      assert.equal(hex(h.x[R.a0]), '0x12345678');
      assert.equal(h.x[R.a1], 8, 'carry from 0xfffffff0 + 20');
      assert.ok(h.x[R.a2] >= 5 && h.x[R.a2] <= 6, `minstret low = ${h.x[R.a2]}`);
      assert.equal(h.x[R.a3], 8);
    });

    it('the debugger interface reads and writes the same CSRs without side effects on the guest', () => {
      const l = loadAsm('nop\n nop\n nop\n EXIT');
      assert.equal(l.h.readCsr(0x7c0), undefined);
      assert.equal(l.h.writeCsr(0xf14, 1), false);
      assert.equal(l.h.writeCsr(0x340, 0xabc), true);
      step(l, 'exit');
      assert.equal(csr(l.h, 0x340), 0xabc);
      assert.equal(csr(l.h, 0x301), 0x40001105);
    });
  });
});
