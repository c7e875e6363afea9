/**
 * The time-travel part of `npm run bench`: reverse-stepi latency at random positions in a
 * billion-instruction recording (the marathon guest), reverse-continue against a forward replay
 * of the same span, and the snapshot memory in use. Run by scripts/bench.js through ts-node.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Machine } from '../machine/machine';
import { ReplayEvent } from '../replay/replayEvent';
import { TimeTravel } from './timeTravel';

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];

export function benchTimeTravel(guestDir: string, samples = 200): void {
  const file = path.join(guestDir, 'bin', 'marathon-O2.elf');
  const elf = fs.readFileSync(file);
  const events: ReplayEvent[] = [];
  const rec = new Machine({ replay: { mode: 'record', sink: (e) => events.push(e) } });
  rec.loadElf(elf);
  let t0 = process.hrtime.bigint();
  rec.run();
  rec.replay!.end();
  const recordMs = ms(t0);
  const end = rec.icount;

  const tt = new TimeTravel({ elf, machine: {}, events, endIcount: end });
  t0 = process.hrtime.bigint();
  tt.goToEnd();
  const firstPassMs = ms(t0);

  // reverse-stepi at random positions: each starts from a seek there (not timed).
  let seed = 2024;
  const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; };
  const lat: number[] = [];
  for (let i = 0; i < samples; i++) {
    tt.seek(1 + Math.floor(rnd() * (end - 1)));
    t0 = process.hrtime.bigint();
    tt.stepBack();
    lat.push(ms(t0));
  }

  // reverse-continue from the end to a recent breakpoint (the last uart_puts call) and to one at
  // the very start (main), each against replaying the same span forward.
  const spans: { what: string; insns: number; reverseMs: number; forwardMs: number }[] = [];
  for (const fn of ['uart_puts', 'main']) {
    const pc = rec.elf!.symbols.find((s) => s.name === fn)!.value;
    tt.goToEnd();
    t0 = process.hrtime.bigint();
    const hit = tt.reverseContinue(new Set([pc]))!;
    const reverseMs = ms(t0);
    const fwd = new Machine({ replay: { mode: 'replay', events } });
    fwd.loadElf(elf);
    fwd.run(hit.icount);
    t0 = process.hrtime.bigint();
    fwd.run(end);
    spans.push({ what: fn, insns: end - hit.icount, reverseMs, forwardMs: ms(t0) });
  }

  const f = (x: number, d = 1): string => x.toFixed(d);
  console.log(`\nTime travel (marathon-O2: ${end.toLocaleString('en-US')} instructions; recorded in ${f(recordMs / 1000, 2)} s, first replay with snapshots ${f(firstPassMs / 1000, 2)} s)`);
  console.log(`reverse-stepi at ${samples} random positions: p50 ${f(quantile(lat, 0.5))} ms, p99 ${f(quantile(lat, 0.99))} ms, max ${f(Math.max(...lat))} ms  (target p99 ≤ 50 ms: ${quantile(lat, 0.99) <= 50 ? 'PASS' : 'BELOW'})`);
  for (const s of spans) {
    console.log(`reverse-continue from the end to ${s.what} (${s.insns.toLocaleString('en-US')} instructions back): ${f(s.reverseMs)} ms; a forward replay of the same span: ${f(s.forwardMs)} ms (${f(s.reverseMs / s.forwardMs, 2)}×)`);
  }
  console.log(`snapshots: ${tt.store.count} kept, ${f(tt.store.memoryBytes / 2 ** 20)} MiB in use (budget ${tt.store.budgetBytes / 2 ** 20} MiB)`);
}

if (require.main === module) benchTimeTravel(process.argv[2] ?? path.join(__dirname, '..', 'guest'));
