/**
 * The one event model every replay log lands in: Rewind's own recordings and QEMU's replay logs
 * alike. The taxonomy mirrors QEMU's (replay/replay-internal.h) so a QEMU developer reads it
 * without a glossary, plus Rewind's own kinds.
 */
export type EventKind =
  | 'instruction' // instructions executed since the previous event (QEMU EVENT_INSTRUCTION)
  | 'interrupt'
  | 'exception'
  | 'async' // bottom half, input, char read, block, net: delivered at a checkpoint
  | 'shutdown'
  | 'char-write'
  | 'char-read-all'
  | 'audio'
  | 'random'
  | 'clock' // a host or virtual-RT clock read, with its value
  | 'checkpoint'
  | 'end'
  // Rewind's own:
  | 'snapshot'
  | 'migration'
  | 'run-state'
  | 'debug'; // a debugger's write into memory or a register, while recording

/** One event of a replay log. */
export interface ReplayEvent {
  /** Position in the log, from 0 (the header is not an event). */
  index: number;
  /** Instructions executed before this event: the running sum of instruction events. */
  icount: number;
  kind: EventKind;
  /** The event's name as QEMU spells it (EVENT_CHAR_WRITE, EVENT_CP_CLOCK_WARP_ACCOUNT, ...). */
  name: string;
  /** Byte offset of the event in its file. */
  offset: number;
  /** Decoded payload, by field name; byte arrays as number arrays. */
  data?: Record<string, number | string | number[]>;
}

/** How far a reader got when a file ends early or is damaged: everything before is still shown. */
export interface DecodeProblem {
  /** Byte offset where decoding stopped. */
  offset: number;
  /** Events decoded before it. */
  events: number;
  message: string;
}
