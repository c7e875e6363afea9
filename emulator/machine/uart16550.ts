/**
 * NS16550A UART as QEMU 7.2 models it for the RISC-V `virt` board (hw/char/serial.c, mapped with
 * serial_mm_init(regshift 0, baudbase 399193) at 0x10000000, PLIC source UART0_IRQ = 10).
 *
 * Every register side effect follows serial_ioport_read / serial_ioport_write; the interrupt
 * identification follows serial_update_irq and is recomputed (and `irq.set` called) wherever QEMU
 * calls serial_update_irq, so the PLIC sees the same sequence of levels.
 *
 * Deterministic departures from QEMU, all forced by QEMU using host/virtual timers:
 *  - Transmission is immediate: THR write -> `transmit(byte)` at once (QEMU with a chardev that
 *    accepts the byte; its EAGAIN retry path is never taken), so the xmit FIFO is always empty.
 *  - Character timeout: see settleTimeout().
 *  - Modem lines: QEMU's stdio/pty/socket backends have no TIOCM ioctl, so serial_update_msl sets
 *    poll_msl = -1 at reset and MSR stays DCD|DSR|CTS (0xb0) with no delta bits. We model that.
 */
import { IrqLine, MmioDevice } from './device';

const LCR_DLAB = 0x80;
const IER_MSI = 0x08;
const IER_RLSI = 0x04;
const IER_THRI = 0x02;
const IER_RDI = 0x01;
const IIR_NO_INT = 0x01;
const IIR_ID = 0x06;
const IIR_MSI = 0x00;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_CTI = 0x0c;
const IIR_FE = 0xc0;
const MCR_LOOP = 0x10;
const MCR_OUT2 = 0x08;
const MSR_DCD = 0x80;
const MSR_DSR = 0x20;
const MSR_CTS = 0x10;
const MSR_ANY_DELTA = 0x0f;
const LSR_TEMT = 0x40;
const LSR_THRE = 0x20;
const LSR_BI = 0x10;
const LSR_OE = 0x02;
const LSR_DR = 0x01;
const LSR_INT_ANY = 0x1e; // OE | PE | FE | BI
const FCR_FE = 0x01;
const FCR_RFR = 0x02;
const FCR_XFR = 0x04;
const FIFO_LENGTH = 16; // UART_FIFO_LENGTH
/** FCR bits 7:6 -> receive trigger level (16550A byte counts, serial_write_fcr). */
const TRIGGER_LEVELS = [1, 4, 8, 14];

/** Everything saveState() returns; plain numbers so it survives JSON. */
export interface Uart16550State {
  divider: number; rbr: number; ier: number; iir: number; lcr: number; mcr: number;
  lsr: number; msr: number; scr: number; fcr: number; itl: number;
  rx: number[]; thrIpending: number; timeoutIpending: number; timeoutArmed: number;
}

export class Uart16550 implements MmioDevice {
  readonly name = 'uart';
  readonly base = 0x10000000;
  /** virt's memmap/FDT size. QEMU's MemoryRegion is only 8 << regshift = 8 bytes; see validAccess. */
  readonly size = 0x100;

  private readonly irq: IrqLine;
  private readonly transmit: (byte: number) => void;

  private divider = 0;
  private rbr = 0;
  private ier = 0;
  private iir = IIR_NO_INT;
  private lcr = 0;
  private mcr = 0;
  private lsr = 0;
  private msr = 0;
  private scr = 0;
  /** QEMU's SerialState is zero-allocated and serial_reset never clears fcr / recv_fifo_itl. */
  private fcr = 0;
  private itl = 0;
  private rx: number[] = [];
  private thrIpending = false;
  private timeoutIpending = false;
  /** Stands in for timer_pending(fifo_timeout_timer). */
  private timeoutArmed = false;

  constructor(opts: { irq: IrqLine; transmit: (byte: number) => void }) {
    this.irq = opts.irq;
    this.transmit = opts.transmit;
    this.resetRegisters();
  }

  /**
   * serial_reset (system reset): registers to power-on values and the IRQ lowered. Like QEMU it
   * leaves FCR and the trigger level alone, so IIR loses its FIFO bits while the FIFO stays on.
   */
  reset(): void {
    this.resetRegisters();
    this.irq.set(false);
  }

  private resetRegisters(): void {
    this.rbr = 0;
    this.ier = 0;
    this.iir = IIR_NO_INT;
    this.lcr = 0;
    this.lsr = LSR_TEMT | LSR_THRE;
    this.msr = MSR_DCD | MSR_DSR | MSR_CTS;
    this.divider = 0x0c; // 9600 baud with QEMU's reset assumption
    this.mcr = MCR_OUT2;
    this.scr = 0;
    this.timeoutIpending = false;
    this.timeoutArmed = false;
    this.rx = [];
    this.thrIpending = false;
  }

  /**
   * Whether QEMU would complete this access. serial_mm_ops accept any size up to 8 but not
   * unaligned ones, and the region is 8 bytes, so offsets 8..0xff are unassigned memory, which on
   * RISC-V raises a load/store access fault. The bus should fault when this returns false;
   * read() then returns 0 and write() does nothing.
   */
  validAccess(offset: number, size: 1 | 2 | 4): boolean {
    return offset >= 0 && offset < 8 && offset % size === 0;
  }

  /** serial_mm_read: a wider access still reads the single byte register at `offset`. */
  read(offset: number, size: 1 | 2 | 4): number {
    if (!this.validAccess(offset, size)) return 0;
    switch (offset) {
      case 0:
        return this.lcr & LCR_DLAB ? this.divider & 0xff : this.readRbr();
      case 1:
        return this.lcr & LCR_DLAB ? (this.divider >> 8) & 0xff : this.ier;
      case 2: {
        const ret = this.iir;
        // Reading IIR acknowledges a THRE interrupt only when it is the one being reported.
        if ((ret & IIR_ID) === IIR_THRI) {
          this.thrIpending = false;
          this.updateIrq();
        }
        return ret;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const ret = this.lsr;
        if (this.lsr & (LSR_BI | LSR_OE)) {
          this.lsr &= ~(LSR_BI | LSR_OE);
          this.updateIrq();
        }
        return ret;
      }
      case 6:
        if (this.mcr & MCR_LOOP) {
          // Loopback wires OUT2->DCD, OUT1->RI, RTS->CTS, DTR->DSR; QEMU reports no deltas here.
          return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x02) << 3) | ((this.mcr & 0x01) << 5);
        } else {
          const ret = this.msr;
          if (this.msr & MSR_ANY_DELTA) {
            this.msr &= 0xf0;
            this.updateIrq();
          }
          return ret;
        }
      default:
        return this.scr;
    }
  }

  /** serial_mm_write: value &= 255, then one byte register write at `offset`. */
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (!this.validAccess(offset, size)) return;
    const val = value & 0xff;
    switch (offset) {
      case 0:
        if (this.lcr & LCR_DLAB) this.divider = (this.divider & 0xff00) | val;
        else this.writeThr(val);
        break;
      case 1:
        if (this.lcr & LCR_DLAB) this.divider = (this.divider & 0x00ff) | (val << 8);
        else this.writeIer(val);
        break;
      case 2:
        this.writeFcr(val);
        break;
      case 3:
        this.lcr = val; // break-enable and line parameters only concern the host chardev
        break;
      case 4:
        this.mcr = val & 0x1f; // QEMU does not re-evaluate the IRQ on MCR writes
        break;
      case 7:
        this.scr = val;
        break;
      default:
        break; // LSR and MSR are read-only
    }
  }

  private readRbr(): number {
    let ret: number;
    if (this.fcr & FCR_FE) {
      ret = this.rx.length === 0 ? 0 : (this.rx.shift() as number);
      if (this.rx.length === 0) this.lsr &= ~(LSR_DR | LSR_BI);
      else this.timeoutArmed = true; // QEMU re-arms the 4-character timeout on every read
      this.timeoutIpending = false;
    } else {
      ret = this.rbr;
      this.lsr &= ~(LSR_DR | LSR_BI);
    }
    this.updateIrq();
    return ret;
  }

  /**
   * THR write then serial_xmit. QEMU clears THRE/TEMT and thr_ipending (IRQ may drop), moves the
   * byte to the shift register which sets THRE and thr_ipending again (IRQ re-raised if ETBEI),
   * sends it (or loops it back), and finally sets TEMT. With an always-ready backend the FIFO
   * empties immediately, so FIFO and non-FIFO modes behave the same.
   */
  private writeThr(val: number): void {
    this.thrIpending = false;
    this.lsr &= ~(LSR_THRE | LSR_TEMT);
    this.updateIrq();
    this.lsr |= LSR_THRE;
    this.thrIpending = true;
    this.updateIrq();
    if (this.mcr & MCR_LOOP) this.receive1([val]);
    else this.transmit(val);
    this.lsr |= LSR_TEMT;
  }

  private writeIer(val: number): void {
    const changed = (this.ier ^ val) & 0x0f;
    this.ier = val & 0x0f;
    // Setting ETBEI while THRE=1 raises THRI again even if an IIR read had acknowledged it
    // (QEMU: "Windows relies on it"); clearing ETBEI forgets it.
    if (changed & IER_THRI) {
      this.thrIpending = (this.ier & IER_THRI) !== 0 && (this.lsr & LSR_THRE) !== 0;
    }
    if (changed) this.updateIrq();
  }

  private writeFcr(value: number): void {
    let val = value;
    // Toggling FIFO enable flushes both FIFOs.
    if ((val ^ this.fcr) & FCR_FE) val |= FCR_XFR | FCR_RFR;
    if (val & FCR_RFR) {
      this.lsr &= ~(LSR_DR | LSR_BI);
      this.timeoutArmed = false;
      this.timeoutIpending = false;
      this.rx = [];
    }
    if (val & FCR_XFR) {
      this.lsr |= LSR_THRE;
      this.thrIpending = true;
    }
    this.fcr = val & 0xc9; // only FE, DMS and the trigger bits stick
    if (this.fcr & FCR_FE) {
      this.iir |= IIR_FE;
      this.itl = TRIGGER_LEVELS[(val >> 6) & 3];
    } else {
      this.iir &= ~IIR_FE;
    }
    this.updateIrq();
  }

  /**
   * QEMU's fifo_timeout_timer fires 4 character times (char_transmit_time * 4 on
   * QEMU_CLOCK_VIRTUAL) after the last receive or RBR read, and sets timeout_ipending if the FIFO
   * still holds data. That is real time: Linux programs divisor 2 against baudbase 399193, so
   * about 200 us, which is tens of thousands of guest instructions at QEMU's speed, but a count
   * that depends on the host.
   *
   * Rewind's deterministic rule: the armed timer expires at once, except while the guest is
   * being given a receive-data interrupt (IER.RDI set and FIFO count >= trigger level). In that
   * case we assume the guest drains the FIFO first, as it does under QEMU well within 4
   * character times. Each RBR read re-arms the timer as in QEMU, so data left below the trigger
   * level always ends in CTI and no interrupt is lost. Differences that can be observed:
   * CTI (0xcc) appears without the ~200 us delay, and while a guest drains the FIFO below the
   * trigger level IIR shows CTI where QEMU would briefly show 0xc1 and then CTI.
   */
  private settleTimeout(): void {
    if (!this.timeoutArmed) return;
    if (this.ier & IER_RDI && this.rx.length >= this.itl) return;
    this.timeoutArmed = false;
    if (this.rx.length > 0) this.timeoutIpending = true; // fifo_timeout_int
  }

  /** serial_update_irq: fixed priority RLS > CTI > RDA > THRE > MS; IIR keeps its FIFO bits. */
  private updateIrq(): void {
    this.settleTimeout();
    let id = IIR_NO_INT;
    if (this.ier & IER_RLSI && this.lsr & LSR_INT_ANY) {
      id = IIR_RLSI;
    } else if (this.ier & IER_RDI && this.timeoutIpending) {
      id = IIR_CTI; // QEMU (and real parts) let IER.RDI mask the timeout too
    } else if (this.ier & IER_RDI && this.lsr & LSR_DR &&
               (!(this.fcr & FCR_FE) || this.rx.length >= this.itl)) {
      id = IIR_RDI;
    } else if (this.ier & IER_THRI && this.thrIpending) {
      id = IIR_THRI;
    } else if (this.ier & IER_MSI && this.msr & MSR_ANY_DELTA) {
      id = IIR_MSI;
    }
    this.iir = id | (this.iir & 0xf0);
    this.irq.set(id !== IIR_NO_INT);
  }

  /**
   * serial_can_receive: how many bytes the host may pass to receive() now. In FIFO mode it
   * advertises only up to the trigger level (so the guest's ITL means something), then 1 byte at
   * a time. At exactly the trigger level this is 0 (QEMU's `<=`), and 0 when the FIFO is full.
   */
  canReceive(): number {
    if (this.fcr & FCR_FE) {
      if (this.rx.length >= FIFO_LENGTH) return 0;
      return this.rx.length <= this.itl ? this.itl - this.rx.length : 1;
    }
    return this.lsr & LSR_DR ? 0 : 1;
  }

  /**
   * Bytes arriving from the host (serial_receive1). Callers should pass at most canReceive()
   * bytes. Like QEMU, extra bytes set OE in FIFO mode, and non-FIFO mode keeps only bytes[0].
   * Loopback mode does not block host input, as in QEMU. An empty array does nothing (QEMU never
   * delivers one).
   */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.receive1(bytes);
  }

  private receive1(bytes: ArrayLike<number>): void {
    if (this.fcr & FCR_FE) {
      for (let i = 0; i < bytes.length; i++) this.recvFifoPut(bytes[i] & 0xff);
      this.lsr |= LSR_DR;
      this.timeoutArmed = true;
    } else {
      if (this.lsr & LSR_DR) this.lsr |= LSR_OE;
      this.rbr = bytes[0] & 0xff;
      this.lsr |= LSR_DR;
    }
    this.updateIrq();
  }

  /** Overruns never overwrite FIFO contents; the byte is lost and OE set. */
  private recvFifoPut(byte: number): void {
    if (this.rx.length < FIFO_LENGTH) this.rx.push(byte);
    else this.lsr |= LSR_OE;
  }

  /**
   * A break condition from the host (serial_receive_break, CHR_EVENT_BREAK). QEMU pushes the
   * NUL into the receive FIFO even when FIFOs are disabled.
   */
  receiveBreak(): void {
    this.rbr = 0;
    this.recvFifoPut(0);
    this.lsr |= LSR_BI | LSR_DR;
    this.updateIrq();
  }

  saveState(): Uart16550State {
    return {
      divider: this.divider, rbr: this.rbr, ier: this.ier, iir: this.iir, lcr: this.lcr,
      mcr: this.mcr, lsr: this.lsr, msr: this.msr, scr: this.scr, fcr: this.fcr, itl: this.itl,
      rx: [...this.rx], thrIpending: +this.thrIpending, timeoutIpending: +this.timeoutIpending,
      timeoutArmed: +this.timeoutArmed,
    };
  }

  /**
   * Restores registers without calling `irq.set`: the PLIC snapshot already holds what the line
   * last told it, and driving the line again could re-set a pending bit that a claim cleared.
   */
  loadState(s: Uart16550State): void {
    if (!Array.isArray(s.rx) || s.rx.length > FIFO_LENGTH) throw new Error('uart: bad saved FIFO');
    this.divider = s.divider; this.rbr = s.rbr; this.ier = s.ier; this.iir = s.iir;
    this.lcr = s.lcr; this.mcr = s.mcr; this.lsr = s.lsr; this.msr = s.msr; this.scr = s.scr;
    this.fcr = s.fcr; this.itl = s.itl; this.rx = s.rx.map((b) => b & 0xff);
    this.thrIpending = s.thrIpending !== 0;
    this.timeoutIpending = s.timeoutIpending !== 0;
    this.timeoutArmed = s.timeoutArmed !== 0;
  }
}
