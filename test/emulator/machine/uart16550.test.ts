import assert from 'node:assert/strict';
import { Uart16550 } from '../../../emulator/machine/uart16550';

// Register offsets (16550 datasheet; regshift 0 on virt).
const RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

function setup() {
  const levels: boolean[] = [];
  const tx: number[] = [];
  const uart = new Uart16550({ irq: { set: (l) => levels.push(l) }, transmit: (b) => tx.push(b) });
  const rd = (off: number) => uart.read(off, 1);
  const wr = (off: number, v: number) => uart.write(off, 1, v);
  const line = () => levels[levels.length - 1] ?? false;
  return { uart, levels, tx, rd, wr, line };
}

describe('Uart16550', () => {
  it('comes out of reset with serial_reset values: IIR 0x01, LSR 0x60, MSR 0xb0, MCR OUT2, divisor 12', () => {
    const { rd, wr } = setup();
    assert.equal(rd(IIR), 0x01);
    assert.equal(rd(LSR), 0x60); // THRE | TEMT
    assert.equal(rd(MSR), 0xb0); // DCD | DSR | CTS: QEMU backend without modem lines
    assert.equal(rd(MCR), 0x08);
    assert.equal(rd(IER), 0);
    assert.equal(rd(LCR), 0);
    wr(LCR, 0x80);
    assert.equal(rd(DLL), 0x0c); // serial_reset: divider = 0x0C (9600 baud)
    assert.equal(rd(DLM), 0x00);
  });

  it('DLAB redirects offsets 0/1 to the divisor latch without transmitting or touching IER', () => {
    const { rd, wr, tx } = setup();
    wr(IER, 0x05);
    wr(LCR, 0x83);
    wr(DLL, 0x02);
    wr(DLM, 0x01);
    assert.equal(rd(DLL), 0x02);
    assert.equal(rd(DLM), 0x01);
    assert.deepEqual(tx, []);
    wr(LCR, 0x03);
    assert.equal(rd(IER), 0x05);
    assert.equal(rd(LCR), 0x03);
    wr(LCR, 0x80);
    assert.equal(rd(DLL) | (rd(DLM) << 8), 0x0102);
  });

  it('transmits a THR write at once and LSR still reads THRE|TEMT afterwards', () => {
    const { rd, wr, tx } = setup();
    wr(THR, 0x41);
    wr(THR, 0x42);
    assert.deepEqual(tx, [0x41, 0x42]);
    assert.equal(rd(LSR) & 0x60, 0x60);
  });

  it('raises THRI when ETBEI is set with THR empty, clears it on the IIR read that reports it, re-raises on THR write', () => {
    // serial_ioport_write(IER) / serial_ioport_read(IIR) / serial_xmit
    const { rd, wr, line, levels } = setup();
    wr(IER, 0x02);
    assert.equal(line(), true);
    assert.equal(rd(IIR), 0x02);
    assert.equal(line(), false);
    assert.equal(rd(IIR), 0x01);
    const before = levels.length;
    wr(THR, 0x55);
    // QEMU drops the line when THR is written (THRE clears) and raises it again once the byte
    // has moved to the shift register.
    assert.deepEqual(levels.slice(before), [false, true]);
    assert.equal(rd(IIR), 0x02);
  });

  it('re-arms THRI only when IER.ETBEI changes, not on a rewrite of the same IER', () => {
    // The "Windows relies on it" rule in serial_ioport_write(IER): resample on a change of THRI.
    const { rd, wr, line } = setup();
    wr(IER, 0x02);
    rd(IIR);
    wr(IER, 0x02);
    assert.equal(line(), false);
    wr(IER, 0x00);
    wr(IER, 0x02);
    assert.equal(line(), true);
    assert.equal(rd(IIR), 0x02);
  });

  it('non-FIFO receive: DR + RDI, canReceive 0 while full, and a second byte overruns (OE) replacing RBR', () => {
    const { uart, rd, wr, line } = setup();
    wr(IER, 0x01);
    assert.equal(uart.canReceive(), 1);
    uart.receive(Uint8Array.of(0x61));
    assert.equal(line(), true);
    assert.equal(rd(IIR), 0x04);
    assert.equal(uart.canReceive(), 0);
    uart.receive(Uint8Array.of(0x62));
    assert.equal(rd(LSR) & 0x03, 0x03); // DR | OE; reading LSR clears OE
    assert.equal(rd(LSR) & 0x02, 0);
    assert.equal(rd(RBR), 0x62); // serial_receive1 overwrites rbr
    assert.equal(rd(LSR) & 0x01, 0);
    assert.equal(line(), false);
  });

  it('IIR reports the highest pending source in the order RLS > RDA > THRE', () => {
    // serial_update_irq priority chain (non-FIFO mode)
    const { uart, rd, wr } = setup();
    wr(IER, 0x0f);
    uart.receive(Uint8Array.of(1));
    uart.receive(Uint8Array.of(2)); // overrun
    assert.equal(rd(IIR), 0x06);
    rd(LSR); // clears OE
    assert.equal(rd(IIR), 0x04);
    rd(RBR);
    assert.equal(rd(IIR), 0x02);
    assert.equal(rd(IIR), 0x01); // the THRI report was acknowledged by the previous read
  });

  it('IIR reads 0xc4 with FIFO enabled and data at or above the trigger level', () => {
    const { uart, rd, wr, line } = setup();
    wr(FCR, 0x41); // FIFO on, trigger 4
    wr(IER, 0x01);
    uart.receive(Uint8Array.of(1, 2, 3, 4, 5));
    assert.equal(line(), true);
    assert.equal(rd(IIR), 0xc4);
  });

  it('each FCR trigger level (1/4/8/14) gives CTI one byte short of it and RDA at it', () => {
    // serial_write_fcr trigger table; serial_update_irq RDI condition num >= recv_fifo_itl.
    for (const [bits, level] of [[0x00, 1], [0x40, 4], [0x80, 8], [0xc0, 14]]) {
      const { uart, rd, wr } = setup();
      wr(FCR, bits | 0x01);
      wr(IER, 0x01);
      assert.equal(uart.canReceive(), level, `advertised for ITL ${level}`);
      if (level > 1) {
        uart.receive(new Uint8Array(level - 1));
        assert.equal(rd(IIR), 0xcc, `below ITL ${level}`);
        uart.receive(new Uint8Array(1));
      } else {
        uart.receive(new Uint8Array(1));
      }
      // CTI, once pending, is only cleared by an RBR read (timeout_ipending = 0).
      assert.equal(rd(IIR), level > 1 ? 0xcc : 0xc4, `at ITL ${level}`);
    }
  });

  it('character timeout (CTI 0xcc) is pending at once for a FIFO below its trigger level, and clears when drained', () => {
    // QEMU's fifo_timeout_timer, made to expire immediately (see settleTimeout).
    const { uart, rd, wr, line } = setup();
    wr(FCR, 0x81); // trigger 8
    wr(IER, 0x01);
    uart.receive(Uint8Array.of(0x31, 0x32, 0x33));
    assert.equal(line(), true);
    assert.equal(rd(IIR), 0xcc);
    assert.deepEqual([rd(RBR), rd(RBR), rd(RBR)], [0x31, 0x32, 0x33]);
    assert.equal(rd(LSR) & 0x01, 0);
    assert.equal(rd(IIR), 0xc1);
    assert.equal(line(), false);
  });

  it('an RBR read that leaves data below the trigger level re-arms the timeout, so CTI follows RDA', () => {
    const { uart, rd, wr } = setup();
    wr(FCR, 0x41);
    wr(IER, 0x01);
    uart.receive(Uint8Array.of(1, 2, 3, 4, 5));
    assert.equal(rd(IIR), 0xc4);
    rd(RBR);
    assert.equal(rd(IIR), 0xc4); // 4 left, still at the trigger level
    rd(RBR);
    assert.equal(rd(IIR), 0xcc); // 3 left: no RDA, the re-armed timeout reports it
  });

  it('canReceive advertises ITL - count up to the trigger level, 0 exactly at it, 1 above, 0 when full', () => {
    // serial_can_receive: (num <= itl) ? itl - num : 1, and 0 when the FIFO is full.
    const { uart, wr } = setup();
    wr(FCR, 0x41);
    uart.receive(Uint8Array.of(1));
    assert.equal(uart.canReceive(), 3);
    uart.receive(Uint8Array.of(2, 3, 4));
    assert.equal(uart.canReceive(), 0);
    uart.receive(Uint8Array.of(5));
    assert.equal(uart.canReceive(), 1);
    uart.receive(new Uint8Array(11));
    assert.equal(uart.canReceive(), 0);
  });

  it('FIFO overrun keeps the first 16 bytes, sets OE and raises RLS (0xc6) ahead of RDA', () => {
    // recv_fifo_put: "Receive overruns do not overwrite FIFO contents."
    const { uart, rd, wr } = setup();
    wr(FCR, 0x01);
    wr(IER, 0x05);
    uart.receive(Uint8Array.from({ length: 17 }, (_, i) => i + 1));
    assert.equal(rd(IIR), 0xc6);
    assert.equal(rd(LSR) & 0x03, 0x03);
    assert.equal(rd(IIR), 0xc4);
    const got: number[] = [];
    while (rd(LSR) & 0x01) got.push(rd(RBR));
    assert.deepEqual(got, Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('FCR receive reset empties the FIFO and clears DR; transmit reset re-asserts THRI', () => {
    const { uart, rd, wr, line } = setup();
    wr(FCR, 0x01);
    wr(IER, 0x03);
    uart.receive(Uint8Array.of(9, 9));
    rd(IIR);
    wr(FCR, 0x03); // RFR
    assert.equal(rd(LSR) & 0x01, 0);
    assert.equal(rd(IIR), 0xc2); // only the THRE source is left
    assert.equal(rd(IIR), 0xc1);
    wr(FCR, 0x05); // XFR sets thr_ipending again
    assert.equal(line(), true);
    assert.equal(rd(IIR), 0xc2);
  });

  it('toggling FIFO enable flushes received data and sets or clears the IIR FIFO bits', () => {
    const { uart, rd, wr } = setup();
    wr(FCR, 0x01);
    assert.equal(rd(IIR), 0xc1);
    uart.receive(Uint8Array.of(7));
    wr(FCR, 0x00);
    assert.equal(rd(IIR), 0x01);
    assert.equal(rd(LSR) & 0x01, 0);
  });

  it('loopback feeds THR back into the receiver without transmitting and maps MCR outputs onto MSR', () => {
    const { uart, rd, wr, tx } = setup();
    wr(MCR, 0x10);
    wr(IER, 0x03);
    wr(THR, 0x5a);
    assert.deepEqual(tx, []);
    assert.equal(rd(IIR), 0x04); // RDA outranks the THRE raised by the same write
    assert.equal(rd(RBR), 0x5a);
    // serial_ioport_read(MSR) in loopback: OUT2->DCD, OUT1->RI, RTS->CTS, DTR->DSR, no deltas
    for (const [mcr, msr] of [[0x11, 0x20], [0x12, 0x10], [0x14, 0x40], [0x18, 0x80], [0x1f, 0xf0], [0x10, 0x00]]) {
      wr(MCR, mcr);
      assert.equal(rd(MSR), msr, `MCR ${mcr.toString(16)}`);
    }
    wr(MCR, 0x00);
    assert.equal(rd(MSR), 0xb0);
    assert.equal(uart.canReceive(), 1);
  });

  it('scratch register holds any byte; LSR and MSR ignore writes; MCR keeps only its low 5 bits', () => {
    const { rd, wr } = setup();
    wr(SCR, 0xa5);
    assert.equal(rd(SCR), 0xa5);
    wr(LSR, 0x00);
    wr(MSR, 0x0f);
    assert.equal(rd(LSR), 0x60);
    assert.equal(rd(MSR), 0xb0);
    wr(MCR, 0xff);
    assert.equal(rd(MCR), 0x1f);
  });

  it('wide accesses hit the single byte register at that offset; offsets >= 8 are outside QEMU\'s region', () => {
    // serial_mm_read/serial_mm_write (value &= 255); region size 8 << regshift
    const { uart, tx } = setup();
    assert.equal(uart.read(MCR, 4), 0x08); // a 4-byte load at 4 is MCR alone
    uart.write(THR, 4, 0x12345678);
    assert.deepEqual(tx, [0x78]);
    assert.equal(uart.validAccess(4, 4), true);
    assert.equal(uart.validAccess(5, 2), false);
    assert.equal(uart.validAccess(8, 1), false);
    assert.equal(uart.read(0x20, 1), 0);
  });

  it('a host break sets BI|DR, raises RLS, and RBR reads the NUL', () => {
    const { uart, rd, wr } = setup();
    wr(IER, 0x05);
    uart.receiveBreak();
    assert.equal(rd(IIR), 0x06);
    assert.equal(rd(LSR) & 0x11, 0x11);
    assert.equal(rd(IIR), 0x04);
    assert.equal(rd(RBR), 0);
  });

  it('reset leaves the FIFO enabled, as serial_reset never clears FCR, but IIR loses its FIFO bits', () => {
    const { uart, rd, wr, line } = setup();
    wr(FCR, 0x01);
    wr(IER, 0x02);
    uart.reset();
    assert.equal(line(), false);
    assert.equal(rd(IIR), 0x01);
    uart.receive(Uint8Array.of(1, 2));
    assert.deepEqual([rd(RBR), rd(RBR)], [1, 2]);
  });

  it('saveState survives JSON and restores FIFO contents, IIR and THRE bookkeeping without touching the line', () => {
    const a = setup();
    a.wr(FCR, 0x41);
    a.wr(IER, 0x03);
    a.uart.receive(Uint8Array.of(10, 11, 12, 13, 14));
    a.wr(SCR, 0x77);
    const saved = JSON.parse(JSON.stringify(a.uart.saveState()));
    const b = setup();
    b.uart.loadState(saved);
    assert.equal(b.levels.length, 0);
    for (const off of [IIR, LSR, SCR, IER, RBR, IIR, RBR, RBR, IIR, LSR]) {
      assert.equal(b.rd(off), a.rd(off), `offset ${off}`);
    }
    assert.equal(b.uart.canReceive(), a.uart.canReceive());
  });
});
