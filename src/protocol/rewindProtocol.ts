/**
 * Rewind's additions to the Debug Adapter Protocol, defined once for the three sides that speak
 * them: the debug adapter (src/adapter), the VS Code extension (src/extension) and the timeline
 * webview (webview/). Plain types and string constants only, so each side can import it without
 * pulling in the others' dependencies.
 *
 * Custom requests go through DAP's generic request mechanism (`session.customRequest(command,
 * args)` in VS Code); custom events arrive as DAP events with these names.
 */

/** The custom requests: command name → arguments and response body. */
export interface RewindRequests {
  /** Reverse step into: back to the previous line, entering calls (at their last line). */
  'rewind/reverseStepIn': { args: { threadId: number; granularity?: 'statement' | 'line' | 'instruction' }; body: Record<string, never> };
  /** Reverse step out (reverse-finish): back to the call that made the current frame. */
  'rewind/reverseStepOut': { args: { threadId: number }; body: Record<string, never> };
  'rewind/goToStart': { args: Record<string, never>; body: Record<string, never> };
  'rewind/goToEnd': { args: Record<string, never>; body: Record<string, never> };
  /** Travel to an instruction count (clamped to the recording; a live one records forward). */
  'rewind/goToIcount': { args: { icount: number }; body: Record<string, never> };
  /** Travel to where replay event `index` happened. */
  'rewind/goToEvent': { args: { index: number }; body: Record<string, never> };
  /** Bytes for the guest's UART, recorded; refused (an error response) while in the past. */
  'rewind/sendInput': { args: { text?: string; bytes?: number[] }; body: { accepted: number } };
  /** The position now (also sent as the `rewind/position` event on every stop). */
  'rewind/position': { args: Record<string, never>; body: PositionEvent };
  /** A window of the replay event log, by event index or by icount. */
  'rewind/events': { args: WindowArgs; body: { total: number; events: ReplayEventRecord[] } };
  /** A window of the lock operations (BQL, replay mutex) of the recording. */
  'rewind/lockOps': { args: WindowArgs; body: { total: number; ops: LockOpRecord[] } };
}

export type RewindRequestName = keyof RewindRequests;
export type RewindRequestArgs<K extends RewindRequestName> = RewindRequests[K]['args'];
export type RewindResponseBody<K extends RewindRequestName> = RewindRequests[K]['body'];

export const REWIND_REQUESTS: readonly RewindRequestName[] = [
  'rewind/reverseStepIn', 'rewind/reverseStepOut', 'rewind/goToStart', 'rewind/goToEnd', 'rewind/goToIcount',
  'rewind/goToEvent', 'rewind/sendInput', 'rewind/position', 'rewind/events', 'rewind/lockOps',
];

/** A window: [from, to) by item index, or by icount when `by` is 'icount'; at most `limit` items. */
export interface WindowArgs {
  by?: 'index' | 'icount';
  from?: number;
  to?: number;
  limit?: number;
}

/** The custom events: event name → body. */
export interface RewindEvents {
  /** Sent on every stop: where the machine is in the recording, and who holds which lock. */
  'rewind/position': PositionEvent;
}

export const POSITION_EVENT = 'rewind/position';

export interface PositionEvent {
  icount: number;
  /** The end of the recording (for a live one: how far it has got). */
  endIcount: number;
  /** Replay events before this point (the index of the next one). */
  eventIndex: number;
  hart: number;
  pc: number;
  /** A live recording (new input is taken at its end); false for a replay. */
  live: boolean;
  /** At the end of the log: input and writes are possible (live recordings only). */
  atEnd: boolean;
  /** Each emulator thread and the locks it holds now. */
  threads: { name: string; holds: string[] }[];
}

export interface ReplayEventRecord {
  index: number;
  icount: number;
  /** QEMU's name for it (EVENT_CHAR_WRITE, EVENT_INTERRUPT, ...). */
  name: string;
  kind: string;
  data?: Record<string, number | string | number[]>;
}

export interface LockOpRecord {
  index: number;
  icount?: number;
  /** The scheduler's host step: orders operations that share an icount. */
  step?: number;
  thread: string;
  lock: string;
  /** wait, acquired, released. */
  action: string;
  /** `module:function` where Rewind's thread took the lock (named after QEMU's). */
  site: string;
  violation?: string;
}
