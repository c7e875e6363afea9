import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeReplayLog, replayEventName, replayInstructionCount } from '../support/qemuReplayIcount';

// Logs recorded by QEMU 7.2.22 on Debian 12 (test/fixtures/qemu-7.2), with the totals an
// independent reader found (expected.json).
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'qemu-7.2');

interface Expected {
  bytes: number; version: string; events: number; instructions: number;
  byType: Record<string, number>; decodedBytes: number;
}
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as Record<string, Expected>;

function sorted(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

describe('QEMU 7.2 replay log decoder (test support)', () => {
  for (const [file, exp] of Object.entries(expected)) {
    it(`${file}: ${exp.instructions} instructions, ${exp.events} events, every byte decoded`, () => {
      const buf = fs.readFileSync(path.join(FIXTURES, file));
      assert.equal(buf.length, exp.bytes);
      const s = decodeReplayLog(buf);
      assert.equal(s.instructions, exp.instructions);
      assert.equal(replayInstructionCount(buf), exp.instructions);
      assert.equal('0x' + s.version.toString(16), exp.version);
      assert.equal(s.events, exp.events);
      assert.equal(s.decodedBytes, exp.decodedBytes);
      assert.deepEqual(sorted(s.byType), sorted(exp.byType));
    });
  }

  it('names events as QEMU 7.2 does', () => {
    assert.equal(replayEventName(0), 'EVENT_INSTRUCTION');
    assert.equal(replayEventName(7), 'EVENT_ASYNC_CHAR_READ');
    assert.equal(replayEventName(14), 'EVENT_SHUTDOWN_HOST_SIGNAL');
    assert.equal(replayEventName(30), 'EVENT_CP_CLOCK_WARP_START');
    assert.equal(replayEventName(38), 'EVENT_CP_RESET');
    assert.equal(replayEventName(39), 'EVENT_END');
  });

  it('sums INSTRUCTION deltas as unsigned 32-bit values and decodes every payload size', () => {
    const bytes: number[] = [0x00, 0xe0, 0x20, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0];
    const u32 = (v: number) => bytes.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    bytes.push(0); u32(0xffffffff);            // INSTRUCTION
    bytes.push(3, 1, 2, 3, 4, 5, 6, 7, 8);       // ASYNC_BH u64
    bytes.push(7, 0); u32(3); bytes.push(0x61, 0x62, 0x63); // ASYNC_CHAR_READ
    bytes.push(9, 0); u32(0); u32(2); bytes.push(1, 2);     // ASYNC_NET
    bytes.push(22); u32(1); u32(0);              // CHAR_WRITE
    bytes.push(23); u32(1); bytes.push(0x7a);    // CHAR_READ_ALL
    bytes.push(27); u32(0); u32(4); u32(0xdeadbeef); // RANDOM
    bytes.push(28, 0, 0, 0, 0, 0, 0, 0, 1);      // CLOCK_HOST
    bytes.push(31);                              // CP_CLOCK_WARP_ACCOUNT
    bytes.push(0); u32(5);                       // INSTRUCTION
    bytes.push(16);                              // SHUTDOWN_GUEST_SHUTDOWN
    bytes.push(39);                              // END
    const s = decodeReplayLog(Uint8Array.from(bytes));
    assert.equal(s.instructions, 0xffffffff + 5);
    assert.equal(s.events, 12);
    assert.equal(s.decodedBytes, bytes.length);
  });

  it('rejects a wrong version, a truncated log, a log without END and unsupported events', () => {
    const good = fs.readFileSync(path.join(FIXTURES, 'bench-shift0.replay.bin'));
    const wrongVersion = Buffer.from(good); wrongVersion[3] = 0x0b;
    assert.throws(() => decodeReplayLog(wrongVersion), /version 0xe0200b/);
    assert.throws(() => decodeReplayLog(good.subarray(0, 8)), /too short/);
    assert.throws(() => decodeReplayLog(good.subarray(0, 20)), /truncated/);
    const header = good.subarray(0, 12);
    assert.throws(() => decodeReplayLog(Buffer.concat([header, Buffer.from([0, 0, 0, 0, 1])])), /without EVENT_END/);
    assert.throws(() => decodeReplayLog(Buffer.concat([header, Buffer.from([5, 0, 0, 0, 0])])), /EVENT_ASYNC_INPUT .*unsupported/);
    assert.throws(() => decodeReplayLog(Buffer.concat([header, Buffer.from([40])])), /unknown event id 40/);
  });
});
