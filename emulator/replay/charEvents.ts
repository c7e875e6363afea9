import type { ReplayController } from './replayController';

/**
 * Character device events (QEMU's replay-char.c): bytes from the host to the UART are inputs
 * and are logged with the icount at which the machine handed them over; bytes the guest sends
 * are outputs, logged so that replay can check it is still on the recorded path.
 */
export function charWrite(rc: ReplayController, byte: number): void {
  const data = { device: 0, byte };
  const rec = rc.rec;
  if (rec) rec.append('EVENT_CHAR_WRITE', 'char-write', data);
  else rc.play!.take('EVENT_CHAR_WRITE', data);
}

export const charRead = {
  recorded(rc: ReplayController, bytes: Uint8Array): void {
    rc.rec?.append('EVENT_ASYNC_CHAR_READ', 'async', { device: 0, bytes: Array.from(bytes) });
  },

  /** The logged input due at `icount`; a log whose next input lies behind us has diverged. */
  due(rc: ReplayController, icount: number): Uint8Array | undefined {
    const p = rc.play;
    if (!p) return undefined;
    const at = p.nextIcountOf('EVENT_ASYNC_CHAR_READ');
    if (at === undefined || at > icount) return undefined;
    if (at < icount) {
      p.diverge(`no input at icount ${at}: the machine was already at ${icount}`);
      return undefined;
    }
    const e = p.take('EVENT_ASYNC_CHAR_READ');
    return e ? Uint8Array.from(e.data!.bytes as number[]) : undefined;
  },
};
