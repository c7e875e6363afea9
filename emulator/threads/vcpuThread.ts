import type { Hart } from '../cpu/hart';
import type { Machine } from '../machine/machine';
import { EmuThread, StepResult } from './scheduler';
import { ownEvent } from './migrationThread';

/**
 * Instructions a hart runs per iteration before the vCPU loop takes another look at timers,
 * input and the other harts: at most what QEMU's 16-bit icount decrementer allows per run.
 * Interrupt timing does not depend on it (iterations end exactly at timer deadlines and after
 * every MMIO or CSR access); it only bounds how late pending input is noticed, how finely harts
 * interleave, and how often the vCPU takes its locks.
 */
export const SLICE = 0xffff;
/**
 * An iteration's guest code runs in scheduler steps of at most this many instructions, the
 * replay mutex held throughout: other threads run between them but cannot touch the log
 * (unless they break the rules). Where a step ends changes nothing the guest sees.
 */
const SUB_SLICE = SLICE >> 2;

/** Lock sites, named after the QEMU functions that take the same locks. */
const SITE_LOOP = 'rr-cpus:rr_cpu_thread_fn';
const SITE_EVENTS = 'rr-cpus:icount_process_data';


/**
 * One hart's vCPU thread, as QEMU's round-robin TCG runs it in record/replay: the harts take
 * turns in a fixed order (the baton is `machine.nextHart`), and the one whose turn it is takes
 * the replay mutex, handles timers and async events (taking the BQL for them), picks up an
 * interrupt, and runs guest code holding the replay mutex — not the BQL, which it takes only
 * around device accesses — until the iteration ends; then it publishes its instruction count
 * and releases the replay mutex. The replay mutex is only taken in record/replay, as in QEMU.
 */
export class VcpuThread implements EmuThread {
  readonly name: string;
  readonly site = SITE_LOOP;
  /** The iteration in progress: its end, the timer deadline, in icount. */
  iter?: { end: number; timerAt: number };
  private why = '';

  constructor(private readonly m: Machine, readonly hart: Hart) {
    this.name = `vcpu${hart.hartId}`;
  }

  waitingFor(): string {
    return this.why;
  }

  step(): StepResult {
    const m = this.m;
    if (!this.iter) {
      // The baton passes when an iteration starts; the next hart still waits for it to end (in
      // record/replay the replay mutex would make it wait anyway, in a plain run nothing else does).
      if (m.nextHart !== this.hart.hartId) return this.wait(`its turn (vcpu${m.nextHart} runs next)`);
      const busy = m.vcpus.find((v) => v.iter);
      if (busy) return this.wait(`${busy.name} to end its iteration`);
      const rr = m.replay !== undefined;
      if (rr && !m.locks.replay.acquire(this.name, SITE_LOOP)) return this.wait(`the replay mutex (held by ${m.locks.replay.holder ?? 'nobody'})`);
      const r = this.begin();
      if (r !== 'run') {
        m.publish();
        if (rr) m.locks.replay.release(this.name, SITE_LOOP);
        return r === 'wait' ? 'blocked' : 'ran';
      }
    }
    return this.runGuest();
  }

  private wait(why: string): StepResult {
    this.why = why;
    return 'blocked';
  }

  /** The start of an iteration, under the replay mutex: 'run' when guest code is to run now. */
  private begin(): 'run' | 'next' | 'wait' {
    const m = this.m;
    const clock = m.clock;
    const icount = clock.icount;
    if (m.vm !== 'running') {
      // vm_stop: the vCPUs park here until the VM runs again. Parking is news the migration
      // thread waits for, so it counts as progress; staying parked does not.
      this.why = 'the VM to run again (stopped by the migration thread)';
      if (m.vcpusPaused) return 'wait';
      m.vcpusPaused = true;
      return 'next';
    }
    if (m.jobDueAt(icount)) {
      this.why = `the migration thread (a job is due at icount ${icount})`;
      return 'wait';
    }
    m.applyDueDebugWrites();
    const player = m.replay?.play;
    const next = player?.peek();
    if (next && ownEvent(next)) {
      if (next.icount === icount) {
        this.why = `the migration thread to replay ${next.name} (event #${next.index})`;
        return 'wait';
      }
      if (next.icount < icount) {
        player!.diverge(`no ${next.name} by the migration thread at icount ${next.icount}: the machine is at ${icount}`);
        m.stopWith('diverged');
        return 'next';
      }
    }
    if (m.eventsPending()) m.processEvents(this.name, SITE_EVENTS);
    if (m.replay?.divergence) {
      m.stopWith('diverged');
      return 'next';
    }
    const harts = m.harts;
    const h = this.hart;
    m.nextHart = (m.nextHart + 1) % harts.length;
    if (h.halted) {
      if (!h.hasWork()) {
        if (harts.every((o) => o.halted && !o.hasWork())) return this.allAsleep();
        return 'next';
      }
      h.halted = false;
    }
    m.guestIdle = false;
    if (h.takeInterrupt()) m.replay?.interrupt(h.hartId, h.mcause >>> 0);
    m.lastHart = h.hartId;
    const timerAt = clock.icountAt(m.clint.nextDeadlineNs());
    const end = Math.min(icount + SLICE, timerAt, m.nextJobAt(icount));
    if (end <= icount) return 'next'; // a timer is due now: the next iteration fires it
    this.iter = { end, timerAt };
    return 'run';
  }

  /** Every hart sleeps in WFI with nothing to wake it from inside the machine. */
  private allAsleep(): 'next' {
    const m = this.m;
    const clock = m.clock;
    const player = m.replay?.play;
    // Replay: more input logged at this very icount (recorded while the guest slept).
    if (player && player.nextIcountOf('EVENT_ASYNC_CHAR_READ') === clock.icount) return 'next';
    if (!player && m.uart.canReceive() > 0 && m.hasPendingInput()) {
      // Let the main loop hand over input now rather than at its usual pace (a change it may be
      // blocked on, so this counts as progress).
      m.guestIdle = true;
      return 'next';
    }
    // QEMU's icount_start_warp_timer with sleep=off: jump the clock to the next deadline.
    const deadline = m.clint.nextDeadlineNs();
    const jobAt = m.nextJobAt(clock.icount);
    if (deadline === Infinity && jobAt === Infinity) {
      // Replay: a guest asleep for good while the log goes on has left the recorded path.
      const next = player?.peek();
      if (next && next.name !== 'EVENT_END') {
        player!.diverge(`every hart asleep in WFI with nothing to wake them at icount ${clock.icount}`);
        m.stopWith('diverged');
      } else {
        m.stopWith('idle');
      }
      return 'next';
    }
    const now = clock.virtualNs();
    if (deadline !== Infinity && deadline > now) clock.warpNs += deadline - now;
    return 'next';
  }

  /** Ends the iteration in progress here (a debugger write while stopped in it). */
  endIteration(): void {
    if (!this.iter) return;
    this.iter = undefined;
    this.m.publish();
    if (this.m.replay) this.m.locks.replay.release(this.name, SITE_LOOP);
  }

  /** Runs one step's worth of the iteration's guest code. */
  private runGuest(): StepResult {
    const m = this.m;
    const it = this.iter!;
    const h = this.hart;
    const clock = m.clock;
    let over = m.vm !== 'running'; // kicked by vm_stop (only seen mid-iteration when the rules were broken)
    m.takeDebugStop(); // asked for at the iteration's start (an interrupt taken, say)
    if (!over) {
      const limit = Math.min(it.end, clock.icount + SUB_SLICE, m.runLimit);
      if (limit <= clock.icount) return this.wait('run() to be called with a higher limit');
      h.timerIcount = it.timerAt;
      m.guestThread = this.name;
      const early = h.execute(limit);
      m.guestThread = undefined;
      m.takeDebugStop();
      m.afterGuest(h);
      over = early || clock.icount >= it.end || m.stopped;
    }
    if (over) {
      this.iter = undefined;
      m.publish();
      if (m.replay) m.locks.replay.release(this.name, SITE_LOOP);
    }
    return 'ran';
  }
}
