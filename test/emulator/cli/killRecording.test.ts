/**
 * Crash safety of `rewind record`: the recorder is killed with SIGKILL at random moments of
 * recordings of a compute-bound, a device-polling and an input-driven guest. Each file must open,
 * hold every chunk intact, and keep everything recorded up to ~100 ms before the kill in every
 * stream — judged from the recorder's own `--progress` lines (its clock, its counts), not from a
 * sleep in the test. Deterministic guests are also compared with a reference recording made with
 * --max-insns: the killed file is an exact prefix of it, event by event and lock op by lock op,
 * and its event stream is never behind its lock stream. Every file then replays with --verify.
 *
 * The kill moments come from a seed printed with any failure; REWIND_KILL_SEED=N repeats a run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ReplayEvent } from '../../../emulator/replay/replayEvent';
import type { LockOp } from '../../../emulator/threads/lockOp';
import { FileSource } from '../../../emulator/trace/fileAccess';
import { readEvents } from '../../../emulator/trace/rwtraceEvents';
import { lockOpChunks } from '../../../emulator/trace/rwtraceLocks';
import { RwtraceReader } from '../../../emulator/trace/rwtraceReader';
import { prng } from '../../support/prng';
import { buildGuest } from '../../support/riscvTools';
import { ensureCliBuilt, REPO_ROOT, REWIND_CLI, runCli } from '../../support/rewindCli';

const KILLS_PER_GUEST = Number(process.env.REWIND_KILLS ?? 20);
/** What a kill may lose: the last ~100 ms of recording. */
const LOSS_MS = 100;
/** Kill moments, in ms of the recorder's clock after its first progress line. */
const KILL_WINDOW_MS: [number, number] = [LOSS_MS + 20, 1200];

interface Progress { ms: number; icount: number; events: number; locks: number }
const PROGRESS = /^rewind: progress ([\d.]+) ms: icount (\d+), (\d+) events, (\d+) lock operations$/;


/**
 * Records `elf` to `trace` and kills the recorder (SIGKILL) as soon as it reports progress at or
 * after `killAfterMs` past its first report. `feed`: streams input to its stdin until then.
 */
async function recordAndKill(elf: string, trace: string, killAfterMs: number, feed?: string): Promise<Progress[]> {
  const args = [REWIND_CLI, 'record', elf, '-o', trace, '--progress', ...(feed ? ['--input', '-'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  const lines: Progress[] = [];
  let stderr = '';
  let pending = '';
  let feeder: NodeJS.Timeout | undefined;
  if (feed) feeder = setInterval(() => child.stdin.write(feed), 5);
  child.stdin.on('error', () => undefined);   // EPIPE once it is killed
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr += d;
    pending += d;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const m = PROGRESS.exec(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (!m) continue;
      const p = { ms: Number(m[1]), icount: Number(m[2]), events: Number(m[3]), locks: Number(m[4]) };
      lines.push(p);
      if (p.ms - lines[0].ms >= killAfterMs && child.exitCode === null) child.kill('SIGKILL');
    }
  });
  const code = await exited;
  if (feeder) clearInterval(feeder);
  assert.equal(code, null, `the recorder ended by itself (exit ${code}) before the kill: ${stderr.slice(-500)}`);
  assert.ok(lines.length > 0, `no progress line before the kill: ${stderr.slice(-500)}`);
  return lines;
}

/**
 * What a killed recording holds of its lock stream, read chunk by chunk (a polling guest's file
 * holds tens of millions of ops: never all in memory at once).
 */
interface Recovered {
  events: ReplayEvent[];
  lockCount: number;
  lastLockIcount: number;
  /** The first op numbered other than its position, and the first going back in icount (-1: none). */
  misnumbered: number;
  unordered: number;
  problem?: string;
}

/** Opens a killed recording: every whole chunk must pass its checksum; a torn tail is allowed. */
function recover(trace: string): Recovered {
  const reader = new RwtraceReader(new FileSource(trace), trace);
  try {
    for (const c of reader.chunks) reader.payload(c);
    let lockCount = 0, lastLockIcount = 0, misnumbered = -1, unordered = -1;
    for (const ops of lockOpChunks(reader, trace)) {
      for (const op of ops) {
        if (misnumbered < 0 && op.index !== lockCount) misnumbered = lockCount;
        if (unordered < 0 && (op.icount ?? 0) < lastLockIcount) unordered = lockCount;
        lastLockIcount = op.icount ?? lastLockIcount;
        lockCount++;
      }
    }
    return { events: readEvents(reader, trace), lockCount, lastLockIcount, misnumbered, unordered, problem: reader.problem?.message };
  } finally {
    reader.close();
  }
}

/** The lock ops of a file, one at a time. */
function* lockOps(trace: string): Generator<LockOp> {
  const reader = new RwtraceReader(new FileSource(trace), trace);
  try {
    for (const ops of lockOpChunks(reader, trace)) yield* ops;
  } finally {
    reader.close();
  }
}

/** The first op where `killed` is not the start of `ref`: its number and both ops (undefined: a prefix). */
function firstDifference(killed: string, ref: string): { at: number; op: LockOp; want: LockOp | undefined } | undefined {
  const want = lockOps(ref);
  let at = 0;
  for (const op of lockOps(killed)) {
    const w = want.next();
    if (w.done || !sameOp(op, w.value)) {
      want.return(undefined);
      return { at, op, want: w.done ? undefined : w.value };
    }
    at++;
  }
  want.return(undefined);
  return undefined;
}

/** An event without where it lies in its file. */
const bare = (e: ReplayEvent): Omit<ReplayEvent, 'offset'> => {
  const { offset: _offset, ...rest } = e as ReplayEvent & { offset?: number };
  return rest;
};

const sameOp = (a: LockOp, b: LockOp): boolean => a.index === b.index && a.action === b.action && a.thread === b.thread
  && a.lock === b.lock && a.site === b.site && a.icount === b.icount;

describe('rewind record killed with SIGKILL at random moments', function () {
  this.timeout(900_000);
  const seed = Number(process.env.REWIND_KILL_SEED ?? (Date.now() % 1_000_000_007));
  const random = prng(seed);
  let dir = '';
  before(() => {
    ensureCliBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-kill-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const guests: { what: string; elf: () => string; feed?: string }[] = [
    // Long versions of bundled guests, so no recording ends before its kill.
    { what: 'a compute-bound guest (marathon, 200 000 passes)', elf: () => buildGuest({ program: 'marathon', opt: 'O2', cflags: ['-DPASSES=200000u'] }) },
    { what: 'a device-polling guest (poll, 50 M rounds)', elf: () => buildGuest({ program: 'poll', opt: 'O2', cflags: ['-DROUNDS=50000000u'] }) },
    { what: 'an input-driven guest (echo, input streamed every 5 ms)', elf: () => path.join(REPO_ROOT, 'emulator', 'guest', 'bin', 'echo-O2.elf'), feed: 'rewind keeps it all\n' },
  ];

  for (const g of guests) {
    it(`${g.what}: every file keeps all but the last ~${LOSS_MS} ms of every stream, and replays`, async () => {
      const elf = g.elf();
      // What each kill left, kept small (a polling guest's file holds millions of lock ops).
      const kills: { trace: string; lines: Progress[]; lastLockIcount: number }[] = [];
      for (let k = 0; k < KILLS_PER_GUEST; k++) {
        const at = KILL_WINDOW_MS[0] + random() * (KILL_WINDOW_MS[1] - KILL_WINDOW_MS[0]);
        const trace = path.join(dir, `${path.basename(elf, '.elf')}-${k}.rwtrace`);
        const lines = await recordAndKill(elf, trace, at, g.feed);
        const why = `seed ${seed}, kill ${k} (${lines[lines.length - 1].ms.toFixed(1)} ms)`;
        const rec = recover(trace);
        const killedAt = lines[lines.length - 1].ms;
        // What the recorder had recorded LOSS_MS before it died must all be on disk.
        const due = [...lines].reverse().find((p) => p.ms <= killedAt - LOSS_MS);
        assert.ok(due, `${why}: no progress line ${LOSS_MS} ms before the kill`);
        assert.ok(rec.events.length >= due.events, `${why}: ${rec.events.length} events on disk, ${due.events} recorded by ${due.ms} ms`);
        assert.ok(rec.lockCount >= due.locks, `${why}: ${rec.lockCount} lock operations on disk, ${due.locks} recorded by ${due.ms} ms`);
        assert.equal(rec.misnumbered, -1, `${why}: lock op ${rec.misnumbered} is misnumbered`);
        assert.equal(rec.unordered, -1, `${why}: lock op ${rec.unordered} goes back in icount`);
        rec.events.forEach((e, i) => assert.equal(e.index, i, `${why}: event ${i} is numbered ${e.index}`));
        if (rec.problem !== undefined) assert.match(rec.problem, /END chunk|truncated|cut/i, `${why}: ${rec.problem}`);
        const rep = runCli(['replay', '--verify', trace], 300_000);
        assert.equal(rep.code, 0, `${why}: replay --verify: ${rep.stderr}`);
        assert.match(rep.stderr, /replay verified: (\d+) events/);
        assert.equal(Number(/replay verified: (\d+) events/.exec(rep.stderr)![1]) + (rec.events.at(-1)?.name === 'EVENT_END' ? 1 : 0), rec.events.length, `${why}: replay consumed a different number of events: ${rep.stderr}`);
        kills.push({ trace, lines, lastLockIcount: rec.lastLockIcount });
      }
      if (g.feed) return;   // input arrives on the host's timing: no reference to compare with

      // The reference: the same guest recorded to a fixed instruction count past every kill.
      const reach = Math.max(...kills.map((k) => Math.max(k.lines[k.lines.length - 1].icount, k.lastLockIcount)));
      const refTrace = path.join(dir, 'reference.rwtrace');
      const ref = runCli(['record', elf, '-o', refTrace, '--max-insns', String(reach + 1_000_000)], 600_000);
      assert.equal(ref.code, 124, ref.stderr);
      const want = recover(refTrace);
      for (const [k, { trace }] of kills.entries()) {
        const why = `seed ${seed}, kill ${k}`;
        const rec = recover(trace);
        assert.ok(rec.events.length <= want.events.length && rec.lockCount <= want.lockCount, `${why}: the killed file holds more than the longer reference`);
        rec.events.forEach((e, i) => assert.deepEqual(bare(e), bare(want.events[i]), `${why}: event ${i} differs from the reference`));
        const d = firstDifference(trace, refTrace);
        assert.equal(d, undefined, d && `${why}: lock op ${d.at} ${JSON.stringify(d.op)} differs from the reference's ${JSON.stringify(d.want)}`);
        // Never behind: every event before the last lock op on disk is on disk too.
        const lastLock = rec.lastLockIcount;
        const before = want.events.filter((e) => e.icount < lastLock).length;
        assert.ok(rec.events.length >= before, `${why}: the lock stream reaches icount ${lastLock}, but only ${rec.events.length} of the ${before} events before it are on disk`);
      }
    });
  }
});
