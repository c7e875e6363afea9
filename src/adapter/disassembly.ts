import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugInfo } from '../../emulator/debuginfo/debugInfo';
import { disassemble } from '../../emulator/debuginfo/disasm';
import type { Machine } from '../../emulator/machine/machine';
import { hex } from './breakpoints';
import type { SourceFiles } from './sourceFiles';

/**
 * The Disassembly view's instructions: exactly `count` of them, starting `index` instructions
 * away from `base` (negative: before it). RISC-V instructions are 2 or 4 bytes, so walking
 * backwards needs a known boundary: decoding starts at the enclosing function (or further back)
 * and runs forward. Addresses with no memory are padded with invalid entries.
 */
export function disassembleAround(m: Machine, info: DebugInfo, sources: SourceFiles, base: number, index: number, count: number): DebugProtocol.DisassembledInstruction[] {
  base >>>= 0;
  const before = index < 0 ? -index : 0;
  // Instruction starts up to base, from a sync point far enough back to have `before` of them.
  let upTo: number[] = [];
  for (let back = 64 + before * 4; ; back *= 2) {
    const from = syncPoint(info, Math.max(0, base - back));
    upTo = walk(m, from, base + 1, 1 << 22);
    if (upTo.filter((a) => a < base).length > before || from === 0 || back > 1 << 22) break;
  }
  const p0 = upTo.length ? upTo[upTo.length - 1] : base & ~1;
  const addrs: (number | undefined)[] = [];
  if (index >= 0) {
    const fwd = walk(m, p0, Infinity, index + count);
    addrs.push(...fwd.slice(index));
  } else {
    const earlier = upTo.filter((a) => a < p0);
    const got = earlier.slice(Math.max(0, earlier.length - before));
    for (let i = got.length; i < before; i++) addrs.push(undefined); // nothing known that far back
    addrs.push(...got, ...walk(m, p0, Infinity, Math.max(0, count - before)));
  }
  const out: DebugProtocol.DisassembledInstruction[] = [];
  let lastLoc: string | undefined;
  const firstKnown = addrs.find((a) => a !== undefined) ?? p0;
  addrs.slice(0, count).forEach((a, i) => {
    if (a === undefined) out.push(invalid((firstKnown - 2 * (addrs.indexOf(firstKnown) - i)) >>> 0));
    else out.push(describe(m, info, sources, a, lastLoc, (l) => { lastLoc = l; }));
  });
  let pad = out.length ? Number(out[out.length - 1].address) + 2 : p0;
  while (out.length < count) {
    out.push(invalid(pad >>> 0));
    pad += 2;
  }
  return out;
}

/** A known instruction boundary at or before `addr`: the start of its function, else addr itself. */
function syncPoint(info: DebugInfo, addr: number): number {
  const fn = info.functionAt(addr);
  return fn ? fn.address : addr & ~1;
}

function length(m: Machine, a: number): number | undefined {
  const lo = m.bus.fetch16(a);
  if (lo < 0) return undefined;
  return (lo & 3) === 3 ? 4 : 2;
}

/** Instruction starts from `from`, below `limit`, at most `max`; through unmapped memory in 2-byte steps. */
function walk(m: Machine, from: number, limit: number, max: number): number[] {
  const out: number[] = [];
  let a = from >>> 0;
  while (a < limit && out.length < max && a <= 0xfffffffe) {
    out.push(a);
    a += length(m, a) ?? 2;
  }
  return out;
}

function invalid(address: number): DebugProtocol.DisassembledInstruction {
  return { address: hex(address), instruction: '(no memory)', presentationHint: 'invalid' };
}

function describe(m: Machine, info: DebugInfo, sources: SourceFiles, a: number, lastLoc: string | undefined, setLoc: (l: string) => void): DebugProtocol.DisassembledInstruction {
  const len = length(m, a);
  if (len === undefined) return invalid(a);
  const lo = m.bus.peek(a, 2);
  const word = len === 4 ? (lo | (m.bus.peek(a + 2, 2) << 16)) >>> 0 : lo;
  const d = disassemble(word, a, { symbolize: (t) => info.symbols.describe(t) });
  const bytes = len === 4 ? word.toString(16).padStart(8, '0') : lo.toString(16).padStart(4, '0');
  const fn = info.functionAt(a);
  const loc = info.sourceLineAt(a);
  const out: DebugProtocol.DisassembledInstruction = {
    address: hex(a), instructionBytes: bytes, instruction: d.text.replace('\t', ' '),
    ...(fn ? { symbol: fn.offset === 0 ? fn.name : `${fn.name}+${fn.offset}` } : {}),
    ...(d.illegal ? { presentationHint: 'invalid' as const } : {}),
  };
  if (loc) {
    const key = `${loc.file}:${loc.line}`;
    if (key !== lastLoc) {
      out.location = sources.source(loc.file);
      out.line = loc.line;
      setLoc(key);
    }
  }
  return out;
}
