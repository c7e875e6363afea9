import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '../../../emulator/machine/machine';
import { stateHash } from '../../../emulator/machine/stateHash';
import { RewindError } from '../../../emulator/errors';

const bin = (n: string) => fs.readFileSync(path.join(__dirname, '../../../emulator/guest/bin', n));

/** A machine on `elf` whose output is collected and whose host clock is a fixed sequence. */
function machine(elf: string, harts = 1) {
  const out: number[] = [];
  let host = 1_700_000_000_000_000_000n;
  const m = new Machine({ harts, onOutput: (b) => out.push(b), hostNowNs: () => (host += 1_000n) });
  m.loadElf(bin(elf));
  return { m, out };
}

describe('machine snapshots', () => {
  for (const [elf, harts] of [['timer-O2.elf', 1], ['traps-O0.elf', 1], ['smp-O2.elf', 2], ['bugdemo-O2.elf', 1]] as const) {
    it(`${elf}: a snapshot restored into a fresh machine continues exactly as the original (output, icount, state hash)`, () => {
      const full = machine(elf, harts);
      full.m.run(1e10);
      const total = full.m.icount;
      for (const at of [1, 7, Math.floor(total / 3), Math.floor(total / 2) + 13, total - 5]) {
        const orig = machine(elf, harts);
        orig.m.run(at);
        const snap = orig.m.saveState();
        const before = stateHash(orig.m);
        const printed = orig.out.length;
        const b = machine(elf, harts);
        b.m.loadState(snap);
        assert.equal(stateHash(b.m), before, `state hash right after loading at ${at}`);
        b.m.run(1e10);
        assert.equal(b.m.icount, total, `icount after resuming at ${at}`);
        assert.equal(stateHash(b.m), stateHash(full.m), `final state after resuming at ${at}`);
        assert.deepEqual(b.out, full.out.slice(printed), `output after resuming at ${at}`);
      }
    });
  }

  it('going back: loading an earlier snapshot into the same machine replays the same future', () => {
    const { m, out } = machine('timer-O2.elf');
    m.run(3000);
    const snap = m.saveState();
    const mark = out.length;
    m.run(1e10);
    const endHash = stateHash(m);
    const tail = out.slice(mark);
    m.loadState(snap);
    out.length = mark;
    m.run(1e10);
    assert.equal(stateHash(m), endHash);
    assert.deepEqual(out.slice(mark), tail);
  });

  it('refuses a snapshot of a differently configured machine with one line', () => {
    const a = machine('hello-O2.elf');
    const b = machine('smp-O2.elf', 2);
    assert.throws(() => b.m.loadState(a.m.saveState()), (e: unknown) => e instanceof RewindError && /snapshot of a machine with 1 harts/.test(e.message));
  });
});
