import { MmioDevice, IrqLine } from './device';
import { VirtualClock } from './virtualClock';

const MSIP_BASE = 0x0;
const MTIMECMP_BASE = 0x4000;
const MTIME = 0xbff8;
export interface ClintState {
  timecmp: string[];
  deadline: (number | null)[];
  timeDelta: string;
  msip: number[];
}

const NS_PER_TICK = 100n; // 10 MHz timebase, as virt's RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ
const U64 = (1n << 64n) - 1n;
const INT64_MAX = (1n << 63n) - 1n;

/**
 * The CLINT of QEMU's virt board (SiFive CLINT layout, QEMU's riscv_aclint.c): msip per hart,
 * mtimecmp per hart, one mtime. Timer deadlines are kept in virtual ns exactly as QEMU computes
 * them when mtimecmp is written (now + (mtimecmp - mtime) * 100, not mtimecmp * 100), because
 * that rounding decides at which instruction the interrupt arrives.
 */
export class Clint implements MmioDevice {
  readonly name = 'clint';
  readonly base = 0x02000000;
  readonly size = 0x10000;
  private readonly timecmp: bigint[];
  /** Virtual-ns deadline of each hart's armed timer, or Infinity. */
  private readonly deadline: number[];
  private timeDelta = 0n;

  constructor(private readonly clock: VirtualClock, private readonly mtip: IrqLine[], private readonly msip: IrqLine[]) {
    this.timecmp = mtip.map(() => 0n);
    this.deadline = mtip.map(() => Infinity);
    this.msipState = mtip.map(() => 0);
  }
  private readonly msipState: number[];

  private rtc(): bigint {
    return (BigInt(this.clock.mtime()) + this.timeDelta) & U64;
  }

  /** QEMU's aclint ops: 4- or 8-byte accesses only (an RV32 hart cannot make 8-byte ones). */
  validAccess(_offset: number, size: 1 | 2 | 4): boolean {
    return size === 4;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4) return 0;
    const harts = this.mtip.length;
    if (offset >= MSIP_BASE && offset < MSIP_BASE + 4 * harts) return this.msipState[offset >> 2];
    if (offset >= MTIMECMP_BASE && offset < MTIMECMP_BASE + 8 * harts) {
      const cmp = this.timecmp[(offset - MTIMECMP_BASE) >> 3];
      return Number((offset & 4 ? cmp >> 32n : cmp) & 0xffffffffn);
    }
    if (offset === MTIME || offset === MTIME + 4) {
      // Without a guest write to mtime (nearly always) the count is a safe integer: no BigInt
      // on the polling path.
      if (this.timeDelta === 0n) {
        const t = this.clock.mtime();
        const hi = Math.floor(t / 0x100000000);
        return offset === MTIME ? t - hi * 0x100000000 : hi >>> 0;
      }
      return offset === MTIME ? Number(this.rtc() & 0xffffffffn) : Number(this.rtc() >> 32n);
    }
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4) return;
    const harts = this.mtip.length;
    const v = BigInt(value >>> 0);
    if (offset >= MSIP_BASE && offset < MSIP_BASE + 4 * harts) {
      const h = offset >> 2;
      this.msipState[h] = value & 1;
      this.msip[h].set((value & 1) !== 0);
      return;
    }
    if (offset >= MTIMECMP_BASE && offset < MTIMECMP_BASE + 8 * harts) {
      const h = (offset - MTIMECMP_BASE) >> 3;
      const old = this.timecmp[h];
      this.writeTimecmp(h, offset & 4 ? (v << 32n) | (old & 0xffffffffn) : (old & ~0xffffffffn) | v);
      return;
    }
    if (offset === MTIME || offset === MTIME + 4) {
      const raw = BigInt(this.clock.mtime());
      const rtc = this.rtc();
      const now = offset === MTIME ? (rtc & ~0xffffffffn) | v : (v << 32n) | (rtc & 0xffffffffn);
      this.timeDelta = (now - raw) & U64;
      for (let h = 0; h < harts; h++) this.writeTimecmp(h, this.timecmp[h]);
    }
  }

  /** Deadlines armed so far: each is a timer_mod_ns of QEMU's mtimer (which kicks the vCPU out of its run). */
  timerMods = 0;

  private writeTimecmp(h: number, value: bigint): void {
    this.timecmp[h] = value & U64;
    const rtc = this.rtc();
    if (this.timecmp[h] <= rtc) {
      this.deadline[h] = Infinity;
      this.mtip[h].set(true);
      return;
    }
    this.mtip[h].set(false);
    this.timerMods++;
    const nsDiff = (this.timecmp[h] - rtc) * NS_PER_TICK;
    this.deadline[h] = nsDiff > INT64_MAX ? Infinity : this.clock.virtualNs() + Number(nsDiff);
  }

  /** Earliest armed deadline in virtual ns (Infinity when none). */
  nextDeadlineNs(): number {
    let d = Infinity;
    for (const x of this.deadline) if (x < d) d = x;
    return d;
  }

  /** Raises MTIP for every hart whose deadline has passed (QEMU's riscv_aclint_mtimer_cb). */
  fireDue(): void {
    const now = this.clock.virtualNs();
    for (let h = 0; h < this.deadline.length; h++) {
      if (this.deadline[h] <= now) {
        this.deadline[h] = Infinity;
        this.mtip[h].set(true);
      }
    }
  }

  /** Plain JSON: 64-bit values as decimal strings, an unarmed deadline as null. */
  saveState(): ClintState {
    return {
      timecmp: this.timecmp.map(String),
      deadline: this.deadline.map((d) => (d === Infinity ? null : d)),
      timeDelta: String(this.timeDelta),
      msip: this.msipState.slice(),
    };
  }

  /** Restores registers and armed deadlines; the mip lines are the harts' own saved state. */
  loadState(s: ClintState): void {
    s.timecmp.forEach((v, i) => { this.timecmp[i] = BigInt(v); });
    s.deadline.forEach((v, i) => { this.deadline[i] = v === null ? Infinity : v; });
    this.timeDelta = BigInt(s.timeDelta);
    s.msip.forEach((v, i) => { this.msipState[i] = v; });
  }
}
