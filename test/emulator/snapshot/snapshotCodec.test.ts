import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '../../../emulator/machine/machine';
import { decodeSnapshot, encodeSnapshot } from '../../../emulator/snapshot/snapshotCodec';
import { RewindError } from '../../../emulator/errors';

describe('snapshot encoding', () => {
  const m = new Machine({ ramMiB: 16, hostNowNs: () => 5n });
  m.loadElf(fs.readFileSync(path.join(__dirname, '../../../emulator/guest/bin/timer-O2.elf')));
  m.run(4000);
  const snap = m.saveState();
  const bytes = encodeSnapshot(snap);

  it('stores only the RAM pages in use, and decodes to the same state', () => {
    assert.ok(bytes.length < 64 * 1024, `${bytes.length} bytes for a 16 MiB machine`);
    const back = decodeSnapshot(bytes);
    // `written` is a hint of which pages may be non-zero, not state: the decoded one lists exactly the non-zero pages.
    assert.deepEqual({ ...back, ram: undefined, written: undefined }, { ...snap, ram: undefined, written: undefined });
    assert.ok(Buffer.from(back.ram).equals(Buffer.from(snap.ram)));
  });

  it('refuses damaged bytes with one-line errors: cut short, bad description, wrong page count', () => {
    const check = (b: Uint8Array, re: RegExp) => assert.throws(() => decodeSnapshot(b, 'snap'), (e: unknown) => e instanceof RewindError && re.test(e.message));
    check(bytes.subarray(0, 2), /^snap: too short$/);
    check(bytes.subarray(0, 100), /^snap: cut short$/);
    const badJson = bytes.slice();
    badJson[4] = 0x78; // the description no longer starts with '{'
    check(badJson, /not valid JSON/);
    check(bytes.subarray(0, bytes.length - 4096), /bytes of pages/);
  });
});
