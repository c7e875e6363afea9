import { PAGE, SystemBus } from '../machine/bus';
import type { Machine } from '../machine/machine';
import { RewindError } from '../errors';
import { MachineSnapshot } from '../snapshot/machineSnapshot';
import { ChunkInfo, ChunkType } from '../trace/rwtraceFormat';
import { RwtraceReader } from '../trace/rwtraceReader';
import { RwtraceWriter } from '../trace/rwtraceWriter';

/** SNAPSHOT chunk flag: a time-travel snapshot holding only the pages changed since the previous one. */
export const DELTA_SNAPSHOT = 1;

/** A time-travel snapshot as it travels through a .rwtrace. */
export interface SpilledSnapshot {
  icount: number;
  /** Replay-log position: events before it. */
  events: number;
  state: MachineSnapshot;
  pages: Map<number, Uint8Array>;
}

/**
 * Writes time-travel snapshots into a recording as it is made, so a reopened recording does not
 * start from zero: each SNAPSHOT chunk (flag DELTA_SNAPSHOT) holds the machine state without RAM
 * and the pages written since the previous one (the first: every page in use). Payload: u32
 * JSON length, JSON { state, events, pages: [page numbers] }, then the pages.
 */
export class SnapshotSpiller {
  private first = true;
  private last = -Infinity;

  constructor(private readonly writer: RwtraceWriter, private readonly bus: SystemBus, readonly interval = 64_000_000) {}

  /** Whether `interval` instructions have passed since the last one. */
  due(icount: number): boolean {
    return this.first || icount - this.last >= this.interval;
  }

  /** Takes one if it is due (call between run() calls, with `events` logged so far). */
  maybe(m: Machine, events: number): void {
    if (!this.due(m.icount)) return;
    const bus = this.bus;
    const pages = this.first ? bus.nonZeroPages() : [...new Set(bus.dirty)].sort((a, b) => a - b);
    const state = m.saveState({ ram: false });
    const { ram, written, ...rest } = state;
    void ram; void written;
    const json = new TextEncoder().encode(JSON.stringify({ state: rest, events, pages }));
    const out = new Uint8Array(4 + json.length + pages.length * PAGE);
    new DataView(out.buffer).setUint32(0, json.length, true);
    out.set(json, 4);
    pages.forEach((p, i) => out.set(bus.ram8.subarray(p * PAGE, (p + 1) * PAGE), 4 + json.length + i * PAGE));
    this.writer.append(ChunkType.SNAPSHOT, out, { firstIcount: m.icount, lastIcount: m.icount, firstItem: events, itemCount: 1 }, DELTA_SNAPSHOT);
    bus.trackDirty();
    this.first = false;
    this.last = m.icount;
  }
}

/** The time-travel snapshots a recording holds, in order (none if it was recorded without). */
export function readSpilledSnapshots(r: RwtraceReader, what: string): SpilledSnapshot[] {
  return r.stream(ChunkType.SNAPSHOT).filter((c) => c.flags & DELTA_SNAPSHOT).map((c) => decode(r.payload(c), c, what));
}

function decode(b: Uint8Array, c: ChunkInfo, what: string): SpilledSnapshot {
  const bad = (m: string): never => { throw new RewindError('TRACE_CORRUPT', `${what}: time-travel snapshot in chunk ${c.sequence}: ${m}`); };
  if (b.length < 4) bad('too short');
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
  if (4 + n > b.length) bad('cut short');
  let head: { state: Omit<MachineSnapshot, 'ram'>; events: number; pages: number[] };
  try {
    head = JSON.parse(new TextDecoder().decode(b.subarray(4, 4 + n)));
  } catch {
    return bad('its description is not valid JSON');
  }
  if (!Array.isArray(head.pages) || b.length !== 4 + n + head.pages.length * PAGE) bad('its pages do not add up');
  const pages = new Map<number, Uint8Array>();
  head.pages.forEach((p, i) => pages.set(p, b.slice(4 + n + i * PAGE, 4 + n + (i + 1) * PAGE)));
  return { icount: c.firstIcount, events: head.events, state: { ...head.state, ram: new Uint8Array(0) } as MachineSnapshot, pages };
}
