/**
 * What the system bus knows about a memory-mapped device. Offsets are relative to the device's
 * base; `size` is the access width in bytes. Values are unsigned and at most `size` bytes wide.
 * The bus only calls a device for accesses that lie wholly inside [base, base + size).
 */
export interface MmioDevice {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  read(offset: number, size: 1 | 2 | 4): number;
  write(offset: number, size: 1 | 2 | 4, value: number): void;
  /**
   * Whether QEMU's MemoryRegionOps would accept this access (width, alignment, decoded range).
   * A refused access is an access fault for the guest. Absent means every access is accepted.
   */
  validAccess?(offset: number, size: 1 | 2 | 4): boolean;
}

/** A level-triggered interrupt input (a PLIC source, or a hart's MEIP/MTIP/MSIP line). */
export interface IrqLine {
  set(level: boolean): void;
}

/** mip bits the devices drive (privileged spec §3.1.9). */
export const MIP_MSIP = 1 << 3;
export const MIP_MTIP = 1 << 7;
export const MIP_MEIP = 1 << 11;
