import { RewindError } from '../errors';

/** Where a value lives, as a DWARF location description says (DWARF 5 section 2.6). */
export type Location =
  | { kind: 'memory'; address: number }
  | { kind: 'register'; reg: number }
  /** The value itself (DW_OP_stack_value, DW_OP_implicit_value, DW_AT_const_value). */
  | { kind: 'value'; bytes: Uint8Array }
  | { kind: 'pieces'; pieces: { loc: Location; bits: number; bitOffset: number }[] }
  /** No location here: gdb's `<optimized out>`. */
  | { kind: 'optimized' };

export interface ExprContext {
  /** A register of this frame; undefined when the unwinder does not know it. */
  reg(n: number): number | undefined;
  /** Guest memory (RAM), little-endian; undefined where there is none. */
  read(addr: number, size: number): number | undefined;
  cfa(): number | undefined;
  /** DW_AT_frame_base of the function, evaluated. */
  frameBase(): number | undefined;
  /** DW_OP_entry_value: the expression's value on entry to the function, if the call site says. */
  entryValue(expr: Uint8Array): number | undefined;
}

/** A value the expression needs cannot be had: the variable shows as optimized out. */
class Unavailable extends Error {}

const U32 = 0x100000000;
const u32 = (v: number): number => ((v % U32) + U32) % U32;
const s32 = (v: number): number => u32(v) | 0;

class Cursor {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  get end(): boolean { return this.pos >= this.b.length; }
  u8(): number {
    if (this.pos >= this.b.length) throw new RewindError('DEBUGINFO_INVALID', 'a DWARF location expression is cut short');
    return this.b[this.pos++];
  }
  n(size: number, signed = false): number {
    let v = 0;
    for (let i = 0; i < size; i++) v += this.u8() * 2 ** (8 * i);
    if (signed && v >= 2 ** (8 * size - 1)) v -= 2 ** (8 * size);
    return v;
  }
  uleb(): number {
    let v = 0, s = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * s;
      if (!(b & 0x80)) return v;
      s *= 128;
      if (s > 2 ** 63) throw new RewindError('DEBUGINFO_INVALID', 'an over-long number in a DWARF location expression');
    }
  }
  sleb(): number {
    let v = 0, s = 1, b;
    do {
      b = this.u8();
      v += (b & 0x7f) * s;
      s *= 128;
      if (s > 2 ** 63) throw new RewindError('DEBUGINFO_INVALID', 'an over-long number in a DWARF location expression');
    } while (b & 0x80);
    return b & 0x40 ? v - s : v;
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.b.length) throw new RewindError('DEBUGINFO_INVALID', 'a DWARF location expression is cut short');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/**
 * Evaluates a DWARF expression as a location description: the stack machine of DWARF 5
 * section 2.5 on RV32's 32-bit generic type, register and implicit locations, and pieces. What
 * GCC 12 writes at -O0 and -O2 for RISC-V; an operation it does not know is malformed input,
 * a value it cannot have (an unknown register, an entry value with no call site) is optimized
 * out, as gdb shows it.
 */
export function evaluateLocation(expr: Uint8Array, ctx: ExprContext): Location {
  if (expr.length === 0) return { kind: 'optimized' };
  try {
    return run(expr, ctx);
  } catch (e) {
    if (e instanceof Unavailable) return { kind: 'optimized' };
    throw e;
  }
}

/** Evaluates an expression for its value (DW_AT_frame_base, entry values, call site values). */
export function evaluateValue(expr: Uint8Array, ctx: ExprContext): number | undefined {
  const loc = evaluateLocation(expr, ctx);
  if (loc.kind === 'memory') return loc.address;
  if (loc.kind === 'register') return ctx.reg(loc.reg);
  if (loc.kind === 'value') return loc.bytes.length >= 4 ? (loc.bytes[0] | (loc.bytes[1] << 8) | (loc.bytes[2] << 16) | (loc.bytes[3] << 24)) >>> 0 : loc.bytes.reduce((v, b, i) => v + b * 2 ** (8 * i), 0);
  return undefined;
}

function run(expr: Uint8Array, ctx: ExprContext): Location {
  const c = new Cursor(expr);
  const st: number[] = [];
  const pieces: { loc: Location; bits: number; bitOffset: number }[] = [];
  let loc: Location | undefined; // a register or implicit location set by the last operation
  const pop = (): number => {
    const v = st.pop();
    if (v === undefined) throw new RewindError('DEBUGINFO_INVALID', 'a DWARF location expression pops an empty stack');
    return v;
  };
  const reg = (n: number): number => {
    const v = ctx.reg(n);
    if (v === undefined) throw new Unavailable();
    return v;
  };
  const read = (a: number, size: number): number => {
    const v = ctx.read(u32(a), size);
    if (v === undefined) throw new Unavailable();
    return v;
  };
  const bin = (f: (a: number, b: number) => number) => { const b = pop(), a = pop(); st.push(u32(f(a, b))); };
  let steps = 0;
  while (!c.end) {
    if (++steps > 10_000) throw new RewindError('DEBUGINFO_INVALID', 'a DWARF location expression does not end (a branch loops)');
    const op = c.u8();
    if (op >= 0x30 && op <= 0x4f) { st.push(op - 0x30); continue; }
    if (op >= 0x50 && op <= 0x6f) { loc = { kind: 'register', reg: op - 0x50 }; continue; }
    if (op >= 0x70 && op <= 0x8f) { st.push(u32(reg(op - 0x70) + c.sleb())); continue; }
    switch (op) {
      case 0x03: st.push(c.n(4)); break; // addr
      case 0x06: st.push(read(pop(), 4)); break; // deref
      case 0x08: st.push(c.n(1)); break;
      case 0x09: st.push(u32(c.n(1, true))); break;
      case 0x0a: st.push(c.n(2)); break;
      case 0x0b: st.push(u32(c.n(2, true))); break;
      case 0x0c: st.push(c.n(4)); break;
      case 0x0d: st.push(u32(c.n(4, true))); break;
      case 0x0e: st.push(u32(c.n(8))); break;
      case 0x0f: st.push(u32(c.n(8, true))); break;
      case 0x10: st.push(u32(c.uleb())); break;
      case 0x11: st.push(u32(c.sleb())); break;
      case 0x12: { const v = pop(); st.push(v, v); break; }
      case 0x13: pop(); break;
      case 0x14: { if (st.length < 2) pop(); st.push(st[st.length - 2]); break; }
      case 0x15: { const i = c.u8(); if (i >= st.length) pop(); st.push(st[st.length - 1 - i]); break; }
      case 0x16: { const b = pop(), a = pop(); st.push(b, a); break; }
      case 0x17: { const a = pop(), b = pop(), d = pop(); st.push(a, d, b); break; }
      case 0x19: { st.push(u32(Math.abs(s32(pop())))); break; }
      case 0x1a: bin((a, b) => (a & b) >>> 0); break;
      case 0x1b: bin((a, b) => { if (s32(b) === 0) throw new Unavailable(); return Math.trunc(s32(a) / s32(b)); }); break;
      case 0x1c: bin((a, b) => a - b); break;
      case 0x1d: bin((a, b) => { if (b === 0) throw new Unavailable(); return a % b; }); break;
      case 0x1e: bin((a, b) => Math.imul(a, b)); break;
      case 0x1f: st.push(u32(-pop())); break;
      case 0x20: st.push(u32(~pop())); break;
      case 0x21: bin((a, b) => (a | b) >>> 0); break;
      case 0x22: bin((a, b) => a + b); break;
      case 0x23: st.push(u32(pop() + c.uleb())); break;
      case 0x24: bin((a, b) => (b >= 32 ? 0 : a * 2 ** b)); break;
      case 0x25: bin((a, b) => (b >= 32 ? 0 : a >>> b)); break;
      case 0x26: bin((a, b) => s32(a) >> Math.min(31, b)); break;
      case 0x27: bin((a, b) => (a ^ b) >>> 0); break;
      case 0x28: { const off = c.n(2, true); if (pop() !== 0) c.pos += off; break; }
      case 0x29: bin((a, b) => +(a === b)); break;
      case 0x2a: bin((a, b) => +(s32(a) >= s32(b))); break;
      case 0x2b: bin((a, b) => +(s32(a) > s32(b))); break;
      case 0x2c: bin((a, b) => +(s32(a) <= s32(b))); break;
      case 0x2d: bin((a, b) => +(s32(a) < s32(b))); break;
      case 0x2e: bin((a, b) => +(a !== b)); break;
      case 0x2f: { const off = c.n(2, true); c.pos += off; break; }
      case 0x90: loc = { kind: 'register', reg: c.uleb() }; break; // regx
      case 0x91: { // fbreg
        const fb = ctx.frameBase();
        if (fb === undefined) throw new Unavailable();
        st.push(u32(fb + c.sleb()));
        break;
      }
      case 0x92: { const r = c.uleb(); st.push(u32(reg(r) + c.sleb())); break; }
      case 0x93: case 0x9d: { // piece, bit_piece
        const bits = op === 0x93 ? c.uleb() * 8 : c.uleb();
        const bitOffset = op === 0x9d ? c.uleb() : 0;
        const here: Location = loc ?? (st.length ? { kind: 'memory', address: pop() } : { kind: 'optimized' });
        pieces.push({ loc: here, bits, bitOffset });
        loc = undefined;
        st.length = 0;
        break;
      }
      case 0x94: { const size = c.u8(); st.push(read(pop(), size)); break; } // deref_size
      case 0x96: break; // nop
      case 0x9c: { const cfa = ctx.cfa(); if (cfa === undefined) throw new Unavailable(); st.push(cfa); break; }
      case 0x9e: { const n = c.uleb(); loc = { kind: 'value', bytes: c.bytes(n).slice() }; break; } // implicit_value
      case 0x9f: { // stack_value
        const v = pop();
        loc = { kind: 'value', bytes: Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24) };
        break;
      }
      case 0xa0: case 0xf2: { // implicit_pointer: a pointer to a value that has no address
        c.n(4); c.sleb();
        throw new Unavailable();
      }
      case 0xa3: case 0xf3: { // entry_value
        const n = c.uleb();
        const v = ctx.entryValue(c.bytes(n));
        if (v === undefined) throw new Unavailable();
        st.push(u32(v));
        break;
      }
      case 0xa4: { c.uleb(); const n = c.u8(); st.push(c.n(Math.min(n, 4))); c.pos += Math.max(0, n - 4); break; } // const_type
      case 0xa5: { const r = c.uleb(); c.uleb(); st.push(reg(r)); break; } // regval_type
      case 0xa6: { const size = c.u8(); c.uleb(); st.push(read(pop(), Math.min(size, 4))); break; } // deref_type
      case 0xa8: case 0xa9: c.uleb(); break; // convert, reinterpret: 32-bit values stay as they are
      case 0xfa: c.n(4); throw new Unavailable(); // GNU_parameter_ref
      default:
        throw new RewindError('DEBUGINFO_INVALID', `unknown DWARF expression operation 0x${op.toString(16)}`);
    }
  }
  if (pieces.length) return { kind: 'pieces', pieces };
  if (loc) return loc;
  if (!st.length) return { kind: 'optimized' };
  return { kind: 'memory', address: st[st.length - 1] };
}
