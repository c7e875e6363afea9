/**
 * Which instruction classes the disassembler decodes, from a RISC-V ISA string such as the
 * ELF's `Tag_RISCV_arch` attribute ("rv32i2p0_m2p0_a2p0_c2p0_zmmul1p0") or a `$xrv...` mapping
 * symbol. objdump prints an instruction of a class the ELF does not declare as `.4byte`/`.2byte`,
 * so a listing must know the classes to match it. Only the classes of RV32IMAC + Zicsr +
 * Zifencei (+ Zihintpause's `pause`) are decoded at all; F, D, V, B and the rest print as data.
 */
export interface DisasmIsa {
  m: boolean;
  /** Zmmul: the multiplies of M without the divides (implied by M). */
  zmmul: boolean;
  a: boolean;
  c: boolean;
  zicsr: boolean;
  zifencei: boolean;
  zihintpause: boolean;
}

/** Everything Rewind's hart implements: the default when there is no ELF to ask. */
export const RV32IMAC: Readonly<DisasmIsa> = Object.freeze({
  m: true, zmmul: true, a: true, c: true, zicsr: true, zifencei: true, zihintpause: false,
});

/**
 * objdump's default for an ELF without a `.riscv.attributes` section is "rv64gc": for the
 * classes decoded here that is IMAC + Zicsr + Zifencei.
 */
export const OBJDUMP_DEFAULT_ISA = RV32IMAC;

/**
 * Parses an ISA string the way binutils does for the classes above: single-letter extensions
 * after the base (each may carry a version, `2p0`), then `_`-separated multi-letter ones. The
 * implications binutils applies are kept: G is IMAFD + Zicsr + Zifencei, M implies Zmmul, and
 * I before version 2.1 still contains Zicsr and Zifencei (they were split out of it in 2.1).
 * Returns undefined for strings that are not RISC-V ISA strings.
 */
export function parseIsa(arch: string): DisasmIsa | undefined {
  const s = arch.toLowerCase();
  const m = /^rv(32|64|128)([ieg])(\d+(?:p\d+)?)?/.exec(s);
  if (!m) return undefined;
  const isa: DisasmIsa = { m: false, zmmul: false, a: false, c: false, zicsr: false, zifencei: false, zihintpause: false };
  const base = m[2];
  const iVersion = m[3] ?? '';
  const rest = s.slice(m[0].length);
  if (base === 'g') {
    Object.assign(isa, { m: true, a: true, zicsr: true, zifencei: true });
  } else if (base === 'i' && versionBelow21(iVersion)) {
    isa.zicsr = true;
    isa.zifencei = true;
  }
  for (const part of rest.split('_')) {
    if (/^[zsx]/.test(part)) {
      const name = /^([a-z]+?)(\d+(?:p\d+)?)?$/.exec(part)?.[1] ?? part;
      if (name === 'zicsr') isa.zicsr = true;
      else if (name === 'zifencei') isa.zifencei = true;
      else if (name === 'zmmul') isa.zmmul = true;
      else if (name === 'zihintpause') isa.zihintpause = true;
      continue;
    }
    // A run of single-letter extensions, each with an optional version: "m2p0a2p1c".
    for (const one of part.matchAll(/([a-y])(\d+(?:p\d+)?)?/g)) {
      if (one[1] === 'm') isa.m = true;
      else if (one[1] === 'a') isa.a = true;
      else if (one[1] === 'c') isa.c = true;
      else if (one[1] === 'g') Object.assign(isa, { m: true, a: true, zicsr: true, zifencei: true });
    }
  }
  if (isa.m) isa.zmmul = true;
  return isa;
}

/** An unversioned I is taken as binutils' default, 2.1. */
function versionBelow21(v: string): boolean {
  if (v === '') return false;
  const [major, minor = '0'] = v.split('p');
  return Number(major) < 2 || (Number(major) === 2 && Number(minor) < 1);
}
