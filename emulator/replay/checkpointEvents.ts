import type { CheckpointKind } from './eventCodec';
import type { ReplayController } from './replayController';

/**
 * Checkpoints (QEMU's replay_checkpoint in replay.c): marks that pin down where in the
 * instruction stream a thread did something whose effect depends on timing, with no payload of
 * their own. Recording logs them; replay only goes on past one when the log has it next, here,
 * which is how QEMU keeps its main loop's clock work (warp start, virtual timers) in step.
 * False: replay diverged.
 */
export function checkpoint(rc: ReplayController, kind: CheckpointKind, icount?: number): boolean {
  const name = `EVENT_CP_${kind}`;
  const rec = rc.rec;
  if (rec) {
    rec.append(name, 'checkpoint', {}, icount);
    return true;
  }
  return rc.play!.take(name, {}, icount) !== undefined;
}

/**
 * A read of QEMU_CLOCK_VIRTUAL_RT (replay-time.c's replay_save_clock/replay_read_clock): the
 * host's monotonic time, which icount's warp code reads when every vCPU sleeps. Its value
 * changes nothing the guest sees with sleep=off, but QEMU logs it, and so does Rewind.
 */
export function virtualRtClock(rc: ReplayController, realNs: () => bigint, icount?: number): bigint {
  const rec = rc.rec;
  if (rec) {
    const v = realNs();
    rec.append('EVENT_CLOCK_VIRTUAL_RT', 'clock', { hi: Number(v >> 32n), lo: Number(v & 0xffffffffn) }, icount);
    return v;
  }
  const e = rc.play!.take('EVENT_CLOCK_VIRTUAL_RT', {}, icount);
  if (!e) return realNs();
  return (BigInt(e.data!.hi as number) << 32n) | BigInt(e.data!.lo as number);
}
