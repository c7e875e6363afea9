import { RewindError } from '../errors';
import type { DebugWrite } from '../replay/debugEvents';
import type { Hart } from '../cpu/hart';
import type { SystemBus } from './bus';

/** What a debugger write may touch: RAM (devices have side effects) and x1..x31 or the pc. */
export function checkDebugWrite(w: DebugWrite, harts: readonly Hart[], ramBase: number, ramBytes: number): void {
  if (w.hart < 0 || w.hart >= harts.length) throw new RewindError('BAD_WRITE', `no hart ${w.hart}`);
  if (w.target === 'memory') {
    const off = w.address - ramBase;
    if (off < 0 || off + w.bytes.length > ramBytes) throw new RewindError('BAD_WRITE', `0x${(w.address >>> 0).toString(16)}..+${w.bytes.length} is not RAM: the debugger writes RAM only (devices have side effects)`);
  } else if (!(w.address >= 1 && w.address <= 32) || w.bytes.length !== 4) {
    throw new RewindError('BAD_WRITE', `register ${w.address} cannot be written (x1..x31, or 32 for pc)`);
  }
}

/** Makes a (checked) debugger write. */
export function applyDebugWrite(w: DebugWrite, harts: readonly Hart[], bus: SystemBus): void {
  if (w.target === 'memory') {
    // writeRam notes the write: decoded code there is dropped, snapshots see the page.
    bus.writeRam(w.address, Uint8Array.from(w.bytes));
    return;
  }
  const v = (w.bytes[0] | (w.bytes[1] << 8) | (w.bytes[2] << 16) | (w.bytes[3] << 24)) | 0;
  const h = harts[w.hart];
  if (w.address === 32) h.pc = v & ~1;
  else h.x[w.address] = v;
}
