import type { Machine } from '../machine/machine';
import * as S from './qemuSites';

/** QEMU_CLOCK_VIRTUAL_RT's source: the host's monotonic clock. */
const hostMonotonicNs = (): bigint => process.hrtime.bigint();

/**
 * The main loop, holding both locks, woken because every hart sleeps in WFI: hand over input
 * that waits, or warp the virtual clock to the next deadline as QEMU's icount_start_warp_timer
 * does with sleep=off (logging its checkpoints and clock read), or — with nothing that could
 * wake the harts from inside the machine — stop (idle, or diverged in a replay whose log goes on).
 */
export function warpIdle(m: Machine, again: () => void): void {
  const clock = m.clock;
  const player = m.replay?.play;
  if (!m.harts.every((h) => h.halted && !h.hasWork())) {
    m.kickVcpus();
    return;
  }
  // Replay: more input logged at this very icount (recorded while the guest slept).
  if (player && player.nextIcountOf('EVENT_ASYNC_CHAR_READ') === clock.icount) {
    m.kickVcpus();
    return;
  }
  if (!player && m.uart.canReceive() > 0 && m.hasPendingInput()) {
    m.guestIdle = true;
    if (m.inputWanted()) m.queueInput();
    m.kickVcpus();
    return;
  }
  const deadline = m.clint.nextDeadlineNs();
  const jobAt = m.nextJobAt(clock.icount);
  if (deadline === Infinity && jobAt === Infinity) {
    const next = player?.peek();
    if (player && next && next.name !== 'EVENT_END') {
      player.diverge(`every hart asleep in WFI with nothing to wake them at icount ${clock.icount}`);
      m.stopWith('diverged');
    } else {
      m.stopWith('idle');
    }
    // Look again on the next run(): input may have come by then.
    m.notifyMainLoop('idle');
    return;
  }
  const rc = m.replay;
  const at = m.harts[m.lastHart].sleepIcount;
  // icount_start_warp_timer: the deadline of the virtual clock's timers.
  m.locks.touch(S.LOCK_TIMERS, 'main-loop', S.TIMER_DEADLINE);
  if (rc) {
    const ok = rc.checkpoint('CLOCK_WARP_START', at) && (rc.virtualRt(hostMonotonicNs, at), !rc.divergence);
    if (!ok) {
      m.stopWith('diverged');
      return;
    }
  }
  const now = clock.virtualNs();
  if (deadline !== Infinity && deadline > now) clock.warpNs += deadline - now;
  // qemu_clock_notify, then timerlist_run_timers on the virtual clock behind its checkpoint.
  if (rc && !rc.checkpoint('CLOCK_VIRTUAL', at)) {
    m.stopWith('diverged');
    return;
  }
  again();
  m.kickVcpus();
}
