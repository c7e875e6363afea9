import { ReplayEvent } from '../replay/replayEvent';
import { LockName, LockOp } from '../threads/lockOp';

/**
 * Streams replay events and lock operations out as a Chrome trace (the Trace Event Format read by
 * ui.perfetto.dev and chrome://tracing): `{"traceEvents":[...],"displayTimeUnit":"ns","otherData":{...}}`.
 * Events go through `write` one line each as they are produced, so a mutex trace of millions of
 * ops never becomes one string in memory; only open slices and per-track state are kept.
 *
 * Tracks (one process, pid 1):
 * - "guest (icount)" (tid 1): replay events as thread-scoped instants ('i', s 't'), name = the
 *   QEMU event name, cat = the event kind, args = {index, ...data}. INSTRUCTION events are skipped:
 *   they are deltas, already the distance between instants on an icount axis (for the same reason
 *   no cumulative-instructions counter: on that axis it would be the straight line y = x).
 * - one track per lock-trace thread (tid = the QEMU TID, or 2, 3, ... for named threads): lock
 *   holds as complete slices ('X') named after the lock ("BQL", "replay mutex", else the mutex
 *   address), waits as "wait BQL" slices, violations as instants named "lock violation" (also
 *   those a recording's MARKS hold, via mark(); its divergences go on the guest track).
 *
 * Nesting. Chrome/Perfetto need the 'X' slices of a track to nest. Locks are not always released
 * in the reverse order of taking them (A taken, B taken, A released), so a slice stays on its
 * thread's track only if, when it ends, it is the most recently started slice of that thread still
 * open; then every slice that started inside it has already ended inside it, and two such slices
 * can never partly overlap. A slice that fails this goes to a per-(thread, lock) sub-track
 * (tid = thread tid * 16 + k, k = 1..15 in the order the thread needs them, later ones above
 * 2^30), named "<thread> · <lock>". Slices of one (thread, lock) pair nest by construction: holds
 * are a stack (re-locks nest), and a wait ends at the pair's next op whatever it is, so it never
 * straddles one of its own lock's hold boundaries.
 *
 * Time axis (ts and dur in µs, as the format wants): replay events alone use 1 instruction = 1 ns,
 * ts = icount / 1000. QEMU mutex traces have host time in seconds: ts = whole µs since the first
 * op. Rewind's lock ops use the 'step' axis the caller picks: the scheduler's host step, 1 step =
 * 1 µs, because an icount axis squeezes everything the main loop does while the vCPU is stopped
 * (replay mutex, BQL, I/O, all at one icount) into zero-length slices; the caller places events
 * on it (see exportCommand.ts). A trace with none of these uses 1 op = 1 µs.
 */

export type TimeAxis = 'icount' | 'host' | 'op-index' | 'step';

export const TIME_AXIS_TEXT: Record<TimeAxis, string> = {
  icount: 'guest instruction count: 1 instruction = 1 ns (ts = icount / 1000 µs)',
  host: 'host time: µs since the first op of the trace',
  'op-index': 'no timestamps in the trace: 1 lock op = 1 µs',
  step: "host steps of Rewind's scheduler: 1 step = 1 µs (ts = step); replay events at the lock ops around their icount",
};

export const GUEST_TID = 1;
const PID = 1;
const SUB_TRACKS = 15;
const OVERFLOW_TID = 2 ** 30;

/** A lock op, with the QEMU mutex address when it has one. */
export type ExportLockOp = LockOp & { address?: string; line?: number };

interface Slice { name: string; cat: string; start: number; site: string; lock: LockName; args: Record<string, unknown> }
interface Pair { wait?: Slice; holds: Slice[]; seen: boolean; subTid?: number }
interface ThreadState { tid: number; label: string; order: number; open: Slice[]; pairs: Map<LockName, Pair>; subTracks: number }

export interface ChromeTraceCounts { instants: number; slices: number; subTrackSlices: number; violations: number; divergences: number; lockOps: number }

export function lockLabel(lock: LockName): string {
  return lock === 'bql' ? 'BQL' : lock === 'replay' ? 'replay mutex' : lock;
}

export class ChromeTraceWriter {
  readonly counts: ChromeTraceCounts = { instants: 0, slices: 0, subTrackSlices: 0, violations: 0, divergences: 0, lockOps: 0 };
  private first = true;
  private readonly threads = new Map<string, ThreadState>();
  private readonly tracks = new Map<number, { name: string; sort: number }>();
  private nextNamedTid = 2;
  private nextOverflowTid = OVERFLOW_TID;
  private axis: TimeAxis | undefined;
  /** Host time of the first op in whole µs (host axis), and the first and latest op times on the axis. */
  private hostOrigin: number | undefined;
  private firstTime: number | undefined;
  private lastTime = 0;

  /**
   * `threadLabel` names a lock-trace thread's track ("30768 vCPU"); it is asked once per thread,
   * when the thread's first op arrives.
   */
  constructor(private readonly write: (s: string) => void, private readonly processName: string,
    private readonly threadLabel: (thread: string) => string = (t) => t, axis?: TimeAxis) {
    this.axis = axis;
    write('{"traceEvents":[\n');
  }

  /**
   * One replay event as an instant on the guest track; false if skipped (INSTRUCTION deltas).
   * `at` is its place on the step axis (the caller's mapping from icount), else its icount.
   */
  replayEvent(e: ReplayEvent, at?: number): boolean {
    if (e.kind === 'instruction') return false;
    this.track(GUEST_TID, this.axis === 'step' ? 'guest (replay events)' : 'guest (icount)', 0);
    this.emit({ name: e.name, cat: e.kind, ph: 'i', s: 't', ts: at === undefined ? e.icount / 1000 : this.ts(at), pid: PID, tid: GUEST_TID, args: { index: e.index, ...(at === undefined ? {} : { icount: e.icount }), ...e.data } });
    this.counts.instants++;
    return true;
  }

  /**
   * A violation or divergence found outside the lock stream (a recording's MARKS), as an instant
   * at `at` (axis units) on `thread`'s track, or the guest track when it names no thread.
   */
  mark(kind: 'violation' | 'divergence', at: number, message: string, thread: string | undefined, args: Record<string, unknown> = {}): void {
    let tid = GUEST_TID;
    if (thread !== undefined) tid = this.thread(thread).tid;
    else this.track(GUEST_TID, this.axis === 'step' ? 'guest (replay events)' : 'guest (icount)', 0);
    this.emit({ name: kind === 'violation' ? 'lock violation' : 'divergence', cat: kind, ph: 'i', s: 't', ts: this.ts(at), pid: PID, tid, args: { message, ...args } });
    if (kind === 'violation') this.counts.violations++;
    else this.counts.divergences++;
  }

  /** Ops must come in trace order; the time axis is fixed by the first op. */
  lockOp(op: ExportLockOp): void {
    this.counts.lockOps++;
    const t = this.clock(op);
    this.firstTime ??= t;
    this.lastTime = Math.max(this.lastTime, t);
    const th = this.thread(op.thread);
    let p = th.pairs.get(op.lock);
    if (!p) th.pairs.set(op.lock, (p = { holds: [], seen: false }));
    const label = lockLabel(op.lock);
    const base = op.address !== undefined && op.address !== op.lock ? { address: op.address } : {};

    // A wait ends at the pair's next op: normally its 'acquired', else it was abandoned.
    if (p.wait) {
      if (op.action !== 'acquired') p.wait.args.ended = `by ${op.action} at ${op.site} without acquiring`;
      this.close(th, p, p.wait, t);
      p.wait = undefined;
    }
    if (op.action === 'wait') {
      p.wait = this.open(th, { name: `wait ${label}`, cat: 'lock-wait', start: t, site: op.site, lock: op.lock, args: { site: op.site, op: op.index, ...base } });
    } else if (op.action === 'acquired') {
      p.holds.push(this.open(th, { name: label, cat: 'lock', start: t, site: op.site, lock: op.lock, args: { site: op.site, op: op.index, ...base } }));
    } else {
      const h = p.holds.pop();
      if (h) {
        h.args.released = op.site;
        this.close(th, p, h, t);
      } else if (!p.seen) {
        // The thread's first op on this lock is a release: it held the lock when the trace began
        // (QEMU's main thread holds the BQL and the replay mutex from start-up). Shown from the
        // trace's start under its own name, so "BQL" slices stay one per acquisition.
        const s: Slice = { name: `${label} (held before the trace)`, cat: 'lock', start: this.firstTime, site: op.site, lock: op.lock, args: { released: op.site, op: op.index, ...base } };
        const sub = th.open.length > 0;
        this.commit(sub ? this.subTrack(th, p, op.lock) : th.tid, s, t, sub);
      }
      // Any other release without a hold is a rule violation, marked below.
    }
    p.seen = true;
    if (op.violation !== undefined) {
      this.emit({ name: 'lock violation', cat: 'violation', ph: 'i', s: 't', ts: this.ts(t), pid: PID, tid: th.tid, args: { message: op.violation, lock: label, action: op.action, site: op.site, op: op.index, ...(op.line !== undefined ? { line: op.line } : {}) } });
      this.counts.violations++;
    }
  }

  /** Ends slices still open at the last op, names the tracks, and closes the JSON document. */
  finish(otherData: Record<string, unknown>): ChromeTraceCounts {
    for (const th of this.threads.values()) {
      // Top first: each is then the innermost open slice when it ends, so it stays on the thread track.
      while (th.open.length > 0) {
        const s = th.open[th.open.length - 1];
        s.args.openAtEnd = true;
        const p = th.pairs.get(s.lock)!;
        if (p.wait === s) p.wait = undefined; else p.holds.splice(p.holds.lastIndexOf(s), 1);
        this.close(th, p, s, this.lastTime);
      }
    }
    this.emit({ name: 'process_name', ph: 'M', pid: PID, args: { name: this.processName } });
    for (const [tid, t] of this.tracks) {
      this.emit({ name: 'thread_name', ph: 'M', pid: PID, tid, args: { name: t.name } });
      this.emit({ name: 'thread_sort_index', ph: 'M', pid: PID, tid, args: { sort_index: t.sort } });
    }
    const other = { ...otherData, timeAxis: TIME_AXIS_TEXT[this.axis ?? 'icount'], ...(this.hostOrigin !== undefined ? { hostTimeOrigin: this.hostOrigin / 1e6 } : {}), ...this.counts };
    this.write(`\n],"displayTimeUnit":"ns","otherData":${JSON.stringify(other)}}\n`);
    return this.counts;
  }

  /** Position of an op on the axis, in axis units (instructions, µs, or op indices). */
  private clock(op: ExportLockOp): number {
    this.axis ??= op.icount !== undefined ? 'icount' : op.time !== undefined ? 'host' : 'op-index';
    if (this.axis === 'icount') return op.icount ?? this.lastTime;
    if (this.axis === 'step') return op.step ?? this.lastTime;
    if (this.axis === 'op-index') return op.index;
    if (op.time === undefined) return this.lastTime;
    // Whole µs (QEMU prints microseconds) relative to the first op: exact integers, so slice
    // ends compare exactly, and small numbers for the viewer.
    const us = Math.round(op.time * 1e6);
    this.hostOrigin ??= us;
    return us - this.hostOrigin;
  }

  private ts(t: number): number {
    return this.axis === 'icount' ? t / 1000 : t;
  }

  private thread(name: string): ThreadState {
    let th = this.threads.get(name);
    if (!th) {
      const tid = /^\d+$/.test(name) && Number(name) > GUEST_TID && Number(name) < OVERFLOW_TID / 16 ? Number(name) : this.nextNamedTid++;
      th = { tid, label: this.threadLabel(name), order: this.threads.size + 1, open: [], pairs: new Map(), subTracks: 0 };
      this.threads.set(name, th);
      this.track(tid, th.label, th.order * 100);
    }
    return th;
  }

  private track(tid: number, name: string, sort: number): void {
    if (!this.tracks.has(tid)) this.tracks.set(tid, { name, sort });
  }

  private subTrack(th: ThreadState, p: Pair, lock: LockName): number {
    if (p.subTid === undefined) {
      const k = ++th.subTracks;
      p.subTid = k <= SUB_TRACKS ? th.tid * 16 + k : this.nextOverflowTid++;
      this.track(p.subTid, `${th.label} · ${lockLabel(lock)}`, th.order * 100 + Math.min(k, 99));
    }
    return p.subTid;
  }

  private open(th: ThreadState, s: Slice): Slice {
    th.open.push(s);
    return s;
  }

  /** Ends `s` at `end`: on the thread's track if it is the innermost open slice, else on its pair's sub-track. */
  private close(th: ThreadState, p: Pair, s: Slice, end: number): void {
    const i = th.open.lastIndexOf(s);
    const innermost = i === th.open.length - 1;
    th.open.splice(i, 1);
    this.commit(innermost ? th.tid : this.subTrack(th, p, s.lock), s, end, !innermost);
  }

  private commit(tid: number, s: Slice, end: number, sub: boolean): void {
    const dur = this.axis === 'icount' ? (end - s.start) / 1000 : end - s.start;
    this.emit({ name: s.name, cat: s.cat, ph: 'X', ts: this.ts(s.start), dur, pid: PID, tid, args: s.args });
    this.counts.slices++;
    if (sub) this.counts.subTrackSlices++;
  }

  private emit(ev: Record<string, unknown>): void {
    this.write((this.first ? '' : ',\n') + JSON.stringify(ev));
    this.first = false;
  }
}
