/**
 * Test support: a minimal decoder for QEMU 7.2's record/replay log (version 0xe0200c), enough to
 * count the guest instructions of a `-icount shift=0,rr=record` run (the sum of the
 * EVENT_INSTRUCTION deltas). A later issue brings a full reader into emulator/trace; this one
 * only walks the events, and refuses the two whose payload it does not decode (ASYNC_INPUT,
 * AUDIO_IN), which a headless guest never produces.
 *
 * Layout (replay/replay-internal.h and replay/*.c in QEMU 7.2): everything big-endian; a 12-byte
 * header (u32 version, u64 reserved = 0), then events, each one id byte and a payload:
 *
 *   0        INSTRUCTION            u32 instructions executed since the previous event
 *   1, 2     INTERRUPT, EXCEPTION   -
 *   3..9     ASYNC + kind           BH u64 | BH_ONESHOT u64 | INPUT (unsupported) | INPUT_SYNC -
 *                                   | CHAR_READ u8 id, u32 len, bytes | BLOCK u64
 *                                   | NET u8 id, u32 flags, u32 len, bytes
 *   10..21   SHUTDOWN + cause       -
 *   22       CHAR_WRITE             u32 result, u32 offset
 *   23       CHAR_READ_ALL          u32 len, bytes
 *   24       CHAR_READ_ALL_ERROR    u32
 *   25       AUDIO_OUT              u64
 *   26       AUDIO_IN               u64 recorded, u64 wpos, per-sample pairs (unsupported)
 *   27       RANDOM                 u32 result, u32 len, bytes
 *   28, 29   CLOCK_HOST, CLOCK_VIRTUAL_RT   u64
 *   30..38   checkpoints            -
 *   39       END                    - (the last event)
 */

export const REPLAY_VERSION = 0xe0200c;
const HEADER_SIZE = 12;

const SHUTDOWN_CAUSES = [
  'NONE', 'HOST_ERROR', 'HOST_QMP_QUIT', 'HOST_QMP_SYSTEM_RESET', 'HOST_SIGNAL', 'HOST_UI',
  'GUEST_SHUTDOWN', 'GUEST_RESET', 'GUEST_PANIC', 'SUBSYSTEM_RESET', 'SNAPSHOT_LOAD',
];
const CHECKPOINTS = [
  'CLOCK_WARP_START', 'CLOCK_WARP_ACCOUNT', 'RESET_REQUESTED', 'SUSPEND_REQUESTED',
  'CLOCK_VIRTUAL', 'CLOCK_HOST', 'CLOCK_VIRTUAL_RT', 'INIT', 'RESET',
];

/** The event's name as QEMU's enum spells it (EVENT_ prefix included). */
export function replayEventName(id: number): string {
  const names: Record<number, string> = {
    0: 'INSTRUCTION', 1: 'INTERRUPT', 2: 'EXCEPTION',
    3: 'ASYNC_BH', 4: 'ASYNC_BH_ONESHOT', 5: 'ASYNC_INPUT', 6: 'ASYNC_INPUT_SYNC',
    7: 'ASYNC_CHAR_READ', 8: 'ASYNC_BLOCK', 9: 'ASYNC_NET',
    22: 'CHAR_WRITE', 23: 'CHAR_READ_ALL', 24: 'CHAR_READ_ALL_ERROR', 25: 'AUDIO_OUT',
    26: 'AUDIO_IN', 27: 'RANDOM', 28: 'CLOCK_HOST', 29: 'CLOCK_VIRTUAL_RT', 39: 'END',
  };
  if (id >= 10 && id <= 21) return `EVENT_SHUTDOWN_${SHUTDOWN_CAUSES[id - 10]}`;
  if (id >= 30 && id <= 38) return `EVENT_CP_${CHECKPOINTS[id - 30]}`;
  return names[id] === undefined ? `EVENT_${id}` : `EVENT_${names[id]}`;
}

export interface ReplaySummary {
  version: number;
  /** Sum of every EVENT_INSTRUCTION delta: the guest instructions QEMU executed. */
  instructions: number;
  /** Events decoded, END included. */
  events: number;
  /** Event counts by name (replayEventName). */
  byType: Record<string, number>;
  /** Bytes consumed, header included (equals the file size for a complete log). */
  decodedBytes: number;
}

/** Decodes a whole replay log; throws on a bad header, an unknown or unsupported event, or truncation. */
export function decodeReplayLog(buf: Uint8Array): ReplaySummary {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  let eventStart = 0;
  const need = (n: number) => {
    if (pos + n > buf.length) throw new Error(`replay log truncated in the event at offset ${eventStart} (needs ${n} bytes at ${pos}, file has ${buf.length})`);
  };
  const u8 = () => { need(1); return buf[pos++]; };
  const u32 = () => { need(4); const v = view.getUint32(pos); pos += 4; return v; };
  const skip = (n: number) => { need(n); pos += n; };
  const array = () => skip(u32());

  if (buf.length < HEADER_SIZE) throw new Error(`replay log too short for its ${HEADER_SIZE}-byte header (${buf.length} bytes)`);
  const version = u32();
  if (version !== REPLAY_VERSION) throw new Error(`replay log version 0x${version.toString(16)}, expected 0x${REPLAY_VERSION.toString(16)} (QEMU 7.2)`);
  skip(8);

  let instructions = 0;
  let events = 0;
  const byType: Record<string, number> = {};
  for (;;) {
    if (pos >= buf.length) throw new Error(`replay log ends at offset ${pos} without EVENT_END`);
    eventStart = pos;
    const id = u8();
    events++;
    const name = replayEventName(id);
    byType[name] = (byType[name] ?? 0) + 1;
    switch (id) {
      case 0: instructions += u32(); break;
      case 1: case 2: case 6: break;
      case 3: case 4: case 8: case 25: case 28: case 29: skip(8); break;
      case 7: skip(1); array(); break;
      case 9: skip(1); skip(4); array(); break;
      case 22: skip(8); break;
      case 23: array(); break;
      case 24: skip(4); break;
      case 27: skip(4); array(); break;
      case 5: case 26:
        throw new Error(`replay log: ${name} at offset ${eventStart} is unsupported by this decoder`);
      case 39:
        return { version, instructions, events, byType, decodedBytes: pos };
      default:
        if ((id >= 10 && id <= 21) || (id >= 30 && id <= 38)) break;
        throw new Error(`replay log: unknown event id ${id} at offset ${eventStart}`);
    }
  }
}

/** The guest instructions recorded in a replay log: the sum of its EVENT_INSTRUCTION deltas. */
export function replayInstructionCount(buf: Uint8Array): number {
  return decodeReplayLog(buf).instructions;
}
