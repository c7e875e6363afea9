/**
 * Write tracking: a RAM page never marked written must hold zeros, whatever wrote it (the
 * interpreter's and the compiled code's stores, AMOs, device-side and ELF writes, a restored
 * snapshot) — state hashes and snapshots skip unmarked pages without reading them.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '../../../emulator/machine/machine';
import { nonZeroPages } from '../../../emulator/machine/bus';

const guestDir = path.join(__dirname, '../../../emulator/guest');
const guests: { name: string; input: string | null; harts: number }[] = JSON.parse(fs.readFileSync(path.join(guestDir, 'guests.json'), 'utf8'));

describe('RAM write tracking', function () {
  this.timeout(300_000);
  for (const jit of [true, false]) {
    it(`every guest (${jit ? 'compiled' : 'interpreted'}): the tracked non-zero pages are exactly those a full scan finds, mid-run and at the end`, () => {
      for (const g of guests) {
        const m = new Machine({ ramMiB: 16, harts: g.harts, jit });
        m.loadElf(fs.readFileSync(path.join(guestDir, 'bin', `${g.name}-O2.elf`)));
        if (g.input) m.pushInput(fs.readFileSync(path.join(guestDir, g.input)));
        for (const stop of [1000, 100_000, 3_000_000]) {
          m.run(stop);
          assert.deepEqual(m.bus.nonZeroPages(), nonZeroPages(m.bus.ram8), `${g.name} at icount ${m.icount}`);
        }
        // And the tracking spares work: most of the 4096 pages were never touched.
        const marked = m.bus.written.reduce((a, b) => a + b, 0);
        assert.ok(marked > 0 && marked < 1024, `${g.name}: ${marked} pages marked written`);
      }
    });
  }

  it('a restored snapshot leaves exactly its non-zero pages marked', () => {
    const m = new Machine({ ramMiB: 16 });
    m.loadElf(fs.readFileSync(path.join(guestDir, 'bin', 'qsort-O2.elf')));
    m.run(200_000);
    const early = m.saveState();
    m.run(5_000_000);
    m.loadState(early);
    assert.deepEqual(m.bus.nonZeroPages(), nonZeroPages(m.bus.ram8));
    m.run(5_000_000);
    assert.deepEqual(m.bus.nonZeroPages(), nonZeroPages(m.bus.ram8));
  });
});
