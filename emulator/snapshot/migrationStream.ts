import { RewindError } from '../errors';
import { crc32 } from '../trace/crc32';
import { MachineSnapshot } from './machineSnapshot';
import { decodeSnapshot, encodeSnapshot } from './snapshotCodec';

/**
 * What `--migrate-at ICOUNT:FILE` writes: the VM state as the migration thread saved it, with
 * what an incoming replay needs to continue from it (which recording, which event comes next).
 *   0 magic "RWMIGR\x1a\x01"  8 u32 header length  12 u32 CRC-32 of everything after byte 16
 *   16 header JSON, then the encoded snapshot (snapshotCodec.ts)
 */
const MAGIC = 'RWMIGR\x1a\x01';

export interface MigrationHeader {
  format: 'rewind-migration';
  /** sha256 of the guest ELF the recording ran. */
  guestSha256: string;
  machine: object;
  icount: number;
  /** Index of the event the recording appended next (the migration's completion). */
  eventIndex: number;
  /** migrationHash of the state (as logged with the completion). */
  hash: string;
}

export function encodeMigration(h: MigrationHeader, s: MachineSnapshot): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(h));
  const body = encodeSnapshot(s);
  const out = new Uint8Array(16 + head.length + body.length);
  for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, head.length, true);
  out.set(head, 16);
  out.set(body, 16 + head.length);
  dv.setUint32(12, crc32(out, 16, out.length), true);
  return out;
}

export function decodeMigration(b: Uint8Array, what: string): { header: MigrationHeader; state: MachineSnapshot } {
  const bad = (m: string): never => { throw new RewindError('MIGRATION_INVALID', `${what}: ${m}`); };
  if (b.length < 16) bad('too short for a Rewind migration stream');
  for (let i = 0; i < 8; i++) if (b[i] !== MAGIC.charCodeAt(i)) bad('not a Rewind migration stream (bad magic)');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint32(8, true);
  if (16 + n > b.length) bad('cut short');
  if (dv.getUint32(12, true) !== crc32(b, 16, b.length)) bad('checksum mismatch (damaged or cut short)');
  let header: MigrationHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(b.subarray(16, 16 + n)));
  } catch {
    return bad('its header is not valid JSON');
  }
  if (header.format !== 'rewind-migration') bad('not a Rewind migration stream');
  return { header, state: decodeSnapshot(b.subarray(16 + n), what) };
}
