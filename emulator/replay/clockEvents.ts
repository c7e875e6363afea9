import type { ReplayController } from './replayController';

/**
 * Host clock reads (QEMU's replay-time.c): the Goldfish RTC's value is the host's wall clock,
 * a nondeterministic input, so recording logs every read and replay returns the logged value.
 */
export function hostClockRead(rc: ReplayController, real: () => bigint): bigint {
  const rec = rc.rec;
  if (rec) {
    const v = real();
    rec.append('EVENT_CLOCK_HOST', 'clock', { hi: Number(v >> 32n), lo: Number(v & 0xffffffffn) });
    return v;
  }
  const e = rc.play!.take('EVENT_CLOCK_HOST');
  // After a divergence the run stops at the next instruction boundary; until then any value will do.
  if (!e) return real();
  return (BigInt(e.data!.hi as number) << 32n) | BigInt(e.data!.lo as number);
}
