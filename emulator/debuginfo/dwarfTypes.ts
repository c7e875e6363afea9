import { AT, ATE, TAG } from './dwarfConstants';
import type { Die } from './dwarfDies';

/** A C type as the DWARF describes it: what values are read and printed with. */
export type CType =
  | { kind: 'void' }
  | { kind: 'base'; name: string; size: number; encoding: number }
  | { kind: 'pointer'; size: number; target: CType }
  | { kind: 'array'; element: CType; count?: number }
  | { kind: 'struct' | 'union'; name?: string; size: number; members: Member[]; incomplete?: boolean }
  | { kind: 'enum'; name?: string; size: number; signed: boolean; enumerators: { name: string; value: number }[] }
  | { kind: 'typedef'; name: string; target: CType }
  | { kind: 'qualified'; qualifier: 'const' | 'volatile' | 'restrict' | '_Atomic'; target: CType }
  | { kind: 'function'; returns: CType; params: CType[]; variadic: boolean };

export interface Member {
  name?: string;
  type: CType;
  /** Byte offset of the member's storage in the aggregate. */
  offset: number;
  /** Bitfields: width, and the first bit counted from the start of the aggregate (little-endian). */
  bitSize?: number;
  bitOffset?: number;
}

export const VOID: CType = { kind: 'void' };

/** The type with typedefs and qualifiers stripped: what decides how the bits read. */
export function strip(t: CType): CType {
  while (t.kind === 'typedef' || t.kind === 'qualified') t = t.target;
  return t;
}

export function sizeOf(t: CType): number {
  const s = strip(t);
  switch (s.kind) {
    case 'void': return 1; // gdb's sizeof(void), for pointer arithmetic on void *
    case 'base': case 'pointer': case 'struct': case 'union': case 'enum': return s.size;
    case 'array': return (s.count ?? 0) * sizeOf(s.element);
    case 'function': return 1;
    default: return 0;
  }
}

export function isSigned(t: CType): boolean {
  const s = strip(t);
  if (s.kind === 'enum') return s.signed;
  return s.kind === 'base' && (s.encoding === ATE.signed || s.encoding === ATE.signed_char);
}

export function isInteger(t: CType): boolean {
  const s = strip(t);
  return (s.kind === 'base' && s.encoding !== ATE.float && s.encoding !== ATE.complex_float) || s.kind === 'enum';
}

/**
 * The name gdb's `whatis` gives a type: `uint32_t`, `int *`, `int [8]`, `struct {...}`,
 * `const char *`, `void (*)(int)`.
 */
export function typeName(t: CType): string {
  return declarator(t, '').trim();
}

function baseName(t: CType): string {
  switch (t.kind) {
    case 'void': return 'void';
    case 'base': return t.name;
    case 'typedef': return t.name;
    case 'struct': case 'union': return `${t.kind} ${t.name ?? '{...}'}`;
    case 'enum': return `enum ${t.name ?? '{...}'}`;
    default: return '?';
  }
}

/** C declarator syntax around `inner` (gdb's spacing: `int *`, `char (*)[4]`, `int [3][4]`). */
function declarator(t: CType, inner: string): string {
  switch (t.kind) {
    case 'pointer': {
      const k = t.target.kind;
      return declarator(t.target, k === 'array' || k === 'function' ? `(*${inner})` : `*${inner}`);
    }
    case 'qualified':
      // gdb: `const char *` for a qualified pointee, `char * const` for a qualified pointer.
      if (t.target.kind === 'pointer') return declarator(t.target, ` ${t.qualifier}${inner}`);
      return `${t.qualifier} ${declarator(t.target, inner)}`;
    case 'array':
      return declarator(t.element, `${inner}[${t.count ?? ''}]`);
    case 'function': {
      const params = t.params.length ? t.params.map(typeName).join(', ') + (t.variadic ? ', ...' : '') : t.variadic ? '' : 'void';
      return declarator(t.returns, `${inner}(${params})`);
    }
    default: {
      const name = baseName(t);
      return inner ? `${name} ${inner.trimStart()}` : name;
    }
  }
}

/** Reads types from DIEs, each once (types refer to each other, in cycles too). */
export class TypeReader {
  private readonly cache = new Map<number, CType>();

  constructor(private readonly die: (offset: number) => Die | undefined) {}

  /** The type a DIE's DW_AT_type names (void when it has none). */
  typeOf(d: Die | undefined): CType {
    const ref = d?.attrs.get(AT.type)?.value;
    if (typeof ref !== 'number') return VOID;
    return this.read(ref);
  }

  read(offset: number): CType {
    const hit = this.cache.get(offset);
    if (hit) return hit;
    const d = this.die(offset);
    if (!d) return VOID;
    const name = str(d, AT.name);
    const size = num(d, AT.byte_size) ?? 0;
    switch (d.tag) {
      case TAG.base_type: return this.keep(offset, { kind: 'base', name: name ?? '?', size, encoding: num(d, AT.encoding) ?? ATE.signed });
      case TAG.unspecified_type: return this.keep(offset, VOID);
      case TAG.pointer_type: {
        const t: CType = { kind: 'pointer', size: size || 4, target: VOID };
        this.cache.set(offset, t);
        t.target = this.typeOf(d);
        return t;
      }
      case TAG.typedef: {
        const t: CType = { kind: 'typedef', name: name ?? '?', target: VOID };
        this.cache.set(offset, t);
        t.target = this.typeOf(d);
        return t;
      }
      case TAG.const_type: case TAG.volatile_type: case TAG.restrict_type: case TAG.atomic_type: {
        const q = d.tag === TAG.const_type ? 'const' : d.tag === TAG.volatile_type ? 'volatile' : d.tag === TAG.restrict_type ? 'restrict' : '_Atomic';
        const t: CType = { kind: 'qualified', qualifier: q, target: VOID };
        this.cache.set(offset, t);
        t.target = this.typeOf(d);
        return t;
      }
      case TAG.structure_type: case TAG.union_type: {
        const t: CType = { kind: d.tag === TAG.union_type ? 'union' : 'struct', name, size, members: [], ...(d.attrs.has(AT.declaration) ? { incomplete: true } : {}) };
        this.cache.set(offset, t);
        for (const c of d.children) if (c.tag === TAG.member) t.members.push(this.member(c, size));
        return t;
      }
      case TAG.enumeration_type: {
        const under = this.typeOf(d);
        const enumerators = d.children.filter((c) => c.tag === TAG.enumerator).map((c) => ({ name: str(c, AT.name) ?? '?', value: signedConst(c, AT.const_value) }));
        const signed = under.kind !== 'void' ? isSigned(under) : enumerators.some((e) => e.value < 0);
        return this.keep(offset, { kind: 'enum', name, size: size || 4, signed, enumerators });
      }
      case TAG.array_type: {
        const element = this.typeOf(d);
        const ranges = d.children.filter((c) => c.tag === TAG.subrange_type);
        // int a[2][3]: one array DIE, two subranges, outermost first.
        let t: CType = element;
        for (let i = ranges.length - 1; i >= 0; i--) t = { kind: 'array', element: t, count: subrangeCount(ranges[i]) };
        if (!ranges.length) t = { kind: 'array', element };
        return this.keep(offset, t);
      }
      case TAG.subroutine_type: {
        const t: CType = { kind: 'function', returns: VOID, params: [], variadic: false };
        this.cache.set(offset, t);
        t.returns = this.typeOf(d);
        for (const c of d.children) {
          if (c.tag === TAG.formal_parameter) t.params.push(this.typeOf(c));
          else if (c.tag === TAG.unspecified_parameters) t.variadic = true;
        }
        // An unprototyped `void f()` takes anything.
        if (!t.params.length && !d.attrs.has(AT.prototyped)) t.variadic = true;
        return t;
      }
      default: return this.keep(offset, VOID);
    }
  }

  private keep(offset: number, t: CType): CType {
    this.cache.set(offset, t);
    return t;
  }

  private member(c: Die, aggregateSize: number): Member {
    const type = this.typeOf(c);
    const m: Member = { name: str(c, AT.name), type, offset: 0 };
    const loc = c.attrs.get(AT.data_member_location)?.value;
    if (typeof loc === 'number') m.offset = loc;
    else if (loc instanceof Uint8Array && loc[0] === 0x23) m.offset = uleb(loc, 1); // DW_OP_plus_uconst (DWARF 2)
    const bits = num(c, AT.bit_size);
    if (bits !== undefined) {
      m.bitSize = bits;
      const dbo = num(c, AT.data_bit_offset);
      if (dbo !== undefined) {
        m.bitOffset = dbo;
      } else {
        // DWARF 2-3: DW_AT_bit_offset counts from the storage unit's most significant bit.
        const storage = (num(c, AT.byte_size) ?? sizeOf(type)) * 8;
        const bo = num(c, AT.bit_offset) ?? 0;
        m.bitOffset = m.offset * 8 + storage - bo - bits;
      }
      m.offset = Math.floor(m.bitOffset / 8);
    }
    void aggregateSize;
    return m;
  }
}

function subrangeCount(r: Die): number | undefined {
  const count = num(r, AT.count);
  if (count !== undefined) return count;
  const ub = r.attrs.get(AT.upper_bound);
  if (!ub || typeof ub.value !== 'number') return undefined;
  const lb = num(r, AT.lower_bound) ?? 0;
  // An upper bound of -1 (as data4/data8 all ones) is GCC's flexible array member.
  const hi = ub.value === 0xffffffff || ub.value >= 2 ** 52 ? -1 : ub.value;
  return hi < 0 ? 0 : hi - lb + 1;
}

export function str(d: Die, at: number): string | undefined {
  const v = d.attrs.get(at)?.value;
  return typeof v === 'string' ? v : undefined;
}

export function num(d: Die, at: number): number | undefined {
  const v = d.attrs.get(at)?.value;
  return typeof v === 'number' ? v : undefined;
}

/** A constant attribute as signed: sdata is already, dataN are sign-extended by their size. */
export function signedConst(d: Die, at: number): number {
  const a = d.attrs.get(at);
  if (!a || typeof a.value !== 'number') return 0;
  const bits: Record<number, number> = { 0x0b: 8, 0x05: 16, 0x06: 32 };
  const b = bits[a.form];
  if (b === undefined) return a.value;
  return a.value >= 2 ** (b - 1) ? a.value - 2 ** b : a.value;
}

function uleb(b: Uint8Array, i: number): number {
  let v = 0, s = 1;
  for (; i < b.length; i++) {
    v += (b[i] & 0x7f) * s;
    if (!(b[i] & 0x80)) break;
    s *= 128;
  }
  return v;
}
