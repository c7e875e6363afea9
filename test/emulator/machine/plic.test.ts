import assert from 'node:assert/strict';
import { Plic, PLIC_NUM_SOURCES } from '../../../emulator/machine/plic';

// virt layout (include/hw/riscv/virt.h, QEMU 7.2): priority at 4*id, pending 0x1000,
// enable 0x2000 + 0x80*ctx, threshold 0x200000 + 0x1000*ctx, claim/complete +4.
const PRIO = (id: number) => 4 * id;
const PENDING = 0x1000;
const ENABLE = (ctx: number) => 0x2000 + 0x80 * ctx;
const THRESHOLD = (ctx: number) => 0x200000 + 0x1000 * ctx;
const CLAIM = (ctx: number) => 0x200004 + 0x1000 * ctx;

class Line {
  level = false;
  calls = 0;
  set(l: boolean): void { this.level = l; this.calls++; }
}

function setup(harts = 1) {
  const meip = Array.from({ length: harts }, () => new Line());
  const seip = Array.from({ length: harts }, () => new Line());
  const plic = new Plic({ harts, meip, seip });
  const rd = (off: number) => plic.read(off, 4);
  const wr = (off: number, v: number) => plic.write(off, 4, v);
  /** Route source `id` at `prio` to context `ctx` (priority write last so outputs update). */
  const route = (id: number, prio: number, ctx = 0) => {
    wr(ENABLE(ctx) + 4 * (id >> 5), rd(ENABLE(ctx) + 4 * (id >> 5)) | (1 << (id & 31)));
    wr(PRIO(id), prio);
  };
  return { plic, meip, seip, rd, wr, route };
}

describe('Plic', () => {
  it('has 96 sources and 3-bit WARL priorities and thresholds (value % 8)', () => {
    // VIRT_IRQCHIP_NUM_SOURCES = 96, num_priorities = 7; the WARL change landed in 7.2.
    const { rd, wr } = setup();
    assert.equal(PLIC_NUM_SOURCES, 96);
    wr(PRIO(5), 9);
    assert.equal(rd(PRIO(5)), 1);
    wr(PRIO(95), 7);
    assert.equal(rd(PRIO(95)), 7);
    wr(THRESHOLD(0), 0xf);
    assert.equal(rd(THRESHOLD(0)), 7);
  });

  it('source 0 has no priority register in 7.2 (priority-base 0x04): offset 0 reads 0 and ignores writes', () => {
    const { rd, wr } = setup();
    wr(0, 5);
    assert.equal(rd(0), 0);
  });

  it('a source with priority 0 never interrupts, though its pending bit is visible', () => {
    // sifive_plic_claimed requires prio > threshold, and threshold is at least 0.
    const { plic, meip, rd, route } = setup();
    route(10, 0);
    plic.source(10).set(true);
    assert.equal(meip[0].level, false);
    assert.equal(rd(PENDING), 1 << 10);
    assert.equal(rd(CLAIM(0)), 0);
  });

  it('pending follows the source level both ways and ignores guest writes', () => {
    // 7.2.0 sifive_plic_irq_request: set_pending(irq, level > 0)
    const { plic, rd, wr } = setup();
    plic.source(33).set(true);
    assert.equal(rd(PENDING + 4), 1 << 1);
    plic.source(33).set(false);
    assert.equal(rd(PENDING + 4), 0);
    wr(PENDING, 0xffffffff);
    assert.equal(rd(PENDING), 0);
  });

  it('claim returns the id, clears pending and drops MEIP; complete alone does not re-deliver', () => {
    const { plic, meip, rd, wr, route } = setup();
    route(10, 1);
    plic.source(10).set(true);
    assert.equal(meip[0].level, true);
    assert.equal(rd(CLAIM(0)), 10);
    assert.equal(meip[0].level, false);
    assert.equal(rd(PENDING), 0);
    wr(CLAIM(0), 10);
    assert.equal(meip[0].level, false); // nothing re-set the pending bit
    plic.source(10).set(true);
    assert.equal(meip[0].level, true);
  });

  it('a level re-asserted while claimed stays pending but is delivered only after complete', () => {
    // QEMU devices call qemu_set_irq again when the handler touches them; the claimed bit masks
    // the source until the completion write clears it.
    const { plic, meip, rd, wr, route } = setup();
    route(10, 1);
    const uart = plic.source(10);
    uart.set(true);
    assert.equal(rd(CLAIM(0)), 10);
    uart.set(true);
    assert.equal(rd(PENDING), 1 << 10);
    assert.equal(meip[0].level, false);
    assert.equal(rd(CLAIM(0)), 0);
    wr(CLAIM(0), 10);
    assert.equal(meip[0].level, true);
    assert.equal(rd(CLAIM(0)), 10);
  });

  it('a source only interrupts with priority strictly above the context threshold', () => {
    const { plic, meip, wr, route } = setup();
    route(7, 3);
    wr(THRESHOLD(0), 3);
    plic.source(7).set(true);
    assert.equal(meip[0].level, false);
    wr(THRESHOLD(0), 2);
    assert.equal(meip[0].level, true);
  });

  it('claims go to the highest priority first, and ties to the lowest id', () => {
    const { plic, rd, route } = setup();
    route(40, 2);
    route(12, 2);
    route(70, 5);
    for (const id of [40, 12, 70]) plic.source(id).set(true);
    assert.deepEqual([rd(CLAIM(0)), rd(CLAIM(0)), rd(CLAIM(0)), rd(CLAIM(0))], [70, 12, 40, 0]);
  });

  it('context 2h is hart h M-mode (MEIP) and 2h+1 its S-mode (SEIP)', () => {
    const { plic, meip, seip, rd, route } = setup(2);
    route(11, 1, 3); // hart 1, S-mode
    plic.source(11).set(true);
    assert.deepEqual([meip[0].level, seip[0].level, meip[1].level, seip[1].level], [false, false, false, true]);
    assert.equal(rd(CLAIM(2)), 0); // hart 1's M context does not have it enabled
    assert.equal(rd(CLAIM(3)), 11);
    assert.equal(seip[1].level, false);
  });

  it('the claimed bit is global: once one context claims a source the other cannot', () => {
    const { plic, meip, seip, rd, wr, route } = setup();
    route(5, 1, 0);
    route(5, 1, 1);
    plic.source(5).set(true);
    assert.equal(meip[0].level && seip[0].level, true);
    assert.equal(rd(CLAIM(1)), 5);
    assert.equal(meip[0].level, false);
    assert.equal(rd(CLAIM(0)), 0);
    wr(CLAIM(0), 5); // QEMU accepts completion from any context
    plic.source(5).set(true);
    assert.equal(rd(CLAIM(0)), 5);
  });

  it('writing an enable bit does not by itself re-evaluate MEIP (sifive_plic_write has no update there)', () => {
    const { plic, meip, wr } = setup();
    wr(PRIO(9), 1);
    plic.source(9).set(true);
    wr(ENABLE(0), 1 << 9);
    assert.equal(meip[0].level, false);
    wr(THRESHOLD(0), 0); // any later PLIC event re-evaluates
    assert.equal(meip[0].level, true);
  });

  it('completion ids at or above num_sources are ignored', () => {
    const { plic, meip, rd, wr, route } = setup();
    route(3, 1);
    plic.source(3).set(true);
    rd(CLAIM(0));
    plic.source(3).set(true);
    wr(CLAIM(0), 3 + 0x100);
    assert.equal(meip[0].level, false);
    wr(CLAIM(0), 3);
    assert.equal(meip[0].level, true);
  });

  it('enable words past the third, reserved context offsets and the end of pending read as 0', () => {
    const { rd, wr } = setup();
    wr(ENABLE(0) + 12, 0xffffffff);
    assert.equal(rd(ENABLE(0) + 12), 0);
    wr(ENABLE(0), 0xffffffff); // bit 0 (source 0) is stored like the rest, as in QEMU
    assert.equal(rd(ENABLE(0)), 0xffffffff);
    assert.equal(rd(PENDING + 12), 0);
    assert.equal(rd(THRESHOLD(0) + 8), 0);
    assert.equal(rd(THRESHOLD(2)), 0); // only 2 contexts for 1 hart
  });

  it('only aligned 4-byte accesses are valid; others have no side effect (QEMU raises an access fault)', () => {
    // sifive_plic_ops.valid: min_access_size = max_access_size = 4
    const { plic, meip, route } = setup();
    route(10, 1);
    plic.source(10).set(true);
    assert.equal(plic.validAccess(CLAIM(0), 2), false);
    assert.equal(plic.validAccess(CLAIM(0) + 1, 4), false);
    assert.equal(plic.read(CLAIM(0), 2), 0);
    assert.equal(meip[0].level, true); // the narrow read did not claim
    assert.equal(plic.read(CLAIM(0), 4), 10);
  });

  it('source() rejects ids outside 0..95', () => {
    const { plic } = setup();
    assert.throws(() => plic.source(96), RangeError);
    assert.throws(() => plic.source(-1), RangeError);
  });

  it('reset clears every register and lowers both lines of every hart', () => {
    const { plic, meip, seip, rd, route } = setup(2);
    route(10, 4, 2);
    plic.source(10).set(true);
    assert.equal(meip[1].level, true);
    plic.reset();
    assert.deepEqual([meip[0], seip[0], meip[1], seip[1]].map((l) => l.level), [false, false, false, false]);
    assert.equal(rd(PRIO(10)), 0);
    assert.equal(rd(PENDING), 0);
    assert.equal(rd(ENABLE(2)), 0);
  });

  it('saveState survives JSON, including claimed bits, and loadState drives no lines', () => {
    const a = setup();
    a.route(10, 1);
    a.route(11, 2);
    a.plic.source(10).set(true);
    a.plic.source(11).set(true);
    assert.equal(a.rd(CLAIM(0)), 11);
    const saved = JSON.parse(JSON.stringify(a.plic.saveState()));
    const b = setup();
    const before = b.meip[0].calls;
    b.plic.loadState(saved);
    assert.equal(b.meip[0].calls, before);
    assert.equal(b.rd(CLAIM(0)), 10);
    assert.equal(b.rd(CLAIM(0)), 0); // 11 is still claimed
    b.wr(CLAIM(0), 11);
    assert.equal(b.rd(PENDING), 0);
  });
});
