/**
 * The A extension (unprivileged spec v20191213, chapter 8): LR.W/SC.W and the nine AMOs, plus
 * the exceptions they raise (privileged spec v20211203 §3.7 and table 3.6).
 */
import assert from 'node:assert/strict';
import { Loaded, R, ux } from '../../support/assemble';
import { runWithTrapRecorder } from '../../support/assemble';

/** Runs `body` with a recording trap handler; s9 = -1 afterwards means no trap was taken. */
function exec(body: string, data = ''): Loaded {
  return runWithTrapRecorder(body, data, 'after');
}

const word = (l: Loaded, addr: number) => l.m.bus.load(addr, 4);

describe('RV32A', () => {
  describe('LR.W / SC.W (§8.2)', () => {
    it('LR.W returns the word; an SC.W to the same address right after succeeds (rd = 0) and stores', () => {
      const l = exec('la s0, w\n lr.w a0, (s0)\n li a1, 0x1234\n sc.w a2, a1, (s0)\n lw a3, 0(s0)', 'w: .word 0xcafef00d');
      assert.equal(ux(l.h, R.a0), 0xcafef00d);
      assert.equal(l.h.x[R.a2], 0);
      assert.equal(word(l, l.sym.w), 0x1234);
      assert.equal(l.h.x[R.a3], 0x1234);
    });

    it('SC.W without a reservation fails (rd != 0) and does not store', () => {
      const l = exec('la s0, w\n li a1, 0x1234\n sc.w a2, a1, (s0)', 'w: .word 0xcafef00d');
      assert.notEqual(l.h.x[R.a2], 0);
      assert.equal(word(l, l.sym.w), 0xcafef00d);
    });

    it('SC.W to an address outside the reservation set fails, and its failure also drops the reservation', () => {
      const l = exec(`
  la s0, w
  la s1, far
  lr.w a0, (s0)
  li a1, 0x1234
  sc.w a2, a1, (s1)     # different address: fails
  sc.w a3, a1, (s0)     # the failed SC invalidated the reservation: fails too`,
      'w: .word 0xcafef00d\n .space 252\nfar: .word 0x55555555');
      assert.notEqual(l.h.x[R.a2], 0);
      assert.notEqual(l.h.x[R.a3], 0);
      assert.equal(word(l, l.sym.w), 0xcafef00d);
      assert.equal(word(l, l.sym.far), 0x55555555);
    });

    it('SC.W fails after an intervening store changed the reserved word (QEMU compares the LR value)', () => {
      const l = exec(`
  la s0, w
  lr.w a0, (s0)
  li t0, 77
  sw t0, 0(s0)
  li a1, 0x1234
  sc.w a2, a1, (s0)`, 'w: .word 0xcafef00d');
      assert.notEqual(l.h.x[R.a2], 0);
      assert.equal(word(l, l.sym.w), 77);
    });

    it('a second SC.W after a successful one fails: every SC invalidates the reservation', () => {
      const l = exec(`
  la s0, w
  lr.w a0, (s0)
  li a1, 1
  sc.w a2, a1, (s0)
  li a1, 2
  sc.w a3, a1, (s0)`, 'w: .word 0');
      assert.equal(l.h.x[R.a2], 0);
      assert.notEqual(l.h.x[R.a3], 0);
      assert.equal(word(l, l.sym.w), 1);
    });

    it('an LR/SC increment loop completes', () => {
      const l = exec(`
  la s0, w
  li s1, 10
1:
  lr.w a0, (s0)
  addi a0, a0, 3
  sc.w a1, a0, (s0)
  bnez a1, 1b
  addi s1, s1, -1
  bnez s1, 1b`, 'w: .word 100');
      assert.equal(word(l, l.sym.w), 130);
    });
  });

  describe('AMOs (§8.4): rd gets the old value, memory the result', () => {
    type Row = [op: string, mem: number, src: number, result: number];
    const rows: Row[] = [
      ['amoswap.w', 0x80000001, 5, 5],
      ['amoadd.w', 0x80000001, 5, 0x80000006],
      ['amoadd.w', 7, 0xfffffffe, 5],
      ['amoxor.w', 0x80000001, 5, 0x80000004],
      ['amoand.w', 0x80000001, 5, 1],
      ['amoor.w', 0x80000001, 5, 0x80000005],
      ['amomin.w', 0x80000001, 5, 0x80000001],
      ['amomin.w', 7, 0xfffffffe, 0xfffffffe],
      ['amomax.w', 0x80000001, 5, 5],
      ['amomax.w', 7, 0xfffffffe, 7],
      ['amominu.w', 0x80000001, 5, 5],
      ['amominu.w', 7, 0xfffffffe, 7],
      ['amomaxu.w', 0x80000001, 5, 0x80000001],
      ['amomaxu.w', 7, 0xfffffffe, 0xfffffffe],
    ];
    const hex = (n: number) => '0x' + (n >>> 0).toString(16);
    let l: Loaded;
    before(() => {
      const body = ['la s0, mem', 'la s1, old'];
      rows.forEach(([op, , src], i) => body.push(`li a1, ${src | 0}`, `addi a0, s0, ${4 * i}`, `${op} a2, a1, (a0)`, `sw a2, ${4 * i}(s1)`));
      const data = ['mem:', ...rows.map(([, mem]) => `.word ${hex(mem)}`), `old: .space ${4 * rows.length}`];
      l = exec(body.join('\n'), data.join('\n'));
    });
    rows.forEach(([op, mem, src, result], i) => {
      it(`${op.toUpperCase()} of ${hex(src)} on ${hex(mem)} stores ${hex(result)} and returns ${hex(mem)}`, () => {
        assert.equal(l.h.x[R.s9], -1, 'no trap');
        assert.equal(hex(word(l, l.sym.old + 4 * i)), hex(mem), 'rd = old value');
        assert.equal(hex(word(l, l.sym.mem + 4 * i)), hex(result), 'memory = result');
      });
    });

    it('an AMO with rd = x0 still stores, and rd = rs2 gets the old value', () => {
      const l2 = exec(`
  la s0, w
  li a1, 9
  amoadd.w x0, a1, (s0)
  li a2, 100
  amoswap.w a2, a2, (s0)`, 'w: .word 1');
      assert.equal(l2.h.x[R.a2], 10);
      assert.equal(word(l2, l2.sym.w), 100);
    });
  });

  describe('exceptions (priv §3.7, table 3.6)', () => {
    for (const [insn, off] of [['amoadd.w a2, a1, (a0)', 2], ['amoswap.w a2, a1, (a0)', 1], ['amomaxu.w a2, a1, (a0)', 3], ['sc.w a2, a1, (a0)', 2]] as const) {
      it(`misaligned ${insn.split(' ')[0].toUpperCase()} raises store/AMO address misaligned (mcause 6, mtval = address) and stores nothing`, () => {
        const l = exec(`la s0, w\n addi a0, s0, ${off}\n li a1, -1\nbad: ${insn}`, 'w: .word 0x11223344, 0x55667788');
        assert.equal(ux(l.h, R.s9), 6);
        assert.equal(ux(l.h, R.s10), l.sym.bad);
        assert.equal(ux(l.h, R.s11), l.sym.w + off);
        assert.equal(word(l, l.sym.w), 0x11223344);
        assert.equal(word(l, l.sym.w + 4), 0x55667788);
        assert.equal(l.h.x[R.a2], 0, 'rd not written');
        // SET_MTVEC (3) + la (2) + addi + li + the AMO (not counted: it faults) + handler (3 + EXIT's 4).
        assert.equal(l.m.icount, 3 + 4 + 7);
      });
    }

    it('misaligned LR.W raises load address misaligned (mcause 4, mtval = address)', () => {
      const l = exec('la s0, w\n addi a0, s0, 2\nbad: lr.w a2, (a0)', 'w: .word 0x11223344, 0x55667788');
      assert.equal(ux(l.h, R.s9), 4);
      assert.equal(ux(l.h, R.s10), l.sym.bad);
      assert.equal(ux(l.h, R.s11), l.sym.w + 2);
    });

    it('an AMO on an unmapped address raises store/AMO access fault (mcause 7); LR.W a load access fault (5)', () => {
      const a = exec('li a0, 0x40\n li a1, 1\nbad: amoor.w a2, a1, (a0)');
      assert.deepEqual([ux(a.h, R.s9), ux(a.h, R.s10), ux(a.h, R.s11)], [7, a.sym.bad, 0x40]);
      const b = exec('li a0, 0x40\nbad: lr.w a2, (a0)');
      assert.deepEqual([ux(b.h, R.s9), ux(b.h, R.s10), ux(b.h, R.s11)], [5, b.sym.bad, 0x40]);
    });
  });
});
