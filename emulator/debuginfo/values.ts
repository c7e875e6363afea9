import type { Location } from './dwarfExpression';
import { CType, sizeOf, strip } from './dwarfTypes';

/**
 * A frame as variables are read in it: its registers (as the unwinder restored them for a caller
 * frame), its CFA, and guest RAM. `read` never touches a device.
 */
export interface FrameContext {
  pc: number;
  /** pc is a return address (a caller frame): scopes and location lists look at pc - 1. */
  callSite: boolean;
  regs: ArrayLike<number>;
  /** Registers the unwinder could not restore for this frame (undefined: all are known). */
  known?: (reg: number) => boolean;
  cfa?: number;
  read(addr: number, len: number): Uint8Array | undefined;
}

/**
 * A value read from the guest: its type, where it is (an address when it is in memory) and its
 * bytes. `bytes` is undefined when it is optimized out; `missing` marks bytes of a partly
 * optimized-out value; `error` says why memory could not be read.
 */
export interface Value {
  type: CType;
  address?: number;
  bytes?: Uint8Array;
  missing?: boolean[];
  error?: string;
  /** Where a register-held value lives (for setVariable). */
  register?: number;
}

const hex = (a: number) => '0x' + (a >>> 0).toString(16);

/** Reads `type`'s bytes at `loc` in `frame`. */
export function readValue(type: CType, loc: Location, frame: FrameContext): Value {
  const size = sizeOf(type);
  switch (loc.kind) {
    case 'optimized': return { type };
    case 'memory': return memoryValue(type, loc.address >>> 0, frame);
    case 'register': {
      if (frame.known && !frame.known(loc.reg)) return { type };
      if (loc.reg >= 32) return { type }; // F/D registers: this core has none
      const v = frame.regs[loc.reg] >>> 0;
      const bytes = new Uint8Array(Math.max(size, 0));
      for (let i = 0; i < bytes.length && i < 4; i++) bytes[i] = (v >>> (8 * i)) & 0xff;
      return { type, bytes, register: loc.reg };
    }
    case 'value': {
      const bytes = new Uint8Array(size);
      bytes.set(loc.bytes.subarray(0, size));
      return { type, bytes };
    }
    case 'pieces': {
      const bytes = new Uint8Array(size);
      const missing: boolean[] = new Array(size).fill(false);
      let bit = 0;
      for (const p of loc.pieces) {
        const part = p.loc.kind === 'memory' || p.loc.kind === 'register' || p.loc.kind === 'value' ? readValue({ kind: 'base', name: '', size: Math.ceil((p.bits + p.bitOffset) / 8), encoding: 7 }, p.loc, frame) : undefined;
        for (let b = 0; b < p.bits; b++) {
          const at = bit + b;
          if (at >= size * 8) break;
          const src = p.bitOffset + b;
          if (!part?.bytes || part.error) missing[at >> 3] = true;
          else if ((part.bytes[src >> 3] >> (src & 7)) & 1) bytes[at >> 3] |= 1 << (at & 7);
        }
        bit += p.bits;
      }
      for (let i = Math.ceil(bit / 8); i < size; i++) missing[i] = true;
      if (missing.every((m) => m)) return { type };
      return missing.some((m) => m) ? { type, bytes, missing } : { type, bytes };
    }
  }
}

export function memoryValue(type: CType, address: number, frame: FrameContext): Value {
  const size = sizeOf(type);
  const s = strip(type);
  // A function or an array of unknown size has no bytes to read (printed by address).
  if (s.kind === 'function' || (s.kind === 'array' && s.count === undefined)) return { type, address, bytes: new Uint8Array(0) };
  const bytes = frame.read(address, size);
  if (!bytes) return { type, address, error: `Cannot access memory at address ${hex(firstUnreadable(frame, address, size))}` };
  return { type, address, bytes };
}

function firstUnreadable(frame: FrameContext, address: number, size: number): number {
  for (let i = 0; i < size; i++) if (!frame.read(address + i, 1)) return address + i;
  return address;
}

/** The value's bytes as an unsigned little-endian integer (up to 8 bytes), or undefined. */
export function bigValue(v: Value, offset = 0, size = sizeOf(v.type)): bigint | undefined {
  if (!v.bytes || v.bytes.length < offset + size) return undefined;
  let r = 0n;
  for (let i = size - 1; i >= 0; i--) r = (r << 8n) | BigInt(v.bytes[offset + i]);
  return r;
}

/** A part of a value (a member, an element): its own bytes, address and availability. */
export function subValue(v: Value, type: CType, offset: number): Value {
  const size = sizeOf(type);
  const out: Value = { type };
  if (v.address !== undefined) out.address = v.address + offset;
  if (v.error) {
    out.error = v.error;
    return out;
  }
  if (!v.bytes) return out;
  if (v.missing && v.missing.slice(offset, offset + size).every((m) => m)) return out;
  out.bytes = v.bytes.subarray(offset, offset + size);
  if (v.missing) {
    const m = v.missing.slice(offset, offset + size);
    if (m.some((x) => x)) out.missing = m;
  }
  return out;
}
