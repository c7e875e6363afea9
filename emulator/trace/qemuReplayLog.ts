/**
 * Reader for QEMU's record/replay log (`-icount ...,rr=record,rrfile=F`), into Rewind's one event
 * model (replay/replayEvent.ts).
 *
 * Format (replay/replay-internal.c, replay/replay.c): big-endian throughout; a 12-byte header
 * (u32 REPLAY_VERSION, 8 reserved zero bytes) written only when recording finishes; then events,
 * each an id byte and a payload; an array is a u32 length and raw bytes. The id tables are in
 * qemuReplayLayouts.ts. This reader decodes every event QEMU writes, including the ones QEMU's own
 * scripts/replay-dump.py cannot (ASYNC_INPUT, ASYNC_INPUT_SYNC, CHAR_READ_ALL[_ERROR], AUDIO_IN,
 * and AUDIO_OUT, which it reads with the wrong width).
 *
 * Damaged input is the normal case, not an exception: a recording QEMU was killed in has an
 * all-zero header and ends wherever stdio's buffer was last flushed. Whatever cannot be decoded
 * ends the walk with a DecodeProblem and everything before it is kept. Only a file that is not a
 * QEMU replay log at all, or one of a version Rewind does not read, is a RewindError.
 */
import { RewindError } from '../errors';
import { DecodeProblem, ReplayEvent } from '../replay/replayEvent';
import {
  ASYNC_KINDS, CHECKPOINTS, EventSpec, INPUT_AXES, INPUT_BUTTONS, INPUT_KINDS, KEY_VALUE_KINDS, LAYOUTS,
  LayoutTable, MULTI_TOUCH_TYPES, PayloadShape, QEMU_REPLAY_LAYOUTS, QemuReplayLayout, REPLAY_VERSION_5_1,
  REPLAY_VERSION_7_1, REPLAY_VERSION_RELEASES,
} from './qemuReplayLayouts';

export { QemuReplayLayout, QEMU_REPLAY_LAYOUTS } from './qemuReplayLayouts';

export const QEMU_REPLAY_HEADER_SIZE = 12;

export interface QemuReplayDecodeOptions {
  /** Which 0xe0200c variant to assume (the header cannot tell 7.1 from 7.2+), or any layout for a headerless log. */
  layout?: QemuReplayLayout;
}

export interface QemuReplayLog {
  /** REPLAY_VERSION from the header; 0 when the header is missing. */
  version: number;
  /** The id table the events were decoded with. */
  layout: QemuReplayLayout;
  /** Why that layout: the header decides it, it was assumed by default, or the caller chose it. */
  layoutSource: 'header' | 'default' | 'option';
  /** The header is all zero: QEMU was killed before replay_finish() wrote it. */
  headerMissing: boolean;
  events: ReplayEvent[];
  /** Sum of the INSTRUCTION deltas: guest instructions executed up to the last decoded event. */
  instructions: number;
  /** Bytes decoded, header included (the file size for a clean log). */
  decodedBytes: number;
  /** Why decoding stopped before a clean EVENT_END at the end of the file. */
  problem?: DecodeProblem;
  /** When the assumed layout fails but another one decodes the file cleanly (or to its very end). */
  betterLayout?: QemuReplayLayout;
}

/** The first three bytes of every REPLAY_VERSION QEMU has used (0x00e020xx). */
const VERSION_FAMILY_BYTES = [0x00, 0xe0, 0x20];
const SUPPORTED = `0x${REPLAY_VERSION_7_1.toString(16)} (QEMU 7.1–10.2) and 0x${REPLAY_VERSION_5_1.toString(16)} (QEMU 5.1–7.0)`;
/** The highest event id in any layout (EVENT_END of 7.2+). */
const MAX_EVENT_ID = LAYOUTS['7.2+'].events.length - 1;

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function firstBytes(b: Uint8Array): string {
  return Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Whether `bytes` looks like a QEMU replay log: a REPLAY_VERSION of QEMU's (0x00e020xx, supported
 * or not, so the caller can say which version it found) or an all-zero header followed by a
 * plausible first event (QEMU never writes an INSTRUCTION delta of 0: replay_save_instructions).
 */
export function isQemuReplayLog(bytes: Uint8Array): boolean {
  if (bytes.length >= 4 && bytes[0] === 0x00 && bytes[1] === 0xe0 && bytes[2] === 0x20) return true;
  if (bytes.length <= QEMU_REPLAY_HEADER_SIZE || bytes.subarray(0, QEMU_REPLAY_HEADER_SIZE).some((b) => b !== 0)) return false;
  const id = bytes[QEMU_REPLAY_HEADER_SIZE];
  if (id > MAX_EVENT_ID) return false;
  return id !== 0 || bytes.subarray(QEMU_REPLAY_HEADER_SIZE + 1, QEMU_REPLAY_HEADER_SIZE + 5).some((b) => b !== 0);
}

/** Decodes a QEMU replay log. Throws RewindError only for a file that is not one, or an unsupported version. */
export function decodeQemuReplayLog(bytes: Uint8Array, opts: QemuReplayDecodeOptions = {}): QemuReplayLog {
  const header = readHeader(bytes, opts.layout);
  if ('problem' in header) {
    return { version: header.version, layout: header.layout, layoutSource: header.source, headerMissing: header.headerMissing, events: [], instructions: 0, decodedBytes: 0, problem: header.problem };
  }
  const walk = walkEvents(bytes, LAYOUTS[header.layout]);
  const result: QemuReplayLog = {
    version: header.version, layout: header.layout, layoutSource: header.source, headerMissing: header.headerMissing,
    events: walk.events, instructions: walk.instructions, decodedBytes: walk.decodedBytes,
  };
  if (walk.problem) {
    result.problem = walk.problem;
    if (header.source !== 'option' && walk.corrupt) {
      const better = header.candidates.find((l) => l !== header.layout && fitsBetter(walkEvents(bytes, LAYOUTS[l]), walk));
      if (better) result.betterLayout = better;
    }
  }
  return result;
}

/** A layout fits better when it gets further and stops only because the file ends. */
function fitsBetter(candidate: Walk, current: Walk): boolean {
  return candidate.decodedBytes > current.decodedBytes && !candidate.corrupt;
}

interface Header {
  version: number;
  layout: QemuReplayLayout;
  source: QemuReplayLog['layoutSource'];
  headerMissing: boolean;
  /** Layouts that fit this header, for suggesting another one. */
  candidates: QemuReplayLayout[];
}

function readHeader(bytes: Uint8Array, wanted: QemuReplayLayout | undefined): Header | (Header & { problem: DecodeProblem }) {
  const have = Math.min(bytes.length, QEMU_REPLAY_HEADER_SIZE);
  const zero = bytes.subarray(0, have).every((b) => b === 0);
  const looksVersioned = bytes.subarray(0, Math.min(have, 3)).every((b, i) => b === VERSION_FAMILY_BYTES[i]);
  if (!zero && !looksVersioned) {
    throw new RewindError('NOT_QEMU_REPLAY_LOG', `not a QEMU replay log: it starts with ${firstBytes(bytes)}, not a REPLAY_VERSION (00 e0 20 xx) or an all-zero header`);
  }
  const version = bytes.length >= 4 ? ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0 : 0;
  const headerMissing = zero && bytes.length >= 4;
  let candidates: QemuReplayLayout[];
  if (headerMissing || bytes.length < 4) {
    candidates = [...QEMU_REPLAY_LAYOUTS];
  } else if (version === REPLAY_VERSION_7_1) {
    candidates = ['7.2+', '7.1'];
  } else if (version === REPLAY_VERSION_5_1) {
    candidates = ['5.1-7.0'];
  } else {
    // Another 0x00e020xx: QEMU's, but ids and payloads differ, so decoding would be guesswork.
    const release = REPLAY_VERSION_RELEASES[version];
    throw new RewindError('QEMU_REPLAY_VERSION', `QEMU replay log version ${hex(version)}${release ? ` (${release})` : ''} is not supported; Rewind reads versions ${SUPPORTED}`);
  }
  if (wanted !== undefined && !candidates.includes(wanted)) {
    throw new RewindError('QEMU_REPLAY_LAYOUT', `layout ${wanted} does not fit a version ${hex(version)} log (${REPLAY_VERSION_RELEASES[version]}); it has layout ${candidates.join(' or ')}`);
  }
  const layout = wanted ?? candidates[0];
  const source = wanted !== undefined ? 'option' : candidates.length === 1 ? 'header' : 'default';
  const h: Header = { version: headerMissing ? 0 : version, layout, source, headerMissing, candidates };
  if (bytes.length < QEMU_REPLAY_HEADER_SIZE) {
    const message = bytes.length === 0 ? 'the file is empty' : `the file ends inside the ${QEMU_REPLAY_HEADER_SIZE}-byte header (it has ${bytes.length} bytes)`;
    return { ...h, problem: { offset: 0, events: 0, message } };
  }
  return h;
}

interface Walk {
  events: ReplayEvent[];
  instructions: number;
  decodedBytes: number;
  problem?: DecodeProblem;
  /** The problem is bad content (unknown id, impossible value) rather than the file ending. */
  corrupt: boolean;
}

/** Ends the walk: thrown by the payload readers, caught in walkEvents, never escapes this module. */
class Stop {
  constructor(readonly message: string, readonly corrupt: boolean) {}
}

type Data = NonNullable<ReplayEvent['data']>;

/** A cursor over the log that stops cleanly at the end of the file instead of reading past it. */
class Cursor {
  pos = QEMU_REPLAY_HEADER_SIZE;
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly eventName: () => string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get left(): number { return this.bytes.length - this.pos; }
  private need(n: number): void {
    if (n > this.left) throw new Stop(`the file ends inside ${this.eventName()} (it needs ${n} more bytes at offset ${this.pos}, ${this.left} left)`, false);
  }
  u8(): number { this.need(1); return this.bytes[this.pos++]; }
  u32(): number { this.need(4); const v = this.view.getUint32(this.pos); this.pos += 4; return v; }
  i32(): number { this.need(4); const v = this.view.getInt32(this.pos); this.pos += 4; return v; }
  u64(): bigint { this.need(8); const v = this.view.getBigUint64(this.pos); this.pos += 8; return v; }
  i64(): bigint { this.need(8); const v = this.view.getBigInt64(this.pos); this.pos += 8; return v; }
  /** u32 length and bytes; an absurd length stops the walk before anything is allocated. */
  array(): number[] {
    const at = this.pos;
    const n = this.u32();
    if (n > this.left) {
      throw new Stop(`${this.eventName()} has an array of ${n} bytes at offset ${at}, but only ${this.left} bytes are left in the file`, n > this.bytes.length);
    }
    const out = Array.from(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }
}

/** A 64-bit value as a number when exact, else as its decimal string (host clocks in ns exceed 2^53). */
function big(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function named(list: readonly string[], i: number): string {
  return list[i] ?? `unknown-${i}`;
}

function walkEvents(bytes: Uint8Array, table: LayoutTable): Walk {
  const events: ReplayEvent[] = [];
  let instructions = 0;
  let start = QEMU_REPLAY_HEADER_SIZE;
  let spec: EventSpec | undefined;
  const c = new Cursor(bytes, () => `${spec?.name ?? 'an event'} at offset ${start}`);
  const stop = (offset: number, message: string, corrupt: boolean): Walk => ({
    events, instructions, decodedBytes: offset, problem: { offset, events: events.length, message }, corrupt,
  });
  for (;;) {
    start = c.pos;
    spec = undefined;
    if (c.left === 0) {
      return stop(start, `the log ends at offset ${start} after ${events.length} events without EVENT_END (QEMU killed while recording, or the file was cut)`, false);
    }
    const id = c.u8();
    spec = table.events[id];
    if (spec === undefined) {
      const why = table.reserved.get(id);
      const message = why !== undefined
        ? `event id ${id} at offset ${start} is reserved in layout ${table.layout} (${why}; QEMU never writes it)`
        : `unknown event id ${id} at offset ${start} (layout ${table.layout} has ids 0–${table.events.length - 1})`;
      return stop(start, message, true);
    }
    let data: Data | undefined;
    let name = spec.name;
    try {
      if (spec.payload === 'async-0a') {
        // 5.1–7.0: named by kind like the later ids (EVENT_ASYNC_CHAR_READ), whatever the layout.
        const a = readAsync0a(c);
        name = `EVENT_ASYNC_${a.kind}`;
        data = a.data;
      } else {
        data = readPayload(c, spec.payload, spec.cause);
      }
    } catch (e) {
      if (e instanceof Stop) return stop(start, e.message, e.corrupt);
      throw e;
    }
    if (spec.kind === 'instruction') instructions += data!.instructions as number;
    const ev: ReplayEvent = { index: events.length, icount: instructions, kind: spec.kind, name, offset: start };
    if (data && Object.keys(data).length > 0) ev.data = data;
    events.push(ev);
    if (spec.kind === 'end') {
      if (c.left > 0) return { ...stop(c.pos, `${c.left} unexpected bytes after EVENT_END at offset ${start}`, true), decodedBytes: c.pos };
      return { events, instructions, decodedBytes: c.pos, corrupt: false };
    }
  }
}

function readPayload(c: Cursor, shape: PayloadShape, cause?: string): Data | undefined {
  switch (shape) {
    case 'none': return cause === undefined ? undefined : { cause };
    case 'instruction': return { instructions: c.u32() };
    case 'bh': return { id: big(c.u64()) };
    case 'input': return readInput(c);
    case 'char-read': return { device: c.u8(), bytes: c.array() };
    case 'net': return { filter: c.u8(), flags: c.u32(), bytes: c.array() };
    case 'async-0a': return readAsync0a(c).data;
    case 'char-write': return { result: c.i32(), offset: c.i32() };
    case 'array': return { bytes: c.array() };
    case 'error': return { error: c.i32() };
    case 'audio-out': return { played: big(c.u64()) };
    case 'audio-in': return readAudioIn(c);
    case 'random': return { result: c.i32(), bytes: c.array() };
    case 'clock': return { value: big(c.i64()) };
  }
}

/** 5.1–7.0 (replay-events.c replay_save_event): u8 checkpoint the event was saved at, u8 async kind, its payload. */
function readAsync0a(c: Cursor): { kind: string; data: Data } {
  const checkpoint = c.u8();
  const kind = c.u8();
  const k = ASYNC_KINDS[kind];
  if (k === undefined) throw new Stop(`${c.eventName()} has unknown async event kind ${kind}`, true);
  return { kind: k.name, data: { checkpoint: named(CHECKPOINTS, checkpoint), ...readPayload(c, k.payload) } };
}

/** replay-input.c replay_save_input_event: u32 InputEventKind, then the kind's fields. */
function readInput(c: Cursor): Data {
  const kind = c.u32();
  const input = INPUT_KINDS[kind];
  switch (input) {
    case 'key': {
      // A KeyValue union: u32 kind, then a u64 number or a u32 QKeyCode; then u8 down.
      const keyKind = c.u32();
      if (keyKind >= KEY_VALUE_KINDS.length) throw new Stop(`${c.eventName()} has a key of unknown KeyValue kind ${keyKind}`, true);
      const key = keyKind === 0 ? big(c.u64()) : c.u32();
      return { input, keyKind: KEY_VALUE_KINDS[keyKind], key, down: c.u8() };
    }
    case 'btn': {
      const button = c.u32();
      return { input, button, buttonName: named(INPUT_BUTTONS, button), down: c.u8() };
    }
    case 'rel': case 'abs': {
      const axis = c.u32();
      return { input, axis, axisName: named(INPUT_AXES, axis), value: big(c.i64()) };
    }
    case 'mtt': {
      // QEMU 8.1+: type, slot, tracking id, axis, value.
      const type = c.u32();
      const slot = big(c.i64());
      const trackingId = big(c.i64());
      const axis = c.u32();
      return { input, type, typeName: named(MULTI_TOUCH_TYPES, type), slot, trackingId, axis, axisName: named(INPUT_AXES, axis), value: big(c.i64()) };
    }
    default:
      throw new Stop(`${c.eventName()} has unknown input event kind ${kind} (QEMU knows ${INPUT_KINDS.map((k, i) => `${k} ${i}`).join(', ')})`, true);
  }
}

/**
 * replay-audio.c replay_audio_in: u64 recorded, u64 wpos, then the samples from
 * (wpos - recorded) mod size up to wpos, i.e. `recorded` of them, each i64 left, i64 right
 * (QEMU's mixing-engine st_sample). The ring size is not logged; when recorded equals it QEMU's
 * loop writes no samples at all, which a reader cannot tell apart, so `recorded` pairs are read.
 */
function readAudioIn(c: Cursor): Data {
  const recorded = c.u64();
  const wpos = c.u64();
  if (recorded * 16n > BigInt(c.left)) {
    throw new Stop(`${c.eventName()} claims ${recorded} recorded samples (${recorded * 16n} bytes), but only ${c.left} bytes are left in the file`, recorded * 16n > BigInt(c.bytes.length));
  }
  const left: number[] = [];
  const right: number[] = [];
  for (let i = 0n; i < recorded; i++) {
    left.push(Number(c.i64()));
    right.push(Number(c.i64()));
  }
  return { recorded: Number(recorded), wpos: big(wpos), left, right };
}
