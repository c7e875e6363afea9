/**
 * An `objdump -d` listing of an ELF, line for line: the per-symbol blocks and their `<name>:`
 * headers, `...` for runs of zero bytes, `.word`/`.short`/`.byte` for `$d` data regions,
 * raw-byte columns, and the `# address` comments that carry state from one instruction to the
 * next. It mirrors binutils 2.40's disassemble_section/disassemble_bytes (binutils/objdump.c)
 * and print_insn_riscv's mapping-symbol handling (opcodes/riscv-dis.c), so the whole output of
 * `rewind disasm PROG.elf` is byte-identical to objdump's for Rewind's guests.
 *
 * One known difference: where objdump reports "Address 0x... is out of bounds" (an
 * instruction or data word that runs past the next symbol), the listing prints that message
 * on a simpler line than objdump's and, like objdump, abandons the rest of that block.
 */
import type { ElfImage } from './elf';
import { AddressTracker, disassemble, insnLength } from './disasm';
import { CodeSection, codeSections, elfIsa, elfPrivSpec } from './disasmElf';
import type { PrivSpec } from './disasmCsr';
import { DisasmIsa, parseIsa } from './disasmIsa';
import { isMappingSymbol, ListedSymbol, ObjdumpSymbols } from './disasmSymbols';

/** objdump's defaults: skip 8 or more zero bytes, and fewer than 3 at the end of a block. */
const SKIP_ZEROES = 8;
const SKIP_ZEROES_AT_END = 3;

export interface ListingOptions {
  /** Show the encoding column (objdump's default; --no-show-raw-insn turns it off). */
  rawBytes?: boolean;
}

export interface RangeRequest {
  /** First address to list. */
  start: number;
  /** List up to (not including) this address; default: the end of the section. */
  end?: number;
  /** Stop after this many instruction or data lines. */
  count?: number;
  /** For a listing that starts at a symbol: the rule that ends it at a later block. */
  endAtBlock?: (sym: ListedSymbol) => boolean;
}

/**
 * The listing `objdump --disassemble=SYMBOL` prints for a symbol at `value`: a sized function
 * for its size (even across other symbols), an unsized one up to the next function, any other
 * symbol up to the next symbol that is not a local label.
 */
export function symbolRange(value: number, size: number, func: boolean): RangeRequest {
  if (func && size > 0) return { start: value, end: (value + size) >>> 0 };
  if (func) return { start: value, endAtBlock: (b) => b.func };
  return { start: value, endAtBlock: (b) => !b.name.startsWith('.L') };
}

/** State objdump keeps for the whole run: comment tracking, mapping state, chunk width. */
class Run {
  readonly lines: string[] = [];
  readonly tracker: AddressTracker;
  bytesPerChunk = 0;
  isa: DisasmIsa;
  listed = 0;

  constructor(gp: number | undefined, isa: DisasmIsa, readonly limit = Infinity) {
    this.tracker = new AddressTracker(gp);
    this.isa = isa;
  }

  get done(): boolean {
    return this.listed >= this.limit;
  }
}

export class ObjdumpListing {
  readonly sections: CodeSection[];
  readonly symbols: ObjdumpSymbols;
  private readonly isa: DisasmIsa;
  private readonly privSpec: PrivSpec;
  private readonly rawBytes: boolean;
  private readonly mapping = new Map<string, ListedSymbol[]>();

  constructor(readonly elf: ElfImage, opts: ListingOptions = {}) {
    this.sections = codeSections(elf);
    this.symbols = new ObjdumpSymbols(elf);
    this.isa = elfIsa(elf);
    this.privSpec = elfPrivSpec(elf);
    this.rawBytes = opts.rawBytes ?? true;
  }

  /** The code section holding `addr`, if any. */
  sectionAt(addr: number): CodeSection | undefined {
    addr >>>= 0;
    return this.sections.find((s) => addr >= s.addr && addr < s.addr + s.size);
  }

  /** Exactly what `objdump -d FILE` prints, the banner naming `fileName` included. */
  objdumpText(fileName: string): string {
    const run = new Run(this.symbols.gp, this.isa);
    run.lines.push('', `${fileName}:     file format elf32-littleriscv`, '');
    for (const sec of this.sections) {
      run.lines.push('', `Disassembly of section ${sec.name}:`);
      this.listSection(run, sec, 0, sec.size);
    }
    return run.lines.join('\n') + '\n';
  }

  /**
   * The lines objdump prints for `--start-address=START [--stop-address=END]` within START's
   * section (the opening blank line dropped), optionally cut after `count` instructions.
   */
  range(req: RangeRequest): string[] {
    const sec = this.sectionAt(req.start);
    if (!sec) return [];
    const run = new Run(this.symbols.gp, this.isa, req.count ?? Infinity);
    const stop = req.end === undefined ? sec.size : Math.min(sec.size, Math.max(0, (req.end >>> 0) - sec.addr));
    this.listSection(run, sec, (req.start >>> 0) - sec.addr, stop, req.endAtBlock);
    if (run.lines[0] === '') run.lines.shift();
    return run.lines;
  }

  /** disassemble_section: one block per symbol, each opened by its `addr <name>:` header. */
  private listSection(run: Run, sec: CodeSection, startOff: number, stopOff: number, endAtBlock?: (s: ListedSymbol) => boolean): void {
    const syms = this.symbols;
    syms.sortFor(sec.name);
    const addrWidth = addressColumn(sec);
    let off = startOff;
    let place = syms.find(sec.addr + off, sec.name, true);
    let first = true;
    while (off < stopOff && !run.done) {
      const addr = (sec.addr + off) >>> 0;
      const sym = place >= 0 ? syms.sorted[place] : undefined;
      if (!first && sym && endAtBlock?.(sym)) break;
      first = false;
      run.lines.push('', `${hex8(addr)} <${syms.label(addr, place, sec)}>:`);
      let next: number;
      if (sym && sym.value > addr) next = place;
      else if (!sym) next = -1;
      else next = syms.nextAfter(place, sec.name);
      let nextStop = sym && sym.value > addr ? sym.value - sec.addr : next < 0 ? stopOff : syms.sorted[next].value - sec.addr;
      if (nextStop > stopOff || nextStop <= off) nextStop = stopOff;
      // A symbol marked as an object (and not a function) is dumped as bytes, not decoded.
      const insns = !sym || sym.section !== sec.name || sym.value > addr || !sym.object || sym.func;
      this.listBytes(run, sec, off, nextStop, insns, addrWidth);
      off = nextStop;
      place = next;
    }
  }

  /** disassemble_bytes for one block. */
  private listBytes(run: Run, sec: CodeSection, start: number, stop: number, insns: boolean, addrWidth: number): void {
    const data = sec.data;
    let perLine = insns ? 4 : 16;
    let off = start;
    while (off < stop && !run.done) {
      let z = off;
      while (z < stop && data[z] === 0) z++;
      if (z - off >= SKIP_ZEROES || (z === stop && z - off < SKIP_ZEROES_AT_END)) {
        // Zeros before more code are skipped in whole words, so an instruction that merely
        // starts with zero bytes is not swallowed.
        if (z !== stop) z = off + ((z - off) & ~3);
        run.lines.push('\t...');
        off = z;
        continue;
      }
      const addr = (sec.addr + off) >>> 0;
      const head = `${addressText(addr, addrWidth)}:\t`;
      if (!insns) {
        const n = Math.min(perLine, stop - off);
        const ascii = Array.from(data.subarray(off, off + n), (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
        run.lines.push(head + rawColumn(data, off, n, stop, run.bytesPerChunk || 1, perLine) + '    ' + ascii);
        off += n;
        continue;
      }
      const one = this.decodeOne(run, sec, off, stop);
      if (one.outOfBounds) {
        run.lines.push(`${head}\tAddress 0x${hex8(addr)} is out of bounds.`, '');
        return;
      }
      perLine = one.bytesPerLine;
      run.listed++;
      if (!this.rawBytes) {
        run.lines.push(head + one.text);
      } else {
        const bpc = run.bytesPerChunk || 1;
        const firstLine = Math.min(one.length, perLine);
        run.lines.push(head + rawColumn(data, off, firstLine, stop, bpc, perLine) + '\t' + one.text);
        // Encodings longer than a line (reserved 10..22-byte ones) continue on address-only lines.
        for (let pb = firstLine; pb < one.length;) {
          const from = off + pb;
          pb = Math.min(one.length, pb + perLine);
          run.lines.push(`${addressText((sec.addr + from) >>> 0, addrWidth)}:\t` + rawColumn(data, from, off + pb - from, stop, bpc, 0));
        }
      }
      off += one.length;
    }
  }

  /** print_insn_riscv: data or instruction by the mapping symbols, then decode one unit. */
  private decodeOne(run: Run, sec: CodeSection, off: number, stop: number): { text: string; length: number; bytesPerLine: number; outOfBounds?: boolean } {
    const memaddr = (sec.addr + off) >>> 0;
    const data = sec.data;
    const map = this.mappingAt(sec, memaddr);
    if (map.name !== undefined && map.name.startsWith('$xrv')) run.isa = parseIsa(map.name.slice(2).split('.')[0]) ?? run.isa;
    if (map.name === '$d') {
      let len = 4;
      if (map.next !== undefined) len = Math.min(len, map.next - memaddr);
      else len = Math.min(len, sec.addr + sec.size - memaddr);
      if (len === 3) len = 2;
      run.bytesPerChunk = len;
      if (off + len > stop) return { text: '', length: len, bytesPerLine: 8, outOfBounds: true };
      let v = 0;
      for (let i = len - 1; i >= 0; i--) v = v * 256 + data[off + i];
      const text = len === 1 ? `.byte\t0x${hex(v, 2)}` : len === 2 ? `.short\t0x${hex(v, 4)}` : `.word\t0x${hex(v, 8)}`;
      return { text, length: len, bytesPerLine: len === 1 ? 6 : 8 };
    }
    run.bytesPerChunk = 0;
    if (off + 2 > stop) return { text: '', length: 2, bytesPerLine: 8, outOfBounds: true };
    const length = insnLength(data[off] | (data[off + 1] << 8));
    if (off + length > stop) return { text: '', length, bytesPerLine: 8, outOfBounds: true };
    const d = disassemble(data.subarray(off, off + length), memaddr, {
      isa: run.isa,
      privSpec: this.privSpec,
      tracker: run.tracker,
      symbolize: this.symbols.count > 0 ? (a) => this.symbols.label(a, this.symbols.find(a, sec.name, false), sec) : undefined,
    });
    run.bytesPerChunk = length % 4 === 0 ? 4 : 2;
    return { text: d.text, length, bytesPerLine: 8 };
  }

  /** The mapping symbol in force at `addr` (the last at or before it) and where the next starts. */
  private mappingAt(sec: CodeSection, addr: number): { name?: string; next?: number } {
    let maps = this.mapping.get(sec.name);
    if (!maps) {
      // In compare_symbols order, so of two at one address the one objdump settles on is last.
      maps = this.symbols.sorted.filter((s) => s.section === sec.name && isMappingSymbol(s.name));
      this.mapping.set(sec.name, maps);
    }
    let lo = 0, hi = maps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (maps[mid].value <= addr) lo = mid + 1;
      else hi = mid;
    }
    return { name: lo > 0 ? maps[lo - 1].name : undefined, next: lo < maps.length ? maps[lo].value : undefined };
  }
}

/** objdump drops leading address digits in groups of four while every address has them. */
function addressColumn(sec: CodeSection): number {
  const end = hex8((sec.addr + sec.size) >>> 0);
  let skip = 0;
  while (end[skip] === '0') skip++;
  if (skip === 8 && sec.addr !== 0) skip = 0;
  return skip === 0 ? 0 : (skip - 1) & ~3;
}

function addressText(addr: number, skip: number): string {
  const s = hex8(addr).slice(skip);
  const lead = s.match(/^0*/)![0].length;
  const keep = Math.min(lead, s.length - 1);
  return ' '.repeat(keep) + s.slice(keep);
}

/** The raw-bytes column: chunks of `bpc` bytes, most significant first, padded to `perLine`. */
function rawColumn(data: Uint8Array, off: number, n: number, stop: number, bpc: number, perLine: number): string {
  let s = '';
  let pb = n;
  for (let j = 0; j < n; j += bpc) {
    if (off + j + bpc <= stop) for (let k = bpc - 1; k >= 0; k--) s += hex(data[off + j + k], 2);
    s += ' ';
  }
  for (; pb < perLine; pb += bpc) s += '  '.repeat(bpc) + ' ';
  return s;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function hex8(n: number): string {
  return hex(n >>> 0, 8);
}
