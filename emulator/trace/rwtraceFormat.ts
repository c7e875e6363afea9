import { crc32 } from './crc32';

/**
 * The `.rwtrace` container, version 1: a file header, then a sequence of self-describing chunks,
 * each written with one append and protected by two CRCs. Nothing is ever rewritten, so a
 * recording killed at any moment leaves a file whose complete chunks are all valid; the reader
 * stops at the first incomplete or damaged one and says where.
 *
 *   file header (32 bytes)
 *     0  magic "RWTRACE\x1a"         8  u32 format version        12 u32 header size (32)
 *     16 f64 created (ms since epoch) 24 u32 reserved              28 u32 CRC-32 of bytes 0..28
 *   chunk header (48 bytes), then `length` payload bytes
 *     0  magic "RWCK"    4 u8 type   5 u8 flags   6 u16 reserved   8 u32 sequence number
 *     12 u32 length      16 f64 first icount      24 f64 last icount
 *     32 u32 first item  36 u32 item count        40 u32 payload CRC-32   44 u32 header CRC-32
 *
 * All integers little-endian. "Items" are whatever the chunk type holds (events, lock ops), and
 * the first-item / icount fields index them so readers answer window queries from headers alone.
 */
export const FILE_MAGIC = 'RWTRACE\x1a';
export const FORMAT_VERSION = 1;
export const FILE_HEADER_SIZE = 32;
export const CHUNK_MAGIC = 'RWCK';
export const CHUNK_HEADER_SIZE = 48;
/** Payloads larger than this are refused on write and taken as corruption on read. */
export const MAX_CHUNK_PAYLOAD = 256 * 1024 * 1024;

export const enum ChunkType {
  /** JSON: guest ELF hash and path, machine configuration, Rewind version, command line. */
  META = 1,
  EVENTS = 2,
  LOCKS = 3,
  SNAPSHOT = 4,
  /** Divergence and lock-rule violation marks. */
  MARKS = 5,
  /** Written last by a clean close. */
  END = 6,
}

export const CHUNK_TYPE_NAMES: Record<number, string> = { 1: 'meta', 2: 'events', 3: 'locks', 4: 'snapshot', 5: 'marks', 6: 'end' };

export interface ChunkInfo {
  type: number;
  flags: number;
  sequence: number;
  /** Offset of the chunk header in the file. */
  offset: number;
  length: number;
  firstIcount: number;
  lastIcount: number;
  firstItem: number;
  itemCount: number;
  payloadCrc: number;
}

export function encodeFileHeader(createdMs: number): Uint8Array {
  const b = new Uint8Array(FILE_HEADER_SIZE);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 8; i++) b[i] = FILE_MAGIC.charCodeAt(i);
  dv.setUint32(8, FORMAT_VERSION, true);
  dv.setUint32(12, FILE_HEADER_SIZE, true);
  dv.setFloat64(16, createdMs, true);
  dv.setUint32(28, crc32(b, 0, 28), true);
  return b;
}

/** Returns the creation time, or a one-line reason why these bytes are not a v1 header. */
export function decodeFileHeader(b: Uint8Array): { createdMs: number } | string {
  if (b.length < FILE_HEADER_SIZE) return `too short for a .rwtrace header (${b.length} bytes)`;
  for (let i = 0; i < 8; i++) if (b[i] !== FILE_MAGIC.charCodeAt(i)) return 'not a .rwtrace file (bad magic)';
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(28, true) !== crc32(b, 0, 28)) return 'file header checksum mismatch';
  const version = dv.getUint32(8, true);
  if (version !== FORMAT_VERSION) return `.rwtrace format version ${version}; this Rewind reads version ${FORMAT_VERSION}`;
  return { createdMs: dv.getFloat64(16, true) };
}

export function encodeChunk(c: Omit<ChunkInfo, 'offset' | 'length' | 'payloadCrc'>, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(CHUNK_HEADER_SIZE + payload.length);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 4; i++) b[i] = CHUNK_MAGIC.charCodeAt(i);
  b[4] = c.type;
  b[5] = c.flags;
  dv.setUint32(8, c.sequence, true);
  dv.setUint32(12, payload.length, true);
  dv.setFloat64(16, c.firstIcount, true);
  dv.setFloat64(24, c.lastIcount, true);
  dv.setUint32(32, c.firstItem, true);
  dv.setUint32(36, c.itemCount, true);
  dv.setUint32(40, crc32(payload), true);
  dv.setUint32(44, crc32(b, 0, 44), true);
  b.set(payload, CHUNK_HEADER_SIZE);
  return b;
}

/** Decodes a chunk header at `offset`, or says why it is not a valid one. */
export function decodeChunkHeader(h: Uint8Array, offset: number): ChunkInfo | string {
  if (h.length < CHUNK_HEADER_SIZE) return 'incomplete chunk header';
  for (let i = 0; i < 4; i++) if (h[i] !== CHUNK_MAGIC.charCodeAt(i)) return 'no chunk header here';
  const dv = new DataView(h.buffer, h.byteOffset, CHUNK_HEADER_SIZE);
  if (dv.getUint32(44, true) !== crc32(h, 0, 44)) return 'chunk header checksum mismatch';
  const length = dv.getUint32(12, true);
  if (length > MAX_CHUNK_PAYLOAD) return `chunk claims ${length} bytes`;
  return {
    type: h[4], flags: h[5], sequence: dv.getUint32(8, true), offset, length,
    firstIcount: dv.getFloat64(16, true), lastIcount: dv.getFloat64(24, true),
    firstItem: dv.getUint32(32, true), itemCount: dv.getUint32(36, true), payloadCrc: dv.getUint32(40, true),
  };
}
