import { ATE } from './dwarfConstants';
import { CType, Member, sizeOf, strip, typeName } from './dwarfTypes';
import { bigValue, subValue, Value } from './values';

/** gdb's default print settings: `print elements 200`, `print repeats 10`. */
const ELEMENTS = 200;
const REPEATS = 10;

export interface FormatOptions {
  /** `print` (and a watch, a hover): a pointer at the top level shows its type, `(int *) 0x...`. */
  topLevel?: boolean;
  /** Names an address for `<sym+off>` (gdb's `print symbol`). */
  symbolize?(addr: number): string | undefined;
  /** Reads guest memory for the string a `char *` points to. */
  read?(addr: number, len: number): Uint8Array | undefined;
  hex?: boolean;
}

const hex = (a: number | bigint) => '0x' + a.toString(16);

/** How gdb shows a character: `'A'`, `'\n'`, `'\000'`, `'\377'`. */
export function charLiteral(c: number, quote = "'"): string {
  const esc: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 27: '\\033' };
  if (esc[c] !== undefined) return esc[c];
  if (c === 0x5c) return '\\\\';
  if (String.fromCharCode(c) === quote) return '\\' + quote;
  if (c >= 0x20 && c < 0x7f) return String.fromCharCode(c);
  return '\\' + c.toString(8).padStart(3, '0');
}

function isCharType(t: CType): boolean {
  const s = strip(t);
  return s.kind === 'base' && s.size === 1 && (s.encoding === ATE.signed_char || s.encoding === ATE.unsigned_char);
}

/**
 * Characters as gdb prints a char array or string: quoted runs, with a run of more than
 * `print repeats` equal characters as `'c' <repeats N times>`, joined by ", ", and `...`
 * after `print elements` characters.
 */
export function formatChars(chars: number[], truncated: boolean): string {
  const parts: string[] = [];
  let cur = '';
  let i = 0;
  let shown = 0;
  while (i < chars.length && shown < ELEMENTS) {
    let j = i;
    while (j < chars.length && chars[j] === chars[i]) j++;
    const run = j - i;
    if (run > REPEATS) {
      if (cur) { parts.push(`"${cur}"`); cur = ''; }
      parts.push(`'${charLiteral(chars[i])}' <repeats ${run} times>`);
      i = j;
      shown += REPEATS;
      continue;
    }
    cur += charLiteral(chars[i], '"');
    i++;
    shown++;
  }
  if (cur) parts.push(`"${cur}"`);
  let s = parts.join(', ');
  if (i < chars.length || truncated) s += '...';
  return s || '""';
}

/** A value as gdb prints it (`print`, `info locals`, MI values). */
export function formatValue(v: Value, opts: FormatOptions = {}): string {
  if (v.error) return `<error: ${v.error}>`;
  if (!v.bytes) return '<optimized out>';
  return body(v, opts, opts.topLevel ?? false);
}

function body(v: Value, opts: FormatOptions, top: boolean): string {
  if (v.error) return `<error: ${v.error}>`;
  if (!v.bytes || (v.missing && v.missing.every((m) => m))) return '<optimized out>';
  const t = strip(v.type);
  switch (t.kind) {
    case 'struct': case 'union': return aggregate(v, t.members, opts);
    case 'array': return array(v, t.element, t.count ?? 0, opts);
    case 'function': return `{${typeName(v.type)}} ${hex(v.address ?? 0)}${sym(v.address ?? 0, opts)}`;
    default: break;
  }
  if (v.missing && v.missing.some((m) => m)) return '<optimized out>';
  const size = sizeOf(v.type);
  const raw = bigValue(v, 0, size)!;
  switch (t.kind) {
    case 'pointer': {
      const a = Number(raw & 0xffffffffn);
      const target = strip(t.target);
      let s = hex(a);
      s += sym(a, opts, target.kind === 'function');
      if (isCharType(t.target) && opts.read && a !== 0) s += ' ' + cString(a, opts.read);
      return top && !isCharType(t.target) ? `(${typeName(v.type)}) ${s}` : s;
    }
    case 'enum': {
      const n = t.signed ? Number(BigInt.asIntN(size * 8, raw)) : Number(raw);
      const e = t.enumerators.find((x) => x.value === n);
      if (e) return e.name;
      return flagEnum(t.enumerators, n) ?? String(n);
    }
    case 'base': {
      if (t.encoding === ATE.boolean) return raw === 0n ? 'false' : raw === 1n ? 'true' : String(raw);
      if (t.encoding === ATE.float) return floatText(v.bytes, size);
      const signed = t.encoding === ATE.signed || t.encoding === ATE.signed_char;
      const n = signed ? BigInt.asIntN(size * 8, raw) : raw;
      if (opts.hex) return hex(raw);
      if (t.encoding === ATE.signed_char || t.encoding === ATE.unsigned_char) return `${n} '${charLiteral(Number(raw & 0xffn))}'`;
      return n.toString();
    }
    default: return '?';
  }
}

/** gdb's flag-enum rendering: `(A | B)`, `(A | unknown: 0x8)`, or undefined if not a flag enum. */
function flagEnum(es: { name: string; value: number }[], n: number): string | undefined {
  // A flag enum: every value is a disjoint bit mask (gdb also allows multi-bit fields, rarely used).
  const flags = es.every((e) => e.value >= 0) && es.every((e, i) => es.every((f, j) => i === j || (e.value & f.value) === 0));
  if (!flags || n < 0) return undefined;
  const names: string[] = [];
  let rest = n;
  for (const e of es) if (e.value !== 0 && (rest & e.value) === e.value) { names.push(e.name); rest &= ~e.value; }
  if (!names.length) return rest === 0 ? '0' : `(unknown: ${hex(rest)})`;
  return `(${names.join(' | ')}${rest ? ` | unknown: ${hex(rest)}` : ''})`;
}

function floatText(b: Uint8Array, size: number): string {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const x = size === 4 ? dv.getFloat32(0, true) : dv.getFloat64(0, true);
  if (Number.isNaN(x)) return 'nan(0x' + (size === 4 ? (dv.getUint32(0, true) & 0x7fffff).toString(16) : '0') + ')';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  return String(Number(x.toPrecision(size === 4 ? 9 : 17)));
}

function sym(a: number, opts: FormatOptions, code = false): string {
  const s = opts.symbolize?.(a);
  void code;
  return s ? ` <${s}>` : '';
}

/** The string a `char *` points to, as gdb prints it (at most 200 characters). */
function cString(a: number, read: (addr: number, len: number) => Uint8Array | undefined): string {
  const chars: number[] = [];
  for (let i = 0; i < ELEMENTS; i++) {
    const b = read(a + i, 1);
    if (!b) return chars.length ? formatChars(chars, false) + ' <error: Cannot access memory at address ' + hex(a + i) + '>' : `<error: Cannot access memory at address ${hex(a)}>`;
    if (b[0] === 0) return formatChars(chars, false);
    chars.push(b[0]);
  }
  return formatChars(chars, true);
}

function aggregate(v: Value, members: Member[], opts: FormatOptions): string {
  const parts = members.map((m) => {
    const val = memberValue(v, m);
    const text = body(val, opts, false);
    return m.name === undefined ? text : `${m.name} = ${text}`;
  });
  return `{${parts.join(', ')}}`;
}

/** A member of a struct or union value (a bitfield's bits extracted). */
export function memberValue(v: Value, m: Member): Value {
  if (m.bitSize === undefined) return subValue(v, m.type, m.offset);
  const size = sizeOf(m.type);
  const out: Value = { type: m.type };
  if (v.error) return { ...out, error: v.error };
  if (!v.bytes) return out;
  let n = 0n;
  for (let b = 0; b < m.bitSize; b++) {
    const at = (m.bitOffset ?? 0) + b;
    if (v.bytes[at >> 3] === undefined) return out;
    if (v.missing?.[at >> 3]) return out;
    if ((v.bytes[at >> 3] >> (at & 7)) & 1) n |= 1n << BigInt(b);
  }
  // A signed bitfield's top bit is its sign.
  const s = strip(m.type);
  const signed = s.kind === 'base' ? s.encoding === ATE.signed || s.encoding === ATE.signed_char : s.kind === 'enum' && s.signed;
  if (signed && m.bitSize > 0 && (n >> BigInt(m.bitSize - 1)) & 1n) n -= 1n << BigInt(m.bitSize);
  const bytes = new Uint8Array(size);
  let u = BigInt.asUintN(size * 8, n);
  for (let i = 0; i < size; i++) { bytes[i] = Number(u & 0xffn); u >>= 8n; }
  return { type: m.type, bytes };
}

function array(v: Value, element: CType, count: number, opts: FormatOptions): string {
  const es = sizeOf(element);
  if (isCharType(element) && !v.missing) {
    const chars = Array.from(v.bytes!.subarray(0, count));
    // gdb drops one terminating NUL of a char array (print null-stop off).
    const shown = chars.length && chars[chars.length - 1] === 0 ? chars.slice(0, -1) : chars;
    return formatChars(shown, false);
  }
  const texts: string[] = [];
  for (let i = 0; i < count; i++) texts.push(body(subValue(v, element, i * es), opts, false));
  // Runs of more than `print repeats` equal elements: `x <repeats N times>`.
  const parts: string[] = [];
  let i = 0;
  let shown = 0;
  while (i < texts.length && shown < ELEMENTS) {
    let j = i;
    while (j < texts.length && texts[j] === texts[i]) j++;
    if (j - i >= REPEATS) {
      parts.push(`${texts[i]} <repeats ${j - i} times>`);
      shown += REPEATS;
      i = j;
    } else {
      parts.push(texts[i]);
      shown++;
      i++;
    }
  }
  return `{${parts.join(', ')}${i < texts.length ? '...' : ''}}`;
}
