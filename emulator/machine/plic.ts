/**
 * SiFive PLIC configured as QEMU 7.2.0's `virt` board sets it up (hw/intc/sifive_plic.c,
 * include/hw/riscv/virt.h, virt_create_plic in hw/riscv/virt.c):
 *   num-sources    = VIRT_IRQCHIP_NUM_SOURCES = VIRTIO_NDEV = 96 (sources 0..95)
 *   num-priorities = (1 << VIRT_IRQCHIP_NUM_PRIO_BITS) - 1 = 7
 *   hart-config    = "MS" per hart, so context 2h is hart h M-mode, 2h+1 its S-mode
 *   priority-base  = 0x04 (7.2 still numbers priority registers from source 1), pending 0x1000,
 *   enable 0x2000 stride 0x80, context 0x200000 stride 0x1000, aperture
 *   VIRT_PLIC_SIZE(VIRT_CPUS_MAX * 2) = 0x600000.
 *
 * Register behaviour follows sifive_plic_read / sifive_plic_write, interrupt selection follows
 * sifive_plic_claimed, and the outputs follow sifive_plic_update, which drives every context's
 * line after every state change, as QEMU does.
 */
import { IrqLine, MmioDevice } from './device';

export const PLIC_NUM_SOURCES = 96;
export const PLIC_MAX_PRIORITY = 7;

const PRIORITY_BASE = 0x04;
const PENDING_BASE = 0x1000;
/** 7.2 checks `num_sources >> 3` bytes (12), i.e. exactly the three pending words. */
const PENDING_BYTES = PLIC_NUM_SOURCES >> 3;
const ENABLE_BASE = 0x2000;
const ENABLE_STRIDE = 0x80;
const CONTEXT_BASE = 0x200000;
const CONTEXT_STRIDE = 0x1000;
const WORDS = (PLIC_NUM_SOURCES + 31) >> 5; // bitfield_words

export interface PlicState {
  priority: number[]; threshold: number[]; pending: number[]; claimed: number[]; enable: number[];
}

function between(addr: number, base: number, num: number): boolean {
  return addr >= base && addr - base < num;
}

/**
 * Priority/threshold registers are WARL here: num_priorities + 1 = 8 is a power of two, so QEMU
 * stores `value % 8` (hw/intc: sifive_plic: change interrupt priority register to WARL field,
 * merged for 7.2).
 */
function legalPriority(value: number): number {
  return (value >>> 0) % (PLIC_MAX_PRIORITY + 1);
}

export class Plic implements MmioDevice {
  readonly name = 'plic';
  readonly base = 0x0c000000;
  readonly size = 0x600000;

  private readonly harts: number;
  private readonly contexts: number;
  private readonly meip: IrqLine[];
  private readonly seip: IrqLine[] | undefined;
  private readonly lines: IrqLine[];

  private readonly priority = new Uint32Array(PLIC_NUM_SOURCES);
  private readonly threshold: Uint32Array;
  private readonly pending = new Uint32Array(WORDS);
  private readonly claimed = new Uint32Array(WORDS);
  private readonly enable: Uint32Array;

  /**
   * `meip[h]` / `seip[h]` are hart h's MEIP / SEIP inputs. Without `seip` the S-mode contexts
   * still exist as registers but drive nothing. (QEMU also claims mip.SEIP for the PLIC, so the
   * CPU must not let software write SEIP: riscv_cpu_claim_interrupts in sifive_plic_realize.)
   */
  constructor(opts: { harts: number; meip: IrqLine[]; seip?: IrqLine[] }) {
    const { harts, meip, seip } = opts;
    if (!Number.isInteger(harts) || harts < 1) throw new RangeError(`plic: bad hart count ${harts}`);
    if (meip.length !== harts) throw new RangeError('plic: need one MEIP line per hart');
    if (seip && seip.length !== harts) throw new RangeError('plic: need one SEIP line per hart');
    // Each hart's enable block and context page must fit in the aperture.
    if (CONTEXT_BASE + 2 * harts * CONTEXT_STRIDE > this.size) throw new RangeError('plic: too many harts');
    this.harts = harts;
    this.contexts = 2 * harts;
    this.meip = meip;
    this.seip = seip;
    this.threshold = new Uint32Array(this.contexts);
    this.enable = new Uint32Array(this.contexts * WORDS);
    this.lines = [];
    for (let n = 0; n < PLIC_NUM_SOURCES; n++) {
      // sifive_plic_irq_request (7.2.0): the pending bit simply follows each level written.
      this.lines.push({ set: (level: boolean) => { this.setBit(this.pending, n, level); this.update(); } });
    }
  }

  /**
   * The input line for source n (0..95; virt wires VirtIO 1-8, UART0 10, RTC 11, PCIe 32-35,
   * platform bus 64-95). Each set(level) copies the level into the pending bit and re-evaluates the
   * outputs. A claim clears the pending bit, so a device that holds its line high is delivered
   * again only after it calls set(true) again. QEMU devices do that whenever their registers are
   * accessed, which is usually during the interrupt handler.
   */
  source(n: number): IrqLine {
    if (!Number.isInteger(n) || n < 0 || n >= PLIC_NUM_SOURCES) {
      throw new RangeError(`plic: no interrupt source ${n}`);
    }
    return this.lines[n];
  }

  /** sifive_plic_reset: everything zeroed and both external lines of every hart lowered. */
  reset(): void {
    this.priority.fill(0);
    this.threshold.fill(0);
    this.pending.fill(0);
    this.claimed.fill(0);
    this.enable.fill(0);
    for (let h = 0; h < this.harts; h++) {
      this.meip[h].set(false);
      this.seip?.[h].set(false);
    }
  }

  /**
   * MemoryRegionOps.valid is min = max = 4 and not unaligned, so any other access fails with a
   * decode error, which the RISC-V CPU turns into a load/store access fault. The bus should fault
   * when this returns false; read() then returns 0 and write() does nothing.
   */
  validAccess(offset: number, size: 1 | 2 | 4): boolean {
    return size === 4 && (offset & 3) === 0 && offset >= 0 && offset < this.size;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (!this.validAccess(offset, size)) return 0;
    if (between(offset, PRIORITY_BASE, PLIC_NUM_SOURCES << 2)) {
      const irq = ((offset - PRIORITY_BASE) >> 2) + 1;
      // Offset 0x180 is "source 96": QEMU 7.2 reads one past source_priority[]. Rewind reads 0.
      return irq < PLIC_NUM_SOURCES ? this.priority[irq] : 0;
    } else if (between(offset, PENDING_BASE, PENDING_BYTES)) {
      return this.pending[(offset - PENDING_BASE) >> 2];
    } else if (between(offset, ENABLE_BASE, this.contexts * ENABLE_STRIDE)) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const word = (offset & (ENABLE_STRIDE - 1)) >> 2;
      if (word < WORDS) return this.enable[ctx * WORDS + word];
    } else if (between(offset, CONTEXT_BASE, this.contexts * CONTEXT_STRIDE)) {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      const reg = offset & (CONTEXT_STRIDE - 1);
      if (reg === 0) return this.threshold[ctx];
      if (reg === 4) return this.claim(ctx);
    }
    return 0; // QEMU logs "Invalid register read" and returns 0 (this includes source 0's priority)
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (!this.validAccess(offset, size)) return;
    if (between(offset, PRIORITY_BASE, PLIC_NUM_SOURCES << 2)) {
      const irq = ((offset - PRIORITY_BASE) >> 2) + 1;
      if (irq >= PLIC_NUM_SOURCES) return; // QEMU 7.2 writes out of bounds; Rewind ignores it
      this.priority[irq] = legalPriority(value);
      this.update();
    } else if (between(offset, PENDING_BASE, PENDING_BYTES)) {
      // Pending bits are read-only ("invalid pending write").
    } else if (between(offset, ENABLE_BASE, this.contexts * ENABLE_STRIDE)) {
      const ctx = Math.floor((offset - ENABLE_BASE) / ENABLE_STRIDE);
      const word = (offset & (ENABLE_STRIDE - 1)) >> 2;
      // QEMU stores the whole word (bit 0 included) and does NOT call sifive_plic_update here, so
      // enabling an already pending source raises nothing until the next PLIC event.
      if (word < WORDS) this.enable[ctx * WORDS + word] = value >>> 0;
    } else if (between(offset, CONTEXT_BASE, this.contexts * CONTEXT_STRIDE)) {
      const ctx = Math.floor((offset - CONTEXT_BASE) / CONTEXT_STRIDE);
      const reg = offset & (CONTEXT_STRIDE - 1);
      if (reg === 0) {
        this.threshold[ctx] = legalPriority(value);
        this.update();
      } else if (reg === 4) {
        // Completion: any id below num_sources clears its claimed bit. QEMU checks neither that
        // this context claimed it nor that it is enabled here.
        if (value >>> 0 < PLIC_NUM_SOURCES) {
          this.setBit(this.claimed, value >>> 0, false);
          this.update();
        }
      }
    }
  }

  /**
   * sifive_plic_claimed: the highest-priority source that is pending, enabled for this context and
   * not claimed, whose priority is strictly above the context threshold. Ties go to the lowest id.
   * Priority 0 therefore never interrupts. Returns 0 for none.
   */
  private best(ctx: number): number {
    let maxIrq = 0;
    let maxPrio = this.threshold[ctx];
    for (let w = 0; w < WORDS; w++) {
      const bits = (this.pending[w] & ~this.claimed[w] & this.enable[ctx * WORDS + w]) >>> 0;
      if (bits === 0) continue;
      for (let j = 0; j < 32; j++) {
        if ((bits & (1 << j)) === 0) continue;
        const irq = (w << 5) + j;
        if (this.priority[irq] > maxPrio) {
          maxIrq = irq;
          maxPrio = this.priority[irq];
        }
      }
    }
    return maxIrq;
  }

  /** Claim read: clear pending, set claimed (global, not per context), then update outputs. */
  private claim(ctx: number): number {
    const irq = this.best(ctx);
    if (irq !== 0) {
      this.setBit(this.pending, irq, false);
      this.setBit(this.claimed, irq, true);
    }
    this.update();
    return irq;
  }

  /** sifive_plic_update: every context's line = "something is claimable". */
  private update(): void {
    for (let ctx = 0; ctx < this.contexts; ctx++) {
      const level = this.best(ctx) !== 0;
      const hart = ctx >> 1;
      if (ctx & 1) this.seip?.[hart].set(level);
      else this.meip[hart].set(level);
    }
  }

  private setBit(words: Uint32Array, n: number, level: boolean): void {
    const mask = 1 << (n & 31);
    if (level) words[n >> 5] |= mask;
    else words[n >> 5] &= ~mask;
  }

  saveState(): PlicState {
    return {
      priority: Array.from(this.priority), threshold: Array.from(this.threshold),
      pending: Array.from(this.pending), claimed: Array.from(this.claimed), enable: Array.from(this.enable),
    };
  }

  /** Restores registers without driving MEIP/SEIP; the hart's saved mip already matches them. */
  loadState(s: PlicState): void {
    const fit = (src: number[], dst: Uint32Array, what: string): void => {
      if (!Array.isArray(src) || src.length !== dst.length) throw new Error(`plic: saved ${what} has wrong size`);
      dst.set(src.map((v) => v >>> 0));
    };
    fit(s.priority, this.priority, 'priority');
    fit(s.threshold, this.threshold, 'threshold');
    fit(s.pending, this.pending, 'pending');
    fit(s.claimed, this.claimed, 'claimed');
    fit(s.enable, this.enable, 'enable');
  }
}
