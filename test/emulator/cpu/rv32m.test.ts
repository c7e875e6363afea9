/**
 * The M extension (unprivileged spec v20191213, chapter 7). Each table row runs as one
 * instruction in a single program; expected values are worked out by hand from the spec's
 * definitions (full 64-bit products, division rounding toward zero, table 7.1 for the special
 * cases).
 */
import assert from 'node:assert/strict';
import { Loaded, R, runProgram, ux } from '../../support/assemble';

type Row = [op: string, a: number, b: number, expected: number, why: string];

const hex = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/**
 * Runs every row's instruction and stores rd at res + 4 * i, `iterations` times over: with 100,
 * the body gets hot and the later passes run as compiled code.
 */
function runRows(rows: Row[], iterations: number): Loaded {
  const body = ['.option norvc', `li s10, ${iterations}`, 'loop:', 'la s0, res'];
  rows.forEach(([op, a, b], i) => body.push(`li a0, ${a | 0}`, `li a1, ${b | 0}`, `${op} a2, a0, a1`, `sw a2, ${4 * i}(s0)`));
  body.push('addi s10, s10, -1', 'bnez s10, loop', 'EXIT', '.balign 64', `res: .space ${4 * rows.length}`); // own 64-byte line: stores there do not hit code
  return runProgram(body.join('\n'), 'exit');
}

function table(title: string, rows: Row[]): void {
  describe(title, () => {
    let cold: Loaded;
    let hot: Loaded;
    before(() => {
      cold = runRows(rows, 1);
      hot = runRows(rows, 100);
    });
    rows.forEach(([op, a, b, expected, why], i) => {
      it(`${op.toUpperCase()} ${hex(a)}, ${hex(b)} = ${hex(expected)}: ${why}`, () => {
        assert.equal(hex(cold.m.bus.load(cold.sym.res + 4 * i, 4)), hex(expected), 'interpreted');
        assert.equal(hex(hot.m.bus.load(hot.sym.res + 4 * i, 4)), hex(expected), 'in a hot (compiled) loop');
      });
    });
  });
}

const INT_MIN = 0x80000000;
const INT_MAX = 0x7fffffff;

describe('RV32M', () => {
  table('multiplication (§7.1)', [
    ['mul', 3, -7, -21, 'signs do not matter to the low half'],
    ['mul', 0x12345678, 0x9abcdef0, 0x242d2080, 'low 32 bits of the product'],
    ['mul', 0xffffffff, 0xffffffff, 1, '(-1)(-1) = 1'],
    ['mul', INT_MIN, 0xffffffff, INT_MIN, 'INT_MIN * -1 wraps to INT_MIN'],
    ['mul', INT_MAX, INT_MAX, 1, 'low half of (2^31-1)^2'],
    ['mulh', 0xffffffff, 0xffffffff, 0, 'signed x signed: (-1)(-1) = 1, high half 0'],
    ['mulh', 0xffffffff, 1, 0xffffffff, 'signed x signed: -1 has an all-ones high half'],
    ['mulh', INT_MIN, INT_MIN, 0x40000000, '(-2^31)^2 = 2^62'],
    ['mulh', INT_MIN, INT_MAX, 0xc0000000, '-2^31 * (2^31-1)'],
    ['mulh', INT_MAX, INT_MAX, 0x3fffffff, '(2^31-1)^2'],
    ['mulh', 0x12345678, 0x9abcdef0, 0xf8cc93d6, 'positive x negative'],
    ['mulh', INT_MIN, 0xffffffff, 0, '-2^31 * -1 = 2^31 (fits: high half 0)'],
    ['mulhsu', 0xffffffff, 0xffffffff, 0xffffffff, 'signed -1 x unsigned 2^32-1'],
    ['mulhsu', INT_MIN, 0xffffffff, INT_MIN, 'signed -2^31 x unsigned 2^32-1'],
    ['mulhsu', INT_MAX, 0xffffffff, 0x7ffffffe, 'signed 2^31-1 x unsigned 2^32-1'],
    ['mulhsu', INT_MIN, INT_MIN, 0xc0000000, 'rs2 = 0x80000000 is +2^31 when unsigned'],
    ['mulhsu', 0x12345678, 0x9abcdef0, 0x0b00ea4e, 'positive rs1: same as MULHU'],
    ['mulhsu', 1, 0xffffffff, 0, '1 x (2^32-1): high half 0'],
    ['mulhu', 0xffffffff, 0xffffffff, 0xfffffffe, '(2^32-1)^2'],
    ['mulhu', INT_MIN, INT_MIN, 0x40000000, '2^31 x 2^31'],
    ['mulhu', INT_MIN, 2, 1, '2^31 x 2 = 2^32'],
    ['mulhu', 0x12345678, 0x9abcdef0, 0x0b00ea4e, 'both unsigned'],
    ['mulhu', INT_MIN, 0xffffffff, INT_MAX, '2^31 x (2^32-1)'],
  ]);

  table('division (§7.2)', [
    ['div', -7, 2, -3, 'rounds toward zero'],
    ['div', 7, -2, -3, 'rounds toward zero'],
    ['div', -7, -2, 3, 'negative / negative'],
    ['div', -1, 2, 0, '-1 / 2 truncates to 0'],
    ['div', INT_MIN, 1, INT_MIN, 'INT_MIN / 1'],
    ['div', INT_MIN, -1, INT_MIN, 'signed overflow returns INT_MIN (table 7.1)'],
    ['div', 5, 0, -1, 'division by zero returns all ones (table 7.1)'],
    ['div', -5, 0, -1, 'division by zero returns all ones whatever the sign'],
    ['div', 0, 0, -1, '0 / 0 returns all ones'],
    ['divu', 0xffffffff, 2, INT_MAX, 'unsigned dividend'],
    ['divu', INT_MIN, 0xffffffff, 0, 'no signed overflow case: 2^31 / (2^32-1) = 0'],
    ['divu', -7, 2, 0x7ffffffc, '0xfffffff9 / 2'],
    ['divu', 5, 0, 0xffffffff, 'division by zero returns 2^32-1 (table 7.1)'],
    ['rem', -7, 2, -1, 'sign of the dividend'],
    ['rem', 7, -2, 1, 'sign of the dividend'],
    ['rem', -7, -2, -1, 'sign of the dividend'],
    ['rem', INT_MIN, -1, 0, 'signed overflow: remainder 0 (table 7.1)'],
    ['rem', 5, 0, 5, 'division by zero: remainder is the dividend (table 7.1)'],
    ['rem', -5, 0, -5, 'division by zero: remainder is the (negative) dividend'],
    ['rem', 0, 0, 0, '0 rem 0 = 0'],
    ['remu', 0xffffffff, 2, 1, 'unsigned dividend'],
    ['remu', INT_MIN, 0xffffffff, INT_MIN, '2^31 mod (2^32-1)'],
    ['remu', -7, 2, 1, '0xfffffff9 mod 2'],
    ['remu', 5, 0, 5, 'division by zero: remainder is the dividend'],
    ['remu', -7, 0, 0xfffffff9, 'division by zero: remainder is the dividend, unsigned'],
  ]);

  describe('register aliasing', () => {
    it('MUL/MULHU/DIV/REM read both sources before writing rd when rd = rs1 = rs2', () => {
      const { h } = runProgram(`
  li a0, 0xffffffff
  mulhu a0, a0, a0
  li a1, 7
  mul a1, a1, a1
  li a2, -9
  div a2, a2, a2
  li a3, 9
  rem a3, a3, a3
  EXIT`, 'exit');
      assert.equal(ux(h, R.a0), 0xfffffffe);
      assert.equal(h.x[R.a1], 49);
      assert.equal(h.x[R.a2], 1);
      assert.equal(h.x[R.a3], 0);
    });
  });
});
