import { MmioDevice } from './device';
import { BlockCache, LINE_SHIFT } from '../cpu/blockCache';

export const RAM_BASE = 0x80000000;
/**
 * RAM starts at 2 GiB, so for a 32-bit address `a` held as an int32, `a ^ RAM_XOR` is its offset
 * into RAM when that result is non-negative and below the RAM size, and negative for every
 * address below RAM. One xor and one compare replace a subtract and two compares on every access.
 */
export const RAM_XOR = RAM_BASE | 0;

/**
 * The physical address space of the virt board: RAM, the boot ROM and the MMIO devices, plus
 * the decode cache that every hart shares (so that a store by one hart invalidates code another
 * hart has decoded).
 */
/** RAM page size for write tracking, state hashes and snapshots. */
export const PAGE = 4096;
const UNWRITTEN = 4;
const WATCHED = 8;
const CLEAN = 16;
const ZERO_PAGE = new Uint8Array(PAGE);
const ZERO_MIB = new Uint8Array(1 << 20);

/**
 * Pages of `ram` that are not all zero; with `written`, only those pages are looked at. Without
 * it, whole MiBs are compared first: one native memcmp per MiB, then per page inside the few
 * non-zero ones.
 */
export function nonZeroPages(ram: Uint8Array, written?: Uint8Array): number[] {
  const pages: number[] = [];
  const page = (p: number) => !Buffer.from(ram.buffer, ram.byteOffset + p * PAGE, PAGE).equals(ZERO_PAGE);
  if (written) {
    for (let p = 0; p < written.length; p++) if (written[p] && page(p)) pages.push(p);
    return pages;
  }
  const perMiB = (1 << 20) / PAGE;
  for (let m = 0; m * (1 << 20) < ram.length; m++) {
    const len = Math.min(1 << 20, ram.length - m * (1 << 20));
    if (len === 1 << 20 && Buffer.from(ram.buffer, ram.byteOffset + m * (1 << 20), len).equals(ZERO_MIB)) continue;
    for (let p = m * perMiB; p < m * perMiB + len / PAGE; p++) if (page(p)) pages.push(p);
  }
  return pages;
}

export class SystemBus {
  readonly ram8: Uint8Array;
  readonly ram16: Uint16Array;
  readonly ram32: Int32Array;
  readonly ramSize: number;
  /**
   * Flags per 64-byte RAM granule: bit 0, decoded code lives there (BlockCache); bit 1, the
   * HTIF mailbox; bit 2, its page has never been written; bit 3, a write watchpoint covers it;
   * bit 4, its page is unchanged since the last time-travel snapshot. A store into a flagged
   * granule takes the slow path in noteRamWrite.
   */
  readonly lines: Uint8Array;
  /**
   * Per 4 KiB page: 1 once anything may have written it. A page still 0 holds zeros, so state
   * hashes and snapshots skip it without reading it — reading untouched RAM would make the host
   * map it, which for 128 MiB costs more than a small guest's whole run.
   */
  readonly written: Uint8Array;
  readonly blocks: BlockCache;
  private readonly devices: MmioDevice[] = [];
  private rom: Uint8Array = new Uint8Array(0);
  private romBase = 0;

  constructor(ramBytes: number) {
    if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
      // The typed-array views below assume a little-endian host, as RISC-V memory is.
      throw new Error('Rewind needs a little-endian host');
    }
    this.ramSize = ramBytes;
    const buf = new ArrayBuffer(ramBytes);
    this.ram8 = new Uint8Array(buf);
    this.ram16 = new Uint16Array(buf);
    this.ram32 = new Int32Array(buf);
    this.lines = new Uint8Array(Math.ceil(ramBytes / (1 << LINE_SHIFT))).fill(UNWRITTEN);
    this.written = new Uint8Array(Math.ceil(ramBytes / PAGE));
    this.blocks = new BlockCache(this, this.lines, RAM_XOR, ramBytes);
  }

  addDevice(d: MmioDevice): void {
    this.devices.push(d);
  }

  setRom(base: number, bytes: Uint8Array): void {
    this.romBase = base;
    this.rom = bytes;
  }

  deviceAt(addr: number): MmioDevice | undefined {
    for (const d of this.devices) if (addr >= d.base && addr - d.base < d.size) return d;
    return undefined;
  }

  /** A 16-bit instruction parcel from RAM or ROM, or -1 if nothing executable is there. */
  fetch16(addr: number): number {
    const off = (addr ^ RAM_XOR) | 0;
    if (off >= 0 && off < this.ramSize) {
      return this.ram16[off >>> 1];
    }
    const r = addr - this.romBase;
    if (r >= 0 && r + 1 < this.rom.length) return this.rom[r] | (this.rom[r + 1] << 8);
    return -1;
  }

  /**
   * Slow-path load for anything the interpreter's inline RAM path did not take: misaligned
   * RAM accesses, ROM and MMIO. Returns the zero-extended value, or -1 for an access fault
   * (no mapped device), which no zero-extended 1-, 2- or 4-byte value can be... except a
   * 4-byte all-ones load, so faults are reported through `fault` instead.
   */
  fault = false;

  load(addr: number, size: 1 | 2 | 4): number {
    addr >>>= 0;
    this.fault = false;
    const off = addr - RAM_BASE;
    if (off >= 0 && off + size <= this.ramSize) {
      const m = this.ram8;
      const rw = this.readWatch;
      if (rw !== null && off < rw.hi && off + size > rw.lo) this.onWatchedRead?.(off, size, this.writeAt, this.writePc);
      if (size === 1) return m[off];
      if (size === 2) return m[off] | (m[off + 1] << 8);
      return (m[off] | (m[off + 1] << 8) | (m[off + 2] << 16) | (m[off + 3] << 24)) >>> 0;
    }
    const r = addr - this.romBase;
    if (r >= 0 && r + size <= this.rom.length) {
      let v = 0;
      for (let k = size - 1; k >= 0; k--) v = (v << 8) | this.rom[r + k];
      return v >>> 0;
    }
    const d = this.deviceAt(addr);
    if (d && addr + size <= d.base + d.size && (!d.validAccess || d.validAccess(addr - d.base, size))) {
      const mmio = this.mmio;
      if (!mmio) return d.read(addr - d.base, size) >>> 0;
      mmio.enter(d, false);
      try {
        return d.read(addr - d.base, size) >>> 0;
      } finally {
        mmio.leave(d);
      }
    }
    this.fault = true;
    return 0;
  }

  /**
   * A debugger's read: RAM or ROM only, never a device (reading a UART register consumes input),
   * and never a watchpoint. 0 where there is no memory.
   */
  peek(addr: number, size: 1 | 2 | 4): number {
    addr >>>= 0;
    const off = addr - RAM_BASE;
    if (off >= 0 && off + size <= this.ramSize) {
      let v = 0;
      for (let k = size - 1; k >= 0; k--) v = (v << 8) | this.ram8[off + k];
      return v >>> 0;
    }
    const r = addr - this.romBase;
    if (r >= 0 && r + size <= this.rom.length) {
      let v = 0;
      for (let k = size - 1; k >= 0; k--) v = (v << 8) | this.rom[r + k];
      return v >>> 0;
    }
    return 0;
  }

  /** Slow-path store; false for an access fault. Invalidates decoded code it overwrites. */
  store(addr: number, size: 1 | 2 | 4, value: number): boolean {
    addr >>>= 0;
    const off = addr - RAM_BASE;
    if (off >= 0 && off + size <= this.ramSize) {
      const m = this.ram8;
      for (let k = 0; k < size; k++) m[off + k] = value >>> (8 * k);
      this.noteRamWrite(off, size);
      return true;
    }
    const d = this.deviceAt(addr);
    if (d && addr + size <= d.base + d.size && (!d.validAccess || d.validAccess(addr - d.base, size))) {
      const mmio = this.mmio;
      mmio?.enter(d, true);
      try {
        d.write(addr - d.base, size, size === 4 ? value >>> 0 : value & ((1 << (8 * size)) - 1));
      } finally {
        mmio?.leave(d);
      }
      return true;
    }
    const r = addr - this.romBase;
    // QEMU maps the boot ROM read-only and discards stores to it (TLB_DISCARD_WRITE).
    if (r >= 0 && r + size <= this.rom.length) return true;
    return false; // a hole: QEMU's unassigned region answers with an access fault
  }

  /** Called around every device access: the vCPU takes the BQL there, as QEMU's does for MMIO. */
  mmio?: { enter(d: MmioDevice, write: boolean): void; leave(d: MmioDevice): void };

  /**
   * A debugger asked to stop at the next instruction boundary (a breakpoint probe, a watchpoint
   * or a trap hook said so): the interpreter ends its slice there without ending the vCPU's
   * iteration, and the machine turns it into the end of run() (Machine.requestStop).
   */
  debugStop = false;

  /** RAM offsets [watchLo, watchHi) whose writes set `watchHit` (HTIF's tohost). */
  private watchLo = -1;
  private watchHi = -1;
  watchHit = false;

  watch(addr: number, len: number): void {
    this.watchLo = addr - RAM_BASE;
    this.watchHi = this.watchLo + len;
    for (let l = this.watchLo >>> LINE_SHIFT; l <= (this.watchHi - 1) >>> LINE_SHIFT; l++) this.lines[l] |= 2;
  }

  /**
   * Called after a write to RAM at [off, off+len) when a granule it touches is flagged: drops
   * decoded code it may have overwritten, and notes writes to the watched range.
   */
  noteRamWrite(off: number, len: number): void {
    const lines = this.lines;
    let flags = 0;
    for (let l = off >>> LINE_SHIFT; l <= (off + len - 1) >>> LINE_SHIFT; l++) flags |= lines[l];
    if (flags & 1) this.blocks.flush();
    if (flags & 2 && off < this.watchHi && off + len > this.watchLo) this.watchHit = true;
    if (flags & UNWRITTEN) for (let p = Math.floor(off / PAGE); p <= Math.floor((off + len - 1) / PAGE); p++) this.markWritten(p);
    if (flags & CLEAN) for (let p = Math.floor(off / PAGE); p <= Math.floor((off + len - 1) / PAGE); p++) this.markDirty(p);
    if (flags & WATCHED && this.onWatchedWrite) this.onWatchedWrite(off, len, this.writeAt, this.writePc);
  }

  // ---- Time travel: pages changed since a snapshot, and write watchpoints ----

  /** Pages written since trackDirty() last armed them (in order of first write). */
  readonly dirty: number[] = [];
  /**
   * Every RAM access takes the slow path (the interpreter's inline loads and stores are off):
   * set while a read watchpoint is on, since inline loads check nothing.
   */
  slowAll = false;
  /** Guest addresses' RAM offsets [lo, hi) whose reads are reported, while slowAll is set. */
  readWatch: { lo: number; hi: number } | null = null;
  onWatchedRead?: (off: number, len: number, icount: number, pc: number) => void;

  /** Where the access being noted happened (icount before it, pc), set by the CPU on slow paths. */
  writeAt = 0;
  writePc = 0;
  /** Called for every store into a watched granule. */
  onWatchedWrite?: (off: number, len: number, icount: number, pc: number) => void;

  /** Starts a new epoch: every page counts as unchanged until its next write. */
  trackDirty(): void {
    if (!this.dirtyArmed) {
      for (let l = 0; l < this.lines.length; l++) this.lines[l] |= CLEAN;
      this.dirtyArmed = true;
    } else {
      for (const p of this.dirty) this.pageFlag(p, CLEAN, true);
    }
    this.dirty.length = 0;
  }

  private dirtyArmed = false;

  private markDirty(page: number): void {
    this.pageFlag(page, CLEAN, false);
    this.dirty.push(page);
  }

  /** Puts write watchpoints on RAM offsets [lo, hi) (granule-aligned flags; callers filter exactly). */
  setWriteWatch(ranges: { lo: number; hi: number }[]): void {
    for (let l = 0; l < this.lines.length; l++) this.lines[l] &= ~WATCHED;
    for (const r of ranges) {
      const lo = Math.max(0, r.lo), hi = Math.min(this.ramSize, r.hi);
      for (let l = lo >>> LINE_SHIFT; l <= (hi - 1) >>> LINE_SHIFT && hi > lo; l++) this.lines[l] |= WATCHED;
    }
  }

  /** Sets or clears a flag on every granule of a RAM page. */
  private pageFlag(page: number, flag: number, on: boolean): void {
    const per = PAGE >>> LINE_SHIFT;
    const end = Math.min((page + 1) * per, this.lines.length);
    for (let l = page * per; l < end; l++) this.lines[l] = on ? this.lines[l] | flag : this.lines[l] & ~flag;
  }

  private markWritten(page: number): void {
    this.written[page] = 1;
    this.pageFlag(page, UNWRITTEN, false);
  }

  /**
   * Replaces all of RAM (a snapshot restored); pages that are zero in it count as unwritten
   * again. `written`, when given, says which pages of `ram` may be non-zero.
   */
  loadRam(ram: Uint8Array, written?: Uint8Array): void {
    this.ram8.set(ram);
    const nonZero = new Set(nonZeroPages(ram, written));
    for (let p = 0; p < this.written.length; p++) {
      if (nonZero.has(p)) this.markWritten(p);
      else if (this.written[p]) {
        this.written[p] = 0;
        this.pageFlag(p, UNWRITTEN, true);
      }
    }
  }

  /** The RAM pages holding anything but zeros, in order (reads only pages ever written). */
  nonZeroPages(): number[] {
    return nonZeroPages(this.ram8, this.written);
  }

  /** Host-side bulk write (ELF loading, debugger memory writes). */
  writeRam(addr: number, bytes: Uint8Array): void {
    const off = addr - RAM_BASE;
    this.ram8.set(bytes, off);
    this.noteRamWrite(off, bytes.length);
  }
}
