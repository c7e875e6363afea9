/**
 * What the listing needs from an ELF beyond emulator/debuginfo/elf.ts: which sections hold code
 * (sh_flags is not kept there), the section bytes, and what the file declares in its
 * `.riscv.attributes` section: the ISA (Tag_RISCV_arch), which objdump uses to decide what to
 * decode, and the privileged spec (Tag_RISCV_priv_spec*), which decides the CSR names.
 */
import type { ElfImage } from './elf';
import { DEFAULT_PRIV_SPEC, PrivSpec, privSpecFromAttribute } from './disasmCsr';
import { DisasmIsa, OBJDUMP_DEFAULT_ISA, parseIsa } from './disasmIsa';

const SHF_EXECINSTR = 0x4;
const SHT_NOBITS = 8;
const SHT_RISCV_ATTRIBUTES = 0x70000003;
const TAG_FILE = 1;
const TAG_RISCV_ARCH = 5;
const TAG_RISCV_PRIV_SPEC = 8;
const TAG_RISCV_PRIV_SPEC_MINOR = 10;
const TAG_RISCV_PRIV_SPEC_REVISION = 12;

export interface CodeSection {
  name: string;
  addr: number;
  size: number;
  data: Uint8Array;
}

/** Sections objdump -d disassembles: executable, with contents, not empty; in file order. */
export function codeSections(elf: ElfImage): CodeSection[] {
  const b = elf.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shoff = dv.getUint32(32, true);
  const shentsize = dv.getUint16(46, true);
  const out: CodeSection[] = [];
  elf.sections.forEach((s, i) => {
    const hdr = shoff + i * shentsize;
    if (hdr + 12 > b.length) return;
    const flags = dv.getUint32(hdr + 8, true);
    if ((flags & SHF_EXECINSTR) === 0 || s.type === SHT_NOBITS || s.size === 0) return;
    if (s.offset + s.size > b.length) return;
    out.push({ name: s.name, addr: s.addr >>> 0, size: s.size, data: b.subarray(s.offset, s.offset + s.size) });
  });
  return out;
}

/** The ISA objdump decodes for this file: Tag_RISCV_arch, else its default (rv64gc). */
export function elfIsa(elf: ElfImage): DisasmIsa {
  const arch = riscvAttributes(elf).get(TAG_RISCV_ARCH);
  return (typeof arch === 'string' ? parseIsa(arch) : undefined) ?? OBJDUMP_DEFAULT_ISA;
}

/** The privileged spec the file declares, else objdump's default (the newest). */
export function elfPrivSpec(elf: ElfImage): PrivSpec {
  const a = riscvAttributes(elf);
  const num = (tag: number) => { const v = a.get(tag); return typeof v === 'number' ? v : 0; };
  return privSpecFromAttribute(num(TAG_RISCV_PRIV_SPEC), num(TAG_RISCV_PRIV_SPEC_MINOR), num(TAG_RISCV_PRIV_SPEC_REVISION)) ?? DEFAULT_PRIV_SPEC;
}

/**
 * The File-scope attributes of the build-attributes section: 'A', then per vendor a
 * length-prefixed subsection named "riscv"; odd tags are strings, even ones ULEB128 numbers
 * (the psABI's rule for RISC-V attributes). A malformed section yields what was read so far.
 */
export function riscvAttributes(elf: ElfImage): Map<number, string | number> {
  const attrs = new Map<number, string | number>();
  const sec = elf.sections.find((s) => s.type === SHT_RISCV_ATTRIBUTES);
  if (!sec || sec.offset + sec.size > elf.bytes.length || sec.size < 1) return attrs;
  const b = elf.bytes.subarray(sec.offset, sec.offset + sec.size);
  if (b[0] !== 0x41) return attrs;
  const u32 = (o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  const cstr = (o: number): [string, number] => {
    let e = o;
    while (e < b.length && b[e] !== 0) e++;
    return [Buffer.from(b.subarray(o, e)).toString('latin1'), e + 1];
  };
  const uleb = (o: number): [number, number] => {
    let v = 0, shift = 0;
    while (o < b.length) {
      const x = b[o++];
      v += (x & 0x7f) * 2 ** shift;
      shift += 7;
      if ((x & 0x80) === 0) break;
    }
    return [v, o];
  };
  let p = 1;
  while (p + 4 <= b.length) {
    const len = u32(p);
    if (len < 5) break;
    const end = Math.min(b.length, p + len);
    const [vendor, q0] = cstr(p + 4);
    let q = q0;
    while (vendor === 'riscv' && q + 5 <= end) {
      const [tag, r] = uleb(q);
      const subEnd = Math.min(end, q + u32(r));
      if (subEnd <= q) break;
      let a = r + 4;
      while (tag === TAG_FILE && a < subEnd) {
        const [t, a1] = uleb(a);
        const [v, a2] = t % 2 === 1 ? cstr(a1) : uleb(a1);
        attrs.set(t, v);
        a = a2;
      }
      q = subEnd;
    }
    p = end;
  }
  return attrs;
}
