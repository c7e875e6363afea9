import { RewindError } from '../errors';
import { MachineSnapshot } from './machineSnapshot';
import { nonZeroPages, PAGE } from '../machine/bus';


/**
 * A snapshot as bytes, for .rwtrace SNAPSHOT chunks and migration files: a u32 length, the JSON
 * of everything but RAM (plus the list of non-zero 4 KiB pages), then those pages. Guests touch
 * a small part of their RAM, so this is small where a raw image would be 128 MiB.
 */
export function encodeSnapshot(s: MachineSnapshot): Uint8Array {
  const pages = nonZeroPages(s.ram, s.written);
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { ram, written, ...rest } = s;
  const json = new TextEncoder().encode(JSON.stringify({ ...rest, ramBytes: ram.length, pages }));
  const out = new Uint8Array(4 + json.length + pages.length * PAGE);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  let o = 4 + json.length;
  for (const p of pages) {
    out.set(ram.subarray(p * PAGE, (p + 1) * PAGE), o);
    o += PAGE;
  }
  return out;
}

export function decodeSnapshot(b: Uint8Array, what = 'snapshot'): MachineSnapshot {
  const bad = (m: string): never => { throw new RewindError('SNAPSHOT_CORRUPT', `${what}: ${m}`); };
  if (b.length < 4) bad('too short');
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
  if (4 + n > b.length) bad('cut short');
  let head: Omit<MachineSnapshot, 'ram'> & { ramBytes: number; pages: number[] };
  try {
    head = JSON.parse(new TextDecoder().decode(b.subarray(4, 4 + n)));
  } catch {
    return bad('its description is not valid JSON');
  }
  const { ramBytes, pages, ...rest } = head;
  if (!Number.isInteger(ramBytes) || ramBytes <= 0 || !Array.isArray(pages)) bad('no RAM description');
  if (b.length !== 4 + n + pages.length * PAGE) bad(`holds ${b.length - 4 - n} bytes of pages, ${pages.length * PAGE} expected`);
  const ram = new Uint8Array(ramBytes);
  const written = new Uint8Array(Math.ceil(ramBytes / PAGE));
  pages.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || (p + 1) * PAGE > ramBytes) bad(`page ${p} lies outside RAM`);
    ram.set(b.subarray(4 + n + i * PAGE, 4 + n + (i + 1) * PAGE), p * PAGE);
    written[p] = 1;
  });
  return { ...rest, ram, written };
}
