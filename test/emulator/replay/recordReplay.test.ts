import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine, RunResult } from '../../../emulator/machine/machine';
import { stateHash } from '../../../emulator/machine/stateHash';
import { ReplayEvent } from '../../../emulator/replay/replayEvent';

const guestDir = path.join(__dirname, '../../../emulator/guest');
interface Guest { name: string; input: string | null; harts: number }
const guests: Guest[] = JSON.parse(fs.readFileSync(path.join(guestDir, 'guests.json'), 'utf8'));

interface Run { out: string; result: RunResult; icount: number; hash: string; events: ReplayEvent[] }

/** Records a guest in-process; the host clock moves, as a real one would. */
function record(g: Guest, opt: string, chunk = Infinity): Run {
  const events: ReplayEvent[] = [];
  const out: number[] = [];
  let clock = 1_700_000_000_000_000_000n;
  const m = new Machine({ harts: g.harts, onOutput: (b) => out.push(b), hostNowNs: () => (clock += 12_345n), replay: { mode: 'record', sink: (e) => events.push(e) } });
  m.loadElf(fs.readFileSync(path.join(guestDir, 'bin', `${g.name}-${opt}.elf`)));
  if (g.input) m.pushInput(fs.readFileSync(path.join(guestDir, g.input)));
  let result: RunResult;
  do result = m.run(Math.min(m.icount + chunk, 3_000_000_000)); while (result.reason === 'limit' && m.icount < 3_000_000_000);
  m.replay!.end();
  return { out: Buffer.from(out).toString('latin1'), result, icount: m.icount, hash: stateHash(m), events };
}

/** Replays recorded events with no input and a host clock that would give other answers. */
function replay(g: Guest, opt: string, events: ReplayEvent[], endIcount: number) {
  const out: number[] = [];
  const m = new Machine({ harts: g.harts, onOutput: (b) => out.push(b), hostNowNs: () => 42n, replay: { mode: 'replay', events } });
  m.loadElf(fs.readFileSync(path.join(guestDir, 'bin', `${g.name}-${opt}.elf`)));
  const result = m.run(endIcount);
  return { m, out: Buffer.from(out).toString('latin1'), result, icount: m.icount, hash: stateHash(m) };
}

describe('record/replay', () => {
  for (const g of guests.filter((x) => !['crc32', 'sieve', 'matmul', 'qsort', 'strsearch', 'marathon'].includes(x.name))) {
    it(`${g.name}-O0: replay with no input reproduces output, exit, icount and final state hash`, function () {
      this.timeout(120_000);
      const rec = record(g, 'O0');
      assert.equal(rec.result.reason, 'exit');
      const rep = replay(g, 'O0', rec.events, rec.icount);
      assert.equal(rep.result.reason, 'exit', rep.m.replay?.divergence ? JSON.stringify(rep.m.replay.divergence) : '');
      assert.equal(rep.out, rec.out);
      assert.equal(rep.icount, rec.icount);
      assert.equal(rep.hash, rec.hash);
      assert.equal(rep.m.replay!.player!.consumed, rec.events.length - 1); // all but END
    });
  }

  it('the guest does the same however a run is split into run() calls (every guest, two harts included)', function () {
    this.timeout(300_000);
    for (const g of guests.filter((x) => ['smp', 'echo', 'timer', 'rtc', 'bugdemo'].includes(x.name))) {
      const whole = record(g, 'O2');
      for (const chunk of [1, 997, 65_536]) {
        if (chunk === 1 && whole.icount > 2_000_000) continue;
        const split = record(g, 'O2', chunk);
        assert.equal(split.out, whole.out, `${g.name} in chunks of ${chunk}`);
        assert.equal(split.icount, whole.icount, `${g.name} in chunks of ${chunk}`);
        assert.equal(split.hash, whole.hash, `${g.name} in chunks of ${chunk}`);
      }
    }
  });

  it('an edited event (a different output byte) stops replay with a divergence naming the event, icount and both sides', () => {
    const g = guests.find((x) => x.name === 'hello')!;
    const rec = record(g, 'O2');
    const i = rec.events.findIndex((e) => e.name === 'EVENT_CHAR_WRITE' && e.index > 10);
    const edited = rec.events.map((e) => (e.index === i ? { ...e, data: { ...e.data, byte: 0x21 } } : e));
    const rep = replay(g, 'O2', edited, rec.icount);
    assert.equal(rep.result.reason, 'diverged');
    const d = rep.m.replay!.divergence!;
    assert.equal(d.eventIndex, i);
    assert.equal(d.icount, rec.events[i].icount);
    assert.match(d.expected, /^EVENT_CHAR_WRITE device=0 byte=33 at icount \d+$/);
    assert.match(d.actual, new RegExp(`^EVENT_CHAR_WRITE device=0 byte=${rec.events[i].data!.byte} at icount ${rec.events[i].icount}$`));
  });

  // Input moved to another instruction boundary the machine stops at is a different but
  // consistent history; these edits leave the log impossible to follow.
  it('input logged where the machine cannot take it is a divergence, not a silently different run', () => {
    const g = guests.find((x) => x.name === 'echo')!;
    const rec = record(g, 'O2');
    const i = rec.events.findIndex((e) => e.name === 'EVENT_ASYNC_CHAR_READ' && e.index > 5);
    const edited = rec.events.map((e) => (e.index === i ? { ...e, icount: e.icount + 1 } : e));
    const rep = replay(g, 'O2', edited, rec.icount);
    assert.equal(rep.result.reason, 'diverged');
    assert.ok(rep.m.replay!.divergence!.eventIndex <= i);
  });

  it('a log missing an input stops with a divergence when the guest waits for it forever', () => {
    const g = guests.find((x) => x.name === 'echo')!;
    const rec = record(g, 'O2');
    const inputs = rec.events.filter((e) => e.name === 'EVENT_ASYNC_CHAR_READ');
    const dropped = rec.events.filter((e) => e !== inputs[inputs.length - 1]).map((e, index) => ({ ...e, index }));
    const rep = replay(g, 'O2', dropped, rec.icount);
    assert.equal(rep.result.reason, 'diverged');
    assert.match(rep.m.replay!.divergence!.actual, /asleep in WFI/);
  });

  it('a different host clock in the log changes what the RTC guest reads, and replay follows the log', () => {
    const g = guests.find((x) => x.name === 'rtc')!;
    const rec = record(g, 'O2');
    assert.ok(rec.events.some((e) => e.name === 'EVENT_CLOCK_HOST'));
    const rep = replay(g, 'O2', rec.events, rec.icount);
    assert.equal(rep.hash, rec.hash); // the replay's own host clock (42 ns) was never used
  });
});
