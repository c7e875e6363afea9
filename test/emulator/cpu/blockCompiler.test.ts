import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Machine } from '../../../emulator/machine/machine';
import { stateHash } from '../../../emulator/machine/stateHash';

const guestDir = path.join(__dirname, '../../../emulator/guest');

interface Guest { name: string; input: string | null; harts: number }

/** Long guests (the time-travel benchmark's) are compared over their first this many instructions. */
const LONG_LIMIT = 100_000_000;

function runGuest(elf: string, g: Guest & { long?: boolean }, jit: boolean) {
  const out: number[] = [];
  const m = new Machine({ harts: g.harts, jit, onOutput: (b) => out.push(b), hostNowNs: () => 1_700_000_000_000_000_000n });
  m.loadElf(fs.readFileSync(elf));
  if (g.input) m.pushInput(fs.readFileSync(path.join(guestDir, g.input)));
  const r = m.run(g.long ? LONG_LIMIT : 2_000_000_000);
  return { out: Buffer.from(out).toString('latin1'), r, icount: m.icount, hash: stateHash(m) };
}

// The compiled blocks must be indistinguishable from the interpreter: same output, same exit,
// same instruction count, and the same final machine state, bit for bit.
describe('block compiler', () => {
  const guests: Guest[] = JSON.parse(fs.readFileSync(path.join(guestDir, 'guests.json'), 'utf8'));
  for (const g of guests) {
    for (const opt of ['O0', 'O2']) {
      it(`${g.name}-${opt}: compiled run equals the pure interpreter (output, exit, icount, state hash)`, function () {
        this.timeout(600_000);
        const elf = path.join(guestDir, 'bin', `${g.name}-${opt}.elf`);
        const a = runGuest(elf, g, false);
        const b = runGuest(elf, g, true);
        assert.equal(a.r.reason, (g as { long?: boolean }).long ? 'limit' : 'exit', `interpreter run ended with ${a.r.reason}`);
        assert.equal(b.out, a.out);
        assert.deepEqual(b.r, a.r);
        assert.equal(b.icount, a.icount);
        assert.equal(b.hash, a.hash);
      });
    }
  }
});
