/**
 * Guest time, derived from the instruction count as QEMU's `-icount shift=N,sleep=off` does:
 * every instruction advances the virtual clock by 2^shift ns, and when every hart waits in WFI
 * the clock warps straight to the next timer deadline (QEMU adds the jump to its icount bias).
 * The CLINT's 10 MHz mtime is virtual ns / 100.
 */
export class VirtualClock {
  /** Instructions executed by all harts since reset. */
  icount = 0;
  /** Total warp added while all harts slept (QEMU's qemu_icount_bias). */
  warpNs = 0;
  readonly nsPerInsn: number;

  constructor(readonly shift = 0) {
    this.nsPerInsn = 2 ** shift;
  }

  virtualNs(): number {
    return this.icount * this.nsPerInsn + this.warpNs;
  }

  /** CLINT mtime: QEMU's muldiv64(ns, 10 MHz, 1 GHz), i.e. floor(ns / 100). */
  mtime(): number {
    return Math.floor(this.virtualNs() / 100);
  }

  /** The first icount at which virtual time reaches `ns` (QEMU's icount_round: round up). */
  icountAt(ns: number): number {
    return Math.ceil((ns - this.warpNs) / this.nsPerInsn);
  }
}
