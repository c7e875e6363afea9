/**
 * The debug-info facade: lazy parsing, graceful degradation, and malformed input. Corrupt or
 * truncated debug sections must give one RewindError('DEBUGINFO_INVALID') with a one-line
 * message, never another exception and never a hang: every query is run on thousands of
 * byte-flipped variants of real sections.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDebugInfo } from '../../../emulator/debuginfo/debugInfo';
import { ElfImage, parseElf } from '../../../emulator/debuginfo/elf';
import { RewindError } from '../../../emulator/errors';
import { Machine } from '../../../emulator/machine/machine';
import { buildGuest, GUEST_BIN, instructionAddresses, transformElf } from '../../support/riscvTools';
import { prng } from '../../support/prng';

const RAM_BASE = 0x80000000, RAM_MIB = 16;


interface MachineState {
  pc: number;
  x: Int32Array;
  readWord: (addr: number) => number;
}

/** Stops qsort-O2 deep in its recursion (and at a few earlier points) for call-stack queries. */
function statesOf(file: string, icounts: number[]): MachineState[] {
  return icounts.map((n) => {
    const m = new Machine({ ramMiB: RAM_MIB });
    m.loadElf(new Uint8Array(fs.readFileSync(file)));
    m.run(n);
    const readWord = (a: number): number => {
      if (a < RAM_BASE || a + 4 > RAM_BASE + RAM_MIB * 1024 * 1024) throw new Error('outside RAM');
      return m.bus.load(a, 4);
    };
    return { pc: m.harts[0].pc, x: m.harts[0].x.slice(), readWord };
  });
}

/** Every query the debugger makes; returns normally or throws whatever the code throws. */
function exercise(elf: ElfImage, addrs: number[], states: MachineState[]): void {
  const di = loadDebugInfo(elf);
  for (const a of addrs) {
    di.lineAt(a);
    di.statementAt(a);
    di.functionAt(a);
  }
  void di.statementBoundaries;
  di.addressesFor('qsort.c', 40);
  di.addressesFor('lib.c', 13);
  for (const s of states) di.callStack(s.pc, s.x, s.readWord, 64);
  for (const a of addrs.filter((_, i) => i % 7 === 0)) di.frameInfo.rowAt(a);
}

function expectOneLineError(run: () => void, what: string): 'ok' | 'error' {
  try {
    run();
    return 'ok';
  } catch (e) {
    if (!(e instanceof RewindError)) throw new Error(`${what}: ${e instanceof Error ? e.stack : String(e)}`);
    assert.equal(e.code, 'DEBUGINFO_INVALID', `${what}: ${e.message}`);
    assert.ok(!e.message.includes('\n') && e.message.length < 300, `${what}: not one line: ${e.message}`);
    return 'error';
  }
}

/** A copy of the ELF file with section `name`'s header (sh_size) or bytes changed by `edit`. */
function withSection(bytes: Uint8Array, name: string, edit: (data: Uint8Array, header: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  const elf = parseElf(copy);
  const idx = elf.sections.findIndex((s) => s.name === name);
  assert.ok(idx >= 0, name);
  const s = elf.sections[idx];
  const dv = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  const shoff = dv.getUint32(32, true), shentsize = dv.getUint16(46, true);
  edit(copy.subarray(s.offset, s.offset + s.size), new DataView(copy.buffer, copy.byteOffset + shoff + idx * shentsize, shentsize));
  return copy;
}

describe('debuginfo/debugInfo: the facade', function () {
  this.timeout(300_000);
  const qsortO2 = path.join(GUEST_BIN, 'qsort-O2.elf');
  const qsortO0 = path.join(GUEST_BIN, 'qsort-O0.elf');

  it('parses nothing until asked, then each section once', () => {
    const bytes = new Uint8Array(fs.readFileSync(qsortO2));
    // A .debug_frame that cannot be parsed does not stop line lookups, and its error comes back
    // identical on every call (parsed once, remembered).
    const broken = withSection(bytes, '.debug_frame', (d) => d.fill(0xff, 0, 16));
    const di = loadDebugInfo(parseElf(broken));
    assert.equal(di.lineAt(di.addressOf('main') as number)?.file, './programs/qsort.c');
    const first = (() => { try { di.callStack(di.addressOf('main') as number, new Int32Array(32), () => 0); } catch (e) { return e; } })();
    const second = (() => { try { void di.frameInfo; } catch (e) { return e; } })();
    assert.ok(first instanceof RewindError && first.code === 'DEBUGINFO_INVALID', String(first));
    assert.equal(second, first);
  });

  it('lineAt, functionAt, statements, breakpoints and the unwinder through one object', () => {
    const di = loadDebugInfo(parseElf(new Uint8Array(fs.readFileSync(qsortO0))));
    const main = di.addressOf('main') as number;
    assert.deepEqual(di.functionAt(main + 6), { name: 'main', address: main, offset: 6 });
    assert.equal(di.lineAt(main)?.file, './programs/qsort.c');
    assert.ok(di.statementBoundaries.includes(main));
    assert.ok(di.isStatementBoundary(main));
    assert.equal(di.statementAt(main + 2)?.address, main);
    // qsort.c:76 is `uint32_t checksum = 0;` in main.
    const bp = di.addressesFor('programs/qsort.c', 76);
    assert.ok(bp.length === 1 && di.lineAt(bp[0])?.line === 76 && di.functionAt(bp[0])?.name === 'main', String(bp));
    assert.ok(di.unwinder);
  });

  it('an ELF without any debug section: symbols only, no throw', () => {
    const file = transformElf(path.join(GUEST_BIN, 'hello-O2.elf'), 'strip', ['--strip-debug']);
    const di = loadDebugInfo(parseElf(new Uint8Array(fs.readFileSync(file))));
    assert.ok(!di.elf.sections.some((s) => s.name.startsWith('.debug')));
    assert.equal(di.lines, undefined);
    assert.equal(di.lineAt(0x80000000), undefined);
    assert.deepEqual(di.statementBoundaries, []);
    assert.deepEqual(di.addressesFor('hello.c', 10), []);
    assert.equal(di.functionAt(0x80000000)?.name, '_start');
    const [s] = statesOf(file, [5000]);
    const frames = di.callStack(s.pc, s.x, s.readWord);
    assert.ok(frames.length >= 1 && frames[0].pc === s.pc >>> 0);
  });

  describe('malformed sections: one-line DEBUGINFO_INVALID or a normal answer, never a crash', () => {
    const original = new Uint8Array(fs.readFileSync(qsortO2));
    const addrs = instructionAddresses(qsortO2);
    const states = statesOf(qsortO2, [2000, 600_000, 1_205_000]);
    const sections = ['.debug_line', '.debug_line_str', '.debug_info', '.debug_abbrev', '.debug_str', '.debug_frame'];

    for (const name of sections) {
      it(`${name}: 300 variants with 1-4 flipped bytes`, () => {
        const tally = { ok: 0, error: 0 };
        for (let seed = 1; seed <= 300; seed++) {
          const rnd = prng(seed * 7919 + name.length);
          const bytes = withSection(original, name, (d) => {
            const flips = 1 + Math.floor(rnd() * 4);
            for (let k = 0; k < flips; k++) d[Math.floor(rnd() * d.length)] ^= 1 << Math.floor(rnd() * 8);
          });
          tally[expectOneLineError(() => exercise(parseElf(bytes), addrs, states), `${name} seed ${seed}`)]++;
        }
        // Some flips land in data that is never read (or is still valid); others must be caught.
        assert.ok(tally.error > 0 || name === '.debug_str' || name === '.debug_line_str', JSON.stringify(tally));
      });

      it(`${name}: truncated at 40 points`, () => {
        let errors = 0;
        for (let k = 0; k < 40; k++) {
          const bytes = withSection(original, name, (d, h) => h.setUint32(20, Math.floor((d.length * k) / 40), true));
          if (expectOneLineError(() => exercise(parseElf(bytes), addrs, states), `${name} cut at ${k}/40`) === 'error') errors++;
        }
        assert.ok(errors > 0);
      });
    }

    it('a section header pointing past the end of the file', () => {
      const bytes = withSection(original, '.debug_line', (_d, h) => h.setUint32(20, 0x7fffffff, true));
      assert.equal(expectOneLineError(() => exercise(parseElf(bytes), addrs, states), 'huge .debug_line'), 'error');
    });

    it('.eh_frame: 300 variants (pointer encodings, augmentations)', () => {
      const file = buildGuest({ program: 'qsort', opt: 'O2', cflags: ['-fasynchronous-unwind-tables'], keepEhFrame: true });
      const eh = new Uint8Array(fs.readFileSync(file));
      const ehStates = statesOf(file, [600_000, 1_205_000]);
      const ehAddrs = instructionAddresses(file);
      const tally = { ok: 0, error: 0 };
      for (let seed = 1; seed <= 300; seed++) {
        const rnd = prng(seed);
        const bytes = withSection(eh, '.eh_frame', (d) => {
          for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) d[Math.floor(rnd() * d.length)] ^= 1 << Math.floor(rnd() * 8);
        });
        tally[expectOneLineError(() => exercise(parseElf(bytes), ehAddrs, ehStates), `.eh_frame seed ${seed}`)]++;
      }
      assert.ok(tally.error > 0, JSON.stringify(tally));
    });
  });
});
