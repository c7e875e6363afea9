import type { Machine } from '../machine/machine';
import { EmuThread, StepResult } from './scheduler';
import * as S from './qemuSites';
import type { MainLoopState } from '../snapshot/machineSnapshot';
import type { Savevm } from './savevm';
import { warpIdle } from './icountWarp';

type Phase = 'start-up' | 'poll' | 'lock' | 'dispatch' | 'savevm';

/**
 * QEMU's main-loop thread (util/main-loop.c, main_loop_wait): it polls with both locks dropped,
 * and on every wake-up takes the replay mutex, then the BQL, dispatches (timers, the chardev
 * backend, vm-stop requests), and drops the BQL and then the replay mutex before polling again.
 * The two locks are held across a scheduler step, so a vCPU can find them taken, as in QEMU.
 *
 * It wakes for host input waiting for the UART (queued as an async event, delivered by the
 * next vCPU loop head), and when every hart sleeps: icount's warp (icount_start_warp_timer with
 * sleep=off) logs CHECKPOINT_CLOCK_WARP_START and a QEMU_CLOCK_VIRTUAL_RT read, moves the
 * virtual clock to the next deadline, and the virtual timers run behind CHECKPOINT_CLOCK_VIRTUAL.
 * At start-up it holds both locks (qemu_init) and logs CHECKPOINT_INIT and CHECKPOINT_RESET.
 */
export class MainLoopThread implements EmuThread {
  readonly name = 'main-loop';
  site = S.MAIN_LOOP_WAIT;
  private phase: Phase = 'start-up';
  /** Why the loop woke: 'idle' (a vCPU went to sleep), 'notify' (another pass after a timer change). */
  private wakes: ('idle' | 'notify')[] = [];

  constructor(private readonly m: Machine, private readonly savevm: Savevm) {}

  waitingFor(): string {
    return this.phase === 'lock' ? `the replay mutex or the BQL (held by ${this.m.locks.replay.holder ?? this.m.locks.bql.holder ?? 'nobody'})` : 'host input (polling)';
  }

  /** qemu_notify_event: the next poll returns at once. */
  notify(why: 'idle' | 'notify'): void {
    if (!this.wakes.includes(why)) this.wakes.push(why);
  }

  /** Back from a machine restore: polling, or (a snapshot at reset) about to start up. */
  restore(started: boolean, state?: MainLoopState): void {
    this.phase = !started ? 'start-up' : state?.queued ? 'lock' : 'poll';
    this.wakes = state ? [...state.wakes] : [];
  }

  /**
   * For a snapshot (taken while a vCPU runs, so the main loop holds no lock): woken and queued
   * for the replay mutex, it queues again after a restore, behind the vCPU.
   */
  state(): MainLoopState | undefined {
    if (this.phase === 'start-up' || (this.phase === 'poll' && this.wakes.length === 0)) return undefined;
    return { wakes: [...this.wakes], queued: this.phase !== 'poll' };
  }

  step(): StepResult {
    const m = this.m;
    const rr = m.replay !== undefined;
    const locks = m.locks;
    switch (this.phase) {
      case 'start-up': {
        if (rr && !locks.replay.heldBy(this.name) && !locks.replay.acquire(this.name, S.MAIN_INIT)) return 'blocked';
        m.locks.takeBql(this.name, S.MAIN_INIT);
        this.site = S.MAIN_INIT;
        if (!m.replay?.checkpoint('INIT') && rr) m.stopWith('diverged');
        if (!m.replay?.checkpoint('RESET') && rr) m.stopWith('diverged');
        m.started = true;
        // The first poll returns at once: start-up left bottom halves and timers to run.
        this.notify('notify');
        locks.bql.release(this.name, S.BQL_UNLOCK);
        if (rr) locks.replay.release(this.name, S.MAIN_LOOP_WAIT);
        this.site = S.MAIN_LOOP_WAIT;
        this.phase = 'poll';
        return 'ran';
      }
      case 'poll':
        if (this.wakes.length === 0 && !m.inputWanted() && !this.savevm.due()) return 'blocked';
        this.phase = 'lock';
      // falls through
      case 'lock':
        if (rr && !locks.replay.heldBy(this.name) && !locks.replay.acquire(this.name, S.MAIN_LOOP_WAIT)) return 'blocked';
        if (!locks.bql.acquire(this.name, S.MAIN_LOOP_WAIT)) return 'blocked';
        this.phase = 'dispatch';
        // Without record/replay a vCPU runs guest code with neither lock, and would find the BQL
        // taken at its next device access (which QEMU blocks on, and Rewind cannot mid-instruction).
        if (rr) return 'ran';
      // falls through
      case 'dispatch': {
        m.locks.touch(S.LOCK_VMSTOP, this.name, S.VMSTOP);
        if (m.inputWanted()) m.queueInput();
        const why = this.wakes.shift();
        if (why === 'idle') warpIdle(m, () => this.notify('notify'));
        if (this.savevm.due()) {
          // A monitor command, dispatched here: savevm (it drops both locks while the vCPUs park).
          this.site = S.SAVE_SNAPSHOT;
          if (this.savevm.start(this.name)) {
            this.phase = 'savevm';
            return 'ran';
          }
          this.site = S.MAIN_LOOP_WAIT;
        }
        locks.bql.release(this.name, S.BQL_UNLOCK);
        if (rr) locks.replay.release(this.name, S.MAIN_LOOP_WAIT);
        this.phase = 'poll';
        return 'ran';
      }
      case 'savevm':
        if (!this.savevm.resume(this.name)) return 'blocked';
        locks.bql.release(this.name, S.BQL_UNLOCK);
        if (rr) locks.replay.release(this.name, S.MAIN_LOOP_WAIT);
        this.site = S.MAIN_LOOP_WAIT;
        this.phase = 'poll';
        return 'ran';
    }
  }
}
