/**
 * `rewind disasm` run as a user runs it (node dist/cli.js), against riscv64-unknown-elf-objdump
 * on the guest programs: the whole listing byte for byte, one function as
 * `objdump --disassemble=SYMBOL` prints it, N instructions from an address as
 * `objdump --start-address` begins; and one-line errors with exit 2.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertOneLineError, ensureCliBuilt, REPO_ROOT, runCli } from '../../support/rewindCli';
import { objdump, parseListing } from '../../support/objdump';

const BIN = path.join(REPO_ROOT, 'emulator', 'guest', 'bin');
const GUESTS = fs.readdirSync(BIN).filter((f) => /-O[02]\.elf$/.test(f)).sort();
const HELLO = path.join(BIN, 'hello-O2.elf');

/** What objdump prints after its banner and `Disassembly of section .text:` line. */
function objdumpBody(file: string, args: string[]): string {
  const out = objdump(file, args);
  const at = out.indexOf('Disassembly of section .text:\n');
  assert.ok(at >= 0, `objdump ${args.join(' ')} printed no .text:\n${out.slice(0, 400)}`);
  return out.slice(at + 'Disassembly of section .text:\n'.length).replace(/^\n/, '');
}

function disasm(...args: string[]) {
  return runCli(['disasm', ...args]);
}

/** Symbols that head a block in objdump's listing (the names --disassemble=SYMBOL can find). */
function blockSymbols(file: string): string[] {
  return [...objdump(file, ['-d']).matchAll(/^[0-9a-f]{8} <([^>+-]+)>:$/gm)].map((m) => m[1]);
}

describe('rewind disasm', function () {
  this.timeout(120_000);
  let work: string;

  before(function () {
    this.timeout(300_000);
    ensureCliBuilt();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-disasm-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const g of GUESTS) {
    it(`${g}: prints objdump -d's output, byte for byte`, () => {
      const file = path.join(BIN, g);
      const r = disasm(file);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.ok(r.stdout === objdump(file, ['-d']), `differs from objdump -d ${file}`);
    });
  }

  it('--no-show-raw-insn drops the encoding column as objdump does', () => {
    const r = disasm(HELLO, '--no-show-raw-insn');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, objdump(HELLO, ['-d', '--no-show-raw-insn']));
  });

  // Every block symbol of every guest is compared in-process by test/emulator/debuginfo/disasm.test.ts;
  // here a few of each kind go through the command line.
  for (const [g, names] of [
    ['hello-O2.elf', ['main', '_start', 'trap_entry', 'park', 'fib', 'uart_puts', 'trap_handler']],
    ['qsort-O0.elf', ['main', 'secondary', 'memset']],
    ['traps-O2.elf', ['main', 'site_store', 'trap_save']],
  ] as const) {
    it(`${g}: SYMBOL lists what objdump --disassemble=SYMBOL lists (${names.join(', ')})`, () => {
      const file = path.join(BIN, g);
      const blocks = blockSymbols(file);
      for (const name of names) {
        assert.ok(blocks.includes(name), `${name} heads no block in ${g}`);
        const r = disasm(file, name);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        assert.equal(r.stdout, objdumpBody(file, ['-d', `--disassemble=${name}`]), `${g} ${name}`);
      }
    });
  }

  it('ADDR -n N: the first N instructions objdump --start-address=ADDR prints, header included', () => {
    for (const [addr, n] of [['0x80000010', 5], ['80000100', 12], ['0x8000008c', 3]] as const) {
      const r = disasm(HELLO, addr, '-n', String(n));
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.replace(/\n$/, '').split('\n');
      assert.equal(parseListing(r.stdout, true).length, n, r.stdout);
      const want = objdumpBody(HELLO, ['-d', `--start-address=0x${addr.replace(/^0x/, '')}`]).split('\n');
      assert.deepEqual(lines, want.slice(0, lines.length));
    }
  });

  it('ADDR alone lists 20 instructions', () => {
    const r = disasm(HELLO, '0x80000000');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseListing(r.stdout, true).length, 20);
  });

  it('SYMBOL -n N and SYMBOL+0xOFF start where objdump --start-address would', () => {
    const main = parseInt(/^([0-9a-f]{8}) <main>:$/m.exec(objdump(HELLO, ['-d']))![1], 16);
    for (const [where, start, n] of [['main', main, 7], ['main+0x6', main + 6, 4]] as const) {
      const r = disasm(HELLO, where, '-n', String(n));
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.replace(/\n$/, '').split('\n');
      assert.equal(parseListing(r.stdout, true).length, n);
      assert.deepEqual(lines, objdumpBody(HELLO, ['-d', `--start-address=0x${start.toString(16)}`]).split('\n').slice(0, lines.length));
    }
  });

  it('the usage documents the command and its line format', () => {
    const r = runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /rewind disasm PROG\.elf \[SYMBOL/);
    assert.match(r.stdout, /ADDR:<TAB>ENCODING<TAB>MNEMONIC<TAB>OPERANDS/);
  });

  describe('errors: one line, exit 2', () => {
    it('an unknown symbol', () => {
      assertOneLineError(disasm(HELLO, 'no_such_function'), /no symbol 'no_such_function'/);
    });
    it('an address outside any code section', () => {
      assertOneLineError(disasm(HELLO, '0x10'), /address 0x10 is outside any code section \(\.text 0x80000000-/);
    });
    it('a symbol outside any code section (data)', () => {
      assertOneLineError(disasm(HELLO, '__stack_top'), /symbol '__stack_top' .* is outside any code section/);
    });
    it('a file that is not an ELF', () => {
      const f = path.join(work, 'not.elf');
      fs.writeFileSync(f, 'hello, world\n'.repeat(10));
      assertOneLineError(disasm(f), /not an ELF file/);
    });
    it('a truncated ELF', () => {
      const f = path.join(work, 'short.elf');
      fs.writeFileSync(f, fs.readFileSync(HELLO).subarray(0, 40));
      assertOneLineError(disasm(f), /too short to be an ELF file/);
    });
    it('a missing file', () => {
      assertOneLineError(disasm(path.join(work, 'missing.elf')), /cannot read .*missing\.elf: no such file/);
    });
    it('a bad -n', () => {
      assertOneLineError(disasm(HELLO, 'main', '-n', '0'), /-n needs a number of instructions/);
      assertOneLineError(disasm(HELLO, 'main', '-n', 'ten'), /-n needs a number of instructions/);
    });
    it('-n without a place to start', () => {
      assertOneLineError(disasm(HELLO, '-n', '5'), /-n needs a SYMBOL or ADDR/);
    });
    it('no ELF, too many arguments, an unknown option', () => {
      assertOneLineError(disasm(), /expected an ELF file/);
      assertOneLineError(disasm(HELLO, 'main', 'exit'), /expected an ELF file and at most one SYMBOL or ADDR/);
      assertOneLineError(disasm(HELLO, '--wide'), /Unknown option '--wide'/);
    });
  });
});
