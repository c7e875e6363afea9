import type { Hart } from '../cpu/hart';
import type { Machine } from '../machine/machine';
import { EmuThread, StepResult } from './scheduler';
import { ownEvent } from './migrationThread';
import * as S from './qemuSites';
import type { VcpuRunState } from '../snapshot/machineSnapshot';

/**
 * Instructions a hart runs per iteration before the vCPU takes another look at the machine:
 * QEMU's 16-bit icount decrementer, refilled (and the TB loop re-entered) every 0xffff
 * instructions of an execution run. Interrupt timing does not depend on it (iterations end
 * exactly at timer deadlines and after every MMIO or CSR access).
 */
export const SLICE = 0xffff;
/**
 * An iteration's guest code runs in scheduler steps of at most this many instructions: other
 * threads run between them but cannot touch the log (unless they break the rules). Where a step
 * ends changes nothing the guest sees.
 */
const SUB_SLICE = SLICE >> 2;
/** QEMU's TCG_KICK_PERIOD: the rr kick timer (QEMU_CLOCK_VIRTUAL) ends an execution run this often. */
export const KICK_PERIOD_NS = 100_000_000;

type Phase =
  /** rr_cpu_thread_fn's loop head. */
  | 'top'
  /** icount_prepare_for_run, waiting for the replay mutex. */
  | 'prepare'
  /** tcg_cpus_exec: guest code, the replay mutex held, the BQL not. */
  | 'run'
  /** Back from tcg_cpus_exec, waiting for the BQL. */
  | 'relock'
  /** rr_wait_io_event: every hart idle, asleep in qemu_cond_wait_iothread until kicked. */
  | 'sleep';

/**
 * One hart's vCPU thread, as QEMU 7.2's round-robin TCG runs it with icount in record/replay
 * (accel/tcg/tcg-accel-ops-rr.c, tcg-accel-ops-icount.c): at the loop head it drops the BQL,
 * takes the replay mutex, retakes the BQL, handles timers and async events, and drops the
 * replay mutex again while still holding the BQL. Then it drops the BQL and runs guest code
 * holding the replay mutex alone, from icount_prepare_for_run to icount_process_data — one run
 * until the next virtual-timer deadline, a kick or a sleep, however many MMIO accesses it makes
 * (each takes the BQL at io_readx/io_writex). Back from the run it retakes the BQL, so outside
 * guest code it holds the BQL. The harts take turns (the baton is `machine.nextHart`). The
 * replay mutex is only taken in record/replay, as in QEMU.
 */
export class VcpuThread implements EmuThread {
  readonly name: string;
  site = S.RR_LOOP;
  /** The iteration in progress: its end, the timer deadline, in icount. */
  iter?: { end: number; timerAt: number };
  private readonly iterSlot = { end: 0, timerAt: 0 };
  private phase: Phase = 'top';
  private bqlHeld = false;
  private started = false;
  /** Registered with RCU (the thread's first act). */
  private registered = false;
  /** The run's budget: where icount_get_limit cut it (the next virtual timer, the kick). */
  private runEnd = 0;
  /** Where the decrementer is refilled next (the TB loop is re-entered: cpu_handle_interrupt). */
  private refillAt = 0;
  private blocksSeen = 0;
  /** The mtimer's timer_mod_ns calls seen (a new one ends the run). */
  private timerMods = 0;
  /** Kicked out of rr_wait_io_event (qemu_cond_wait_iothread's wake-up). */
  kicked = false;
  private why = '';

  constructor(private readonly m: Machine, readonly hart: Hart) {
    this.name = `vcpu${hart.hartId}`;
  }

  waitingFor(): string {
    return this.why;
  }

  private get rr(): boolean {
    return this.m.replay !== undefined;
  }

  step(): StepResult {
    switch (this.phase) {
      case 'run': return this.runGuest();
      case 'prepare': return this.prepare();
      case 'relock': return this.relock();
      case 'sleep': return this.wake();
      case 'top': return this.loopHead();
    }
  }

  private wait(why: string): StepResult {
    this.why = why;
    return 'blocked';
  }

  private get locks() {
    return this.m.locks;
  }

  private loopHead(): StepResult {
    const m = this.m;
    const locks = this.locks;
    if (!this.started) {
      if (!m.started) return this.wait('the main loop to finish start-up');
      if (!this.registered) {
        // rr_cpu_thread_fn: rcu_register_thread, then the force-RCU notifier, each under the registry lock.
        m.locks.touch(S.LOCK_RCU_REGISTRY, this.name, S.RCU_REGISTER);
        m.locks.touch(S.LOCK_RCU_REGISTRY, this.name, S.RCU_NOTIFIER);
        this.registered = true;
      }
      if (!locks.bql.acquire(this.name, S.RR_START)) return this.wait(`the BQL (held by ${locks.bql.holder ?? 'nobody'})`);
      this.started = true;
      this.bqlHeld = true;
    }
    // The BQL is never kept across a scheduler step: what other threads see is the order.
    if (this.bqlHeld) {
      locks.bql.release(this.name, S.BQL_UNLOCK);
      this.bqlHeld = false;
      this.loopHead();
      return 'ran'; // a lock released is progress for whoever waits for it
    }
    // The baton passes when a run starts; the next hart still waits for it to end.
    if (m.nextHart !== this.hart.hartId) return this.wait(`its turn (vcpu${m.nextHart} runs next)`);
    const busy = m.vcpus.find((v) => v !== this && v.busy);
    if (busy) return this.wait(`${busy.name} to end its run`);
    if (this.rr && !locks.replay.acquire(this.name, S.RR_LOOP)) return this.wait(`the replay mutex (held by ${locks.replay.holder ?? 'nobody'})`);
    this.site = S.RR_LOOP;
    if (!locks.bql.acquire(this.name, S.RR_LOOP)) {
      // Only a thread breaking the rules holds the BQL without the replay mutex.
      if (this.rr) locks.replay.release(this.name, S.RR_LOOP);
      return this.wait(`the BQL (held by ${locks.bql.holder ?? 'nobody'})`);
    }
    if (m.qemu.cpuListAtLoopHead) m.locks.touch(S.LOCK_CPU_LIST, this.name, S.RR_CPU_COUNT);
    m.locks.touch(S.LOCK_TIMERS, this.name, S.TIMER_DEADLINE);
    const r = this.begin();
    // Released under the BQL, as rr_cpu_thread_fn does once timers and events are handled.
    if (this.rr) locks.replay.release(this.name, S.RR_LOOP);
    if (r === 'run') {
      locks.bql.release(this.name, S.BQL_UNLOCK);
      this.phase = 'prepare';
      return this.prepare();
    }
    if (r === 'next') {
      locks.bql.release(this.name, S.BQL_UNLOCK);
      m.publish();
      return 'ran';
    }
    // qemu_cond_wait_iothread: asleep with the BQL dropped.
    locks.bql.release(this.name, S.COND_WAIT);
    // Parked: no progress of its own, but the locks it let go may be what another thread waits for.
    if (r === 'wait') return locks.replay.waiters().length > 0 || locks.bql.waiters().length > 0 ? 'ran' : 'blocked';
    // rr_wait_io_event: every hart idle; the main loop is woken to start the warp timer.
    m.notifyMainLoop('idle');
    this.kicked = false;
    this.phase = 'sleep';
    return 'ran';
  }

  /** icount_prepare_for_run: the replay mutex for the whole run, the BQL left dropped. */
  private prepare(): StepResult {
    const m = this.m;
    const locks = this.locks;
    if (this.rr && !locks.replay.acquire(this.name, S.ICOUNT_PREPARE)) return this.wait(`the replay mutex (held by ${locks.replay.holder ?? 'nobody'})`);
    this.site = S.ICOUNT_PREPARE;
    // icount_get_limit: the budget runs to the virtual clock's next deadline.
    m.locks.touch(S.LOCK_TIMERS, this.name, S.TIMER_DEADLINE);
    const icount = m.clock.icount;
    this.runEnd = Math.min(this.iter!.timerAt, m.clock.icountAt(m.kickAtNs), icount + 0x7fffffff);
    this.refillAt = icount + SLICE;
    this.blocksSeen = m.bus.blocks.built;
    this.phase = 'run';
    return 'ran';
  }

  /** icount_process_data: the run is over; the replay mutex goes, the BQL comes back. */
  private endRun(): StepResult {
    const m = this.m;
    this.iter = undefined;
    m.exitRequested = false;
    m.publish();
    if (this.rr) this.locks.replay.release(this.name, S.ICOUNT_PROCESS);
    this.phase = 'relock';
    return this.relock();
  }

  private relock(): StepResult {
    const locks = this.locks;
    if (!locks.bql.acquire(this.name, S.RR_AFTER_EXEC)) return this.wait(`the BQL (held by ${locks.bql.holder ?? 'nobody'})`);
    this.site = S.RR_LOOP;
    this.bqlHeld = true;
    // qemu_wait_io_event_common's process_queued_cpu_work: the hart's (empty) work list.
    this.m.locks.touch(S.LOCK_WORK, this.name, S.CPU_WORK);
    this.phase = 'top';
    this.loopHead();
    return 'ran'; // progress, whether or not the loop head got its locks
  }

  /** Asleep in qemu_cond_wait_iothread until the main loop (or input) kicks the harts. */
  private wake(): StepResult {
    if (!this.kicked) return this.wait('a kick (every hart asleep: the main loop warps the clock)');
    const locks = this.locks;
    if (!locks.bql.acquire(this.name, S.COND_WAIT)) return this.wait(`the BQL (held by ${locks.bql.holder ?? 'nobody'})`);
    this.bqlHeld = true;
    this.kicked = false;
    this.m.locks.touch(S.LOCK_WORK, this.name, S.CPU_WORK);
    // rr_start_kick_timer: the kick timer was off while every hart slept.
    this.m.rearmKick();
    this.phase = 'top';
    this.loopHead();
    return 'ran'; // progress, whether or not the loop head got its locks
  }

  /** In a run, or holding the replay mutex on the way to one. */
  get busy(): boolean {
    return this.phase === 'run' || this.phase === 'prepare';
  }

  /** The loop head's work, holding the replay mutex and the BQL: 'run' when guest code is to run now. */
  private begin(): 'run' | 'next' | 'wait' | 'sleep' {
    const m = this.m;
    const clock = m.clock;
    const icount = clock.icount;
    if (m.vm !== 'running') {
      // vm_stop: the vCPUs park here until the VM runs again. Parking is news the migration
      // thread or savevm waits for, so it counts as progress; staying parked does not.
      this.why = 'the VM to run again (vm_stop: a migration or savevm)';
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
    if (next && ownEvent(next, player!.all)) {
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
    if (m.eventsPending()) m.processEvents(this.name, S.ICOUNT_DEADLINE);
    if (m.replay?.divergence) {
      m.stopWith('diverged');
      return 'next';
    }
    const harts = m.harts;
    const h = this.hart;
    m.nextHart = (m.nextHart + 1) % harts.length;
    if (h.halted) {
      if (!h.hasWork()) return harts.every((o) => o.halted && !o.hasWork()) ? 'sleep' : 'next';
      h.halted = false;
    }
    return this.startIteration() ? 'run' : 'next';
  }

  /** Picks up an interrupt and sets the next iteration's end; false when a timer is due now. */
  private startIteration(): boolean {
    const m = this.m;
    const h = this.hart;
    const clock = m.clock;
    const icount = clock.icount;
    m.guestIdle = false;
    if (h.takeInterrupt()) {
      // cpu_handle_interrupt: the BQL around the hart's do_interrupt (the loop head has it already).
      const own = this.locks.bql.heldBy(this.name);
      if (!own) m.locks.takeBql(this.name, S.HANDLE_INTERRUPT);
      m.replay?.interrupt(h.hartId, h.mcause >>> 0);
      if (!own) this.locks.bql.release(this.name, S.BQL_UNLOCK);
    }
    m.lastHart = h.hartId;
    this.timerMods = m.clint.timerMods;
    const timerAt = clock.icountAt(m.clint.nextDeadlineNs());
    const end = Math.min(icount + SLICE, timerAt, m.nextJobAt(icount));
    if (end <= icount) return false; // a timer is due now: the loop head fires it
    // One object for every iteration (a polling guest starts millions): iter is its flag.
    const it = this.iterSlot;
    it.end = end;
    it.timerAt = timerAt;
    this.iter = it;
    return true;
  }

  /** Ends the iteration in progress here (a debugger write while stopped in it). */
  endIteration(): void {
    if (!this.iter) return;
    this.endRun();
  }

  /** Where the run in progress stands (for a snapshot taken in it). */
  runState(): VcpuRunState {
    return { runEnd: this.runEnd, refillAt: this.refillAt, modsPending: this.m.clint.timerMods - this.timerMods };
  }

  /** Back from a machine restore: at the loop head, or (cut) in the middle of a run. */
  restore(started: boolean, cut?: { end: number; timerAt: number; run?: VcpuRunState }): void {
    this.iter = cut && { end: cut.end, timerAt: cut.timerAt };
    this.bqlHeld = false;
    this.started = started;
    this.registered = started;
    this.kicked = false;
    if (cut) {
      this.phase = 'run';
      this.runEnd = cut.run?.runEnd ?? cut.end;
      this.refillAt = cut.run?.refillAt ?? this.m.clock.icount + SLICE;
      this.timerMods = this.m.clint.timerMods - (cut.run?.modsPending ?? 0);
      this.blocksSeen = this.m.bus.blocks.built;
      // It held the replay mutex when the snapshot was taken: held again, not taken anew.
      if (this.m.replay) this.locks.replay.restoreHolder(this.name, S.LOAD_STATE);
    } else {
      this.phase = 'top';
    }
  }

  /**
   * Runs one step's worth of the run's guest code: iterations back to back (every MMIO access
   * ends one) up to SUB_SLICE instructions. No other thread can act between them — this vCPU
   * holds the replay mutex for the whole run — so a scheduler step between them would change
   * nothing but the host-step stamps. Unless the migration thread is at work (its pre-copy runs
   * beside the guest, a step at a time) or is made to break the rules: then every iteration is a
   * step of its own, and it can cut in anywhere.
   */
  private runGuest(): StepResult {
    const m = this.m;
    const h = this.hart;
    const clock = m.clock;
    const stepEnd = clock.icount + SUB_SLICE;
    const chain = !m.config.injectMigrationWithoutReplayLock;
    for (let first = true; ; first = false) {
      const it = this.iter!;
      let over = m.vm !== 'running'; // kicked by vm_stop (only seen mid-iteration when the rules were broken)
      m.takeDebugStop(); // asked for at the iteration's start (an interrupt taken, say)
      if (!over) {
        // The decrementer's refill is a step's end too: the exits are traced where they happen.
        const limit = Math.min(it.end, stepEnd, m.runLimit, m.tracing ? Math.max(this.refillAt, clock.icount + 1) : Infinity);
        if (limit <= clock.icount) return first ? this.wait('run() to be called with a higher limit') : 'ran';
        h.timerIcount = it.timerAt;
        m.guestThread = this.name;
        const early = h.execute(limit);
        m.guestThread = undefined;
        m.takeDebugStop();
        m.afterGuest(h);
        this.traceExits();
        over = early || clock.icount >= it.end || m.stopped;
      }
      if (!over) return 'ran';
      this.iter = undefined;
      if (!this.goOn()) return this.endRun();
      if (!chain || m.migrating || clock.icount >= stepEnd) return 'ran';
    }
  }

  /**
   * Between two iterations of a run: QEMU stays in cpu_exec unless the run's budget is spent,
   * the hart halted, a timer was reprogrammed (qemu_timer_notify_cb kicks the vCPU), input or a
   * job waits, or another hart's turn comes.
   */
  private goOn(): boolean {
    const m = this.m;
    const h = this.hart;
    const icount = m.clock.icount;
    if (m.stopped || m.vm !== 'running' || h.halted || m.harts.length > 1 || m.exitRequested) return false;
    if (icount >= this.runEnd) {
      if (icount >= m.clock.icountAt(m.kickAtNs)) m.rearmKick(); // rr_kick_thread re-arms itself
      return false;
    }
    const mods = m.clint.timerMods;
    if (mods !== this.timerMods) {
      // timer_mod_ns under the timer list's lock, then qemu_timer_notify_cb kicks the vCPU out.
      for (; this.timerMods < mods; this.timerMods++) m.locks.touch(S.LOCK_TIMERS, this.name, S.TIMER_MOD);
      return false;
    }
    // A migration-thread event due here (replay) comes before anything the next iteration logs.
    if (m.eventsPending() || m.jobDueAt(icount) || m.nextJobAt(icount) <= icount) return false;
    if (m.replay?.divergence) return false;
    return this.startIteration();
  }

  /**
   * The lock operations of the TB loop's exits that an iteration ended with: the decrementer
   * refilled, code translated (tcg_tb_insert), an MMIO access made mid-block (cpu_io_recompile
   * looks the block up). Each exit takes the BQL in cpu_handle_interrupt: QEMU 7.2's riscv vCPU
   * has interrupt_request set from reset on (its traces show the BQL taken at every exit, also
   * in guests that never enable an interrupt). QEMU 10.0's takes it there too, but not at the MMIO exits:
   * cpu_io_recompile asks for the next TB with CF_NOIRQ, which skips cpu_handle_interrupt.
   */
  private traceExits(): void {
    const m = this.m;
    if (!m.tracing) return;
    const locks = m.locks;
    const built = m.bus.blocks.built;
    const icount = m.clock.icount;
    let refills = 0;
    while (icount >= this.refillAt) {
      this.refillAt += SLICE;
      refills++;
    }
    const mmio = m.takeMmioCount();
    const reads = m.takeIoReads();
    if (this.blocksSeen === built && refills === 0 && mmio === 1 && reads === 1) {
      // The polling guest's exit, nearly every time: one device read ended the iteration.
      locks.group(m.qemu.bqlAtEveryExit ? locks.readExit : locks.readExitWithoutInterrupt, this.name);
      return;
    }
    for (let k = 0; k < reads; k++) locks.section(locks.ioRead, this.name);
    let exits = refills;
    for (; this.blocksSeen < built; this.blocksSeen++) {
      m.locks.touch(S.LOCK_TB, this.name, S.TB_INSERT);
      exits++;
    }
    for (let k = 0; k < mmio; k++) locks.section(locks.tbLookup, this.name);
    if (m.qemu.bqlAtEveryExit) exits += mmio;
    for (let k = 0; k < exits; k++) locks.section(locks.handleInterrupt, this.name);
  }
}
