import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Machine } from '../../emulator/machine/machine';
import { RAM_BASE } from '../../emulator/machine/bus';
import { RewindError } from '../../emulator/errors';
import { hex, parseAddress } from './breakpoints';

/** The most a single readMemory answers (the hex editor asks in pages). */
const MAX_READ = 1 << 20;

function base(ref: unknown, offset: unknown): number {
  const a = parseAddress(ref);
  if (a === undefined) throw new RewindError('BAD_REQUEST', `"${ref}" is not a memory reference`);
  const o = offset === undefined ? 0 : offset;
  if (typeof o !== 'number' || !Number.isInteger(o)) throw new RewindError('BAD_REQUEST', 'offset must be an integer');
  return a + o;
}

/** RAM and ROM as a debugger reads them (never a device); what has no memory is unreadable. */
export function readMemory(m: Machine, args: DebugProtocol.ReadMemoryArguments): DebugProtocol.ReadMemoryResponse['body'] {
  const start = base(args?.memoryReference, args?.offset);
  const count = args.count;
  if (!Number.isInteger(count) || count < 0) throw new RewindError('BAD_REQUEST', 'count must be a non-negative integer');
  const n = Math.min(count, MAX_READ, Math.max(0, 0x100000000 - start));
  if (start < 0) return { address: hex(0), unreadableBytes: count };
  const readable = (a: number) => m.bus.fetch16(a & ~1) >= 0 || (a >= RAM_BASE && a < RAM_BASE + m.ramBytes);
  let first = 0;
  while (first < n && !readable(start + first)) first++;
  if (first === n) return { address: hex(start), unreadableBytes: count };
  let len = 0;
  while (first + len < n && readable(start + first + len)) len++;
  const bytes = Buffer.alloc(len);
  for (let i = 0; i < len; i++) bytes[i] = m.bus.peek(start + first + i, 1);
  return { address: hex(start + first), data: bytes.toString('base64'), ...(first + len < count ? { unreadableBytes: count - first - len } : {}) };
}

export function writeMemory(args: DebugProtocol.WriteMemoryArguments, write: (addr: number, bytes: Uint8Array) => void): DebugProtocol.WriteMemoryResponse['body'] {
  const start = base(args?.memoryReference, args?.offset);
  if (typeof args.data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(args.data)) throw new RewindError('BAD_REQUEST', 'data must be base64');
  const bytes = Buffer.from(args.data, 'base64');
  write(start >>> 0, bytes);
  return { offset: 0, bytesWritten: bytes.length };
}
