/**
 * Source-level reverse stepping checked against a forward run: the guest is single-stepped from
 * the start once, noting at every statement boundary the line and frame (from the same debug
 * info), and the expected reverse-step / reverse-next / reverse-finish targets are computed from
 * that forward trace; the stepper must land exactly there going backwards.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '../../../emulator/machine/machine';
import { ReplayEvent } from '../../../emulator/replay/replayEvent';
import { TimeTravel } from '../../../emulator/timetravel/timeTravel';
import { SourceStepper } from '../../../emulator/timetravel/sourceStepper';
import { DebugInfo, loadDebugInfo } from '../../../emulator/debuginfo/debugInfo';
import { parseElf } from '../../../emulator/debuginfo/elf';

const bin = path.join(__dirname, '../../../emulator/guest/bin');
const RAM = 16;
const WINDOW = 400_000;

interface Point { icount: number; pc: number; sp: number; stmt: boolean; file?: string; line?: number; frame: number }

function forwardTrace(elf: Uint8Array, events: ReplayEvent[], end: number, info: DebugInfo): Point[] {
  const m = new Machine({ ramMiB: RAM, replay: { mode: 'replay', events } });
  m.loadElf(elf);
  const stmts = new Set(info.statementBoundaries);
  const trace: Point[] = [];
  while (m.icount < end) {
    const h = m.harts[0];
    const pc = h.pc >>> 0;
    const stmt = stmts.has(pc);
    const p: Point = { icount: m.icount, pc, sp: h.x[2] >>> 0, stmt, frame: Infinity };
    if (stmt) {
      const loc = info.lineAt(pc);
      p.file = loc?.file;
      p.line = loc?.line;
      p.frame = info.callStack(pc, h.x, (a) => m.bus.load(a, 4), 2)[1]?.sp ?? Infinity;
    }
    trace.push(p);
    if (m.run(m.icount + 1).reason !== 'limit') break;
  }
  return trace;
}

/** The same rules as SourceStepper.stepBack, applied to the forward trace. */
function expectedStepBack(trace: Point[], start: Point, over: boolean): number | undefined {
  let found: Point | undefined;
  for (let i = trace.findIndex((p) => p.icount === start.icount) - 1; i >= 0; i--) {
    const p = trace[i];
    if (!p.stmt) continue;
    if (over && p.frame < start.frame) continue;
    if (!found) {
      if (p.frame === start.frame && p.line === start.line && p.file === start.file) continue;
      found = p;
      continue;
    }
    if (p.frame === found.frame && p.line === found.line && p.file === found.file) { found = p; continue; }
    break;
  }
  return found?.icount;
}

describe('source-level reverse stepping', function () {
  this.timeout(600_000);
  for (const file of ['hello-O0.elf', 'hello-O2.elf', 'bugdemo-O0.elf', 'qsort-O2.elf']) {
    it(`${file}: reverse-step, reverse-next and reverse-finish land where a forward run says`, () => {
      const elf = fs.readFileSync(path.join(bin, file));
      const events: ReplayEvent[] = [];
      const rec = new Machine({ ramMiB: RAM, replay: { mode: 'record', sink: (e) => events.push(e) } });
      rec.loadElf(elf);
      rec.run(WINDOW);
      rec.replay!.end();
      const info = loadDebugInfo(parseElf(elf));
      const trace = forwardTrace(elf, events, rec.icount, info);
      const tt = new TimeTravel({ elf, machine: { ramMiB: RAM }, events, endIcount: rec.icount, interval: 10_000 });
      const stepper = new SourceStepper(tt, info);
      const stmtPoints = trace.filter((p) => p.stmt && p.line !== undefined);
      let seed = 99;
      const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
      let moved = 0;
      for (let i = 0; i < 60; i++) {
        const start = stmtPoints[rnd(stmtPoints.length)];
        const op = rnd(3);
        tt.seek(start.icount);
        assert.equal(stepper.where().line, start.line);
        if (op < 2) {
          const got = op === 0 ? stepper.reverseStepInto() : stepper.reverseStepOver();
          const want = expectedStepBack(trace, start, op === 1);
          assert.equal(got?.icount, want, `${file}: ${op === 0 ? 'reverse-step' : 'reverse-next'} from icount ${start.icount} (${start.file}:${start.line})`);
          if (got) {
            moved++;
            assert.ok(got.line !== start.line || got.frame !== start.frame || got.file !== start.file, 'landed on another line or frame');
            if (op === 1) assert.ok(got.frame >= start.frame, 'reverse-next never stops inside a call');
          }
        } else {
          const got = stepper.reverseStepOut();
          // Forward: the last call instruction (the one before the caller's return address) executed
          // with the stack pointer at this frame's CFA.
          const m = tt.machine;
          const expected = got && trace.filter((p) => p.icount < start.icount && p.sp === start.frame && (p.pc === got.pc)).pop();
          if (got) {
            moved++;
            assert.equal(got.icount, expected?.icount, `${file}: reverse-finish from ${start.icount}`);
            assert.ok(got.frame > start.frame, 'reverse-finish lands in the caller');
            assert.equal(m.harts[0].x[2] >>> 0, start.frame);
          }
        }
      }
      assert.ok(moved > 20, `only ${moved} steps moved`);
    });
  }
});
