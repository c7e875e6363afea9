/**
 * The disassembler against its oracle, Debian's riscv64-unknown-elf-objdump (binutils 2.40):
 * every guest ELF, a source file with every RV32IMAC + Zicsr + Zifencei form
 * (test/fixtures/disasm/everyForm.s), all 16-bit encodings, every 32-bit opcode/funct3/funct7
 * combination, and ELFs declaring smaller ISAs. No expected text is written here; objdump
 * prints it.
 *
 * Two comparisons are made. The listing (ObjdumpListing.objdumpText) must equal `objdump -d`'s
 * output byte for byte, so nothing is normalised there. disassemble() is checked instruction by
 * instruction against the fields of objdump's lines, split at objdump's tabs and at its ` # `
 * comment separator; the `.word`/`.short`/`.byte` lines of `$d` data regions are skipped there
 * because objdump prints them from mapping symbols, not by decoding (the listing covers them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseElf } from '../../../emulator/debuginfo/elf';
import { AddressTracker, disassemble } from '../../../emulator/debuginfo/disasm';
import { CodeSection, codeSections, elfIsa, elfPrivSpec } from '../../../emulator/debuginfo/disasmElf';
import { ObjdumpListing, symbolRange } from '../../../emulator/debuginfo/disasmListing';
import { ObjdumpSymbols } from '../../../emulator/debuginfo/disasmSymbols';
import { buildElf, objdump, parseListing } from '../../support/objdump';

const REPO = path.resolve(__dirname, '..', '..', '..');
const GUEST_BIN = path.join(REPO, 'emulator', 'guest', 'bin');
const GUESTS = fs.readdirSync(GUEST_BIN).filter((f) => /-O[02]\.elf$/.test(f)).sort();
const FIXTURES = path.join(REPO, 'test', 'fixtures', 'disasm');
const EVERY_FORM = fs.readFileSync(path.join(FIXTURES, 'everyForm.s'), 'utf8');

function readElf(file: string) {
  return parseElf(new Uint8Array(fs.readFileSync(file)), file);
}

/** Where two texts first differ, with the lines around it, for assertion messages. */
function firstDifference(want: string, got: string): string {
  const a = want.split('\n'), b = got.split('\n');
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  let differing = 0;
  for (let j = 0; j < Math.max(a.length, b.length); j++) if (a[j] !== b[j]) differing++;
  return `${differing} lines differ; first at line ${i + 1}:\n  objdump: ${JSON.stringify(a[i])}\n  rewind:  ${JSON.stringify(b[i])}\n`
    + `  (objdump context: ${JSON.stringify(a.slice(Math.max(0, i - 3), i + 2))})`;
}

/** Rewind's listing of `file` equals `objdump -d file` (or with --no-show-raw-insn) exactly. */
function assertSameListing(file: string, rawBytes = true): number {
  const want = objdump(file, rawBytes ? ['-d'] : ['-d', '--no-show-raw-insn']);
  const got = new ObjdumpListing(readElf(file), { rawBytes }).objdumpText(file);
  if (got !== want) assert.fail(`${file}: ${firstDifference(want, got)}`);
  return parseListing(want, rawBytes).length;
}

/** A data line of a `$d` region (a long reserved encoding prints `.byte` with a list instead). */
function isDataLine(mnemonic: string, operands: string): boolean {
  return mnemonic === '.word' || mnemonic === '.short' || (mnemonic === '.byte' && !operands.includes(','));
}

/**
 * disassemble(), called the way a debugger would (one instruction at a time, in address order,
 * sharing one tracker), against each instruction line of `objdump -d file`. Returns how many
 * instructions were compared.
 */
function assertSameInstructions(file: string): number {
  const elf = readElf(file);
  const sections = codeSections(elf);
  const symbols = new ObjdumpSymbols(elf);
  const tracker = new AddressTracker(symbols.gp);
  const isa = elfIsa(elf);
  const privSpec = elfPrivSpec(elf);
  const symbolize = symbols.count > 0 ? (sec: CodeSection) => (a: number) => symbols.label(a, symbols.find(a, sec.name, false), sec) : () => undefined;
  let compared = 0;
  for (const want of parseListing(objdump(file, ['-d']), true)) {
    if (isDataLine(want.mnemonic, want.operands)) continue;
    const sec = sections.find((s) => want.addr >= s.addr && want.addr < s.addr + s.size);
    assert.ok(sec, `0x${want.addr.toString(16)} is in no code section`);
    symbols.sortFor(sec.name);
    const d = disassemble(sec.data.subarray(want.addr - sec.addr), want.addr, {
      isa, privSpec, tracker, symbolize: symbolize(sec),
    });
    const at = `${path.basename(file)} at 0x${want.addr.toString(16)} (${want.raw})`;
    assert.deepEqual({ mnemonic: d.mnemonic, operands: d.operands, comment: d.comment }, { mnemonic: want.mnemonic, operands: want.operands, comment: want.comment }, at);
    if (d.length <= 8) assert.equal(d.length * 2, want.raw?.length, `${at}: length`);
    compared++;
  }
  return compared;
}

/** A small deterministic generator, so the random fills are the same on every run. */
function lcg(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
}

/** `.insn` lines: objdump decodes them (they sit under `$x`), unlike `.word` data. */
function insnSource(words16: Iterable<number>, words32: Iterable<number>): string {
  const lines = ['  .text', '  .globl _start', '_start:'];
  for (const w of words16) lines.push(`  .insn 2, 0x${w.toString(16)}`);
  for (const w of words32) lines.push(`  .insn 4, 0x${w.toString(16)}`);
  return lines.join('\n') + '\n';
}

function* all16(step = 1): Generator<number> {
  for (let w = 0; w < 0x10000; w += step) if ((w & 3) !== 3) yield w;
}

/**
 * Every 32-bit major opcode x funct3 x bits 31:25, `fills` times each with random registers
 * (biased to x0..x4, whose aliases and comments differ); the first fill uses x0 everywhere.
 */
function* structured32(fills: number, seed: number): Generator<number> {
  const r = lcg(seed);
  const special = [0, 1, 2, 3, 4, 8, 10, 31];
  const reg = (k: number) => (k === 0 ? 0 : r() % 3 === 0 ? special[r() % special.length] : r() % 32);
  for (let op = 0; op < 32; op++) {
    if ((op & 7) === 7) continue; // 48-bit and longer encodings
    for (let f3 = 0; f3 < 8; f3++) {
      for (let f7 = 0; f7 < 128; f7++) {
        for (let k = 0; k < fills; k++) {
          yield ((f7 << 25) | (reg(k) << 20) | (reg(k) << 15) | (f3 << 12) | (reg(k) << 7) | (op << 2) | 3) >>> 0;
        }
      }
    }
  }
}

/** B-type and J-type encodings with a given offset (objdump prints the absolute target). */
const bType = (f3: number, rs1: number, rs2: number, off: number) => (((off >> 12) & 1) << 31 | ((off >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15
  | f3 << 12 | ((off >> 1) & 0xf) << 8 | ((off >> 11) & 1) << 7 | 0x63) >>> 0;
const jType = (rd: number, off: number) => (((off >> 20) & 1) << 31 | ((off >> 1) & 0x3ff) << 21 | ((off >> 11) & 1) << 20
  | ((off >> 12) & 0xff) << 12 | rd << 7 | 0x6f) >>> 0;

describe('disassembler vs riscv64-unknown-elf-objdump (binutils 2.40)', function () {
  this.timeout(300_000);

  describe('guest programs', () => {
    it('finds the guests (emulator/guest/bin/*-O0.elf and *-O2.elf)', () => {
      assert.ok(GUESTS.length >= 20, `only ${GUESTS.length} guest ELFs`);
    });
    for (const g of GUESTS) {
      it(`${g}: the listing is objdump -d's, byte for byte`, () => {
        assert.ok(assertSameListing(path.join(GUEST_BIN, g)) > 100);
      });
      it(`${g}: disassemble() gives every instruction's mnemonic, operands and comment`, () => {
        assert.ok(assertSameInstructions(path.join(GUEST_BIN, g)) > 100);
      });
    }
    it('every block symbol of every guest lists as objdump --disassemble=SYMBOL lists it', () => {
      let compared = 0;
      for (const g of GUESTS) {
        const file = path.join(GUEST_BIN, g);
        const elf = readElf(file);
        const listing = new ObjdumpListing(elf);
        const seen = new Set<string>();
        for (const m of objdump(file, ['-d']).matchAll(/^([0-9a-f]{8}) <([^>+-]+)>:$/gm)) {
          // objdump lists only the first block of a name several statics share.
          if (seen.has(m[2])) continue;
          seen.add(m[2]);
          const sym = elf.symbols.find((s) => s.name === m[2] && s.value >>> 0 === parseInt(m[1], 16));
          assert.ok(sym, `${g}: no symbol ${m[2]}`);
          const want = objdump(file, ['-d', `--disassemble=${m[2]}`]);
          const body = want.slice(want.indexOf('Disassembly of section .text:\n') + 31).replace(/^\n/, '');
          const got = listing.range(symbolRange(sym.value >>> 0, sym.size, sym.type === 2));
          assert.equal(got.join('\n') + '\n', body, `${g} ${m[2]}`);
          compared++;
        }
      }
      assert.ok(compared > 500, `only ${compared} symbols`);
    });

    it('hello-O2.elf: the listing without raw bytes is objdump -d --no-show-raw-insn\'s', () => {
      assertSameListing(path.join(GUEST_BIN, 'hello-O2.elf'), false);
    });
  });

  describe('synthetic programs', () => {
    it('every instruction form, HINT, reserved encoding and data-in-code case of everyForm.s', () => {
      const elf = buildElf(EVERY_FORM);
      assert.ok(assertSameListing(elf) > 250);
      assert.ok(assertSameInstructions(elf) > 250);
    });

    it('regions assembled for other ISAs decode with their own ($xrv mapping symbols, isaRegions.s)', () => {
      assertSameListing(buildElf(fs.readFileSync(path.join(FIXTURES, 'isaRegions.s'), 'utf8')));
    });

    for (const spec of ['1.9.1', '1.10', '1.11', '1.12']) {
      it(`every one of the 4096 CSR numbers, named or in hex, in an ELF declaring privileged spec ${spec}`, () => {
        const lines = ['  .text', '  .globl _start', '_start:'];
        for (let csr = 0; csr < 4096; csr++) lines.push(`  csrrw a0, ${csr}, a1`, `  csrrsi zero, ${csr}, 1`);
        const elf = buildElf(lines.join('\n') + '\n', { asFlags: [`-mpriv-spec=${spec}`] });
        assert.equal(assertSameListing(elf), 8192);
        assertSameInstructions(elf);
      });
    }

    it('branch and jump offsets at the ends of their ranges, and targets that wrap around', () => {
      const words: number[] = [];
      for (const off of [-4096, -4094, -2, 0, 2, 4094]) for (let f3 = 0; f3 < 8; f3++) words.push(bType(f3, 10, 11, off), bType(f3, 0, 11, off), bType(f3, 10, 0, off));
      for (const off of [-1048576, -1048574, -2, 0, 2, 1048574]) for (const rd of [0, 1, 5]) words.push(jType(rd, off));
      const elf = buildElf(insnSource([], words));
      assert.equal(assertSameListing(elf), words.length);
      assertSameInstructions(elf);
    });

    it('all 49152 16-bit encodings (every compressed instruction, HINT and reserved slot)', () => {
      const elf = buildElf(insnSource(all16(), []));
      assert.equal(assertSameListing(elf), 49152);
    });

    it('every 32-bit opcode x funct3 x funct7 combination, four register fills each', () => {
      const words = [...structured32(4, 7)];
      assert.equal(assertSameListing(buildElf(insnSource([], words))), words.length);
    });

    for (const march of ['rv32i', 'rv32i_zmmul', 'rv32ia_zicsr', 'rv32i2p0_c', 'rv32imac_zicsr_zifencei_zihintpause']) {
      it(`decodes what an ELF declaring ${march} declares, and nothing more`, () => {
        const words = [...structured32(1, 11)];
        const elf = buildElf(insnSource(all16(5), words), { march });
        assert.ok(assertSameListing(elf) > words.length);
      });
    }

    it('a file without .riscv.attributes decodes as objdump\'s default ISA', () => {
      const withAttrs = buildElf(insnSource(all16(3), structured32(1, 5)));
      const bare = `${withAttrs}.noattr.elf`;
      const r = spawnSync('riscv64-unknown-elf-objcopy', ['--remove-section=.riscv.attributes', withAttrs, bare], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assertSameListing(bare);
    });

    it('a stripped file: bare 0x targets and section-relative headers', () => {
      const full = buildElf(EVERY_FORM);
      const stripped = `${full}.stripped.elf`;
      const r = spawnSync('riscv64-unknown-elf-strip', ['-o', stripped, full], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assertSameListing(stripped);
      assertSameInstructions(stripped);
    });
  });

  describe('disassemble() on its own', () => {
    it('decodes a number the same as the bytes it stands for', () => {
      const r = lcg(3);
      const words = [...all16(7), ...Array.from({ length: 20000 }, () => ((r() << 8) | (r() & 0xff)) >>> 0).map((w) => (w | 3) >>> 0).filter((w) => (w & 0x1f) !== 0x1f)];
      for (const w of words) {
        const bytes = Uint8Array.of(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff);
        const fromBytes = disassemble(bytes, 0x80000000, { symbolize: () => 'f' });
        const fromNumber = disassemble(w, 0x80000000, { symbolize: () => 'f' });
        assert.deepEqual(fromNumber, fromBytes, `0x${w.toString(16)}`);
      }
    });

    it('names the length of what it decoded and refuses input shorter than that', () => {
      assert.equal(disassemble(Uint8Array.of(0x01, 0x00), 0).length, 2);
      assert.equal(disassemble(0x00000513, 0).length, 4);
      assert.throws(() => disassemble(Uint8Array.of(0x13, 0x05), 0), RangeError);
      assert.throws(() => disassemble(Uint8Array.of(0x13), 0), RangeError);
    });
  });
});
