/**
 * `rewind export --chrome` run as a user runs it (node dist/cli.js): the real QEMU 7.2 mutex trace
 * and replay log, a fresh Rewind recording, and one-line errors with exit 2. Counts are checked
 * against what `rewind locks --json` and `rewind dump --json` report for the same files, so the
 * export shows the same lock and event history the other commands do.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocksAnalysis } from '../../../emulator/cli/locksCommand';
import type { ReplayEvent } from '../../../emulator/replay/replayEvent';
import type { LockOp } from '../../../emulator/threads/lockOp';
import { ensureCliBuilt, REPO_ROOT, assertOneLineError, CliRun, runCli } from '../../support/rewindCli';
import { LockRecording, writeLockRecording } from '../../support/lockRecording';

const rewind = (...args: string[]): CliRun => runCli(args);

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'qemu-7.2');
const MUTEX_TRACE = path.join(FIXTURES, 'mutex-trace-record.log');
const REPLAY_LOG = path.join(FIXTURES, 'hello.replay.bin');
const TIMER_ELF = path.join(REPO_ROOT, 'emulator', 'guest', 'bin', 'timer-O2.elf');

interface TraceEvent { name: string; ph: string; ts?: number; dur?: number; pid: number; tid?: number; s?: string; args?: Record<string, unknown> }
interface ChromeTrace { traceEvents: TraceEvent[]; displayTimeUnit: string; otherData: Record<string, unknown> }

describe('rewind export --chrome', function () {
  let dir: string;

  before(function () {
    ensureCliBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-export-'));
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Exports `file`, expects success and one summary line naming the output, and parses it. */
  function exportOk(file: string, name: string): ChromeTrace {
    const out = path.join(dir, name);
    const r = rewind('export', '--chrome', file, '-o', out);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^rewind: exported .* -> ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*\\n$`));
    const trace = JSON.parse(fs.readFileSync(out, 'utf8')) as ChromeTrace;
    assert.ok(Array.isArray(trace.traceEvents));
    assert.equal(trace.displayTimeUnit, 'ns');
    return trace;
  }

  describe('a QEMU mutex trace', function () {
    let trace: ChromeTrace;
    before(function () { trace = exportOk(MUTEX_TRACE, 'mutex.json'); });

    it('names a track for each of the 3 threads, by TID and role', function () {
      const names = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, e.args?.name]);
      for (const [tid, name] of [[30766, '30766 main loop'], [30767, '30767 RCU'], [30768, '30768 vCPU']]) {
        assert.ok(names.some(([t, n]) => t === tid && n === name), `no thread_name ${name} for ${tid} in ${JSON.stringify(names)}`);
      }
      // Besides per-lock sub-tracks ("30768 vCPU · replay mutex"), for slices that do not nest.
      assert.equal(names.filter(([, n]) => !String(n).includes(' · ')).length, 3, JSON.stringify(names));
      assert.match(String(trace.otherData.timeAxis), /host time/);
    });

    it('has slices with non-negative ts and dur', function () {
      const slices = trace.traceEvents.filter((e) => e.ph === 'X');
      assert.ok(slices.length > 1000, `${slices.length} slices`);
      for (const s of slices) {
        assert.ok(typeof s.ts === 'number' && s.ts >= 0, JSON.stringify(s));
        assert.ok(typeof s.dur === 'number' && s.dur >= 0, JSON.stringify(s));
      }
    });

    it('has one "BQL" slice per BQL acquisition that rewind locks --json counts', function () {
      const r = rewind('locks', '--json', MUTEX_TRACE);
      assert.equal(r.code, 0, r.stderr);
      const a = JSON.parse(r.stdout) as LocksAnalysis;
      const acquisitions = a.report.locks.find((l) => l.lock === 'bql')?.acquisitions;
      assert.ok(acquisitions !== undefined && acquisitions > 0);
      assert.equal(trace.traceEvents.filter((e) => e.ph === 'X' && e.name === 'BQL').length, acquisitions);
      assert.equal(trace.traceEvents.filter((e) => e.ph === 'X' && e.name === 'wait BQL').length, a.report.locks.find((l) => l.lock === 'bql')?.waits);
    });

    it('nests the slices of every track', function () {
      const byTrack = new Map<string, TraceEvent[]>();
      for (const e of trace.traceEvents.filter((x) => x.ph === 'X')) {
        const k = `${e.pid}/${e.tid}`;
        if (!byTrack.has(k)) byTrack.set(k, []);
        byTrack.get(k)!.push(e);
      }
      for (const [track, slices] of byTrack) {
        // Parents first on equal starts: the longer slice contains the shorter one.
        slices.sort((x, y) => x.ts! - y.ts! || y.dur! - x.dur!);
        const stack: number[] = []; // ends of the open enclosing slices
        for (const s of slices) {
          while (stack.length > 0 && stack[stack.length - 1] <= s.ts!) stack.pop();
          const end = s.ts! + s.dur!;
          if (stack.length > 0) assert.ok(end <= stack[stack.length - 1], `track ${track}: ${JSON.stringify(s)} ends after its parent (ends ${stack[stack.length - 1]})`);
          stack.push(end);
        }
      }
    });
  });

  it('exports a QEMU replay log: one instant per event that is not an INSTRUCTION delta', function () {
    const trace = exportOk(REPLAY_LOG, 'replay.json');
    const dump = rewind('dump', '--json', REPLAY_LOG);
    assert.equal(dump.code, 0, dump.stderr);
    const events = (JSON.parse(dump.stdout) as { events: ReplayEvent[] }).events;
    const kept = events.filter((e) => e.name !== 'EVENT_INSTRUCTION');
    assert.ok(kept.length > 0 && kept.length < events.length);
    const instants = trace.traceEvents.filter((e) => e.ph === 'i');
    assert.equal(instants.length, kept.length);
    assert.deepEqual(instants.map((e) => e.name), kept.map((e) => e.name));
    assert.deepEqual(instants.map((e) => e.ts), kept.map((e) => e.icount / 1000));
    assert.ok(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'guest (icount)'));
    assert.match(String(trace.otherData.timeAxis), /1 instruction = 1 ns/);
  });

  it('exports a fresh Rewind recording: the timer guest\'s 20 interrupts', function () {
    const rec = path.join(dir, 'timer.rwtrace');
    const r = rewind('record', TIMER_ELF, '-o', rec);
    assert.equal(r.code, 0, r.stderr);
    const trace = exportOk(rec, 'timer.json');
    assert.equal(trace.traceEvents.filter((e) => e.ph === 'i' && e.name === 'EVENT_INTERRUPT').length, 20);
  });

  describe('a Rewind recording with lock ops and marks', function () {
    let rec: LockRecording;
    let trace: ChromeTrace;
    let trackName: Map<number, string>;
    /** The thread a track belongs to: its own, or a per-lock sub-track's ("vcpu0 · BQL"). */
    const threadOf = (e: TraceEvent) => trackName.get(e.tid!)?.split(' · ')[0];

    before(function () {
      const file = path.join(dir, 'locks.rwtrace');
      rec = writeLockRecording(file, { lockChunkBytes: 300, lockTrace: 'full', divergence: true });
      trace = exportOk(file, 'locks.json');
      trackName = new Map(trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid!, String(e.args?.name)]));
    });

    it('has a track per Rewind thread besides the guest\'s, on the host-step axis', function () {
      const own = [...trackName.values()].filter((n) => !n.includes(' · ')).sort();
      assert.deepEqual(own, ['guest (replay events)', 'main-loop', 'migration', 'vcpu0']);
      assert.match(String(trace.otherData.timeAxis), /host steps/);
      assert.equal(trace.otherData.lockOps, rec.ops.length);
    });

    it('draws each hold as a slice from its acquisition to its release, and each wait', function () {
      for (const [lock, name] of [['bql', 'BQL'], ['replay', 'replay mutex']] as const) {
        for (const thread of ['main-loop', 'vcpu0', 'migration']) {
          // Holds from the ops: pair each acquisition with the thread's next release of the lock.
          const holds: [number, number][] = [];
          let open: LockOp | undefined;
          for (const op of rec.ops.filter((o) => o.thread === thread && o.lock === lock)) {
            if (op.action === 'acquired') open = op;
            if (op.action === 'released') { holds.push([open!.step!, op.step! - open!.step!]); open = undefined; }
          }
          const slices = trace.traceEvents.filter((e) => e.ph === 'X' && e.name === name && threadOf(e) === thread).map((e) => [e.ts, e.dur]);
          assert.deepEqual(slices.sort((x, y) => x[0]! - y[0]!), holds, `${thread} ${name}`);
          const waits = trace.traceEvents.filter((e) => e.ph === 'X' && e.name === `wait ${name}` && threadOf(e) === thread);
          assert.equal(waits.length, rec.ops.filter((o) => o.thread === thread && o.lock === lock && o.action === 'wait').length);
          assert.ok(waits.every((e) => (e as { cat?: string }).cat === 'lock-wait'));
        }
      }
      const site = trace.traceEvents.find((e) => e.ph === 'X' && e.name === 'BQL' && threadOf(e) === 'vcpu0');
      assert.equal(site?.args?.site, 'memory:mmioDispatch');
    });

    it('marks each violation once, on its thread\'s track at its op, with the message; and the divergence on the guest track', function () {
      const marks = trace.traceEvents.filter((e) => e.ph === 'i' && e.name === 'lock violation');
      const violations = rec.marks.filter((m) => m.kind === 'violation');
      assert.equal(marks.length, violations.length);
      for (const m of violations) {
        const at = rec.ops.find((o) => o.index === m.lockOp)!;
        const drawn = marks.filter((e) => e.args?.message === m.message);
        assert.equal(drawn.length, 1, m.message);
        assert.equal(threadOf(drawn[0]), 'migration');
        assert.equal(drawn[0].ts, at.step);
      }
      const div = trace.traceEvents.filter((e) => e.ph === 'i' && e.name === 'divergence');
      assert.equal(div.length, 1);
      assert.equal(trackName.get(div[0].tid!), 'guest (replay events)');
      assert.match(String(div[0].args?.message), /replay diverged/);
    });

    it('puts the events in order between the lock ops around their icount', function () {
      const instants = trace.traceEvents.filter((e) => e.ph === 'i' && e.name.startsWith('EVENT_'));
      assert.deepEqual(instants.map((e) => e.args?.index), rec.events.map((e) => e.index));
      const last = rec.ops[rec.ops.length - 1];
      rec.events.forEach((e, i) => {
        const ts = instants[i].ts!;
        if (i > 0) assert.ok(ts >= instants[i - 1].ts!, `event ${i} before event ${i - 1}`);
        const after = rec.ops.find((o) => o.icount! >= e.icount);
        const before = [...rec.ops].reverse().find((o) => o.icount! < e.icount);
        if (!after) return assert.equal(ts, last.step! + 1, `event ${i} after the last op`);
        assert.ok(ts <= after.step!, `event ${i} (icount ${e.icount}) at ${ts}, after op ${after.index} at step ${after.step}`);
        if (before) assert.ok(ts >= before.step!, `event ${i} (icount ${e.icount}) at ${ts}, before op ${before.index} at step ${before.step}`);
      });
    });
  });

  it('exports what a truncated replay log decodes, then says where it stopped (exit 2)', function () {
    const cut = path.join(dir, 'cut.replay.bin');
    fs.writeFileSync(cut, fs.readFileSync(REPLAY_LOG).subarray(0, 2000));
    const out = path.join(dir, 'cut.json');
    const r = rewind('export', '--chrome', cut, '-o', out);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /stopped at offset/);
    assert.ok(!r.stderr.includes('    at '), r.stderr);
    assert.ok((JSON.parse(fs.readFileSync(out, 'utf8')) as ChromeTrace).traceEvents.some((e) => e.ph === 'i'));
  });

  it('refuses a text file that is no trace in one line, exit 2, writing nothing', function () {
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'just some notes\nnothing to see\n');
    const out = path.join(dir, 'notes.json');
    assertOneLineError(rewind('export', '--chrome', text, '-o', out), /not a trace Rewind can export/);
    assert.ok(!fs.existsSync(out));
  });

  it('needs -o and --chrome: one-line usage errors, exit 2', function () {
    assertOneLineError(rewind('export', '--chrome', MUTEX_TRACE), /-o OUT\.json is required/);
    assertOneLineError(rewind('export', '-o', path.join(dir, 'x.json')), /--chrome FILE is required/);
    assertOneLineError(rewind('export', '--chrome', path.join(dir, 'missing.log'), '-o', path.join(dir, 'y.json')), /cannot read .*no such file/);
  });
});
