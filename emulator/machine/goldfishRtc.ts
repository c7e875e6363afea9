/**
 * Goldfish RTC as in QEMU 7.2 (hw/rtc/goldfish_rtc.c), at 0x101000 on `virt` (PLIC source
 * RTC_IRQ = 11). The counter is nanoseconds: count = tick_offset + rtc_clock. QEMU's default
 * rtc_clock is the host clock, and realize sets tick_offset so that count starts at UTC wall time.
 * Here the host clock is the injected `hostNowNs` and tick_offset starts at 0, so the count is
 * `hostNowNs()` until the guest sets the time.
 *
 * Determinism: `hostNowNs` is Rewind's only nondeterministic input. It is called once per
 * TIME_LOW read and once per TIME_LOW / TIME_HIGH write (see write()); never for other registers,
 * alarms, state saves or construction.
 *
 * Alarms: QEMU arms a QEMUTimer on rtc_clock at `alarm_next - tick_offset`
 * (goldfish_rtc_set_alarm) and fires synchronously if the alarm is already due. Rewind arms but
 * never looks at the clock. The machine polls nextAlarmNs(), a deadline on the hostNowNs
 * timeline, and calls fireAlarm() once its clock reaches it. An alarm already in the past
 * therefore fires on the machine's next check, not inside the ALARM_LOW write, and
 * ALARM_STATUS reads 1 until then.
 */
import { IrqLine, MmioDevice } from './device';

const TIME_LOW = 0x00;
const TIME_HIGH = 0x04;
const ALARM_LOW = 0x08;
const ALARM_HIGH = 0x0c;
const IRQ_ENABLED = 0x10;
const CLEAR_ALARM = 0x14;
const ALARM_STATUS = 0x18;
const CLEAR_INTERRUPT = 0x1c;
/** memory_region_init_io(..., "goldfish_rtc", 0x24): the rest of virt's 0x1000 page is unassigned. */
const REGION_SIZE = 0x24;

const MASK32 = 0xffffffffn;
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
/** deposit64(old, start, 32, value) */
const deposit32At = (old: bigint, start: 0 | 32, value: number): bigint =>
  u64((old & ~(MASK32 << BigInt(start))) | (BigInt(value >>> 0) << BigInt(start)));

/** 64-bit values are saved as [high, low] 32-bit halves to stay JSON-friendly. */
type Pair = [number, number];
const toPair = (v: bigint): Pair => [Number((u64(v) >> 32n) & MASK32), Number(u64(v) & MASK32)];
const fromPair = (p: Pair): bigint => (BigInt(p[0] >>> 0) << 32n) | BigInt(p[1] >>> 0);

export interface GoldfishRtcState {
  tickOffset: Pair; alarmNext: Pair; alarmDeadline: Pair;
  alarmRunning: number; irqPending: number; irqEnabled: number; timeHigh: number;
}

export class GoldfishRtc implements MmioDevice {
  readonly name = 'rtc';
  readonly base = 0x101000;
  readonly size = 0x1000;

  private readonly hostNowNs: () => bigint;
  private readonly irq: IrqLine;

  private tickOffset = 0n;
  private alarmNext = 0n;
  /** QEMU's timer expiry: `alarm_next - tick_offset`, fixed when armed (as int64). */
  private alarmDeadline = 0n;
  private alarmRunning = 0;
  private irqPending = 0;
  private irqEnabled = 0;
  private timeHigh = 0;

  constructor(opts: { hostNowNs: () => bigint; irq: IrqLine }) {
    this.hostNowNs = opts.hostNowNs;
    this.irq = opts.irq;
  }

  /**
   * goldfish_rtc_reset: drops the alarm and interrupt state but keeps the time (tick_offset,
   * time_high). Like QEMU it does not touch the IRQ line; the PLIC reset clears its pending bit.
   */
  reset(): void {
    this.alarmNext = 0n;
    this.alarmRunning = 0;
    this.irqPending = 0;
    this.irqEnabled = 0;
  }

  /**
   * MemoryRegionOps.valid is min = max = 4 (aligned) over a 0x24-byte region. Anything else is a
   * decode error, which is an access fault on RISC-V; the bus should fault when this returns false.
   */
  validAccess(offset: number, size: 1 | 2 | 4): boolean {
    return size === 4 && (offset & 3) === 0 && offset >= 0 && offset < REGION_SIZE;
  }

  private count(): bigint {
    return u64(this.tickOffset + this.hostNowNs());
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (!this.validAccess(offset, size)) return 0;
    switch (offset) {
      case TIME_LOW: {
        // Reading TIME_LOW samples the clock once and latches the high half, so the pair
        // TIME_LOW then TIME_HIGH is consistent (Goldfish hardware doc, quoted in QEMU).
        const now = this.count();
        this.timeHigh = Number(now >> 32n);
        return Number(now & MASK32);
      }
      case TIME_HIGH:
        return this.timeHigh;
      case ALARM_LOW:
        return Number(this.alarmNext & MASK32);
      case ALARM_HIGH:
        return Number(this.alarmNext >> 32n);
      case IRQ_ENABLED:
        return this.irqEnabled;
      case ALARM_STATUS:
        return this.alarmRunning;
      default:
        return 0; // CLEAR_ALARM, CLEAR_INTERRUPT, 0x20: "UNIMP" guest error, reads 0
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (!this.validAccess(offset, size)) return;
    switch (offset) {
      case TIME_LOW:
      case TIME_HIGH: {
        // Setting the time replaces one half of the *current* count and keeps the other
        // (deposit64 in goldfish_rtc_write), so QEMU samples the clock here too. Without that
        // sample the new offset cannot be computed, so this is the one place besides TIME_LOW
        // reads where hostNowNs is called.
        const current = this.count();
        const next = deposit32At(current, offset === TIME_LOW ? 0 : 32, value);
        this.tickOffset = u64(this.tickOffset + next - current);
        break;
      }
      case ALARM_LOW:
        this.alarmNext = deposit32At(this.alarmNext, 0, value);
        this.setAlarm();
        break;
      case ALARM_HIGH:
        this.alarmNext = deposit32At(this.alarmNext, 32, value); // does not arm, as in QEMU
        break;
      case IRQ_ENABLED:
        this.irqEnabled = value & 1;
        this.update();
        break;
      case CLEAR_ALARM:
        this.alarmRunning = 0; // timer_del
        break;
      case CLEAR_INTERRUPT:
        this.irqPending = 0;
        this.update();
        break;
      default:
        break; // ALARM_STATUS and 0x20 are not writable
    }
  }

  /** goldfish_rtc_set_alarm without the clock comparison (see the file comment). */
  private setAlarm(): void {
    this.alarmDeadline = BigInt.asIntN(64, this.alarmNext - this.tickOffset);
    this.alarmRunning = 1;
  }

  /**
   * When the armed alarm is due, as a hostNowNs() value, or null if no alarm is armed. This is
   * fixed when ALARM_LOW is written; later time writes do not move it, as in QEMU. May be
   * negative or already past: fire as soon as possible.
   */
  nextAlarmNs(): bigint | null {
    return this.alarmRunning ? this.alarmDeadline : null;
  }

  /**
   * The machine calls this when its clock reaches nextAlarmNs() (goldfish_rtc_interrupt): the
   * alarm stops running and the interrupt becomes pending. Does nothing if no alarm is armed,
   * because QEMU's timer callback only runs for an armed timer.
   */
  fireAlarm(): void {
    if (!this.alarmRunning) return;
    this.alarmRunning = 0;
    this.irqPending = 1;
    this.update();
  }

  /** goldfish_rtc_update: the line is irq_pending AND irq_enabled. */
  private update(): void {
    this.irq.set((this.irqPending & this.irqEnabled) !== 0);
  }

  saveState(): GoldfishRtcState {
    return {
      tickOffset: toPair(this.tickOffset), alarmNext: toPair(this.alarmNext),
      alarmDeadline: toPair(this.alarmDeadline), alarmRunning: this.alarmRunning,
      irqPending: this.irqPending, irqEnabled: this.irqEnabled, timeHigh: this.timeHigh,
    };
  }

  /** Restores state without calling hostNowNs or driving the IRQ line. */
  loadState(s: GoldfishRtcState): void {
    this.tickOffset = fromPair(s.tickOffset);
    this.alarmNext = fromPair(s.alarmNext);
    this.alarmDeadline = BigInt.asIntN(64, fromPair(s.alarmDeadline));
    this.alarmRunning = s.alarmRunning ? 1 : 0;
    this.irqPending = s.irqPending ? 1 : 0;
    this.irqEnabled = s.irqEnabled ? 1 : 0;
    this.timeHigh = s.timeHigh >>> 0;
  }
}
