import { EventKind, ReplayEvent } from './replayEvent';

/**
 * How Rewind's own events are stored in .rwtrace EVENTS chunks: per event, an id byte, the
 * icount delta since the previous event (LEB128), then the id's payload. The ids are Rewind's
 * (its machine has fewer event sources than QEMU's), the names QEMU's, so `rewind dump` shows
 * both kinds of log alike.
 */
export const enum EventId {
  INTERRUPT = 1,
  EXCEPTION = 2,
  CHAR_READ = 3,
  CLOCK_HOST = 4,
  CHAR_WRITE = 5,
  SHUTDOWN = 6,
  END = 7,
  SNAPSHOT = 8,
  MIGRATION = 9,
  RUN_STATE = 10,
  DEBUG_WRITE = 11,
  INSTRUCTION = 12,
  CLOCK_VIRTUAL_RT = 13,
  SHUTDOWN_HOST_SIGNAL = 14,
  /** CHECKPOINT + kind, in QEMU's order (replay/replay.h ReplayCheckpoint). */
  CHECKPOINT = 16,
  /** After the checkpoint kinds (16..24): the shutdown causes QEMU 10.0's test finisher logs. */
  SHUTDOWN_GUEST_SHUTDOWN = 25,
  SHUTDOWN_GUEST_PANIC = 26,
}

/** QEMU's checkpoint kinds, in the order of their ids. */
export const CHECKPOINT_KINDS = ['CLOCK_WARP_START', 'CLOCK_WARP_ACCOUNT', 'RESET_REQUESTED', 'SUSPEND_REQUESTED', 'CLOCK_VIRTUAL', 'CLOCK_HOST', 'CLOCK_VIRTUAL_RT', 'INIT', 'RESET'] as const;
export type CheckpointKind = typeof CHECKPOINT_KINDS[number];

interface IdInfo { kind: EventKind; name: string; fields: [string, 'u' | 'bytes' | 'str'][] }

export const EVENT_IDS: Record<number, IdInfo> = {
  [EventId.INTERRUPT]: { kind: 'interrupt', name: 'EVENT_INTERRUPT', fields: [['hart', 'u'], ['cause', 'u']] },
  [EventId.EXCEPTION]: { kind: 'exception', name: 'EVENT_EXCEPTION', fields: [['hart', 'u'], ['cause', 'u']] },
  [EventId.CHAR_READ]: { kind: 'async', name: 'EVENT_ASYNC_CHAR_READ', fields: [['device', 'u'], ['bytes', 'bytes']] },
  [EventId.CLOCK_HOST]: { kind: 'clock', name: 'EVENT_CLOCK_HOST', fields: [['hi', 'u'], ['lo', 'u']] },
  [EventId.CHAR_WRITE]: { kind: 'char-write', name: 'EVENT_CHAR_WRITE', fields: [['device', 'u'], ['byte', 'u']] },
  [EventId.SHUTDOWN]: { kind: 'shutdown', name: 'EVENT_SHUTDOWN', fields: [['cause', 'str'], ['code', 'u']] },
  [EventId.END]: { kind: 'end', name: 'EVENT_END', fields: [] },
  [EventId.SNAPSHOT]: { kind: 'snapshot', name: 'EVENT_SNAPSHOT', fields: [['action', 'str'], ['id', 'u']] },
  [EventId.MIGRATION]: { kind: 'migration', name: 'EVENT_MIGRATION', fields: [['phase', 'str'], ['target', 'str'], ['detail', 'str']] },
  [EventId.RUN_STATE]: { kind: 'run-state', name: 'EVENT_RUN_STATE', fields: [['state', 'str']] },
  [EventId.DEBUG_WRITE]: { kind: 'debug', name: 'EVENT_DEBUG_WRITE', fields: [['target', 'str'], ['hart', 'u'], ['address', 'u'], ['bytes', 'bytes']] },
  // The delta is the icount delta every event carries; `instructions` repeats it as QEMU's reader has it.
  [EventId.INSTRUCTION]: { kind: 'instruction', name: 'EVENT_INSTRUCTION', fields: [] },
  [EventId.CLOCK_VIRTUAL_RT]: { kind: 'clock', name: 'EVENT_CLOCK_VIRTUAL_RT', fields: [['hi', 'u'], ['lo', 'u']] },
  [EventId.SHUTDOWN_HOST_SIGNAL]: { kind: 'shutdown', name: 'EVENT_SHUTDOWN_HOST_SIGNAL', fields: [['cause', 'str'], ['code', 'u']] },
  [EventId.SHUTDOWN_GUEST_SHUTDOWN]: { kind: 'shutdown', name: 'EVENT_SHUTDOWN_GUEST_SHUTDOWN', fields: [['code', 'u']] },
  [EventId.SHUTDOWN_GUEST_PANIC]: { kind: 'shutdown', name: 'EVENT_SHUTDOWN_GUEST_PANIC', fields: [['code', 'u']] },
};
CHECKPOINT_KINDS.forEach((k, i) => { EVENT_IDS[EventId.CHECKPOINT + i] = { kind: 'checkpoint', name: `EVENT_CP_${k}`, fields: [] }; });

const ID_BY_NAME = new Map(Object.entries(EVENT_IDS).map(([id, i]) => [i.name, Number(id)]));

function pushVarint(out: number[], v: number): void {
  // Unsigned LEB128 over a safe integer (icount deltas may exceed 2^32).
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Encodes one event, given the icount of the event before it. */
export function encodeEvent(e: ReplayEvent, prevIcount: number): Uint8Array {
  const id = ID_BY_NAME.get(e.name);
  if (id === undefined) throw new Error(`no Rewind event id for ${e.name}`);
  const out: number[] = [id];
  pushVarint(out, e.icount - prevIcount);
  for (const [f, t] of EVENT_IDS[id].fields) {
    const v = e.data?.[f];
    if (t === 'u') pushVarint(out, Number(v ?? 0));
    else {
      const bytes = t === 'bytes' ? (v as number[] | undefined) ?? [] : Array.from(new TextEncoder().encode(String(v ?? '')));
      pushVarint(out, bytes.length);
      for (const b of bytes) out.push(b);
    }
  }
  return Uint8Array.from(out);
}

/**
 * Decodes the events of one chunk payload. `first` is the chunk's first event index and
 * `icount` the icount before it. Throws a plain Error on malformed bytes; callers turn it into
 * a report that names the chunk.
 */
export function decodeEvents(p: Uint8Array, first: number, icount: number, offset: number): ReplayEvent[] {
  const events: ReplayEvent[] = [];
  let o = 0;
  const varint = (): number => {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (o >= p.length) throw new Error('event cut short');
      const b = p[o++];
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return v;
      scale *= 0x80;
    }
    throw new Error('over-long number');
  };
  while (o < p.length) {
    const at = o;
    const id = p[o++];
    const info = EVENT_IDS[id];
    if (!info) throw new Error(`unknown event id ${id} at payload byte ${at}`);
    const before = icount;
    icount += varint();
    const data: Record<string, number | string | number[]> = {};
    for (const [f, t] of info.fields) {
      if (t === 'u') data[f] = varint();
      else {
        const n = varint();
        if (o + n > p.length) throw new Error('event cut short');
        const bytes = p.subarray(o, o + n);
        o += n;
        data[f] = t === 'bytes' ? Array.from(bytes) : new TextDecoder().decode(bytes);
      }
    }
    if (info.kind === 'instruction') data.instructions = icount - before;
    events.push({ index: first + events.length, icount, kind: info.kind, name: info.name, offset: offset + at, data });
  }
  return events;
}
