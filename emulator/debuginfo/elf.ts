import { RewindError } from '../errors';

export interface ElfSegment {
  /** Physical load address (p_paddr), as QEMU's ELF loader uses for -kernel. */
  paddr: number;
  vaddr: number;
  data: Uint8Array;
  memSize: number;
  flags: number;
}

export interface ElfSection {
  name: string;
  type: number;
  /** SHF_*: 2 alloc, 4 execinstr. */
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** STT_* from st_info: 0 notype, 1 object, 2 func, 3 section, 4 file. */
  type: number;
  /** STB_* from st_info: 0 local, 1 global, 2 weak. */
  bind: number;
  shndx: number;
}

export interface ElfImage {
  entry: number;
  segments: ElfSegment[];
  sections: ElfSection[];
  symbols: ElfSymbol[];
  /** The raw file, so debug-info readers can slice sections out of it. */
  bytes: Uint8Array;
}

const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const EM_RISCV = 243;

const bad = (what: string, msg: string): never => {
  throw new RewindError('ELF_INVALID', `${what}: ${msg}`);
};

/**
 * Parses a little-endian ELF32 RISC-V executable. Every header field is bounds-checked so a
 * truncated or corrupted file gets a one-line RewindError, never a RangeError.
 */
export function parseElf(bytes: Uint8Array, what = 'ELF file'): ElfImage {
  if (bytes.length < 52) bad(what, `too short to be an ELF file (${bytes.length} bytes)`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) bad(what, 'not an ELF file (bad magic)');
  if (bytes[4] === 2) bad(what, 'is ELF64; Rewind runs RV32 programs (ELF32)');
  if (bytes[4] !== 1) bad(what, `unknown ELF class ${bytes[4]}`);
  if (bytes[5] !== 1) bad(what, 'is big-endian; RISC-V ELF files are little-endian');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const machine = u16(18);
  if (machine !== EM_RISCV) bad(what, `is for machine ${machine}, not RISC-V (243)`);
  const type = u16(16);
  if (type !== 2) bad(what, `is not an executable (e_type ${type}); link it first`);
  const entry = u32(24);
  const phoff = u32(28);
  const shoff = u32(32);
  const phentsize = u16(42);
  const phnum = u16(44);
  const shentsize = u16(46);
  const shnum = u16(48);
  const shstrndx = u16(50);
  const within = (off: number, len: number) => off >= 0 && len >= 0 && off + len <= bytes.length;

  if (phnum > 0 && (phentsize < 32 || !within(phoff, phentsize * phnum))) bad(what, 'program headers lie outside the file (truncated?)');
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (u32(o) !== PT_LOAD) continue;
    const offset = u32(o + 4), vaddr = u32(o + 8), paddr = u32(o + 12), filesz = u32(o + 16), memsz = u32(o + 20), flags = u32(o + 24);
    if (!within(offset, filesz)) bad(what, `segment ${i} (${filesz} bytes at file offset ${offset}) lies outside the file (truncated?)`);
    if (memsz < filesz) bad(what, `segment ${i} has p_memsz < p_filesz`);
    if (memsz === 0) continue;
    segments.push({ paddr, vaddr, data: bytes.subarray(offset, offset + filesz), memSize: memsz, flags });
  }
  if (segments.length === 0) bad(what, 'has no loadable segments');

  const sections: ElfSection[] = [];
  const symbols: ElfSymbol[] = [];
  if (shnum > 0 && shentsize >= 40 && within(shoff, shentsize * shnum)) {
    const raw = [];
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * shentsize;
      raw.push({ nameOff: u32(o), type: u32(o + 4), flags: u32(o + 8), addr: u32(o + 12), offset: u32(o + 16), size: u32(o + 20), link: u32(o + 24), entsize: u32(o + 36) });
    }
    const strAt = (tab: { offset: number; size: number } | undefined, off: number): string => {
      if (!tab || off >= tab.size || !within(tab.offset, tab.size)) return '';
      let end = tab.offset + off;
      const lim = tab.offset + tab.size;
      while (end < lim && bytes[end] !== 0) end++;
      return Buffer.from(bytes.subarray(tab.offset + off, end)).toString('latin1');
    };
    const shstr = raw[shstrndx];
    for (const s of raw) sections.push({ name: strAt(shstr, s.nameOff), type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size });
    const symtab = raw.find((s) => s.type === SHT_SYMTAB);
    if (symtab && within(symtab.offset, symtab.size)) {
      const strtab = raw[symtab.link];
      const n = Math.floor(symtab.size / 16);
      for (let i = 1; i < n; i++) {
        const o = symtab.offset + i * 16;
        const info = bytes[o + 12];
        symbols.push({ name: strAt(strtab, u32(o)), value: u32(o + 4), size: u32(o + 8), type: info & 15, bind: info >> 4, shndx: u16(o + 14) });
      }
    }
  }
  return { entry, segments, sections, symbols, bytes };
}

export function findSymbol(elf: ElfImage, name: string): ElfSymbol | undefined {
  return elf.symbols.find((s) => s.name === name);
}
