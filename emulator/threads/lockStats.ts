import { LockName, LockOp } from './lockOp';

/**
 * Lock statistics and rule checks over a stream of LockOps (QEMU's mutex trace or Rewind's own
 * threads). Memory grows with the number of locks, threads and sites, never with the number of
 * ops: distributions are kept in bounded log-linear histograms.
 *
 * Time: an op's `icount` when ops carry one (unit 'insns'), else its host `time` in whole
 * microseconds ('us'); without either only counts are kept.
 *
 * Rules, and how a trace that starts mid-stream is handled. What a thread holds is only known
 * from its own ops on that lock: before a thread's first op on a lock, it may hold it since before
 * the trace began (QEMU's main thread holds the BQL and the replay mutex when tracing starts).
 * - replay-under-bql: a thread starts taking the replay mutex ('wait', or 'acquired' with no wait
 *   before it) while it holds the BQL — the order QEMU asserts against (replay_mutex_lock:
 *   g_assert(!bql_locked())). Only a BQL hold seen in the trace counts.
 * - relock: a thread waits for or takes a lock it holds (a hold seen in the trace). For the BQL and
 *   the replay mutex this is an assertion failure in QEMU; for a plain QemuMutex a self-deadlock;
 *   only a QemuRecMutex allows it.
 * - release-unheld: a thread releases a lock it is known not to hold: it was seen releasing it
 *   before, or waiting for it, and has not taken it since; or another thread holds it. A release
 *   as a thread's first op on a lock is taken as the end of a hold that began before the trace
 *   (counted as `heldAtStart`), not as a violation.
 * Without thread ids (QEMU traces without -msg timestamp=on) no rule can be checked: holds are
 * only paired per lock, for the hold times.
 */

export type ClockUnit = 'us' | 'insns';
export type ViolationKind = 'replay-under-bql' | 'relock' | 'release-unheld' | 'append-unlocked';

/** Quantiles over non-negative integers, exact up to 256 and within 1/128 above. */
export class Histogram {
  private readonly buckets = new Map<number, number>();
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  add(v: number): void {
    v = Math.max(0, Math.round(v));
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const b = Histogram.bucket(v);
    this.buckets.set(b, (this.buckets.get(b) ?? 0) + 1);
  }

  merge(o: Histogram): void {
    for (const [b, n] of o.buckets) this.buckets.set(b, (this.buckets.get(b) ?? 0) + n);
    this.count += o.count;
    this.sum += o.sum;
    this.min = Math.min(this.min, o.min);
    this.max = Math.max(this.max, o.max);
  }

  /** Nearest-rank quantile: the lower bound of its bucket, clamped to [min, max]. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const b of [...this.buckets.keys()].sort((x, y) => x - y)) {
      seen += this.buckets.get(b)!;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, Histogram.lowerBound(b)));
    }
    return this.max;
  }

  private static bucket(v: number): number {
    if (v < 256) return v;
    const e = Math.floor(Math.log2(v)); // 8.. ; 128 sub-buckets per power of two
    return 256 + (e - 8) * 128 + Math.floor(v / 2 ** (e - 7)) - 128;
  }

  private static lowerBound(b: number): number {
    if (b < 256) return b;
    const e = Math.floor((b - 256) / 128) + 8;
    return (((b - 256) % 128) + 128) * 2 ** (e - 7);
  }
}

export interface Distribution { count: number; min: number; p50: number; p90: number; p99: number; max: number; mean: number; total: number; unit: ClockUnit }

export interface LockViolation {
  kind: ViolationKind;
  /** The op where it happened. */
  index: number;
  line?: number;
  thread: string;
  lock: LockName;
  site: string;
  /** The lock already held (the BQL for replay-under-bql, the same lock for relock), if any. */
  heldLock?: LockName;
  heldSite?: string;
  heldIndex?: number;
  /** For release-unheld and append-unlocked: the other thread holding it, if any. */
  holder?: string;
  /** For append-unlocked: the replay event appended, and the guest icount. */
  event?: string;
  icount?: number;
  message: string;
}

export interface ThreadLockCounts { acquisitions: number; waits: number; releases: number; contended: number; heldAtStart: number; sites: Record<string, number> }

export interface LockSummary {
  lock: LockName;
  ops: number;
  acquisitions: number;
  releases: number;
  waits: number;
  /** Acquisitions after a wait during which another thread held or took the lock. */
  contended: number;
  /** Releases by a thread whose hold began before the trace. */
  heldAtStart: number;
  hold?: Distribution;
  wait?: Distribution;
  threads: Record<string, ThreadLockCounts>;
  sites: Record<string, { wait: number; acquired: number; released: number }>;
}

export interface HeldAtEnd { thread: string; lock: LockName; site: string; index: number }

export interface LockReport {
  ops: number;
  unit?: ClockUnit;
  threadsKnown: boolean;
  /** BQL, replay mutex, then the others by acquisitions. */
  locks: LockSummary[];
  threads: string[];
  violations: LockViolation[];
  violationCounts: Record<ViolationKind, number>;
  /** Violations counted but not kept in `violations` (beyond maxViolations). */
  violationsDropped: number;
  heldAtEnd: HeldAtEnd[];
  /** Threads still waiting when the trace ends (a deadlock, or a trace cut short). */
  waitingAtEnd: HeldAtEnd[];
}

export interface LockStatsOptions {
  /** False when ops carry no real thread identity (QEMU traces without thread ids). */
  threadsKnown?: boolean;
  /** Violations kept in detail (all are counted). */
  maxViolations?: number;
}

interface Hold { depth: number; since?: number; site: string; index: number }
interface Waiting { since?: number; contended: boolean; flagged: boolean; site: string; index: number }
interface Agg {
  s: LockSummary;
  holdH: Histogram;
  waitH: Histogram;
  /** thread -> its hold; '?' for all when threads are unknown. */
  holders: Map<string, Hold>;
  waiters: Map<string, Waiting>;
  /** Threads whose state for this lock is known (they have had an op on it). */
  known: Set<string>;
}
type Pending = Omit<LockViolation, 'message'>;

const ORDER = (a: LockSummary, b: LockSummary): number => rank(a.lock) - rank(b.lock) || b.acquisitions - a.acquisitions || (a.lock < b.lock ? -1 : 1);
function rank(l: LockName): number { return l === 'bql' ? 0 : l === 'replay' ? 1 : 2; }

export class LockStats {
  private readonly locks = new Map<LockName, Agg>();
  private readonly threads = new Set<string>();
  /** thread -> the locks it holds (as far as the trace shows), for the replay-under-bql check. */
  private readonly held = new Map<string, Set<LockName>>();
  private readonly violations: Pending[] = [];
  private readonly counts: Record<ViolationKind, number> = { 'replay-under-bql': 0, relock: 0, 'release-unheld': 0, 'append-unlocked': 0 };
  /** replay-under-bql candidates: the held lock was not yet known to be the BQL. */
  private candidates: Pending[] = [];
  private ops = 0;
  private unit: ClockUnit | undefined;
  private readonly threadsKnown: boolean;
  private readonly maxViolations: number;

  constructor(opts: LockStatsOptions = {}) {
    this.threadsKnown = opts.threadsKnown ?? true;
    this.maxViolations = opts.maxViolations ?? 1000;
  }

  /** Takes the next op; sets `op.violation` when the op breaks a rule. */
  add(op: LockOp & { line?: number }): void {
    this.ops++;
    const t = this.threadsKnown ? op.thread : '?';
    this.threads.add(op.thread);
    const a = this.agg(op.lock);
    const s = a.s;
    s.ops++;
    const tc = (s.threads[op.thread] ??= { acquisitions: 0, waits: 0, releases: 0, contended: 0, heldAtStart: 0, sites: {} });
    const sc = (s.sites[op.site] ??= { wait: 0, acquired: 0, released: 0 });
    const now = this.clock(op);
    const known = a.known.has(t);
    a.known.add(t);
    const mine = a.holders.get(t);

    if (op.action === 'wait') {
      s.waits++; tc.waits++; sc.wait++;
      const w: Waiting = { since: now, contended: [...a.holders.keys()].some((h) => h !== t), flagged: false, site: op.site, index: op.index };
      if (this.threadsKnown) w.flagged = this.checkTake(op, a, mine);
      a.waiters.set(t, w);
      return;
    }
    if (op.action === 'acquired') {
      s.acquisitions++; tc.acquisitions++; sc.acquired++;
      tc.sites[op.site] = (tc.sites[op.site] ?? 0) + 1;
      const w = a.waiters.get(t);
      a.waiters.delete(t);
      if (this.threadsKnown && !w?.flagged) this.checkTake(op, a, mine);
      if (w?.contended) { s.contended++; tc.contended++; }
      if (w?.since !== undefined && now !== undefined) a.waitH.add(now - w.since);
      this.othersSee(a, t);
      if (mine) mine.depth++;
      else {
        a.holders.set(t, { depth: 1, since: now, site: op.site, index: op.index });
        this.heldSet(t).add(s.lock);
      }
      return;
    }
    // released
    s.releases++; tc.releases++; sc.released++;
    this.othersSee(a, t);
    if (mine) {
      if (--mine.depth === 0) {
        a.holders.delete(t);
        this.heldSet(t).delete(s.lock);
        if (mine.since !== undefined && now !== undefined) a.holdH.add(now - mine.since);
      }
      return;
    }
    const other = [...a.holders.entries()].find(([h]) => h !== t);
    if (this.threadsKnown && (known || other)) {
      this.record({ kind: 'release-unheld', index: op.index, line: op.line, thread: op.thread, lock: op.lock, site: op.site, holder: other?.[0], heldSite: other?.[1].site, heldIndex: other?.[1].index }, op);
    } else {
      s.heldAtStart++; tc.heldAtStart++;
    }
  }

  /**
   * A replay-log append (or, in replay, a consumption) by `thread` at `site` while it does not hold
   * the replay mutex: the race QEMU's migration code has (qemu-replay.md, "the seed"). `index` is
   * the lock-op position it happened at (the number of ops so far).
   */
  appendUnlocked(v: { thread: string; site: string; event: string; icount: number; holder?: string; heldSite?: string; heldIndex?: number }): LockViolation {
    const p: Pending = { kind: 'append-unlocked', index: this.ops, lock: 'replay', ...v };
    this.record(p);
    return { ...p, message: describe(p) };
  }

  /** `from` (an address) is `to`: merge what was counted under it. */
  rename(from: LockName, to: LockName): void {
    const a = this.locks.get(from);
    if (a && from !== to) {
      this.locks.delete(from);
      const b = this.locks.get(to);
      if (!b) { a.s.lock = to; this.locks.set(to, a); } else mergeAgg(b, a);
    }
    for (const set of this.held.values()) if (set.delete(from)) set.add(to);
    for (const v of this.violations) {
      if (v.lock === from) v.lock = to;
      if (v.heldLock === from) v.heldLock = to;
    }
    if (to === 'bql') {
      for (const c of this.candidates) if (c.heldLock === from) { c.heldLock = 'bql'; this.record(c); }
      this.candidates = this.candidates.filter((c) => c.heldLock !== 'bql');
    }
  }

  report(): LockReport {
    const locks = [...this.locks.values()].map((a) => {
      const s: LockSummary = { ...a.s };
      const hold = this.dist(a.holdH), wait = this.dist(a.waitH);
      if (hold) s.hold = hold;
      if (wait) s.wait = wait;
      return s;
    }).sort(ORDER);
    const heldAtEnd: HeldAtEnd[] = [];
    const waitingAtEnd: HeldAtEnd[] = [];
    for (const [lock, a] of this.locks) {
      for (const [thread, h] of a.holders) heldAtEnd.push({ thread, lock, site: h.site, index: h.index });
      for (const [thread, w] of a.waiters) waitingAtEnd.push({ thread, lock, site: w.site, index: w.index });
    }
    return {
      ops: this.ops, unit: this.unit, threadsKnown: this.threadsKnown, locks,
      threads: [...this.threads].sort((x, y) => Number(x) - Number(y) || (x < y ? -1 : x > y ? 1 : 0)),
      violations: this.violations.map((v) => ({ ...v, message: describe(v) })),
      violationCounts: { ...this.counts },
      violationsDropped: Object.values(this.counts).reduce((x, y) => x + y, 0) - this.violations.length,
      heldAtEnd, waitingAtEnd,
    };
  }

  /** Rule checks when `op` starts taking `a`; returns whether a violation (or candidate) was recorded. */
  private checkTake(op: LockOp & { line?: number }, a: Agg, mine: Hold | undefined): boolean {
    let found = false;
    const base = { index: op.index, line: op.line, thread: op.thread, lock: op.lock, site: op.site };
    if (mine) {
      this.record({ kind: 'relock', ...base, heldLock: op.lock, heldSite: mine.site, heldIndex: mine.index }, op);
      found = true;
    }
    if (op.lock === 'replay') {
      for (const lock of this.heldSet(op.thread)) {
        const b = this.locks.get(lock);
        const h = b?.holders.get(op.thread);
        if (!h || b === a) continue;
        const v: Pending = { kind: 'replay-under-bql', ...base, heldLock: lock, heldSite: h.site, heldIndex: h.index };
        if (lock === 'bql') { this.record(v, op); found = true; } else if (/^0x/.test(lock) && this.candidates.length < 10_000) { this.candidates.push(v); found = true; }
      }
    }
    return found;
  }

  /** Counts `v`, keeps it if there is room, and marks the op it happened at (when still at hand). */
  private record(v: Pending, op?: LockOp): void {
    if (op) op.violation = op.violation ? `${op.violation}; ${describe(v)}` : describe(v);
    this.counts[v.kind]++;
    if (this.violations.length < this.maxViolations) this.violations.push(v);
  }

  /** Another thread acquired or released `a`: whoever is waiting for it had to wait. */
  private othersSee(a: Agg, t: string): void {
    for (const [w, st] of a.waiters) if (w !== t) st.contended = true;
  }

  private heldSet(t: string): Set<LockName> {
    let h = this.held.get(t);
    if (!h) this.held.set(t, (h = new Set()));
    return h;
  }

  private agg(lock: LockName): Agg {
    let a = this.locks.get(lock);
    if (!a) {
      a = {
        s: { lock, ops: 0, acquisitions: 0, releases: 0, waits: 0, contended: 0, heldAtStart: 0, threads: {}, sites: {} },
        holdH: new Histogram(), waitH: new Histogram(), holders: new Map(), waiters: new Map(), known: new Set(),
      };
      this.locks.set(lock, a);
    }
    return a;
  }

  private clock(op: LockOp): number | undefined {
    if (this.unit === undefined) this.unit = op.icount !== undefined ? 'insns' : op.time !== undefined ? 'us' : undefined;
    if (this.unit === 'insns') return op.icount;
    return op.time === undefined ? undefined : Math.round(op.time * 1e6);
  }

  private dist(h: Histogram): Distribution | undefined {
    if (h.count === 0 || this.unit === undefined) return undefined;
    return { count: h.count, min: h.min, p50: h.quantile(0.5), p90: h.quantile(0.9), p99: h.quantile(0.99), max: h.max, mean: h.sum / h.count, total: h.sum, unit: this.unit };
  }
}

function mergeAgg(into: Agg, from: Agg): void {
  const a = into.s, b = from.s;
  for (const k of ['ops', 'acquisitions', 'releases', 'waits', 'contended', 'heldAtStart'] as const) a[k] += b[k];
  for (const [t, c] of Object.entries(b.threads)) {
    const d = (a.threads[t] ??= { acquisitions: 0, waits: 0, releases: 0, contended: 0, heldAtStart: 0, sites: {} });
    for (const k of ['acquisitions', 'waits', 'releases', 'contended', 'heldAtStart'] as const) d[k] += c[k];
    for (const [site, n] of Object.entries(c.sites)) d.sites[site] = (d.sites[site] ?? 0) + n;
  }
  for (const [site, c] of Object.entries(b.sites)) {
    const d = (a.sites[site] ??= { wait: 0, acquired: 0, released: 0 });
    d.wait += c.wait; d.acquired += c.acquired; d.released += c.released;
  }
  into.holdH.merge(from.holdH);
  into.waitH.merge(from.waitH);
  for (const [t, h] of from.holders) if (!into.holders.has(t)) into.holders.set(t, h);
  for (const [t, w] of from.waiters) if (!into.waiters.has(t)) into.waiters.set(t, w);
  for (const t of from.known) into.known.add(t);
}

const NAMES: Record<string, string> = { bql: 'the BQL', replay: 'the replay mutex' };
export function lockLabel(l: LockName): string { return NAMES[l] ?? `mutex ${l}`; }

/** The one-line text of a violation (its `message`). */
export function describe(v: Omit<LockViolation, 'message'>): string {
  const at = `op #${v.index}${v.line !== undefined ? `, line ${v.line}` : ''}`;
  const held = (what: string) => `${what}${v.heldSite ? ` (taken at ${v.heldSite}, op #${v.heldIndex})` : ''}`;
  switch (v.kind) {
    case 'replay-under-bql':
      return `thread ${v.thread} takes the replay mutex at ${v.site} (${at}) while holding ${held('the BQL')}: QEMU asserts the replay mutex is taken before the BQL`;
    case 'relock':
      return `thread ${v.thread} takes ${lockLabel(v.lock)} at ${v.site} (${at}) while already holding it${held('')}`
        + (v.lock === 'bql' || v.lock === 'replay' ? '' : ': a self-deadlock unless it is a QemuRecMutex');
    case 'release-unheld':
      return `thread ${v.thread} releases ${lockLabel(v.lock)} at ${v.site} (${at}) without holding it`
        + (v.holder !== undefined ? `; thread ${v.holder} holds it (taken at ${v.heldSite}, op #${v.heldIndex})` : '');
    case 'append-unlocked':
      return `thread ${v.thread} writes ${v.event} to the replay log at ${v.site} (icount ${v.icount}, ${at}) without holding the replay mutex`
        + (v.holder !== undefined ? `; thread ${v.holder} holds it (taken at ${v.heldSite}, op #${v.heldIndex})` : '; nobody holds it');
  }
}
