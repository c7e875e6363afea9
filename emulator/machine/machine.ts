import { Hart } from '../cpu/hart';
import { RewindError } from '../errors';
import { ElfImage, parseElf } from '../debuginfo/elf';
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
import { ReplayConfig, ReplayController } from '../replay/replayController';
import { MachineSnapshot } from '../snapshot/machineSnapshot';

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
}

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
  | 'diverged';

export interface RunResult {
  reason: StopReason;
  exitCode: number;
}

/** UART IRQ on virt's PLIC (VIRT_UART0_IRQ), and the RTC's (VIRT_RTC_IRQ). */
const UART_IRQ = 10;
const RTC_IRQ = 11;
/**
 * Instructions a hart runs before the machine takes another look at timers, input and the other
 * harts. Interrupt timing does not depend on it (slices end exactly at timer deadlines and after
 * every MMIO or CSR access); it only bounds how late pending input is noticed and how finely
 * harts interleave.
 */
const SLICE = 1 << 14;
/**
 * Host input reaches the UART at most once per this many instructions (10 µs of guest time at
 * shift 0, a byte time of a 1 Mbaud line), or at once when every hart sleeps. Handing it over at
 * every slice boundary would be legal (QEMU's main loop runs whenever it likes) but would make
 * input race a guest's UART set-up far more than real QEMU ever does.
 */
const INPUT_GAP = 10_000;

const defaultHostNowNs = (): bigint => BigInt(Date.now()) * 1000000n;

/** QEMU's `virt` board: harts, RAM, boot ROM, CLINT, PLIC, UART, RTC, test finisher, HTIF. */
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
  private shutdownLogged = false;
  /**
   * A slice that run()'s instruction limit stopped in the middle: the next run() finishes it on
   * the same hart, so the guest does the same whether it runs in one call or in many.
   */
  private cut?: { hart: Hart; end: number; timerAt: number };
  private nextHart = 0;
  private readonly input: number[] = [];
  private inputHead = 0;
  private nextInputIcount = 0;
  elf?: ElfImage;
  /** What loadElf had to leave out, for the CLI to print. */
  loadWarnings: string[] = [];
  private readonly hostNowNs: () => bigint;
  readonly replay?: ReplayController;
  /** The hart that ran last (for the pc in divergence reports). */
  private lastHart = 0;

  constructor(readonly config: MachineConfig = {}) {
    const ramMiB = config.ramMiB ?? 128;
    const nHarts = config.harts ?? 1;
    if (!Number.isInteger(ramMiB) || ramMiB < 1 || ramMiB > 2047) throw new RewindError('BAD_CONFIG', `RAM size must be 1..2047 MiB, not ${ramMiB}`);
    if (!Number.isInteger(nHarts) || nHarts < 1 || nHarts > 8) throw new RewindError('BAD_CONFIG', `hart count must be 1..8 (QEMU virt's limit per socket), not ${nHarts}`);
    const shift = config.shift ?? 0;
    if (!Number.isInteger(shift) || shift < 0 || shift > 10) throw new RewindError('BAD_CONFIG', `icount shift must be 0..10, not ${shift}`);
    this.ramBytes = ramMiB * 1024 * 1024;
    this.clock = new VirtualClock(shift);
    this.bus = new SystemBus(this.ramBytes);
    this.bus.blocks.jit = config.jit ?? true;
    this.harts = [];
    for (let i = 0; i < nHarts; i++) this.harts.push(new Hart(i, this.bus, this.clock));
    this.clint = new Clint(this.clock, this.harts.map((h) => h.irqLine(MIP_MTIP)), this.harts.map((h) => h.irqLine(MIP_MSIP)));
    this.plic = new Plic({ harts: nHarts, meip: this.harts.map((h) => h.irqLine(MIP_MEIP)) });
    const sinkOut = config.onOutput ?? (() => undefined);
    if (config.replay) {
      this.replay = new ReplayController(config.replay, { icount: () => this.clock.icount, pc: () => this.harts[this.lastHart].pc >>> 0 });
    }
    const rc = this.replay;
    const out = rc ? (b: number) => { rc.output(b); sinkOut(b); } : sinkOut;
    this.uart = new Uart16550({ irq: this.plic.source(UART_IRQ), transmit: out });
    const realNow = config.hostNowNs ?? defaultHostNowNs;
    this.hostNowNs = rc ? () => rc.hostNow(realNow) : realNow;
    this.rtc = new GoldfishRtc({ hostNowNs: this.hostNowNs, irq: this.plic.source(RTC_IRQ) });
    const finisher = new SifiveTest({ onExit: (code) => { this.exitCode = code; } });
    for (const d of [this.clint, this.plic, this.uart, this.rtc, finisher]) this.bus.addDevice(d);
    this.reset(RAM_BASE);
  }

  /** Puts every hart at the reset vector, which jumps to `entry`. */
  private reset(entry: number): void {
    this.bus.setRom(ROM_BASE, buildResetRom(entry, fdtAddress(RAM_BASE, this.ramBytes)));
    for (const h of this.harts) h.pc = ROM_BASE;
  }

  /** Loads an ELF executable (bytes of the file) and points the reset vector at its entry. */
  loadElf(bytes: Uint8Array, what = 'ELF file'): ElfImage {
    const elf = parseElf(bytes, what);
    const hex = (n: number) => '0x' + (n >>> 0).toString(16);
    const ramEnd = RAM_BASE + this.ramBytes;
    this.loadWarnings = [];
    for (const seg of elf.segments) {
      const lo = Math.max(seg.paddr, RAM_BASE);
      const hi = Math.min(seg.paddr + seg.memSize, ramEnd);
      const range = `${hex(seg.paddr)}..${hex(seg.paddr + seg.memSize)}`;
      if (lo >= hi) throw new RewindError('ELF_INVALID', `${what}: segment at ${range} lies outside RAM (${hex(RAM_BASE)}..${hex(ramEnd)}); link it for the virt board's RAM`);
      if (lo > seg.paddr || hi < seg.paddr + seg.memSize) {
        // ld's default layout maps the ELF headers just below the first section, here below RAM.
        // QEMU's loader silently drops what has no memory behind it; Rewind does too, but says so.
        this.loadWarnings.push(`${what}: segment at ${range} extends outside RAM; only ${hex(lo)}..${hex(hi)} is loaded`);
      }
    }
    for (const seg of elf.segments) {
      const image = new Uint8Array(seg.memSize);
      image.set(seg.data);
      const lo = Math.max(seg.paddr, RAM_BASE);
      const hi = Math.min(seg.paddr + seg.memSize, ramEnd);
      this.bus.writeRam(lo, image.subarray(lo - seg.paddr, hi - seg.paddr));
    }
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
    for (const b of bytes) this.input.push(b);
  }

  hasPendingInput(): boolean {
    return this.inputHead < this.input.length;
  }

  /**
   * An idle guest can still be woken by the host: an RTC alarm is armed (it runs on host time).
   * Queued input does not count: run() only reports idle when the UART will take no more.
   */
  waitingOnHost(): boolean {
    return this.rtc.nextAlarmNs() !== null;
  }

  /**
   * The main loop's share of a round (QEMU's main-loop thread): fire due timers, and hand the
   * UART as much pending input as it says it can take (serial_can_receive).
   */
  private mainLoop(idle = false): void {
    this.clint.fireDue();
    // The RTC alarm runs on host time (QEMU's rtc_clock), so it is only polled while armed.
    const alarm = this.rtc.nextAlarmNs();
    if (alarm !== null && this.hostNowNs() >= alarm) this.rtc.fireAlarm();
    if (this.replay?.replaying) {
      // Replay: input comes from the log, at exactly the recorded instruction count.
      const bytes = this.replay.inputDue(this.clock.icount);
      if (bytes) this.uart.receive(bytes);
      return;
    }
    if (this.inputHead < this.input.length && (idle || this.clock.icount >= this.nextInputIcount)) {
      this.nextInputIcount = this.clock.icount + INPUT_GAP;
      const room = this.uart.canReceive();
      if (room > 0) {
        const n = Math.min(room, this.input.length - this.inputHead);
        const bytes = Uint8Array.from(this.input.slice(this.inputHead, this.inputHead + n));
        this.uart.receive(bytes);
        this.replay?.inputDelivered(bytes);
        this.inputHead += n;
        if (this.inputHead === this.input.length) {
          this.input.length = 0;
          this.inputHead = 0;
        }
      }
    }
  }

  /**
   * Runs until the guest exits, `maxIcount` instructions have executed in total, or all harts
   * are idle with nothing that could wake them but input.
   */
  run(maxIcount = Infinity): RunResult {
    const harts = this.harts;
    const clock = this.clock;
    for (;;) {
      if (this.replay?.divergence) return { reason: 'diverged', exitCode: 0 };
      if (this.exitCode !== undefined) {
        if (!this.shutdownLogged) {
          this.shutdownLogged = true;
          this.replay?.shutdown('guest-exit', this.exitCode);
          if (this.replay?.divergence) return { reason: 'diverged', exitCode: 0 };
        }
        return { reason: 'exit', exitCode: this.exitCode };
      }
      if (clock.icount >= maxIcount) return { reason: 'limit', exitCode: 0 };
      let h: Hart;
      let sliceEnd: number;
      let timerAt: number;
      if (this.cut) {
        // Finish the slice the previous run() stopped in the middle of, as if it never had.
        ({ hart: h, end: sliceEnd, timerAt } = this.cut);
        this.cut = undefined;
      } else {
        this.mainLoop();
        h = harts[this.nextHart];
        this.nextHart = (this.nextHart + 1) % harts.length;
        if (h.halted) {
          if (!h.hasWork()) {
            if (harts.every((o) => o.halted && !o.hasWork())) {
              if (this.replay?.replaying && this.replay.player!.nextIcountOf('EVENT_ASYNC_CHAR_READ') === clock.icount) {
                this.mainLoop(true);
                continue;
              }
              if (this.hasPendingInput() && this.uart.canReceive() > 0) {
                this.mainLoop(true);
                continue;
              }
              // QEMU's icount_start_warp_timer with sleep=off: jump the clock to the next deadline.
              const deadline = this.clint.nextDeadlineNs();
              if (deadline === Infinity) {
                // Replay: a guest asleep for good while the log goes on has left the recorded path.
                const next = this.replay?.player?.peek();
                if (next && next.name !== 'EVENT_END') {
                  this.replay!.player!.diverge(`every hart asleep in WFI with nothing to wake them at icount ${clock.icount}`);
                  return { reason: 'diverged', exitCode: 0 };
                }
                return { reason: 'idle', exitCode: 0 };
              }
              const now = clock.virtualNs();
              if (deadline > now) clock.warpNs += deadline - now;
            }
            continue;
          }
          h.halted = false;
        }
        if (h.takeInterrupt()) this.replay?.interrupt(h.hartId, h.mcause >>> 0);
        this.lastHart = h.hartId;
        timerAt = clock.icountAt(this.clint.nextDeadlineNs());
        sliceEnd = Math.min(clock.icount + SLICE, timerAt);
        if (sliceEnd <= clock.icount) continue; // a timer is due now: let the main loop fire it
      }
      h.timerIcount = timerAt;
      const limit = Math.min(sliceEnd, maxIcount);
      const early = h.execute(limit);
      if (!early && limit < sliceEnd) this.cut = { hart: h, end: sliceEnd, timerAt };
      if (this.bus.watchHit) this.checkHtif();
      if (h.stuck) return { reason: 'stuck', exitCode: 0 };
    }
  }

  /** The whole machine, at the instruction boundary where it stopped (see MachineSnapshot). */
  saveState(): MachineSnapshot {
    return {
      icount: this.clock.icount, warpNs: this.clock.warpNs,
      harts: this.harts.map((h) => h.saveState()),
      ram: this.bus.ram8.slice(),
      clint: this.clint.saveState(), plic: this.plic.saveState(), uart: this.uart.saveState(), rtc: this.rtc.saveState(),
      // Plain JSON: an unarmed timer (Infinity) is null, an unset exit code absent.
      run: {
        nextHart: this.nextHart, lastHart: this.lastHart, shutdownLogged: this.shutdownLogged,
        nextInputIcount: this.nextInputIcount,
        ...(this.exitCode !== undefined ? { exitCode: this.exitCode } : {}),
        ...(this.cut ? { cut: { hart: this.cut.hart.hartId, end: this.cut.end, timerAt: this.cut.timerAt === Infinity ? null : this.cut.timerAt } } : {}),
      },
    };
  }

  /** Puts the machine back where a snapshot of a machine of the same configuration was taken. */
  loadState(s: MachineSnapshot): void {
    if (s.harts.length !== this.harts.length || s.ram.length !== this.bus.ram8.length) {
      throw new RewindError('SNAPSHOT_MISMATCH', `snapshot of a machine with ${s.harts.length} harts and ${s.ram.length >> 20} MiB RAM, this one has ${this.harts.length} and ${this.ramBytes >> 20}`);
    }
    this.clock.icount = s.icount;
    this.clock.warpNs = s.warpNs;
    s.harts.forEach((hs, i) => this.harts[i].loadState(hs));
    this.bus.ram8.set(s.ram);
    this.bus.blocks.flush(); // decoded code may not match the restored RAM
    this.clint.loadState(s.clint);
    this.plic.loadState(s.plic);
    this.uart.loadState(s.uart);
    this.rtc.loadState(s.rtc);
    const r = s.run;
    this.nextHart = r.nextHart;
    this.lastHart = r.lastHart;
    this.exitCode = r.exitCode;
    this.shutdownLogged = r.shutdownLogged;
    this.nextInputIcount = r.nextInputIcount;
    this.cut = r.cut && { hart: this.harts[r.cut.hart], end: r.cut.end, timerAt: r.cut.timerAt ?? Infinity };
  }

  private checkHtif(): void {
    this.bus.watchHit = false;
    if (!this.htif) return;
    const code = this.htif.exitCode(this.bus.load(this.htif.tohost, 4));
    if (code !== undefined) this.exitCode = code;
  }
}
