/**
 * Values as gdb prints them: a C file full of the types real firmware uses (bitfields, unions,
 * enums and flag enums, nested and 2-D arrays, strings, pointers to data and functions, floats,
 * 64-bit integers, qualifiers, anonymous members), built at test time for DWARF 4 and 5 at -O0
 * and -O2, and every expression printed by gdb-multiarch from the ELF and by Rewind from the
 * same bytes. Then the same DWARF with bytes flipped: only one-line errors, never a crash.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDebugInfo } from '../../../emulator/debuginfo/debugInfo';
import { parseElf } from '../../../emulator/debuginfo/elf';
import { RewindError } from '../../../emulator/errors';
import { tool } from '../../support/riscvTools';

const SOURCE = String.raw`
#include <stdint.h>
#include <stdbool.h>
typedef enum { RED, GREEN = 5, BLUE } colour_t;
enum flags { F_A = 1, F_B = 2, F_C = 8 };
typedef struct {
  unsigned ready : 1;
  unsigned mode : 3;
  signed level : 4;
  unsigned : 0;
  uint16_t count;
} ctrl_t;
typedef union { uint32_t word; uint8_t bytes[4]; struct { uint16_t lo, hi; } half; } reg_t;
struct node { int value; struct node *next; const char *name; };
typedef int (*handler_t)(int);
__attribute__((noinline, used)) int twice(int x) { return 2 * x; }
__attribute__((used)) volatile ctrl_t ctrl = { 1, 5, -3, 0x1234 };
__attribute__((used)) reg_t reg = { .word = 0xdeadbeef };
__attribute__((used)) colour_t colour = BLUE;
__attribute__((used)) enum flags fl = F_A | F_C;
__attribute__((used)) enum flags fl_odd = (enum flags)(F_B | 0x40);
__attribute__((used)) struct node n2 = { 2, 0, "second" };
__attribute__((used)) struct node n1 = { 1, &n2, "first\n\"q\"" };
__attribute__((used)) int16_t grid[2][3] = { { 1, -2, 3 }, { -4, 5, -6 } };
__attribute__((used)) char text[12] = "hi\tthere";
__attribute__((used)) const char *msg = "a message";
__attribute__((used)) handler_t handler = twice;
__attribute__((used)) float ratio = 1.5f;
__attribute__((used)) double pi = 3.14159265358979;
__attribute__((used)) int64_t big = -1234567890123LL;
__attribute__((used)) uint64_t ubig = 18446744073709551615ULL;
__attribute__((used)) bool flag = true;
__attribute__((used)) signed char sc = -7;
__attribute__((used)) unsigned char uc = 200;
__attribute__((used)) struct { int a; union { int b; float c; }; } anon = { 4, { 9 } };
__attribute__((used)) struct node nodes[3] = { { 10, &nodes[1], "x" }, { 20, &nodes[2], 0 }, { 30, 0, "z" } };
__attribute__((used)) uint32_t *pword = &reg.word;
__attribute__((used)) void *nothing = 0;
void _start(void) { for (;;) (void)twice(ctrl.count); }
`;

const EXPRESSIONS = [
  'ctrl', 'ctrl.mode', 'ctrl.level', 'ctrl.count + 1', 'reg', 'reg.bytes', 'reg.half.hi', 'reg.bytes[3]',
  'colour', 'colour == BLUE', '(int)colour', 'GREEN', 'fl', 'fl_odd', 'n1', 'n1.next', '*n1.next', 'n1.next->name', 'n1.name',
  'grid', 'grid[1]', 'grid[1][2]', 'grid[0][1] * 3', 'text', 'msg', 'handler', 'twice', '&twice', 'ratio', 'pi', 'big', 'ubig',
  'flag', 'sc', 'uc', 'sc + uc', 'anon', 'anon.c', 'nodes', 'nodes[1].next->value', '&nodes[2]', 'pword', '*pword', 'nothing',
  'sizeof(ctrl_t)', 'sizeof(nodes)', 'sizeof(struct node)', '(char)65', '-5 / 2', '-5 % 3', '7 >> 1', '1 << 31', '~0', '!flag',
  '(uint8_t)reg.word', '(short)-1', '0x7fffffff + 1', 'reg.word & 0xff', 'grid[2]', 'no_such_name', '1 +', 'n1.nope',
];

function build(dir: string, dwarf: 4 | 5, opt: string): string {
  const src = path.join(dir, 'values.c');
  fs.writeFileSync(src, SOURCE);
  const out = path.join(dir, `values-d${dwarf}-${opt}.elf`);
  tool('gcc', ['-march=rv32imac', '-mabi=ilp32', `-gdwarf-${dwarf}`, `-${opt}`, '-ffreestanding', '-nostdlib', '-nostartfiles', '-static',
    '-Wl,-Ttext=0x80000000', '-Wl,--no-warn-rwx-segments', '-o', out, src], undefined, dir);
  return out;
}

/**
 * gdb's `print` of each expression: the text after `$N = `, or `<error>`. With `charset ASCII`,
 * as Rewind always does, bytes above 0x7f in strings print as octal escapes, whatever the locale.
 */
function gdbPrints(elf: string, exprs: string[]): string[] {
  assert.equal(spawnSync('gdb-multiarch', ['--version']).status, 0, 'gdb-multiarch is missing: apt-get install -y gdb-multiarch');
  const args = ['-batch', '-nx', '-ex', 'set width 0', '-ex', 'set charset ASCII', elf];
  for (const [i, e] of exprs.entries()) args.push('-ex', `echo @${i}\\n`, '-ex', `print ${e}`);
  const r = spawnSync('gdb-multiarch', args, { encoding: 'utf8' });
  return exprs.map((_, i) => {
    const line = (new RegExp(`@${i}\\n([^@]*)`).exec(r.stdout)?.[1] ?? '').trim();
    return line.startsWith('$') ? line.replace(/^\$\d+ = /, '') : '<error>';
  });
}

function rewindPrints(elfPath: string, exprs: string[]): string[] {
  const elf = parseElf(new Uint8Array(fs.readFileSync(elfPath)));
  const di = loadDebugInfo(elf);
  // The bytes gdb reads without a target: the ELF's loadable sections.
  const read = (addr: number, len: number): Uint8Array | undefined => {
    for (const s of elf.segments) {
      if (addr >= s.vaddr && addr + len <= s.vaddr + s.memSize) {
        const out = new Uint8Array(len);
        for (let i = 0; i < len; i++) { const o = addr - s.vaddr + i; out[i] = o < s.data.length ? s.data[o] : 0; }
        return out;
      }
    }
    return undefined;
  };
  return exprs.map((e) => {
    try {
      return di.source.format(di.source.evaluate(e, undefined, read), { read, topLevel: true });
    } catch (err) {
      if (err instanceof RewindError) return '<error>';
      throw err;
    }
  });
}

describe('values against gdb: a test-time C file of firmware types', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-values-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const dwarf of [4, 5] as const) {
    for (const opt of ['O0', 'O2']) {
      it(`DWARF ${dwarf}, -${opt}: every expression prints as gdb prints it`, () => {
        const elf = build(dir, dwarf, opt);
        const want = gdbPrints(elf, EXPRESSIONS);
        const got = rewindPrints(elf, EXPRESSIONS);
        const wrong = EXPRESSIONS.map((e, i) => (want[i] === got[i] ? '' : `${e}: gdb ${want[i]} | rewind ${got[i]}`)).filter(Boolean);
        assert.ok(want.filter((w) => w !== '<error>').length > 50, 'gdb printed most of them');
        assert.deepEqual(wrong, []);
      });
    }
  }

  it('damaged DWARF (bytes flipped in each debug section): one-line errors or values, never a crash or a hang', () => {
    const elfPath = build(dir, 5, 'O2');
    const pristine = new Uint8Array(fs.readFileSync(elfPath));
    const sections = parseElf(pristine).sections.filter((x) => x.name.startsWith('.debug_') && x.size > 0);
    assert.ok(sections.length >= 5, sections.map((x) => x.name).join(' '));
    let seed = 12345;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
    let errors = 0;
    for (let round = 0; round < 300; round++) {
      const bytes = pristine.slice();
      const sec = sections[round % sections.length];
      for (let k = 0, n = 1 + rnd(4); k < n; k++) bytes[sec.offset + rnd(sec.size)] ^= 1 << rnd(8);
      const what = `round ${round} (${sec.name})`;
      try {
        const elf = parseElf(bytes);
        const di = loadDebugInfo(elf);
        const read = (addr: number, len: number) => (addr >= 0x80000000 && addr + len <= 0x80000000 + bytes.length ? new Uint8Array(len) : undefined);
        for (const e of EXPRESSIONS) {
          try {
            di.source.format(di.source.evaluate(e, undefined, read), { read, topLevel: true });
          } catch (err) {
            if (!(err instanceof RewindError)) throw err;
            assert.ok(!err.message.includes('\n'), `${what}: ${e}: a one-line error: ${err.message}`);
            errors++;
          }
        }
        for (const pc of [0x80000000, 0x80000004, 0x80000010]) {
          try {
            di.source.frames(pc, new Array(32).fill(0x80001000), read, 8);
          } catch (err) {
            if (!(err instanceof RewindError)) throw err;
          }
        }
      } catch (err) {
        if (!(err instanceof RewindError)) assert.fail(`${what}: ${(err as Error).stack}`);
        assert.ok(!err.message.includes('\n'), `${what}: one line: ${err.message}`);
        errors++;
      }
    }
    assert.ok(errors > 0, 'some damage was noticed');
  });
});
