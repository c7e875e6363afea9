import { RewindError } from '../errors';
import { ABI_NAMES } from './disasm';
import { ATE } from './dwarfConstants';
import { Expr, parseExpression, TypeSpec } from './cExpression';
import { CType, isInteger, isSigned, sizeOf, strip, typeName, VOID } from './dwarfTypes';
import { memberValue } from './valueFormat';
import { bigValue, FrameContext, memoryValue, subValue, Value } from './values';

const fail = (msg: string): never => {
  throw new RewindError('EVAL', msg);
};

const base = (name: string, size: number, encoding: number): CType => ({ kind: 'base', name, size, encoding });
export const INT = base('int', 4, ATE.signed);
export const UINT = base('unsigned int', 4, ATE.unsigned);
const LONGLONG = base('long long', 8, ATE.signed);
const ULONGLONG = base('unsigned long long', 8, ATE.unsigned);
const CHAR = base('char', 1, ATE.signed_char);
const LONG = base('long', 4, ATE.signed);
const CODE_PTR: CType = { kind: 'pointer', size: 4, target: { kind: 'function', returns: VOID, params: [], variadic: true } };
const DATA_PTR: CType = { kind: 'pointer', size: 4, target: VOID };

/** What an expression can see: the frame's variables, globals, types, registers. */
export interface EvalEnv {
  frame: FrameContext;
  /** A variable by name as the frame sees it (locals, arguments, statics, globals), or a function. */
  variable(name: string): Value | undefined;
  /** A named type (typedef, `struct foo`, `unsigned int`, ...). */
  type(words: string[]): CType | undefined;
  isTypeName(name: string): boolean;
  /** Whether a name is an ELF symbol without debug info (for gdb's "unknown type" message). */
  isSymbol(name: string): boolean;
  /** `$name` beyond the integer registers (CSRs, say). */
  special?(name: string): number | undefined;
}

const BUILTIN: Record<string, CType> = {
  int: INT, 'signed int': INT, signed: INT, unsigned: UINT, 'unsigned int': UINT, char: CHAR, 'signed char': base('signed char', 1, ATE.signed_char),
  'unsigned char': base('unsigned char', 1, ATE.unsigned_char), short: base('short', 2, ATE.signed), 'short int': base('short', 2, ATE.signed),
  'unsigned short': base('unsigned short', 2, ATE.unsigned), 'unsigned short int': base('unsigned short', 2, ATE.unsigned), long: LONG, 'long int': LONG,
  'unsigned long': base('unsigned long', 4, ATE.unsigned), 'unsigned long int': base('unsigned long', 4, ATE.unsigned),
  'long long': LONGLONG, 'long long int': LONGLONG, 'unsigned long long': ULONGLONG, 'unsigned long long int': ULONGLONG, _Bool: base('_Bool', 1, ATE.boolean), void: VOID,
};

function bytesOf(n: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let u = BigInt.asUintN(size * 8, n);
  for (let i = 0; i < size; i++) { out[i] = Number(u & 0xffn); u >>= 8n; }
  return out;
}

export function scalar(type: CType, n: bigint): Value {
  return { type, bytes: bytesOf(n, Math.max(sizeOf(type), 1)) };
}

/** Evaluates a C expression in a frame; a value, or RewindError('EVAL') with gdb's wording. */
export function evaluate(src: string, env: EvalEnv): Value {
  return new Evaluator(env).eval(parseExpression(src, (n) => env.isTypeName(n)));
}

export class Evaluator {
  constructor(private readonly env: EvalEnv) {}

  resolveType(t: TypeSpec): CType {
    const words = t.base.filter((w) => w !== 'const' && w !== 'volatile');
    let ty = BUILTIN[words.join(' ')] ?? this.env.type(words);
    if (!ty) fail(words[0] === 'struct' || words[0] === 'union' || words[0] === 'enum' ? `No ${words[0]} type named ${words[1]}.` : `No symbol "${words.join(' ')}" in current context.`);
    for (let i = 0; i < t.pointers; i++) ty = { kind: 'pointer', size: 4, target: ty! };
    for (let i = t.arrays.length - 1; i >= 0; i--) ty = { kind: 'array', element: ty!, count: t.arrays[i] };
    return ty!;
  }

  private num(v: Value): bigint {
    const t = strip(v.type);
    if (v.error) fail(v.error + '.');
    if (!v.bytes || v.missing) fail('value has been optimized out');
    if (t.kind === 'array') {
      if (v.address === undefined) fail('Attempt to take address of value not located in memory.');
      return BigInt(v.address!);
    }
    if (t.kind === 'function') return BigInt(v.address ?? 0);
    if (t.kind === 'struct' || t.kind === 'union') fail('Argument to arithmetic operation not a number or boolean.');
    const raw = bigValue(v)!;
    const size = sizeOf(v.type);
    return isSigned(v.type) ? BigInt.asIntN(size * 8, raw) : raw;
  }

  private isPtr(v: Value): boolean {
    const k = strip(v.type).kind;
    return k === 'pointer' || k === 'array';
  }

  /** The pointed-to type of a pointer or array value. */
  private target(v: Value): CType {
    const t = strip(v.type);
    return t.kind === 'pointer' ? t.target : t.kind === 'array' ? t.element : VOID;
  }

  private deref(v: Value): Value {
    if (!this.isPtr(v)) fail('Attempt to take contents of a non-pointer value.');
    const target = this.target(v);
    if (strip(target).kind === 'void') fail('Attempt to take contents of a non-pointer value.');
    return memoryValue(target, Number(this.num(v) & 0xffffffffn), this.env.frame);
  }

  /** C's usual arithmetic conversions on two integer values: the result type. */
  private common(a: Value, b: Value): CType {
    const sa = sizeOf(a.type), sb = sizeOf(b.type);
    if (sa === 8 || sb === 8) return (sa === 8 && !isSigned(a.type)) || (sb === 8 && !isSigned(b.type)) ? ULONGLONG : LONGLONG;
    const ua = sa === 4 && !isSigned(a.type), ub = sb === 4 && !isSigned(b.type);
    return ua || ub ? UINT : INT;
  }

  eval(e: Expr): Value {
    switch (e.k) {
      case 'num': return scalar(e.long ? (e.unsigned ? ULONGLONG : LONGLONG) : e.unsigned || e.value > 0x7fffffffn ? UINT : INT, e.value);
      case 'char': return scalar(CHAR, BigInt(e.value));
      case 'str': return fail('Strings in expressions need the guest\'s memory: not supported.');
      case 'reg': return this.register(e.name);
      case 'id': {
        const v = this.env.variable(e.name);
        if (v) return v;
        if (this.env.isSymbol(e.name)) fail(`'${e.name}' has unknown type; cast it to its declared type`);
        return fail(`No symbol "${e.name}" in current context.`);
      }
      case 'member': {
        let v = this.eval(e.e);
        if (e.arrow) {
          if (!this.isPtr(v)) fail(`The -> operator needs a pointer: ${typeName(v.type)} is not one.`);
          v = this.deref(v);
        }
        const t = strip(v.type);
        if (t.kind !== 'struct' && t.kind !== 'union') fail(`Attempt to extract a component of a value that is not a structure${e.arrow ? ' pointer' : ''}.`);
        const found = this.findMember(v, e.name);
        if (!found) fail(`There is no member named ${e.name}.`);
        return found!;
      }
      case 'index': {
        const v = this.eval(e.e);
        const i = this.num(this.eval(e.i));
        const t = strip(v.type);
        if (t.kind === 'array' && v.address === undefined) {
          const es = sizeOf(t.element);
          if (i < 0n || (t.count !== undefined && i >= BigInt(t.count))) fail(`no such vector element`);
          return subValue(v, t.element, Number(i) * es);
        }
        if (!this.isPtr(v)) fail('cannot subscript something of type `' + typeName(v.type) + "'");
        const target = this.target(v);
        return memoryValue(target, Number((this.num(v) + i * BigInt(sizeOf(target))) & 0xffffffffn), this.env.frame);
      }
      case 'unary': return this.unary(e.op, e.e);
      case 'binary': return this.binary(e.op, e.a, e.b);
      case 'cond': return this.num(this.eval(e.c)) !== 0n ? this.eval(e.a) : this.eval(e.b);
      case 'cast': return this.cast(this.resolveType(e.type), this.eval(e.e));
      case 'sizeof': return scalar(UINT, BigInt(sizeOf(e.type ? this.resolveType(e.type) : this.eval(e.e!).type)));
    }
  }

  private findMember(v: Value, name: string): Value | undefined {
    const t = strip(v.type);
    if (t.kind !== 'struct' && t.kind !== 'union') return undefined;
    for (const m of t.members) {
      if (m.name === name) return memberValue(v, m);
      if (m.name === undefined) {
        // Anonymous struct or union members are searched through, as C does.
        const inner = this.findMember(memberValue(v, m), name);
        if (inner) return inner;
      }
    }
    return undefined;
  }

  private register(name: string): Value {
    const f = this.env.frame;
    const abi = ABI_NAMES.indexOf(name === 'fp' ? 's0' : name);
    const x = /^x([0-9]|[12][0-9]|3[01])$/.exec(name);
    const n = name === 'pc' ? -1 : abi >= 0 ? abi : x ? Number(x[1]) : undefined;
    if (n === undefined) {
      const s = this.env.special?.(name);
      if (s !== undefined) return scalar(LONG, BigInt(s | 0));
      return fail(`No register $${name}.`);
    }
    if (n >= 0 && f.known && !f.known(n)) return { type: LONG };
    const v = n < 0 ? f.pc >>> 0 : f.regs[n] >>> 0;
    // gdb's register types on RISC-V: pc and ra are code pointers, sp/gp/tp/fp data pointers.
    const type = n < 0 || n === 1 ? CODE_PTR : n === 2 || n === 3 || n === 4 || n === 8 ? DATA_PTR : LONG;
    return { ...scalar(type, BigInt(v)), ...(n > 0 ? { register: n } : {}) };
  }

  private unary(op: string, inner: Expr): Value {
    if (op === '&') {
      const v = this.eval(inner);
      if (v.address === undefined) fail('Attempt to take address of value not located in memory.');
      return scalar({ kind: 'pointer', size: 4, target: v.type }, BigInt(v.address!));
    }
    const v = this.eval(inner);
    if (op === '*') return this.deref(v);
    if (op === '!') return scalar(INT, this.num(v) === 0n ? 1n : 0n);
    if (!isInteger(v.type) && !(op === '+' && this.isPtr(v))) fail('Argument to arithmetic operation not a number or boolean.');
    const t = sizeOf(v.type) === 8 ? v.type : sizeOf(v.type) === 4 && !isSigned(v.type) ? UINT : INT;
    const n = this.num(v);
    return scalar(t, op === '-' ? -n : op === '~' ? ~n : n);
  }

  private binary(op: string, ae: Expr, be: Expr): Value {
    if (op === '&&') return scalar(INT, this.num(this.eval(ae)) !== 0n && this.num(this.eval(be)) !== 0n ? 1n : 0n);
    if (op === '||') return scalar(INT, this.num(this.eval(ae)) !== 0n || this.num(this.eval(be)) !== 0n ? 1n : 0n);
    const a = this.eval(ae), b = this.eval(be);
    const pa = this.isPtr(a), pb = this.isPtr(b);
    if ((op === '+' || op === '-') && (pa || pb)) {
      if (pa && pb) {
        if (op === '+') fail('Argument to arithmetic operation not a number or boolean.');
        const size = BigInt(Math.max(1, sizeOf(this.target(a))));
        return scalar(LONG, (this.num(a) - this.num(b)) / size);
      }
      const [p, i] = pa ? [a, b] : [b, a];
      const target = this.target(p);
      const delta = this.num(i) * BigInt(sizeOf(target));
      const ptr: CType = { kind: 'pointer', size: 4, target };
      return scalar(ptr, op === '+' ? this.num(p) + delta : this.num(p) - delta);
    }
    if (['==', '!=', '<', '>', '<=', '>='].includes(op)) {
      const unsigned = pa || pb || !isSigned(this.common(a, b));
      let x = this.num(a), y = this.num(b);
      if (unsigned) {
        const bits = sizeOf(this.common(a, b)) === 8 ? 64 : 32;
        x = BigInt.asUintN(bits, x);
        y = BigInt.asUintN(bits, y);
      }
      const r = op === '==' ? x === y : op === '!=' ? x !== y : op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
      return scalar(INT, r ? 1n : 0n);
    }
    if (!isInteger(a.type) || !isInteger(b.type)) fail('Argument to arithmetic operation not a number or boolean.');
    const t = op === '<<' || op === '>>' ? (sizeOf(a.type) === 8 ? a.type : sizeOf(a.type) === 4 && !isSigned(a.type) ? UINT : INT) : this.common(a, b);
    const bits = sizeOf(t) * 8;
    const conv = (n: bigint) => (isSigned(t) ? BigInt.asIntN(bits, n) : BigInt.asUintN(bits, n));
    const x = conv(this.num(a)), y = conv(this.num(b));
    switch (op) {
      case '+': return scalar(t, x + y);
      case '-': return scalar(t, x - y);
      case '*': return scalar(t, x * y);
      case '/': if (y === 0n) fail('Division by zero'); return scalar(t, x / y);
      case '%': if (y === 0n) fail('Division by zero'); return scalar(t, x % y);
      case '&': return scalar(t, x & y);
      case '|': return scalar(t, x | y);
      case '^': return scalar(t, x ^ y);
      case '<<': return scalar(t, y >= BigInt(bits) || y < 0n ? 0n : x << y);
      case '>>': return scalar(t, y >= BigInt(bits) || y < 0n ? (x < 0n ? -1n : 0n) : x >> y);
      default: return fail(`Unsupported operator ${op}.`);
    }
  }

  private cast(to: CType, v: Value): Value {
    const t = strip(to);
    const from = strip(v.type);
    if (t.kind === 'struct' || t.kind === 'union' || t.kind === 'array') {
      if (typeName(t) === typeName(from)) return { ...v, type: to };
      return fail(`Invalid cast.`);
    }
    if (t.kind === 'void') return { type: VOID, bytes: new Uint8Array(0) };
    if (from.kind === 'struct' || from.kind === 'union') fail('Invalid cast.');
    return scalar(to, this.num(v));
  }
}
