/**
 * Time travel checked against straight forward runs: random positions and operations (seek,
 * reverse-stepi, reverse-continue, last write) on every guest program, each compared with what
 * a fresh machine replaying the same log from the start finds — by single-stepping for hits and
 * stores, so the reference shares none of the probes under test.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '../../../emulator/machine/machine';
import { RAM_BASE } from '../../../emulator/machine/bus';
import { stateHash } from '../../../emulator/machine/stateHash';
import { ReplayEvent } from '../../../emulator/replay/replayEvent';
import { Hit, TimeTravel } from '../../../emulator/timetravel/timeTravel';

const guestDir = path.join(__dirname, '../../../emulator/guest');
interface Guest { name: string; input: string | null; harts: number }
const guests: Guest[] = JSON.parse(fs.readFileSync(path.join(guestDir, 'guests.json'), 'utf8'));
const RAM = 16;
/** Long guests are recorded over their first WINDOW instructions (the reference single-steps it). */
const WINDOW = 600_000;

function record(g: Guest, file: string) {
  const elf = fs.readFileSync(path.join(guestDir, 'bin', file));
  const events: ReplayEvent[] = [];
  const out: { icount: number; byte: number }[] = [];
  let clock = 1_700_000_000_000_000_000n;
  const m = new Machine({ ramMiB: RAM, harts: g.harts, hostNowNs: () => (clock += 777_777n), replay: { mode: 'record', sink: (e) => events.push(e) }, onOutput: (byte) => out.push({ icount: m.icount, byte }) });
  m.loadElf(elf);
  if (g.input) m.pushInput(fs.readFileSync(path.join(guestDir, g.input)));
  m.run(WINDOW);
  m.replay!.end();
  return { elf, events, end: m.icount, out, m };
}

/** A plain replay from the start, stepped one instruction at a time by the caller. */
function reference(g: Guest, elf: Uint8Array, events: ReplayEvent[]): Machine {
  const m = new Machine({ ramMiB: RAM, harts: g.harts, jit: false, replay: { mode: 'replay', events } });
  m.loadElf(elf);
  return m;
}

const stateKey = (m: Machine): string => `${m.icount} ${stateHash(m)} ${JSON.stringify(m.saveState({ ram: false }))}`;

type Range = { lo: number; size: number };

/**
 * What the instruction at a hart's pc will write and read, decoded from its bits and the
 * registers, independently of the CPU: stores and AMOs/SC write; loads, LR and AMOs read.
 */
function accesses(m: Machine, hart: number): { store?: Range; load?: Range; scRd?: number } {
  const h = m.harts[hart];
  const pc = h.pc >>> 0;
  const lo16 = m.bus.peek(pc, 2);
  const x = (r: number) => h.x[r];
  if ((lo16 & 3) !== 3) {
    const op = lo16 & 3, f3 = lo16 >>> 13;
    const rs1p = 8 + ((lo16 >>> 7) & 7);
    const cw = (x(rs1p) + ((((lo16 >>> 10) & 7) << 3) | (((lo16 >>> 6) & 1) << 2) | (((lo16 >>> 5) & 1) << 6))) >>> 0; // c.lw / c.sw address
    if (op === 0 && f3 === 6) return { store: { lo: cw, size: 4 } };
    if (op === 0 && f3 === 2) return { load: { lo: cw, size: 4 } };
    if (op === 2 && f3 === 6) return { store: { lo: (x(2) + ((((lo16 >>> 9) & 15) << 2) | (((lo16 >>> 7) & 3) << 6))) >>> 0, size: 4 } }; // c.swsp
    if (op === 2 && f3 === 2 && ((lo16 >>> 7) & 31) !== 0) return { load: { lo: (x(2) + ((((lo16 >>> 4) & 7) << 2) | (((lo16 >>> 12) & 1) << 5) | (((lo16 >>> 2) & 3) << 6))) >>> 0, size: 4 } }; // c.lwsp
    return {};
  }
  const w = (lo16 | (m.bus.peek(pc + 2, 2) << 16)) | 0;
  const opc = w & 0x7f, f3 = (w >>> 12) & 7, rs1 = (w >>> 15) & 31;
  if (opc === 0x23) return { store: { lo: (x(rs1) + (((w >> 25) << 5) | ((w >>> 7) & 31))) >>> 0, size: 1 << f3 } };
  if (opc === 0x03) return { load: { lo: (x(rs1) + (w >> 20)) >>> 0, size: 1 << (f3 & 3) } };
  if (opc === 0x2f) {
    const f5 = (w >>> 27) & 31, r: Range = { lo: x(rs1) >>> 0, size: 4 };
    // LR reads; SC writes only when it succeeds (rd = 0 after it); AMOs do both.
    return f5 === 2 ? { load: r } : f5 === 3 ? { store: r, scRd: (w >>> 7) & 31 } : { store: r, load: r };
  }
  return {};
}

/** Breakpoint arrivals and stores, found by single-stepping the whole recording once. */
function scan(g: Guest, elf: Uint8Array, events: ReplayEvent[], end: number, pcs: Set<number>, lo: number, hi: number) {
  const m = reference(g, elf, events);
  const bpHits: number[] = [];
  const writes: number[] = [];
  const reads: number[] = [];
  while (m.icount < end) {
    // Which hart runs the next instruction is known only after it ran: note every hart's view.
    const at = m.harts.map((h) => ({ pc: h.pc >>> 0, ...accesses(m, h.hartId) }));
    const before = m.icount;
    const r = m.run(m.icount + 1);
    if (m.icount > before || r.reason !== 'limit') {
      const ran = at[m.lastHart];
      if (pcs.has(ran.pc)) bpHits.push(before);
    }
    const { load: l, scRd } = at[m.lastHart];
    const s = scRd !== undefined && m.harts[m.lastHart].x[scRd] !== 0 ? undefined : at[m.lastHart].store;
    // An access that executed (it did not trap) and overlaps the range.
    if (s && s.lo < hi && s.lo + s.size > lo && m.icount > before) writes.push(before);
    if (l && l.lo < hi && l.lo + l.size > lo && m.icount > before) reads.push(before);
    if (r.reason !== 'limit') break;
  }
  return { bpHits, writes, reads };
}

describe('time travel', function () {
  this.timeout(600_000);
  for (const g of guests) {
    for (const opt of ['O0', 'O2']) {
      const file = `${g.name}-${opt}.elf`;
      const OPS = opt === 'O2' ? 500 : 100;
      it(`${file}: ${OPS} random seeks, reverse-stepi, reverse-continue, last-write and last-read equal a straight forward run`, () => {
        const rec = record(g, file);
        const tt = new TimeTravel({ elf: rec.elf, machine: { ramMiB: RAM, harts: g.harts }, events: rec.events, endIcount: rec.end, interval: Math.max(2_000, Math.floor(rec.end / 25)) });
        let seed = 12345;
        const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
        // Breakpoints on function entries; the watched range is the stack's top 256 bytes and a global.
        // Breakpoints: every function entry, and an instruction inside whatever loop runs at a
        // third of the way (so long computations have hits too).
        const funcs = rec.m.elf!.symbols.filter((s) => s.type === 2 && s.value >= RAM_BASE);
        const probe = reference(g, rec.elf, rec.events);
        probe.run(Math.floor(rec.end / 3));
        const pcs = new Set([...funcs.map((s) => s.value), probe.harts[0].pc >>> 0]);
        const sp0 = RAM_BASE + RAM * 1024 * 1024;
        const lo = sp0 - 4096, hi = sp0 - 3840;
        const ref = scan(g, rec.elf, rec.events, rec.end, pcs, lo, hi);
        // Straight-run states at the positions the operations land on, computed in one pass at the end.
        const want = new Map<number, string>();
        const checks: { at: number; got: string; what: string }[] = [];
        for (let i = 0; i < OPS; i++) {
          const op = rnd(5);
          const pos = rnd(rec.end + 1);
          tt.seek(pos);
          // Not every count is an instruction boundary (a WFI charges the rest of its block at
          // once): a seek into one lands where a straight run to it stops, checked below.
          assert.ok(tt.icount >= pos && tt.icount - pos < 600, `${file}: seek(${pos}) landed at ${tt.icount}`);
          let what = `seek(${pos})`;
          let at = pos;
          if (op === 1 && pos > 0) {
            tt.stepBack();
            what = `reverse-stepi from ${pos}`;
            assert.ok(tt.icount < pos);
          } else if (op === 2) {
            const h = tt.reverseContinue(pcs);
            const expected = ref.bpHits.filter((x) => x < pos).pop();
            assert.equal(h?.icount, expected, `${file}: reverse-continue from ${pos}`);
            what = `reverse-continue from ${pos}`;
            if (!h) continue;
          } else if (op === 3) {
            const h: Hit | undefined = tt.lastWrite(lo, hi);
            const expected = ref.writes.filter((x) => x < pos).pop();
            assert.equal(h?.icount, expected, `${file}: last-write to 0x${lo.toString(16)}..0x${hi.toString(16)} before ${pos}`);
            what = `last-write before ${pos}`;
            if (!h) continue;
          }
          else if (op === 4) {
            const h: Hit | undefined = tt.lastRead(lo, hi);
            const expected = ref.reads.filter((x) => x < pos).pop();
            assert.equal(h?.icount, expected, `${file}: last-read of 0x${lo.toString(16)}..0x${hi.toString(16)} before ${pos}`);
            what = `last-read before ${pos}`;
            if (!h) continue;
          }
          if (op !== 0) at = tt.icount;
          checks.push({ at, got: stateKey(tt.machine), what });
          want.set(at, '');
        }
        const m = reference(g, rec.elf, rec.events);
        m.bus.blocks.jit = true;
        for (const at of [...want.keys()].sort((a, b) => a - b)) {
          m.run(at);
          want.set(at, stateKey(m));
        }
        for (const c of checks) assert.equal(c.got, want.get(c.at), `${file}: state after ${c.what} (icount ${c.at}) differs from a straight run`);
        assert.ok(ref.bpHits.length > 0, `${file}: no breakpoint hit at all: the test would prove little`);
      });
    }
  }

  for (const file of ['hello-O2.elf', 'traps-O0.elf', 'timer-O2.elf', 'bugdemo-O2.elf', 'echo-O2.elf']) {
    it(`${file}: reverse-continue from the end, again and again, finds exactly the forward scan's hits in reverse order`, () => {
      const g = guests.find((x) => file.startsWith(x.name + '-'))!;
      const rec = record(g, file);
      const tt = new TimeTravel({ elf: rec.elf, machine: { ramMiB: RAM }, events: rec.events, endIcount: rec.end, interval: Math.max(2_000, Math.floor(rec.end / 30)) });
      const funcs = rec.m.elf!.symbols.filter((s) => s.type === 2 && s.value >= RAM_BASE);
      const pcs = new Set(funcs.filter((_, i) => i % 2 === 0).map((s) => s.value));
      const ref = scan(g, rec.elf, rec.events, rec.end, pcs, 0, 0);
      assert.ok(ref.bpHits.length > 1, `${file}: ${ref.bpHits.length} hits`);
      tt.goToEnd();
      const back: number[] = [];
      for (let h = tt.reverseContinue(pcs); h; h = tt.reverseContinue(pcs)) {
        back.push(h.icount);
        assert.ok(pcs.has(tt.machine.harts[0].pc >>> 0), 'stopped at a breakpoint');
      }
      assert.deepEqual(back, [...ref.bpHits].reverse());
      assert.equal(tt.icount, ref.bpHits[0], 'no hit before the first: it stays at the first');
    });
  }

  it('reverse-continue with a breakpoint and watchpoints together stops at whichever came last, as the separate searches say', () => {
    const g = guests.find((x) => x.name === 'bugdemo')!;
    const rec = record(g, 'bugdemo-O2.elf');
    const tt = new TimeTravel({ elf: rec.elf, machine: { ramMiB: RAM }, events: rec.events, endIcount: rec.end, interval: 50_000 });
    const sym = (n: string) => rec.m.elf!.symbols.find((x) => x.name === n)!;
    const cal = sym('cal');
    const pcs = new Set([sym('main').value]);
    const write = { lo: cal.value, hi: cal.value + cal.size };
    const sp0 = RAM_BASE + RAM * 1024 * 1024;
    const read = { lo: sp0 - 4096, hi: sp0 - 3840 };
    for (const from of [rec.end, Math.floor(rec.end / 2), 5_000]) {
      const each = [
        (tt.seek(from), tt.reverseContinue(pcs)?.icount),
        (tt.seek(from), tt.lastWrite(write.lo, write.hi)?.icount),
        (tt.seek(from), tt.lastRead(read.lo, read.hi)?.icount),
      ].filter((x): x is number => x !== undefined);
      tt.seek(from);
      const both = tt.reverseContinueTo({ pcs, write, read });
      assert.equal(both?.icount, each.length ? Math.max(...each) : undefined, `from ${from}`);
      if (both) assert.equal(tt.icount, both.icount);
    }
  });

  it('the timer guest: reverse-continue from the end to an early breakpoint, then forward again, reproduces the recorded output exactly (where QEMU 7.2 aborts)', () => {
    const g = guests.find((x) => x.name === 'timer')!;
    const rec = record(g, 'timer-O2.elf');
    const out: { icount: number; byte: number }[] = [];
    const tt = new TimeTravel({ elf: rec.elf, machine: { ramMiB: RAM }, events: rec.events, endIcount: rec.end, interval: 1_000 });
    tt.goToEnd();
    const main = rec.m.elf!.symbols.find((s) => s.name === 'main')!.value;
    const pcs = new Set([main]);
    const hit = tt.reverseContinue(pcs);
    assert.ok(hit, 'main was never entered?');
    assert.ok(hit!.icount < rec.end / 4, `the breakpoint at main is early: icount ${hit!.icount} of ${rec.end}`);
    // Forward again to the end, collecting the output the replayed guest writes.
    const replayed = new Machine({ ramMiB: RAM, replay: { mode: 'replay', events: rec.events }, onOutput: (byte) => out.push({ icount: replayed.icount, byte }) });
    replayed.loadElf(rec.elf);
    replayed.loadState(tt.machine.saveState());
    replayed.replay!.player!.skipTo(tt.machine.replay!.player!.consumed);
    const r = replayed.run(rec.end);
    assert.equal(replayed.replay!.divergence, undefined);
    assert.equal(r.reason, 'exit');
    assert.ok(out.length > 0);
    assert.deepEqual(out, rec.out.filter((o) => o.icount >= hit!.icount));
  });

  it('a small memory budget thins snapshots toward the past and every seek stays exact', () => {
    const g = guests.find((x) => x.name === 'qsort')!;
    const rec = record(g, 'qsort-O2.elf');
    const tt = new TimeTravel({ elf: rec.elf, machine: { ramMiB: RAM }, events: rec.events, endIcount: rec.end, interval: 5_000, budgetBytes: 40 * 4096 * 4 });
    tt.goToEnd();
    assert.ok(tt.store.memoryBytes <= 40 * 4096 * 4, `${tt.store.memoryBytes} bytes`);
    const at = tt.store.icounts();
    assert.ok(at.length < rec.end / 5_000 / 2, `${at.length} snapshots kept of ${Math.floor(rec.end / 5_000)}`);
    // Denser toward the present: the newest half of the run holds more snapshots than the oldest half.
    assert.ok(at.filter((x) => x > rec.end / 2).length > at.filter((x) => x <= rec.end / 2).length, at.join(','));
    // Run to an event, and back to the start.
    const ev = rec.events[Math.floor(rec.events.length / 2)];
    tt.runToEvent(ev.index);
    assert.equal(tt.icount, ev.icount);
    tt.goToStart();
    assert.equal(tt.icount, 0);
    assert.throws(() => tt.runToEvent(rec.events.length + 5), /the recording has no event #/);
    const ref = reference(g, rec.elf, rec.events);
    ref.bus.blocks.jit = true;
    for (const pos of [rec.end - 1, rec.end / 2, 7_777, 123_456, 1].map(Math.floor).sort((a, b) => a - b)) {
      ref.run(pos);
      tt.seek(pos);
      assert.equal(stateKey(tt.machine), stateKey(ref), `seek(${pos})`);
    }
  });
});
