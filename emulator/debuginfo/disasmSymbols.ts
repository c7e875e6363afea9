/**
 * Symbols as objdump chooses them, so `<name+0xoff>` and the `name:` headers of a listing name
 * the same symbol objdump names when several share an address (a FUNC over a NOTYPE label,
 * global over local, larger over smaller, then by name), and skip the same ones (section and
 * file symbols, undefined ones, RISC-V mapping symbols `$x`/`$d`/`$xrv...`). This follows
 * binutils/objdump.c (compare_symbols, remove_useless_symbols, find_symbol_for_address) and
 * riscv_symbol_is_valid from opcodes/riscv-dis.c.
 */
import type { ElfImage } from './elf';

const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_SECTION = 3;
const STT_FILE = 4;
const STB_LOCAL = 0;
const STB_GLOBAL = 1;
const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const SHN_COMMON = 0xfff2;

export interface ListedSymbol {
  name: string;
  value: number;
  size: number;
  /** Name of the symbol's section, `*ABS*` for absolute symbols (bfd compares sections by name). */
  section: string;
  func: boolean;
  object: boolean;
  local: boolean;
  global: boolean;
}

/** riscv_elf_is_mapping_symbols: `$x`, `$d`, and the ISA-carrying `$xrv32i2p1_...`. */
export function isMappingSymbol(name: string): boolean {
  return name === '$x' || name === '$d' || name.startsWith('$xrv');
}

/** riscv_symbol_is_valid: never name an address after a mapping symbol or gas's fake label. */
function nameable(s: ListedSymbol): boolean {
  return s.name !== '.L0 ' && !isMappingSymbol(s.name);
}

/** objdump's heuristic for file-name symbols (sorted after everything else). */
function looksLikeFile(name: string): boolean {
  const n = name.length;
  return n > 2 && name[n - 2] === '.' && (name[n - 1] === 'o' || name[n - 1] === 'a');
}

function byteCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** compare_symbols, with symbols of `section` (the one being disassembled) first among equals. */
function compareSymbols(a: ListedSymbol, b: ListedSymbol, section: string): number {
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  const as = a.section === section, bs = b.section === section;
  if (as !== bs) return as ? -1 : 1;
  const ag = /gnu_compiled|gcc2_compiled/.test(a.name), bg = /gnu_compiled|gcc2_compiled/.test(b.name);
  if (ag !== bg) return ag ? 1 : -1;
  const af = looksLikeFile(a.name), bf = looksLikeFile(b.name);
  if (af !== bf) return af ? 1 : -1;
  if (a.func !== b.func) return a.func ? -1 : 1;
  if (a.object !== b.object) return a.object ? -1 : 1;
  if (a.local !== b.local) return a.local ? 1 : -1;
  if (a.global !== b.global) return a.global ? -1 : 1;
  if (a.size !== b.size) return a.size > b.size ? -1 : 1;
  const ad = a.name.startsWith('.'), bd = b.name.startsWith('.');
  if (ad !== bd) return ad ? 1 : -1;
  return byteCompare(a.name, b.name);
}

export class ObjdumpSymbols {
  /** The symbols objdump keeps, in compare_symbols order for the current section. */
  sorted: ListedSymbol[];
  private sortedFor: string | undefined;
  /** `__global_pointer$`, which objdump uses for gp-relative comments. */
  readonly gp: number | undefined;

  constructor(elf: ElfImage) {
    const kept: ListedSymbol[] = [];
    let gp: number | undefined;
    for (const s of elf.symbols) {
      // remove_useless_symbols: no section/file (debugging) symbols, nothing undefined or common.
      if (s.type === STT_SECTION || s.type === STT_FILE) continue;
      if (s.shndx === SHN_UNDEF || s.shndx === SHN_COMMON) continue;
      const section = s.shndx === SHN_ABS ? '*ABS*' : elf.sections[s.shndx]?.name ?? '';
      kept.push({
        name: s.name, value: s.value >>> 0, size: s.size, section,
        func: s.type === STT_FUNC, object: s.type === STT_OBJECT,
        local: s.bind === STB_LOCAL, global: s.bind === STB_GLOBAL,
      });
      if (s.name === '__global_pointer$') gp = s.value >>> 0;
    }
    this.sorted = kept;
    this.gp = gp;
  }

  /** objdump sorts its symbols once per section it disassembles. */
  sortFor(section: string): void {
    if (this.sortedFor === section) return;
    this.sorted.sort((a, b) => compareSymbols(a, b, section));
    this.sortedFor = section;
  }

  get count(): number {
    return this.sorted.length;
  }

  /** The symbols of `section` that can name an address, in address order (for look-ups by name). */
  named(section?: string): ListedSymbol[] {
    return this.sorted.filter((s) => nameable(s) && (section === undefined || s.section === section));
  }

  /**
   * find_symbol_for_address: the index of the symbol that names `vma` while disassembling
   * `section` (call sortFor first), or -1. `requireSection` is objdump's require_sec, set
   * only when it looks for the symbol that opens a listing.
   */
  find(vma: number, section: string, requireSection: boolean): number {
    const syms = this.sorted;
    const n = syms.length;
    if (n < 1) return -1;
    vma >>>= 0;
    // Binary search over (min, max]: objdump never tests index 0 here, so an address below
    // every symbol still lands on the first one and prints as `<first-0x...>`.
    let min = 0;
    let max = n;
    while (min + 1 < max) {
      const mid = (min + max) >> 1;
      const v = syms[mid].value;
      if (v > vma) max = mid;
      else if (v < vma) min = mid;
      else { min = mid; break; }
    }
    let place = min;
    while (place > 0 && syms[place].value === syms[place - 1].value) place--;
    // Prefer a symbol of the section being disassembled among those at that value.
    let i = place;
    while (i < max && syms[i].value === syms[place].value) {
      if (this.ok(true, i, section)) return i;
      i++;
    }
    if (!this.ok(requireSection, place, section)) {
      let found = -1;
      for (let j = i - 1; j >= 0; j--) {
        if (!this.ok(requireSection, j, section)) continue;
        if (found === -1) found = j;
        if (syms[j].value !== syms[found].value) break;
        found = j;
      }
      if (found !== -1) {
        place = found;
      } else {
        for (let j = place + 1; j < n; j++) {
          if (this.ok(requireSection, j, section)) { place = j; break; }
        }
      }
      if (!this.ok(requireSection, place, section)) return -1;
    }
    return place;
  }

  /** sym_ok: in the wanted section (when asked) and nameable. */
  ok(wantSection: boolean, i: number, section: string): boolean {
    const s = this.sorted[i];
    if (wantSection && s.section !== section) return false;
    return nameable(s);
  }

  /** is_valid_next_sym: the next symbol that starts a new block of the listing. */
  nextAfter(place: number, section: string): number {
    const cur = this.sorted[place];
    for (let i = place; i < this.sorted.length; i++) {
      const s = this.sorted[i];
      if (s.section === section && s.value > cur.value && nameable(s)) return i;
    }
    return -1;
  }

  /** The text objdump puts between `<` and `>` for `vma` (a symbol or the section, ± offset). */
  label(vma: number, index: number, section: { name: string; addr: number }): string {
    vma >>>= 0;
    if (index < 0) return section.name + offset(vma, section.addr >>> 0);
    const s = this.sorted[index];
    return s.name + offset(vma, s.value);
  }
}

function offset(vma: number, base: number): string {
  if (vma === base) return '';
  return vma > base ? `+0x${(vma - base).toString(16)}` : `-0x${(base - vma).toString(16)}`;
}
