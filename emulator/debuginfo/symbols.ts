import { ElfImage, ElfSymbol } from './elf';

export interface FunctionLocation {
  name: string;
  /** The symbol's value: where the function (or label) starts. */
  address: number;
  /** addr - address, as objdump prints it in `<name+0x10>`. */
  offset: number;
}

export interface AddressRange {
  start: number;
  end: number;
}

const STT_NOTYPE = 0, STT_FUNC = 2;
const STB_GLOBAL = 1;
const SHN_LORESERVE = 0xff00;
const SHF_EXECINSTR = 4;

/**
 * The [start, end) ranges of the sections holding code. elf.ts does not keep section flags, and
 * the guests' single RWX segment (link.ld) cannot tell code from data, so this reads sh_flags
 * from the section headers. An ElfImage whose sections do not match the file's header table
 * (built by hand) falls back to the sections named .text*.
 */
export function codeRanges(elf: ElfImage): AddressRange[] {
  const b = elf.bytes;
  const range = (s: { addr: number; size: number }): AddressRange => ({ start: s.addr >>> 0, end: (s.addr >>> 0) + s.size });
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const headers = b.length >= 52 ? { shoff: dv.getUint32(32, true), shentsize: dv.getUint16(46, true), shnum: dv.getUint16(48, true) } : undefined;
  let out: AddressRange[];
  if (headers && headers.shnum === elf.sections.length && headers.shentsize >= 40 && headers.shoff + headers.shnum * headers.shentsize <= b.length) {
    out = elf.sections.filter((s, i) => s.size > 0 && (dv.getUint32(headers.shoff + i * headers.shentsize + 8, true) & SHF_EXECINSTR) !== 0).map(range);
  } else {
    out = elf.sections.filter((s) => s.size > 0 && s.name.startsWith('.text')).map(range);
  }
  return out.sort((x, y) => x.start - y.start);
}

/**
 * objdump's order among symbols at one address (binutils objdump.c compare_symbols): functions
 * first, then globals before locals, then by name; so `<fn+off>` names the same symbol objdump
 * does.
 */
function preferred(a: ElfSymbol, b: ElfSymbol): number {
  if ((a.type === STT_FUNC) !== (b.type === STT_FUNC)) return a.type === STT_FUNC ? -1 : 1;
  if ((a.bind === 0) !== (b.bind === 0)) return a.bind === 0 ? 1 : -1;
  if ((a.bind === STB_GLOBAL) !== (b.bind === STB_GLOBAL)) return a.bind === STB_GLOBAL ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * Code symbols: functions and the untyped labels of hand-written assembly (start.S's `park`,
 * `trap_entry`), as objdump uses them to name addresses. RISC-V mapping symbols (`$x...`,
 * `$d`) mark instruction sets, not places, and objdump skips them too.
 */
export class SymbolTable {
  private readonly sorted: ElfSymbol[];
  private readonly ranges: AddressRange[];

  constructor(elf: ElfImage) {
    this.ranges = codeRanges(elf);
    const inCode = (v: number) => this.ranges.some((r) => v >= r.start && v < r.end);
    this.sorted = elf.symbols
      .filter((s) => (s.type === STT_FUNC || s.type === STT_NOTYPE) && s.name !== '' && !s.name.startsWith('$') && !s.name.startsWith('.L'))
      .filter((s) => s.shndx !== 0 && s.shndx < SHN_LORESERVE && inCode(s.value >>> 0))
      .sort((a, b) => (a.value >>> 0) - (b.value >>> 0) || preferred(a, b));
  }

  /** The code ranges (sections with SHF_EXECINSTR) the table covers. */
  get code(): readonly AddressRange[] {
    return this.ranges;
  }

  isCode(addr: number): boolean {
    const a = addr >>> 0;
    return this.ranges.some((r) => a >= r.start && a < r.end);
  }

  /**
   * The function or label `addr` lies in: the nearest code symbol at or below it within the
   * same code section, like objdump's `<name+0x10>`. Undefined outside code or before the first
   * symbol (a stripped ELF has none).
   */
  functionAt(addr: number): FunctionLocation | undefined {
    const a = addr >>> 0;
    const range = this.ranges.find((r) => a >= r.start && a < r.end);
    if (!range) return undefined;
    let lo = 0, hi = this.sorted.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid].value >>> 0 <= a) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return undefined;
    const v = this.sorted[found].value >>> 0;
    while (found > 0 && this.sorted[found - 1].value >>> 0 === v) found--;
    const s = this.sorted[found];
    if (v < range.start) return undefined;
    return { name: s.name, address: v, offset: a - v };
  }

  /** Where function (or label) `name` starts; functions win over labels of the same name. */
  addressOf(name: string): number | undefined {
    const s = this.sorted.filter((x) => x.name === name).sort(preferred)[0];
    return s === undefined ? undefined : s.value >>> 0;
  }

  /** `name+0x10`, or `name` at its start, or a bare hex address where no symbol covers it. */
  describe(addr: number): string {
    const f = this.functionAt(addr);
    if (!f) return '0x' + (addr >>> 0).toString(16);
    return f.offset === 0 ? f.name : `${f.name}+0x${f.offset.toString(16)}`;
  }
}
