/**
 * Event-id tables of QEMU's record/replay log, one per layout Rewind reads.
 *
 * QEMU never writes these numbers down: `enum ReplayEvents` in replay/replay-internal.h builds
 * them from other enums (async event kinds, ShutdownCause from qapi/run-state.json, the clock and
 * checkpoint kinds of include/sysemu/replay.h), so any change to those shifts every id after it.
 * `buildLayout` repeats that construction rather than listing numbers, which is why one function
 * gives all three tables:
 *
 *   5.1–7.0  0xe0200a  one EVENT_ASYNC id, followed by a checkpoint byte and a kind byte
 *                      (replay-events.c replay_save_event before the 7.1 rewrite); 10 causes
 *   7.1      0xe0200c  EVENT_ASYNC + kind, no checkpoint byte (two 7.1 patches: "replay: rewrite
 *                      async event handling" dropped the checkpoint byte (0xe0200b), the next one
 *                      folded the kind into the id (0xe0200c)); 10 causes
 *   7.2+     0xe0200c  as 7.1 plus the shutdown cause snapshot-load (qapi/run-state.json, "since
 *                      7.2"), which shifts every id from 21 on by one without a version bump
 *
 * EVENT_SHUTDOWN_LAST = EVENT_SHUTDOWN + SHUTDOWN_CAUSE__MAX leaves one id after the last cause
 * that QEMU never writes (causes run 0..__MAX-1); it is kept here as a reserved slot.
 */
import { EventKind } from '../replay/replayEvent';

export type QemuReplayLayout = '7.2+' | '7.1' | '5.1-7.0';
export const QEMU_REPLAY_LAYOUTS: readonly QemuReplayLayout[] = ['7.2+', '7.1', '5.1-7.0'];

export const REPLAY_VERSION_7_1 = 0xe0200c;
export const REPLAY_VERSION_5_1 = 0xe0200a;

/** Which QEMU releases wrote a REPLAY_VERSION (replay/replay.c), for messages. */
export const REPLAY_VERSION_RELEASES: Readonly<Record<number, string>> = {
  0xe02007: 'QEMU 2.12–4.1',
  0xe02008: 'QEMU 4.2',
  0xe02009: 'QEMU 5.0',
  0xe0200a: 'QEMU 5.1–7.0',
  0xe0200b: 'a QEMU 7.1 development snapshot',
  0xe0200c: 'QEMU 7.1–10.2',
};

/** How an event's payload is laid out after its id byte. */
export type PayloadShape =
  | 'none'
  | 'instruction' // u32 delta
  | 'bh' // u64 id (ASYNC_BH, ASYNC_BH_ONESHOT, ASYNC_BLOCK)
  | 'input' // u32 InputEventKind, then kind-specific fields (replay-input.c)
  | 'char-read' // u8 char driver index, array (replay-char.c replay_event_char_read_save)
  | 'net' // u8 filter index, u32 flags, array (replay-net.c replay_event_net_save)
  | 'async-0a' // 0xe0200a only: u8 checkpoint, u8 async kind, then that kind's payload
  | 'char-write' // i32 result, i32 offset
  | 'array' // CHAR_READ_ALL
  | 'error' // i32 negative errno (CHAR_READ_ALL_ERROR)
  | 'audio-out' // u64 samples played (QEMU writes a qword; replay-dump.py reads 4 bytes)
  | 'audio-in' // u64 recorded, u64 wpos, then `recorded` pairs of i64 left, i64 right
  | 'random' // i32 return code, array (replay-random.c)
  | 'clock'; // i64 value

export interface EventSpec {
  /** QEMU's spelling, EVENT_ prefix included (EVENT_CP_* for checkpoints, as replay-dump.py names them). */
  name: string;
  kind: EventKind;
  payload: PayloadShape;
  /** Shutdown cause (qapi spelling) for EVENT_SHUTDOWN_*. */
  cause?: string;
}

export interface LayoutTable {
  layout: QemuReplayLayout;
  version: number;
  releases: string;
  /** By id; undefined = not an event id in this layout. */
  events: readonly (EventSpec | undefined)[];
  /** Ids inside the enum that QEMU never writes, with why. */
  reserved: ReadonlyMap<number, string>;
}

/** ShutdownCause, qapi/run-state.json; 'snapshot-load' since 7.2. */
const SHUTDOWN_CAUSES = [
  'none', 'host-error', 'host-qmp-quit', 'host-qmp-system-reset', 'host-signal', 'host-ui',
  'guest-shutdown', 'guest-reset', 'guest-panic', 'subsystem-reset', 'snapshot-load',
];

/** ReplayAsyncEventKind, replay/replay-internal.h (the same order in 5.1 and 10.2). */
export const ASYNC_KINDS: readonly { name: string; payload: PayloadShape }[] = [
  { name: 'BH', payload: 'bh' },
  { name: 'BH_ONESHOT', payload: 'bh' },
  { name: 'INPUT', payload: 'input' },
  { name: 'INPUT_SYNC', payload: 'none' },
  { name: 'CHAR_READ', payload: 'char-read' },
  { name: 'BLOCK', payload: 'bh' },
  { name: 'NET', payload: 'net' },
];

/** ReplayCheckpoint, include/sysemu/replay.h (include/system/replay.h from 10.0). */
export const CHECKPOINTS = [
  'CLOCK_WARP_START', 'CLOCK_WARP_ACCOUNT', 'RESET_REQUESTED', 'SUSPEND_REQUESTED',
  'CLOCK_VIRTUAL', 'CLOCK_HOST', 'CLOCK_VIRTUAL_RT', 'INIT', 'RESET',
];

/** ReplayClockKind, include/sysemu/replay.h. */
const CLOCKS = ['HOST', 'VIRTUAL_RT'];

/** InputEventKind, InputButton, InputAxis, InputMultiTouchType and KeyValueKind of qapi/ui.json. */
export const INPUT_KINDS = ['key', 'btn', 'rel', 'abs', 'mtt'];
export const INPUT_BUTTONS = ['left', 'middle', 'right', 'wheel-up', 'wheel-down', 'side', 'extra', 'wheel-left', 'wheel-right', 'touch'];
export const INPUT_AXES = ['x', 'y'];
export const MULTI_TOUCH_TYPES = ['begin', 'update', 'end', 'cancel', 'data'];
export const KEY_VALUE_KINDS = ['number', 'qcode'];

function buildLayout(layout: QemuReplayLayout, version: number, releases: string, asyncIds: boolean, causes: number): LayoutTable {
  const events: (EventSpec | undefined)[] = [];
  const reserved = new Map<number, string>();
  const add = (name: string, kind: EventKind, payload: PayloadShape, cause?: string) => {
    events.push(cause === undefined ? { name, kind, payload } : { name, kind, payload, cause });
  };
  add('EVENT_INSTRUCTION', 'instruction', 'instruction');
  add('EVENT_INTERRUPT', 'interrupt', 'none');
  add('EVENT_EXCEPTION', 'exception', 'none');
  if (asyncIds) for (const a of ASYNC_KINDS) add(`EVENT_ASYNC_${a.name}`, 'async', a.payload);
  else add('EVENT_ASYNC', 'async', 'async-0a');
  for (const c of SHUTDOWN_CAUSES.slice(0, causes)) add(`EVENT_SHUTDOWN_${c.toUpperCase().replace(/-/g, '_')}`, 'shutdown', 'none', c);
  reserved.set(events.length, 'EVENT_SHUTDOWN_LAST, one past the last shutdown cause');
  events.push(undefined);
  add('EVENT_CHAR_WRITE', 'char-write', 'char-write');
  add('EVENT_CHAR_READ_ALL', 'char-read-all', 'array');
  add('EVENT_CHAR_READ_ALL_ERROR', 'char-read-all', 'error');
  add('EVENT_AUDIO_OUT', 'audio', 'audio-out');
  add('EVENT_AUDIO_IN', 'audio', 'audio-in');
  add('EVENT_RANDOM', 'random', 'random');
  for (const c of CLOCKS) add(`EVENT_CLOCK_${c}`, 'clock', 'clock');
  for (const c of CHECKPOINTS) add(`EVENT_CP_${c}`, 'checkpoint', 'none');
  add('EVENT_END', 'end', 'none');
  return { layout, version, releases, events, reserved };
}

export const LAYOUTS: Readonly<Record<QemuReplayLayout, LayoutTable>> = {
  '7.2+': buildLayout('7.2+', REPLAY_VERSION_7_1, 'QEMU 7.2–10.2', true, 11),
  '7.1': buildLayout('7.1', REPLAY_VERSION_7_1, 'QEMU 7.1', true, 10),
  '5.1-7.0': buildLayout('5.1-7.0', REPLAY_VERSION_5_1, 'QEMU 5.1–7.0', false, 10),
};

/** Every event name any layout uses, for validating filters. */
export const ALL_EVENT_NAMES: ReadonlySet<string> = new Set(
  Object.values(LAYOUTS).flatMap((t) => t.events.filter((e): e is EventSpec => e !== undefined).map((e) => e.name))
    .concat(ASYNC_KINDS.map((a) => `EVENT_ASYNC_${a.name}`)),
);
