import { Hart } from '../cpu/hart';
import { RewindError } from '../errors';
import type { ElfImage } from '../debuginfo/elf';
import { loadElfIntoRam } from './elfLoader';
import { RAM_BASE, SystemBus } from './bus';
import { Clint } from './clint';
import { MIP_MEIP, MIP_MSIP, MIP_MTIP } from './device';
import { GoldfishRtc } from './goldfishRtc';
import { Htif } from './htif';
import { Plic } from './plic';
import { buildResetRom, fdtAddress, ROM_BASE } from './resetRom';
import { SifiveTest } from './sifiveTest';
import { Uart16550 } from './uart16550';
import { VirtualClock } from './virtualClock';
import { QemuProfile, qemuProfile, QemuVersion } from './qemuVersion';
import { ReplayConfig, ReplayController } from '../replay/replayController';
import { DebugWrite, debugWriteRecorded, debugWritesDue, isDebugWrite } from '../replay/debugEvents';
import { applyDebugWrite, checkDebugWrite } from './debugWrites';
import { HostInput } from './hostInput';
import { loadBoard, saveBoard } from './boardState';
import { ThreadEvents } from '../threads/threadEvents';
import { MachineSnapshot } from '../snapshot/machineSnapshot';
import { LockOp } from '../threads/lockOp';
import { LockChecker } from '../threads/lockChecker';
import { LockBatch, LockTracer, TraceLevel } from '../threads/lockTracer';
import { MainLoopThread } from '../threads/mainLoopThread';
import { RcuThread } from '../threads/rcuThread';
import { Savevm } from '../threads/savevm';
import { Job, JobHooks, MigrationThread } from '../threads/migrationThread';
import { SchedulePolicy, Scheduler } from '../threads/scheduler';
import { QemuLocks } from '../threads/qemuLocks';
import { KICK_PERIOD_NS, VcpuThread } from '../threads/vcpuThread';
import * as S from '../threads/qemuSites';

export interface MachineConfig {
  /** RAM size in MiB (QEMU's -m); default 128. */
  ramMiB?: number;
  /** Number of harts (QEMU's -smp); default 1. */
  harts?: number;
  /** icount shift: each instruction is 2^shift ns of virtual time; default 0. */
  shift?: number;
  /** The host's wall clock in ns, read by the Goldfish RTC (the one nondeterministic input). */
  hostNowNs?: () => bigint;
  /** Compile hot blocks to JavaScript (default); false runs the pure interpreter. */
  jit?: boolean;
  /** Receives every byte the guest writes to the UART. */
  onOutput?: (byte: number) => void;
  /** Record every nondeterministic input, or replay a recording (see replay/replayController). */
  replay?: ReplayConfig;
  /** How the emulator's threads interleave: `fair` (default) or `random:SEED`. */
  sched?: SchedulePolicy;
  /** Where lock operations go, and which (full, replay-only, off). */
  /**
   * Where the kept lock operations go: `sink` gets a LockOp each, `batch` the tracer's typed
   * columns (the recorder's fast path: nothing allocated per op).
   */
  lockTrace?: { level: TraceLevel; sink?: (op: LockOp) => void; batch?: (b: LockBatch) => void };
  /** Snapshots and migrations for the migration thread while recording. */
  jobs?: Job[];
  jobHooks?: JobHooks;
  /** Fault injection: the migration thread writes its events without the replay mutex, as QEMU did before the fix. */
  injectMigrationWithoutReplayLock?: boolean;
  /**
   * QEMU's replay-mutex asserts (on by default, as in QEMU's builds): the first replay-log access
   * without the mutex stops the run ('aborted'). Off: the run goes on, as with the asserts
   * compiled out, and the checker reports every such access.
   */
  assertReplayLock?: boolean;
  /** Whose record/replay behaviour to follow where QEMU versions differ (default 7.2). */
  qemu?: QemuVersion;
}

/** What a recording keeps of the machine's configuration, to rebuild the same machine. */
export type MachineShape = Required<Pick<MachineConfig, 'ramMiB' | 'harts' | 'shift'>> & Pick<MachineConfig, 'qemu'>;

export type StopReason =
  /** The guest asked to stop (SiFive test device or HTIF); see exitCode. */
  | 'exit'
  /** The instruction limit given to run() was reached. */
  | 'limit'
  /** Every hart waits in WFI with no timer armed: only input can wake it. */
  | 'idle'
  /** A hart traps forever fetching its own trap handler (mtvec points at unmapped memory). */
  | 'stuck'
  /** Replay no longer matches the recording: see machine.replay.divergence. */
  | 'diverged'
  /**
   * A replay-log access without the replay mutex, which QEMU's g_assert(replay_mutex_locked())
   * turns into an abort (see machine.aborted); only with the asserts on (the default).
   */
  | 'aborted'
  /**
   * A migration completed: the source VM stays stopped (RUN_STATE_POSTMIGRATE, as QEMU's) and
   * runs no more; the destination goes on from the migrated state.
   */
  | 'postmigrate';

export interface RunResult {
  reason: StopReason;
  exitCode: number;
}

/** UART IRQ on virt's PLIC (VIRT_UART0_IRQ), and the RTC's (VIRT_RTC_IRQ). */
const UART_IRQ = 10;
const RTC_IRQ = 11;

const defaultHostNowNs = (): bigint => BigInt(Date.now()) * 1000000n;

/**
 * QEMU's `virt` board: harts, RAM, boot ROM, CLINT, PLIC, UART, RTC, test finisher, HTIF — and
 * the threads that run it (a vCPU thread per hart, the main loop, the migration thread) with the
 * BQL and the replay mutex, stepped by a deterministic scheduler.
 */
export class Machine {
  readonly clock: VirtualClock;
  readonly bus: SystemBus;
  readonly harts: Hart[];
  readonly uart: Uart16550;
  readonly plic: Plic;
  readonly clint: Clint;
  readonly rtc: GoldfishRtc;
  readonly ramBytes: number;
  private htif?: Htif;
  private exitCode: number | undefined;
  /** The test finisher's FAIL (true) or PASS (false) that set exitCode; undefined for other exits. */
  private finisherFail: boolean | undefined;
  readonly qemu: QemuProfile;
  private shutdownLogged = false;
  elf?: ElfImage;
  /** What loadElf had to leave out, for the CLI to print. */
  loadWarnings: string[] = [];
  private readonly hostNowNs: () => bigint;
  readonly replay?: ReplayController;

  readonly locks: QemuLocks;
  /** The online lock-rule checker (record and replay only). */
  readonly checker?: LockChecker;
  readonly scheduler: Scheduler;
  readonly vcpus: VcpuThread[];
  private readonly migration: MigrationThread;
  private readonly mainLoop: MainLoopThread;
  private readonly rcu: RcuThread;
  /** The main loop has done its start-up (qemu_init): the vCPUs may run. */
  started = false;
  /** Why the run aborted (QEMU's assertion text and the sites), once it has. */
  aborted: string | undefined;
  /** The rr kick timer's deadline (QEMU_CLOCK_VIRTUAL ns): an execution run ends there at the latest. */
  kickAtNs = KICK_PERIOD_NS;
  /** Lock operations are traced or checked: the locks that only show in a trace are taken. */
  readonly tracing: boolean;
  /** Device accesses since the vCPU last looked (each is a TB exit in QEMU's icount mode). */
  private mmioCount = 0;
  private ioReads = 0;

  // Shared by the threads (see threads/): the round-robin baton, the VM's run state, the stop.
  /** The hart whose vCPU thread has the next turn. */
  nextHart = 0;
  /** The hart that ran last (for the pc in divergence reports). */
  lastHart = 0;
  /**
   * Not 'running' from vm_stop until vm_start ('saving' while savevm has it stopped); the vCPUs
   * park and say so in vcpusPaused. 'postmigrate': migrated out, for good.
   */
  vm: 'running' | 'stopping' | 'saving' | 'postmigrate' = 'running';
  vcpusPaused = false;
  /** qemu_cpu_kick from another thread: the vCPU's execution run ends at its next exit. */
  exitRequested = false;
  /** run()'s instruction limit. */
  runLimit = Infinity;
  /** The vCPU thread running guest code, for the BQL it takes around device accesses. */
  guestThread: string | undefined;
  /** Every hart sleeps and input is waiting: the main loop should hand it over now. */
  guestIdle = false;
  /**
   * The icount as other threads see it: QEMU's vCPU updates the shared count when it leaves
   * guest code, so a thread reading it meanwhile (which only a rule-breaker can) gets the count
   * from the start of the vCPU's iteration.
   */
  private published = 0;
  private stop?: 'idle' | 'stuck' | 'diverged' | 'postmigrate';

  /** Host input on its way to the UART. */
  private readonly input = new HostInput();
  /** Replay: where vCPU iterations end for the other threads' events, as they did when recording. */
  private readonly threadEvents = new ThreadEvents();

  constructor(readonly config: MachineConfig = {}) {
    const ramMiB = config.ramMiB ?? 128;
    const nHarts = config.harts ?? 1;
    if (!Number.isInteger(ramMiB) || ramMiB < 1 || ramMiB > 2047) throw new RewindError('BAD_CONFIG', `RAM size must be 1..2047 MiB, not ${ramMiB}`);
    if (!Number.isInteger(nHarts) || nHarts < 1 || nHarts > 8) throw new RewindError('BAD_CONFIG', `hart count must be 1..8 (QEMU virt's limit per socket), not ${nHarts}`);
    const shift = config.shift ?? 0;
    if (!Number.isInteger(shift) || shift < 0 || shift > 10) throw new RewindError('BAD_CONFIG', `icount shift must be 0..10, not ${shift}`);
    this.ramBytes = ramMiB * 1024 * 1024;
    this.qemu = qemuProfile(config.qemu);
    this.clock = new VirtualClock(shift);
    this.bus = new SystemBus(this.ramBytes);
    this.bus.blocks.jit = config.jit ?? true;
    this.harts = [];
    for (let i = 0; i < nHarts; i++) this.harts.push(new Hart(i, this.bus, this.clock));
    for (const h of this.harts) h.ebreakTvalIsPc = this.qemu.ebreakTvalIsPc;
    this.clint = new Clint(this.clock, this.harts.map((h) => h.irqLine(MIP_MTIP)), this.harts.map((h) => h.irqLine(MIP_MSIP)));
    this.plic = new Plic({ harts: nHarts, meip: this.harts.map((h) => h.irqLine(MIP_MEIP)) });

    this.tracing = config.lockTrace !== undefined || config.replay !== undefined;
    this.bus.blocks.pauseOnBuild = this.tracing;
    const tracer = new LockTracer(config.lockTrace?.level ?? 'off', { icount: () => this.clock.icount, hostStep: () => this.scheduler.hostStep }, this.qemu.site);
    this.locks = new QemuLocks(tracer, this.tracing);
    if (config.replay) {
      const checker = new LockChecker(tracer, this.locks.replay);
      this.checker = checker;
      const asserts = config.assertReplayLock ?? true;
      const guard = (event: string): void => {
        const t = this.scheduler.current;
        if (!t) return;
        const v = checker.checkAppend(t.name, this.qemu.site(t.site ?? t.name), event, this.clock.icount);
        if (v && asserts) {
          this.aborted = `${qemuAssertFunction(event)}: assertion failed: (replay_mutex_locked()): ${v.message}`;
          throw new ReplayAssertion(this.aborted);
        }
      };
      this.replay = new ReplayController(config.replay, { icount: () => this.eventIcount(), pc: () => this.harts[this.lastHart].pc >>> 0 }, guard);
    }
    if (config.lockTrace?.sink) tracer.onOp(config.lockTrace.sink);
    if (config.lockTrace?.batch) tracer.onBatch(config.lockTrace.batch);
    // cputlb.c's io_readx/io_writex take the BQL around every device access. A read takes no
    // other lock inside (a write may: chr_write_lock), so it is one section; in guest code it is
    // traced with the exit it ends in (VcpuThread.traceExits: nothing comes between them).
    let inSection = false;
    this.bus.mmio = {
      enter: (_d, write) => {
        this.mmioCount++;
        const t = this.guestThread ?? 'vcpu?';
        if (write) this.locks.takeBql(t, S.IO_WRITEX);
        else if (this.tracing && this.guestThread !== undefined) this.ioReads++;
        else this.locks.section(this.locks.ioRead, t);
        inSection = !write;
      },
      leave: () => {
        if (!inSection) this.locks.bql.release(this.guestThread ?? 'vcpu?', S.BQL_UNLOCK);
        inSection = false;
      },
    };

    const sinkOut = config.onOutput ?? (() => undefined);
    const rc = this.replay;
    // qemu_chr_write_buffer takes the chardev's chr_write_lock for every byte the guest sends.
    const out = rc ? (b: number) => { this.locks.touch(S.LOCK_CHR, this.guestThread ?? 'vcpu?', S.CHR_WRITE); rc.output(b); sinkOut(b); } : sinkOut;
    this.uart = new Uart16550({ irq: this.plic.source(UART_IRQ), transmit: out });
    const realNow = config.hostNowNs ?? defaultHostNowNs;
    this.hostNowNs = rc ? () => rc.hostNow(realNow) : realNow;
    this.rtc = new GoldfishRtc({ hostNowNs: this.hostNowNs, irq: this.plic.source(RTC_IRQ) });
    const finisher = new SifiveTest({ onExit: (code, fail) => { this.exitCode = code; this.finisherFail = fail; } });
    for (const d of [this.clint, this.plic, this.uart, this.rtc, finisher]) this.bus.addDevice(d);

    if (rc) {
      for (const h of this.harts) {
        h.onException = (ic) => {
          // cpu_handle_exception: the event, then the BQL around do_interrupt.
          rc.exception(h.hartId, ic);
          this.traceIoReads(this.guestThread ?? `vcpu${h.hartId}`);
          this.locks.section(this.locks.handleException, this.guestThread ?? `vcpu${h.hartId}`);
        };
      }
    }
    this.vcpus = this.harts.map((h) => new VcpuThread(this, h));
    this.migration = new MigrationThread(this, config.jobs ?? [], config.jobHooks ?? {}, config.injectMigrationWithoutReplayLock ?? false);
    this.mainLoop = new MainLoopThread(this, new Savevm(this, this.migration, config.jobHooks ?? {}));
    this.rcu = new RcuThread(this);
    this.scheduler = new Scheduler([this.mainLoop, ...this.vcpus, this.migration, this.rcu], config.sched, () => this.locks.released.count);
    this.reset(RAM_BASE);
  }

  /** Puts every hart at the reset vector, which jumps to `entry`. */
  private reset(entry: number): void {
    this.bus.setRom(ROM_BASE, buildResetRom(entry, fdtAddress(RAM_BASE, this.ramBytes)));
    for (const h of this.harts) h.pc = ROM_BASE;
  }

  /** Loads an ELF executable (bytes of the file) and points the reset vector at its entry. */
  loadElf(bytes: Uint8Array, what = 'ELF file'): ElfImage {
    const { elf, warnings } = loadElfIntoRam(this.bus, this.ramBytes, bytes, what);
    this.loadWarnings = warnings;
    this.htif = Htif.fromElf(elf);
    if (this.htif) this.bus.watch(this.htif.tohost, 8);
    this.elf = elf;
    this.reset(elf.entry);
    return elf;
  }

  get icount(): number {
    return this.clock.icount;
  }

  /** Queues host input for the UART; the guest receives it as the FIFO accepts it. */
  pushInput(bytes: Uint8Array): void {
    const rc = this.replay;
    if (rc?.isLive && rc.play) {
      // Behind the end of a live recording, the guest's input is the log's: new input now would
      // rewrite history. Refused whole, so nothing of it is half taken.
      throw new RewindError('IN_THE_PAST', `input refused: the machine is at icount ${this.icount}, in the past of the recording (its end is at icount ${rc.play.all[rc.play.all.length - 1]?.icount ?? 0}); go to the end to type`);
    }
    this.input.push(bytes);
  }

  hasPendingInput(): boolean {
    return this.input.pending;
  }

  /**
   * An idle guest can still be woken by the host: an RTC alarm is armed (it runs on host time).
   * Queued input does not count: run() only reports idle when the UART will take no more.
   */
  waitingOnHost(): boolean {
    return this.rtc.nextAlarmNs() !== null;
  }

  // ---- For the threads (threads/*.ts) ----

  /** The main loop has input to hand over now (record and plain runs; replay takes it from the log). */
  inputWanted(): boolean {
    return !this.replay?.play && this.input.ready(this.published, this.guestIdle);
  }

  /** Main loop, under both locks: queue as much input as the UART says it can take (serial_can_receive). */
  queueInput(): void {
    this.input.queue(this.uart.canReceive(), this.eventIcount());
  }

  /** Something for processEvents: a timer due, an RTC alarm armed, input queued or logged here. */
  eventsPending(): boolean {
    if (this.clint.nextDeadlineNs() <= this.clock.virtualNs() || this.rtc.nextAlarmNs() !== null) return true;
    const player = this.replay?.play;
    if (!player) return this.input.queued !== undefined;
    const logged = player.nextIcountOf('EVENT_ASYNC_CHAR_READ');
    return logged !== undefined && logged <= this.clock.icount;
  }

  /**
   * A vCPU thread at the start of its iteration, holding the replay mutex: fire due timers and
   * deliver async events (queued input; in replay, the input the log has here), under the BQL.
   */
  processEvents(thread: string, _site: string): void {
    if (this.clint.nextDeadlineNs() <= this.clock.virtualNs()) this.locks.touch(S.LOCK_TIMERS, thread, S.TIMER_RUN);
    this.clint.fireDue();
    // The RTC alarm runs on host time (QEMU's rtc_clock), so it is only polled while armed.
    const alarm = this.rtc.nextAlarmNs();
    if (alarm !== null && this.hostNowNs() >= alarm) this.rtc.fireAlarm();
    if (this.replay?.play) {
      const bytes = this.replay.inputDue(this.clock.icount);
      if (bytes) this.uart.receive(bytes);
    } else {
      const bytes = this.input.take();
      if (bytes) {
        this.uart.receive(bytes);
        this.replay?.inputDelivered(bytes);
      }
    }
  }

  /** The emulator's threads by name, in the scheduler's order. */
  get threadNames(): string[] {
    return [this.mainLoop.name, ...this.vcpus.map((v) => v.name), this.migration.name, this.rcu.name];
  }

  /** Device accesses since the last call. */
  takeMmioCount(): number {
    const n = this.mmioCount;
    this.mmioCount = 0;
    return n;
  }

  /** Device reads in guest code whose io_readx section is still to be traced (see the mmio hooks). */
  takeIoReads(): number {
    const n = this.ioReads;
    this.ioReads = 0;
    return n;
  }

  /** Traces the io_readx sections still owed, before an op that came after them. */
  traceIoReads(thread: string): void {
    for (let n = this.takeIoReads(); n > 0; n--) this.locks.section(this.locks.ioRead, thread);
  }

  /** rr_start_kick_timer / rr_kick_thread: the next kick a period from now. */
  rearmKick(): void {
    this.kickAtNs = this.clock.virtualNs() + KICK_PERIOD_NS;
  }

  /** qemu_notify_event from a vCPU: the main loop's poll returns. */
  notifyMainLoop(why: 'idle' | 'notify'): void {
    this.mainLoop.notify(why);
  }

  /** Wakes every vCPU asleep in rr_wait_io_event. */
  kickVcpus(): void {
    for (const v of this.vcpus) v.kicked = true;
  }

  /** A vCPU leaves guest code: its count becomes visible to the other threads. */
  publish(): void {
    this.published = this.clock.icount;
  }

  /** The icount an event is stamped with: the live count in a vCPU, the published one elsewhere. */
  private eventIcount(): number {
    const t = this.scheduler.current;
    return t === undefined || t instanceof VcpuThread ? this.clock.icount : this.published;
  }

  /** The last run() ended at a debugger stop (requestStop), not at its limit. */
  debugStopped = false;

  /**
   * A debugger stop: run() returns (reason 'limit') at the next instruction boundary, with the
   * threads where they are, so running on changes nothing the guest sees. Callable from probes,
   * watchpoint and trap hooks, i.e. from inside guest code.
   */
  requestStop(): void {
    this.bus.debugStop = true;
  }

  /** The vCPU, between guest-code runs: a requested stop becomes the end of this run(). */
  takeDebugStop(): void {
    if (!this.bus.debugStop) return;
    this.bus.debugStop = false;
    this.debugStopped = true;
    this.runLimit = Math.min(this.runLimit, this.clock.icount);
  }

  /**
   * A debugger changes memory or a register, where the machine stopped: allowed only while
   * recording at the end of the log (anything else would rewrite history), logged as an event so
   * every replay makes the same change here. The running vCPU iteration ends first, as a replay
   * ends it at the event (so both see the same iteration boundaries afterwards).
   */
  debugWrite(w: DebugWrite): void {
    const rc = this.replay;
    if (!rc || !rc.rec) {
      const why = rc?.isLive ? `the machine is at icount ${this.icount}, in the past of the recording; go to its end to change the guest` : 'this machine replays a recording, whose history is fixed';
      throw new RewindError(rc?.isLive ? 'IN_THE_PAST' : 'REPLAY_ONLY', `cannot write the guest's ${w.target}: ${why}`);
    }
    checkDebugWrite(w, this.harts, RAM_BASE, this.ramBytes);
    for (const v of this.vcpus) v.endIteration();
    applyDebugWrite(w, this.harts, this.bus);
    debugWriteRecorded(rc, w);
  }

  /** Replay: make the debugger's writes the log has here (between vCPU iterations). */
  applyDueDebugWrites(): void {
    const rc = this.replay;
    if (!rc?.play || !isDebugWrite(rc.play.peek())) return;
    for (const w of debugWritesDue(rc, this.clock.icount)) applyDebugWrite(w, this.harts, this.bus);
  }

  stopWith(reason: 'idle' | 'stuck' | 'diverged' | 'postmigrate'): void {
    this.stop = reason;
  }

  /** The guest exited, or a stop was asked for: the vCPU ends its iteration. */
  get stopped(): boolean {
    return this.stop !== undefined || this.exitCode !== undefined;
  }

  /** The migration thread is in the middle of a job (see MigrationThread.active). */
  get migrating(): boolean {
    return this.migration.active;
  }

  /** A migration-thread job (record) or event (replay) is due exactly here: the vCPUs wait for it. */
  jobDueAt(icount: number): boolean {
    return this.migration.jobDueAt(icount);
  }

  /** Where the next vCPU iteration must end for the migration thread (Infinity: nowhere). */
  nextJobAt(icount: number): number {
    const player = this.replay?.play;
    if (!player) return this.migration.nextJobAt(icount);
    return this.threadEvents.nextAt(player, icount);
  }

  /** After a vCPU ran guest code (holding the replay mutex): HTIF exits, shutdown, a stuck hart. */
  afterGuest(h: Hart): void {
    if (this.bus.watchHit) this.checkHtif();
    if (this.exitCode !== undefined && !this.shutdownLogged) {
      // The vCPU that made the request logs it (QEMU's qemu_system_shutdown_request).
      this.shutdownLogged = true;
      if (this.qemu.finisherLogsShutdown && this.finisherFail !== undefined) this.replay?.guestShutdown(this.finisherFail, this.exitCode);
      this.replay?.shutdown('guest-exit', this.exitCode);
    }
    if (h.stuck) this.stop = 'stuck';
    if (this.replay?.divergence) this.stop = 'diverged';
  }

  /**
   * Runs until the guest exits, `maxIcount` instructions have executed in total, or all harts
   * are idle with nothing that could wake them but input. Stopping at a limit and calling run()
   * again changes nothing the guest sees: the threads are where they were.
   */
  run(maxIcount = Infinity): RunResult {
    this.runLimit = maxIcount;
    this.debugStopped = false;
    const clock = this.clock;
    const sched = this.scheduler;
    for (;;) {
      if (this.aborted !== undefined) return { reason: 'aborted', exitCode: 0 };
      if (this.replay?.divergence) return { reason: 'diverged', exitCode: 0 };
      if (this.exitCode !== undefined) return { reason: 'exit', exitCode: this.exitCode };
      if (this.stop !== undefined) {
        const reason = this.stop;
        if (reason === 'idle') this.stop = undefined; // input may come before the next run()
        return { reason, exitCode: 0 };
      }
      // runLimit, not maxIcount: a debugger stop lowers it to where the machine stopped. A
      // migration's or savevm's events logged at this very icount are replayed first: they
      // happened with the vCPUs stopped, before the next instruction.
      if (clock.icount >= this.runLimit && !(this.replay?.play && !this.bus.debugStop && ThreadEvents.dueNow(this.replay.play, clock.icount))) {
        // Writes a debugger made here belong to this point (not to the next instruction).
        if (!this.vcpus.some((v) => v.iter)) this.applyDueDebugWrites();
        return { reason: 'limit', exitCode: 0 };
      }
      try {
        sched.step();
      } catch (e) {
        // The assert fired inside a thread's step: like QEMU's abort, nothing of that step goes on.
        if (!(e instanceof ReplayAssertion)) throw e;
      }
    }
  }

  /** A read of the host clock (QEMU_CLOCK_HOST): logged in record, read from the log in replay. */
  readHostClock(): bigint {
    return this.hostNowNs();
  }

  /** The whole machine, at the instruction boundary where it stopped (see MachineSnapshot). */
  saveState(opts: { ram?: boolean } = {}): MachineSnapshot {
    // A vCPU in the middle of an iteration: the next run() finishes it on the same hart.
    const v = this.vcpus.find((x) => x.iter);
    const main = this.mainLoop.state();
    const cut = v?.iter && { hart: v.hart.hartId, end: v.iter.end, timerAt: v.iter.timerAt === Infinity ? null : v.iter.timerAt, run: v.runState() };
    return {
      // Time travel keeps RAM page by page itself (timetravel/snapshotStore.ts).
      ...saveBoard(this, opts.ram !== false),
      // Plain JSON: an unarmed timer (Infinity) is null, an unset exit code absent.
      run: {
        nextHart: this.nextHart, lastHart: this.lastHart, shutdownLogged: this.shutdownLogged,
        ...(this.started ? {} : { beforeStartUp: true }),
        ...(this.exitCode !== undefined ? { exitCode: this.exitCode } : {}),
        ...(cut ? { cut } : {}),
        kickAtNs: this.kickAtNs,
        ...(main ? { mainLoop: main } : {}),
      },
    };
  }

  /** Puts the machine back where a snapshot of a machine of the same configuration was taken. */
  loadState(s: MachineSnapshot, opts: { ram?: boolean } = {}): void {
    loadBoard(this, s, opts.ram !== false);
    const r = s.run;
    this.nextHart = r.nextHart;
    this.lastHart = r.lastHart;
    this.exitCode = r.exitCode;
    this.finisherFail = undefined; // read only until the shutdown is logged, in the same step as the write
    this.shutdownLogged = r.shutdownLogged;
    this.published = s.icount;
    this.vm = 'running';
    this.stop = undefined;
    this.bus.debugStop = false;
    this.threadEvents.rewind();
    // Threads restart from the snapshot's position: locks free, the cut iteration's vCPU
    // holding the replay mutex again (it held it when the snapshot was taken).
    this.locks.reset();
    this.checker?.restart();
    this.started = r.beforeStartUp !== true;
    this.mainLoop.restore(this.started, r.mainLoop);
    this.rcu.restore(this.started);
    if (r.kickAtNs !== undefined) this.kickAtNs = r.kickAtNs;
    else this.rearmKick();
    for (const v of this.vcpus) v.restore(this.started, r.cut && r.cut.hart === v.hart.hartId ? { end: r.cut.end, timerAt: r.cut.timerAt ?? Infinity, run: r.cut.run } : undefined);
  }

  private checkHtif(): void {
    this.bus.watchHit = false;
    if (!this.htif) return;
    const code = this.htif.exitCode(this.bus.load(this.htif.tohost, 4));
    if (code !== undefined) this.exitCode = code;
  }
}

/** Unwinds the thread step in which a replay-mutex assert fired. */
class ReplayAssertion extends Error {}

/**
 * The QEMU function whose g_assert(replay_mutex_locked()) an access to the log hits first: clock
 * reads go through replay_save_clock, every other write starts with replay_save_instructions.
 */
function qemuAssertFunction(event: string): string {
  return event.startsWith('EVENT_CLOCK') ? 'replay_save_clock' : 'replay_save_instructions';
}
