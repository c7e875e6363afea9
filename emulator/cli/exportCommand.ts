import * as fs from 'fs';
import { RewindError } from '../errors';
import { LockStats } from '../threads/lockStats';
import { ChromeTraceCounts, ChromeTraceWriter } from '../trace/chromeTrace';
import { QemuThreadRole, readQemuMutexTrace } from '../trace/qemuMutexTrace';
import { decodeQemuReplayLog, isQemuReplayLog } from '../trace/qemuReplayLog';
import { eventChunks } from '../trace/rwtraceEvents';
import { ChunkType } from '../trace/rwtraceFormat';
import { lockOpChunks } from '../trace/rwtraceLocks';
import { Mark, readMarks } from '../trace/rwtraceMarks';
import { LockOp } from '../threads/lockOp';
import { parse } from './args';
import { EXIT_USAGE } from './driveMachine';
import { isRwtrace } from './dumpRwtrace';
import { readUserFile } from './machineOptions';
import { analyseMutexTrace, LocksAnalysis } from './locksCommand';
import { openRecording } from '../session/openRecording';

export const EXPORT_USAGE = 'rewind export --chrome FILE -o OUT.json';

/**
 * Buffers the output and writes it in 1 MiB pieces: the trace is produced a line at a time and
 * can be hundreds of MB, so it is neither kept whole nor written line by line.
 */
class FileOut {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly fd: number, private readonly path: string) {}
  readonly write = (s: string): void => {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 20) this.flush();
  };
  flush(): void {
    if (this.size === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.size = 0;
    try {
      for (let off = 0; off < buf.length;) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    } catch (e) {
      throw new RewindError('OUTPUT', `cannot write ${this.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}

function openOut(path: string): FileOut {
  try {
    return new FileOut(fs.openSync(path, 'w'), path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RewindError('OUTPUT', `cannot write ${path}: ${code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'is a directory' : code ?? (e as Error).message}`);
  }
}

/** The first bytes, enough to tell the formats apart, without reading a big text trace whole. */
function readHead(path: string): Uint8Array {
  try {
    const fd = fs.openSync(path, 'r');
    try {
      if (fs.fstatSync(fd).isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
      const buf = Buffer.alloc(64);
      return buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RewindError('FILE_MISSING', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { chrome: { type: 'string' }, output: { type: 'string', short: 'o' } }, EXPORT_USAGE);
  if (positionals.length > 0) throw new RewindError('USAGE', `unexpected argument '${positionals[0]}' (usage: ${EXPORT_USAGE})`);
  const file = values.chrome as string | undefined;
  const out = values.output as string | undefined;
  // Chrome's trace format is the only one so far; the flag names it so others can follow.
  if (file === undefined) throw new RewindError('USAGE', `--chrome FILE is required (the only export format so far) (usage: ${EXPORT_USAGE})`);
  if (out === undefined) throw new RewindError('USAGE', `-o OUT.json is required (usage: ${EXPORT_USAGE})`);

  const head = readHead(file);
  if (isRwtrace(head)) return exportRwtrace(file, out);
  if (isQemuReplayLog(head)) return exportQemuReplayLog(file, out);
  return exportMutexTrace(file, out);
}

function summary(counts: ChromeTraceCounts, what: string, file: string, out: string): void {
  const parts = counts.lockOps > 0 ? [`${counts.lockOps} lock ops as ${counts.slices} slices${counts.subTrackSlices ? ` (${counts.subTrackSlices} on per-lock sub-tracks)` : ''}`] : [];
  if (counts.lockOps > 0 || counts.violations > 0) parts.push(`${counts.violations} violation marks`);
  if (counts.divergences > 0) parts.push(`${counts.divergences} divergence marks`);
  if (counts.lockOps === 0 || counts.instants > 0) parts.push(`${counts.instants} events as instants`);
  process.stderr.write(`rewind: exported ${what} ${file}: ${parts.join(', ')} -> ${out} (Chrome trace: ui.perfetto.dev or chrome://tracing)\n`);
}

/** Walks a stream handed out a chunk at a time, one item at a time. */
class Cursor<T> {
  private items: T[] = [];
  private i = 0;
  constructor(private readonly chunks: Iterator<T[]>) {}
  peek(): T | undefined {
    while (this.i >= this.items.length) {
      const n = this.chunks.next();
      if (n.done) return undefined;
      this.items = n.value;
      this.i = 0;
    }
    return this.items[this.i];
  }
  take(): T {
    const v = this.peek();
    this.i++;
    return v as T;
  }
}

/**
 * A recording's events, lock ops and marks on one axis, streamed chunk by chunk (a chunk of each
 * stream in memory at once, plus the marks, which are few).
 *
 * The axis is the scheduler's host step (ChromeTraceWriter's 'step' axis): a recording has no host
 * time, and its icount stands still while the main loop works. Lock ops sit at their step. Events
 * carry only an icount, so the lock ops are the anchors: an event goes to the first op whose
 * icount is >= its own, interpolated between that op and the one before when the op's icount is
 * beyond it. Ops come in step order with non-decreasing icounts, so this keeps the order of
 * events among themselves and against the ops. Events after the last op go one step after it.
 * Marks that name a lock op sit at that op; the others are placed by icount like events. A mark
 * whose op already carries the same violation text is not drawn twice.
 * Without a LOCKS stream (lock tracing off) the axis is the icount, as before.
 */
function exportRwtrace(file: string, out: string): number {
  const { reader, meta } = openRecording(file);
  const hasLocks = reader.stream(ChunkType.LOCKS).length > 0;
  const marks = readMarks(reader, file);
  const o = openOut(out);
  const w = new ChromeTraceWriter(o.write, `Rewind recording of ${meta.guest.path}`, (t) => t, hasLocks ? 'step' : 'icount');
  const events = new Cursor(eventChunks(reader, file));
  const byIcount = new Cursor([marks.filter((m) => m.lockOp === undefined).sort((x, y) => x.icount - y.icount)][Symbol.iterator]());
  const byOp = new Cursor([marks.filter((m) => m.lockOp !== undefined).sort((x, y) => x.lockOp! - y.lockOp!)][Symbol.iterator]());
  const drawMark = (m: Mark, at: number) => {
    const args = { icount: m.icount, ...(m.lockOp !== undefined ? { op: m.lockOp } : {}), ...(m.eventIndex !== undefined ? { event: m.eventIndex } : {}), ...(m.violation ? { kind: m.violation.kind } : {}) };
    w.mark(m.kind, at, m.violation?.message ?? m.message, m.violation?.thread, args);
  };
  let nEvents = 0, lastIcount = 0;
  // The anchor before the next op: where the previous op sits (the start before the first).
  let prev: { icount: number; at: number } | undefined;
  const place = (icount: number, op: { icount: number; at: number }): number => {
    if (!hasLocks) return icount;
    if (!prev || icount >= op.icount || op.icount === Infinity) return op.at;
    if (icount <= prev.icount) return prev.at;
    return prev.at + ((op.at - prev.at) * (icount - prev.icount)) / (op.icount - prev.icount);
  };
  const drawUpTo = (anchor: { icount: number; at: number }, opIndex: number, op?: LockOp) => {
    for (let e = events.peek(); e && e.icount <= anchor.icount; e = events.peek()) {
      events.take();
      nEvents++;
      lastIcount = e.icount;
      if (hasLocks) w.replayEvent(e, place(e.icount, anchor)); else w.replayEvent(e);
    }
    for (let m = byIcount.peek(); m && m.icount <= anchor.icount; m = byIcount.peek()) drawMark(byIcount.take(), place(m.icount, anchor));
    for (let m = byOp.peek(); m && m.lockOp! <= opIndex; m = byOp.peek()) {
      byOp.take();
      const said = op && op.index === m.lockOp && op.violation?.includes(m.violation?.message ?? m.message);
      if (!said) drawMark(m, hasLocks ? anchor.at : m.icount);
    }
  };
  if (hasLocks) {
    for (const ops of lockOpChunks(reader, file)) {
      for (const op of ops) {
        const anchor = { icount: op.icount ?? prev?.icount ?? 0, at: op.step ?? prev?.at ?? 0 };
        drawUpTo(anchor, op.index, op);
        w.lockOp(op);
        prev = anchor;
      }
    }
  }
  // What is left happened after the last lock op (or there are none: the axis is the icount).
  drawUpTo({ icount: Infinity, at: (prev?.at ?? 0) + 1 }, Infinity);
  const lockTrace = (meta as { lockTrace?: unknown }).lockTrace;
  const counts = w.finish({
    source: file, format: 'rwtrace', guest: meta.guest.path, events: nEvents, instructions: lastIcount, finished: reader.finished,
    marks: marks.length, ...(lockTrace !== undefined ? { lockTrace } : {}),
  });
  o.close();
  summary(counts, 'Rewind recording', file, out);
  if (reader.problem && !reader.finished) {
    process.stderr.write(`rewind: ${file}: ${reader.problem.message} (offset 0x${reader.problem.offset.toString(16)}); exported the ${nEvents} events and ${counts.lockOps} lock ops before it\n`);
    return EXIT_USAGE;
  }
  return 0;
}

function exportQemuReplayLog(file: string, out: string): number {
  const bytes = readUserFile(file);
  let log;
  try {
    log = decodeQemuReplayLog(bytes);
  } catch (e) {
    if (e instanceof RewindError) throw new RewindError(e.code, `${file}: ${e.message}`);
    throw e;
  }
  const o = openOut(out);
  const w = new ChromeTraceWriter(o.write, `QEMU replay log ${file}`);
  for (const e of log.events) w.replayEvent(e);
  const counts = w.finish({
    source: file, format: 'qemu-replay-log', layout: log.layout, events: log.events.length, instructions: log.instructions,
    ...(log.problem ? { problem: log.problem } : {}),
  });
  o.close();
  summary(counts, 'QEMU replay log', file, out);
  if (log.problem) {
    // The same policy as `rewind dump`: what was decoded is written, the problem makes it exit 2.
    const p = log.problem;
    const hint = log.betterLayout ? ` (it decodes with 'rewind dump --layout ${log.betterLayout}'; export assumes the default)` : '';
    process.stderr.write(`rewind: ${file}: decoded ${p.events} events (${log.decodedBytes} bytes) then stopped at offset ${p.offset}: ${p.message}${hint}\n`);
    return EXIT_USAGE;
  }
  return 0;
}

const ROLE_NAMES: Record<QemuThreadRole, string> = { 'main-loop': 'main loop', vcpu: 'vCPU', rcu: 'RCU', migration: 'migration', 'start-up': '' };

function threadLabel(a: LocksAnalysis, t: string): string {
  if (t === '?') return 'all threads (no thread ids in this trace)';
  const roles = (a.roles[t] ?? []).map((r) => ROLE_NAMES[r]).filter((r) => r !== '');
  const own = a.trace.threadNames[t];
  return [t, ...roles, ...(own !== undefined ? [`"${own}"`] : [])].join(' ');
}

/**
 * Two passes over the file, both streaming: the first (the same analysis as `rewind locks`) finds
 * which address is the BQL and the replay mutex and each thread's role, so that the second can
 * name every slice and track as it goes — the reader only learns that an address is the BQL at
 * its first cpus.c op, after slices under the bare address may already have ended.
 */
function exportMutexTrace(file: string, out: string): number {
  let a: LocksAnalysis;
  try {
    a = analyseMutexTrace(file);
  } catch (e) {
    if (e instanceof RewindError && e.code === 'NOT_MUTEX_TRACE') {
      throw new RewindError('UNKNOWN_TRACE', `${file}: not a trace Rewind can export (not a Rewind .rwtrace recording, a QEMU replay log, or a QEMU mutex trace with qemu_mutex_* events)`);
    }
    throw e;
  }
  const o = openOut(out);
  const w = new ChromeTraceWriter(o.write, `QEMU ${file}`, (t) => threadLabel(a, t));
  // Rule checks again as the ops pass, now with the BQL known from the first op, so each
  // violation is marked at the op where it happens.
  const stats = new LockStats({ threadsKnown: a.report.threadsKnown });
  readQemuMutexTrace(file, {
    op: (op) => {
      op.lock = a.trace.aliases[op.address] ?? op.lock;
      stats.add(op);
      w.lockOp(op);
    },
  });
  const counts = w.finish({ source: file, format: 'qemu-mutex-trace', lines: a.trace.lines, prefixFormats: a.trace.formats, threadIds: a.trace.threadIds, aliases: a.trace.aliases });
  o.close();
  summary(counts, 'QEMU mutex trace', file, out);
  return 0;
}
