/**
 * Going back while recording: a live session records, goes back (replaying its own log), refuses
 * input while in the past, and at the end of the log goes on recording, without a restart. The
 * resulting log replays like any recording.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '../../../emulator/machine/machine';
import { stateHash } from '../../../emulator/machine/stateHash';
import { RewindError } from '../../../emulator/errors';
import { ReplayEvent } from '../../../emulator/replay/replayEvent';
import { TimeTravel } from '../../../emulator/timetravel/timeTravel';

const guestDir = path.join(__dirname, '../../../emulator/guest');
const elf = fs.readFileSync(path.join(guestDir, 'bin', 'echo-O2.elf'));
const input = fs.readFileSync(path.join(guestDir, 'inputs', 'echo.txt'));
const RAM = 16;

describe('live recording with time travel', function () {
  this.timeout(120_000);

  it('records, goes back and looks around, refuses input in the past, and records on from the end', () => {
    const events: ReplayEvent[] = [];
    const shown: number[] = [];
    const tt = new TimeTravel({ elf, machine: { ramMiB: RAM }, events, endIcount: 0, interval: 2_000, live: {}, onOutput: (b) => shown.push(b) });
    const m = tt.machine;
    const half = input.indexOf(0x0a) + 1; // the first line
    m.pushInput(input.subarray(0, half));
    let r = tt.runTo(Number.MAX_SAFE_INTEGER);
    assert.equal(r.reason, 'idle', 'the guest waits for more input');
    const end1 = tt.icount;
    const eventsAtEnd1 = events.length;
    const hashAtEnd1 = stateHash(m);
    assert.ok(events.some((e) => e.name === 'EVENT_ASYNC_CHAR_READ'));

    // Back in time: the state is the one a straight replay of the log reaches there.
    const back = Math.floor(end1 / 2);
    tt.seek(back);
    const straight = new Machine({ ramMiB: RAM, replay: { mode: 'replay', events: events.slice() } });
    straight.loadElf(elf);
    straight.run(back);
    assert.equal(tt.icount, straight.icount);
    assert.equal(stateHash(m), stateHash(straight));
    assert.equal(events.length, eventsAtEnd1, 'going back wrote nothing');
    // Typing now would rewrite history: refused with a clear message, nothing queued.
    assert.throws(() => m.pushInput(Buffer.from('x')), (e: unknown) => e instanceof RewindError && e.code === 'IN_THE_PAST' && /in the past of the recording/.test(e.message));
    assert.equal(m.hasPendingInput(), false);
    tt.stepBack();
    assert.equal(tt.icount < back, true);

    // Forward to the end of the log: the same state as before going back, and nothing logged twice.
    tt.goToEnd();
    assert.equal(tt.icount, end1);
    assert.equal(stateHash(m), hashAtEnd1);
    assert.equal(events.length, eventsAtEnd1);

    // At the end it records again: the rest of the input, to the guest's exit.
    m.pushInput(input.subarray(half));
    r = tt.runTo(Number.MAX_SAFE_INTEGER);
    assert.equal(r.reason, 'exit');
    assert.ok(events.length > eventsAtEnd1);
    events.forEach((e, i) => assert.equal(e.index, i));

    // The guest printed what a plain run with the whole input prints, each byte shown once.
    const plainOut: number[] = [];
    const plain = new Machine({ ramMiB: RAM, onOutput: (b) => plainOut.push(b) });
    plain.loadElf(elf);
    plain.pushInput(input);
    plain.run();
    assert.equal(Buffer.from(shown).toString('latin1'), Buffer.from(plainOut).toString('latin1'));

    // And the whole log replays like any recording.
    const rep = new Machine({ ramMiB: RAM, replay: { mode: 'replay', events } });
    rep.loadElf(elf);
    assert.equal(rep.run(tt.icount).reason, 'exit');
    assert.equal(rep.replay!.divergence, undefined);
    assert.equal(stateHash(rep), stateHash(m));
  });
});
