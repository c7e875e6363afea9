import type { ReplayController } from './replayController';
import type { ReplayEvent } from './replayEvent';

/**
 * A debugger's change to the guest while recording: bytes into RAM, or a register of a hart
 * (address = register number, x1..x31, 32 for pc; bytes = the value, little-endian). It is
 * part of the run's history like an input: logged where it happened, and made again there by
 * every replay. (QEMU has no such event: its gdbstub writes are simply not replayable.)
 */
export interface DebugWrite {
  target: 'memory' | 'register';
  hart: number;
  address: number;
  bytes: number[];
}

export const DEBUG_WRITE = 'EVENT_DEBUG_WRITE';

/** Record: log a write made now. */
export function debugWriteRecorded(rc: ReplayController, w: DebugWrite): void {
  rc.rec!.append(DEBUG_WRITE, 'debug', { target: w.target, hart: w.hart, address: w.address, bytes: w.bytes });
}

export function isDebugWrite(e: ReplayEvent | undefined): boolean {
  return e !== undefined && e.name === DEBUG_WRITE;
}

/** Replay: the writes the log has at this icount, taken from it in order. */
export function debugWritesDue(rc: ReplayController, icount: number): DebugWrite[] {
  const out: DebugWrite[] = [];
  const play = rc.play;
  for (let e = play?.peek(); play && isDebugWrite(e) && e!.icount === icount; e = play.peek()) {
    const t = play.take(DEBUG_WRITE);
    if (!t?.data) break;
    out.push({ target: t.data.target === 'register' ? 'register' : 'memory', hart: Number(t.data.hart), address: Number(t.data.address), bytes: (t.data.bytes as number[]) ?? [] });
  }
  return out;
}
