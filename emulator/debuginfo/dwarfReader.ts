import { RewindError } from '../errors';
import { ElfImage } from './elf';

/** Throws the one error a malformed debug section produces (see STYLE.md, Errors). */
export function invalid(message: string): never {
  throw new RewindError('DEBUGINFO_INVALID', message);
}

export const hex = (n: number): string => '0x' + (n >>> 0).toString(16);

const SHT_NOBITS = 8;

/**
 * The bytes of section `name`, or undefined when the ELF has no such section. A header pointing
 * outside the file is reported rather than silently shortened: a truncated debug section would
 * otherwise give plausible but wrong answers.
 */
export function sectionBytes(elf: ElfImage, name: string): Uint8Array | undefined {
  const s = elf.sections.find((x) => x.name === name);
  if (!s || s.type === SHT_NOBITS) return undefined;
  if (s.offset + s.size > elf.bytes.length) invalid(`${name}: section (${s.size} bytes at file offset ${hex(s.offset)}) extends past the end of the file`);
  return elf.bytes.subarray(s.offset, s.offset + s.size);
}

const utf8 = new TextDecoder('utf-8');

/**
 * A bounds-checked little-endian cursor over one DWARF section. Every read past `end` becomes a
 * DEBUGINFO_INVALID error naming the section and offset, so corrupt input never reaches a
 * RangeError or an unbounded loop.
 */
export class DwarfReader {
  private readonly dv: DataView;

  constructor(readonly bytes: Uint8Array, readonly section: string, public pos = 0, readonly end = bytes.length) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (end > bytes.length || pos > end) this.fail(`range ${hex(pos)}..${hex(end)} lies outside the section (${bytes.length} bytes)`);
  }

  fail(message: string): never {
    invalid(`${this.section} at offset ${hex(this.pos)}: ${message}`);
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number): number {
    const at = this.pos;
    if (n < 0 || at + n > this.end) this.fail(`truncated (needs ${n} more bytes, ${this.end - at} left)`);
    this.pos = at + n;
    return at;
  }

  u8(): number {
    return this.bytes[this.need(1)];
  }
  u16(): number {
    return this.dv.getUint16(this.need(2), true);
  }
  u24(): number {
    const at = this.need(3);
    return this.bytes[at] | (this.bytes[at + 1] << 8) | (this.bytes[at + 2] << 16);
  }
  u32(): number {
    return this.dv.getUint32(this.need(4), true);
  }
  /** A 64-bit value as a number; only exact below 2^53, which every RV32 address and offset is. */
  u64(): number {
    const at = this.need(8);
    return this.dv.getUint32(at, true) + this.dv.getUint32(at + 4, true) * 0x1_0000_0000;
  }
  i8(): number {
    return this.dv.getInt8(this.need(1));
  }
  i16(): number {
    return this.dv.getInt16(this.need(2), true);
  }
  i32(): number {
    return this.dv.getInt32(this.need(4), true);
  }
  i64(): number {
    const at = this.need(8);
    return this.dv.getUint32(at, true) + this.dv.getInt32(at + 4, true) * 0x1_0000_0000;
  }

  /** Unsigned LEB128. Values past 2^53 lose precision but never loop: at most 10 bytes are read. */
  uleb(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      const b = this.u8();
      if (i < 10) result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return result;
      if (i > 16) this.fail('LEB128 number longer than 16 bytes');
    }
  }

  sleb(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      const b = this.u8();
      if (i < 10) result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return (b & 0x40) !== 0 && i < 10 ? result - scale : result;
      if (i > 16) this.fail('LEB128 number longer than 16 bytes');
    }
  }

  /** An unsigned value of `size` bytes (an address or a section offset). */
  sized(size: number): number {
    switch (size) {
      case 1: return this.u8();
      case 2: return this.u16();
      case 4: return this.u32();
      case 8: return this.u64();
      default: return this.fail(`unsupported field size ${size}`);
    }
  }

  bytesOf(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }

  skip(n: number): void {
    this.need(n);
  }

  /** A NUL-terminated string (DW_FORM_string and the v2–v4 line-table tables). */
  cstr(): string {
    const start = this.pos;
    let p = start;
    while (p < this.end && this.bytes[p] !== 0) p++;
    if (p >= this.end) this.fail('unterminated string');
    this.pos = p + 1;
    return utf8.decode(this.bytes.subarray(start, p));
  }

  /**
   * A unit's initial length: 32-bit DWARF, or 64-bit after the 0xffffffff escape. Returns the
   * offset size the rest of the unit uses and where the unit ends.
   */
  initialLength(): { offsetSize: 4 | 8; end: number } {
    let len = this.u32();
    let offsetSize: 4 | 8 = 4;
    if (len === 0xffffffff) {
      len = this.u64();
      offsetSize = 8;
    } else if (len >= 0xfffffff0) {
      this.fail(`reserved unit length ${hex(len)}`);
    }
    const end = this.pos + len;
    if (end > this.end) this.fail(`unit length ${len} runs past the end of the section (${this.end - this.pos} bytes left)`);
    return { offsetSize, end };
  }
}

/** A NUL-terminated string at `offset` in a string section (.debug_str, .debug_line_str). */
export function stringAt(section: Uint8Array | undefined, name: string, offset: number): string {
  if (!section) invalid(`a string refers to ${name}, which the ELF does not have`);
  if (offset >= section.length) invalid(`${name}: string offset ${hex(offset)} is past the end of the section (${section.length} bytes)`);
  return new DwarfReader(section, name, offset).cstr();
}
