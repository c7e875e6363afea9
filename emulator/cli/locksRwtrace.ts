import { LockName, LockOp } from '../threads/lockOp';
import { LockReport, LockStats, LockSummary, LockViolation, ViolationKind } from '../threads/lockStats';
import { QemuThreadRole } from '../trace/qemuMutexTrace';
import { ChunkType } from '../trace/rwtraceFormat';
import { lockOpChunks } from '../trace/rwtraceLocks';
import { Mark, readMarks } from '../trace/rwtraceMarks';
import { TraceProblem } from '../trace/rwtraceReader';
import { fiveNumbers, lockDetails, pct, PrintedDistribution, table, violationsText } from './locksText';
import { openRecording } from '../session/openRecording';

/** `rewind locks` of a Rewind recording; also its --json document. */
export interface RwtraceLocksAnalysis {
  file: string;
  kind: 'rwtrace';
  guest: string;
  /** The recording's lock trace level (meta.lockTrace: 'full', 'replay-only', 'off'), if it says. */
  lockTrace?: string;
  /** False when the recording has no LOCKS stream: it was made with lock tracing off. */
  lockStream: boolean;
  /** Guest icount of the first and last lock op. */
  icount?: { first: number; last: number };
  /** Host steps of the scheduler, first and last lock op. */
  steps?: { first: number; last: number };
  actions: { wait: number; acquired: number; released: number };
  /** Thread name -> role: Rewind's thread names say it. */
  roles: Record<string, QemuThreadRole[]>;
  report: LockReport;
  /** Per lock: hold and wait times counted in host steps instead of guest instructions. */
  hostSteps: Record<LockName, { hold?: PrintedDistribution; wait?: PrintedDistribution }>;
  /** The recording's MARKS (violations found while recording, divergences). */
  marks: Mark[];
  finished: boolean;
  problem?: TraceProblem;
}

export function rewindThreadRoles(threads: Iterable<string>): Record<string, QemuThreadRole[]> {
  const roles: Record<string, QemuThreadRole[]> = {};
  for (const t of threads) {
    if (t === 'main-loop') roles[t] = ['main-loop'];
    else if (/^vcpu\d+$/.test(t)) roles[t] = ['vcpu'];
    else if (t === 'migration') roles[t] = ['migration'];
    else if (t === 'rcu') roles[t] = ['rcu'];
  }
  return roles;
}

/** main-loop, the vCPUs by number, migration, RCU, then any others by name. */
function threadOrder(t: string): [number, number, string] {
  if (t === 'main-loop') return [0, 0, t];
  const v = /^vcpu(\d+)$/.exec(t);
  if (v) return [1, Number(v[1]), t];
  return t === 'migration' ? [2, 0, t] : t === 'rcu' ? [3, 0, t] : [4, 0, t];
}
const byThreadOrder = (x: string, y: string): number => {
  const a = threadOrder(x), b = threadOrder(y);
  return a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
};

/**
 * Reads the LOCKS stream chunk by chunk through LockStats (memory grows with threads, locks and
 * sites, not ops), and a second LockStats fed the host step as its clock for hold and wait in
 * steps: the rule checks run twice, the cheaper price than a second clock in LockStats.
 */
export function analyseRwtraceLocks(file: string): RwtraceLocksAnalysis {
  const { reader, meta } = openRecording(file);
  try {
    const stats = new LockStats({ threadsKnown: true });
    const byStep = new LockStats({ threadsKnown: true });
    const actions = { wait: 0, acquired: 0, released: 0 };
    let icount: { first: number; last: number } | undefined;
    let steps: { first: number; last: number } | undefined;
    for (const ops of lockOpChunks(reader, file)) {
      for (const op of ops) {
        actions[op.action]++;
        if (op.icount !== undefined) icount = { first: icount?.first ?? op.icount, last: op.icount };
        if (op.step !== undefined) {
          steps = { first: steps?.first ?? op.step, last: op.step };
          byStep.add({ index: op.index, thread: op.thread, lock: op.lock, action: op.action, site: op.site, icount: op.step });
        }
        // The recorder's own verdict is not carried over: LockStats judges every op afresh.
        const fresh: LockOp = { ...op };
        delete fresh.violation;
        stats.add(fresh);
      }
    }
    const marks = readMarks(reader, file);
    const report = withMarkedViolations(stats.report(), marks);
    const hostSteps: RwtraceLocksAnalysis['hostSteps'] = {};
    if (steps) {
      for (const l of byStep.report().locks) {
        const s: { hold?: PrintedDistribution; wait?: PrintedDistribution } = (hostSteps[l.lock] = {});
        if (l.hold) s.hold = { ...l.hold, unit: 'steps' };
        if (l.wait) s.wait = { ...l.wait, unit: 'steps' };
      }
    }
    const lockTrace = (meta as unknown as { lockTrace?: unknown }).lockTrace;
    const a: RwtraceLocksAnalysis = {
      file, kind: 'rwtrace', guest: meta.guest.path, lockStream: reader.stream(ChunkType.LOCKS).length > 0, actions,
      roles: rewindThreadRoles(report.threads), report, hostSteps, marks, finished: reader.finished,
    };
    if (lockTrace !== undefined) a.lockTrace = typeof lockTrace === 'string' ? lockTrace : JSON.stringify(lockTrace);
    if (icount) a.icount = icount;
    if (steps) a.steps = steps;
    if (reader.problem) a.problem = reader.problem;
    return a;
  } finally {
    reader.close();
  }
}

const sameViolation = (x: LockViolation, y: LockViolation): boolean =>
  x.kind === y.kind && x.index === y.index && x.thread === y.thread && x.lock === y.lock;

/**
 * Adds the violations the recorder marked that the lock stream cannot show again: an
 * append-unlocked is about a replay-log append, which is no lock op, and a recording with
 * lock tracing at 'replay-only' lacks the BQL ops a replay-under-bql needs.
 */
function withMarkedViolations(r: LockReport, marks: Mark[]): LockReport {
  const added: LockViolation[] = [];
  for (const m of marks) {
    const v = m.violation;
    if (m.kind !== 'violation' || !v || r.violations.some((x) => sameViolation(x, v)) || added.some((x) => sameViolation(x, v))) continue;
    added.push(v);
    r.violationCounts[v.kind as ViolationKind] = (r.violationCounts[v.kind as ViolationKind] ?? 0) + 1;
  }
  if (added.length === 0) return r;
  return { ...r, violations: [...r.violations, ...added].sort((x, y) => x.index - y.index) };
}

const ROLE_NAMES: Record<QemuThreadRole, string> = { 'main-loop': 'main loop', vcpu: 'vCPU', rcu: 'RCU', migration: 'migration', 'start-up': '' };
const roleOf = (a: RwtraceLocksAnalysis, t: string): string => (a.roles[t] ?? []).map((r) => ROLE_NAMES[r]).join(', ');
const lockTitle = (l: LockName): string => (l === 'bql' ? 'BQL' : l === 'replay' ? 'replay mutex' : l);

/** The readable report, laid out like the one for QEMU mutex traces. */
export function formatRwtraceLocks(a: RwtraceLocksAnalysis, top = 5): string {
  const r = a.report;
  const level = a.lockTrace !== undefined ? `lock trace level ${a.lockTrace}; ` : '';
  const end = a.finished ? 'recording finished' : `recording incomplete: ${a.problem?.message ?? 'no END chunk'}`;
  if (!a.lockStream) {
    const off = a.lockTrace === undefined || a.lockTrace === 'off' ? '' : ` (lock trace level ${a.lockTrace})`;
    return `${a.file}: Rewind recording of ${a.guest}, recorded with lock tracing off${off}: no lock ops to analyse; ${end}\n` + marksText(a, true);
  }
  let out = `${a.file}: Rewind recording of ${a.guest}\n`;
  out += `  ${level}${r.ops} lock ops (${a.actions.wait} wait, ${a.actions.acquired} acquired, ${a.actions.released} released)`;
  out += a.icount ? ` at icount ${a.icount.first}..${a.icount.last}` : '';
  out += a.steps ? `, host steps ${a.steps.first}..${a.steps.last}` : '';
  out += `; ${r.threads.length} threads; ${end}\n`;
  out += `  hold and wait in guest instructions (insns)${a.steps ? ' and in host steps of the scheduler (steps)' : ''}\n`;

  const bql = r.locks.find((l) => l.lock === 'bql'), replay = r.locks.find((l) => l.lock === 'replay');
  out += '\nthreads\n';
  const trows = [['thread', 'role', 'BQL acq', 'replay acq', 'other acq']];
  for (const t of [...r.threads].sort(byThreadOrder)) {
    const acq = (l?: LockSummary) => l?.threads[t]?.acquisitions ?? 0;
    const other = r.locks.filter((l) => l !== bql && l !== replay).reduce((n, l) => n + acq(l), 0);
    trows.push([t, roleOf(a, t) || '-', String(acq(bql)), String(acq(replay)), String(other)]);
  }
  out += table(trows);

  const others = r.locks.filter((l) => l !== bql && l !== replay);
  const shown = [bql, replay, ...others.slice(0, top)].filter((l): l is LockSummary => l !== undefined);
  out += `\nlocks (${r.locks.length}; BQL, replay mutex, then the ${Math.min(top, others.length)} busiest of ${others.length} others)\n`;
  const head = ['lock', 'acquired', 'contended', 'waits', 'hold insns p50/p90/p99/max', 'wait insns p50/p90/p99/max'];
  const lrows = [a.steps ? [...head, 'hold steps p50/p90/p99/max', 'wait steps p50/p90/p99/max'] : head];
  for (const l of shown) {
    const row = [lockTitle(l.lock), String(l.acquisitions), `${l.contended}${pct(l.contended, l.acquisitions)}`, String(l.waits), fiveNumbers(l.hold), fiveNumbers(l.wait)];
    if (a.steps) row.push(fiveNumbers(a.hostSteps[l.lock]?.hold), fiveNumbers(a.hostSteps[l.lock]?.wait));
    lrows.push(row);
  }
  out += table(lrows);
  if (!bql) out += `  (no BQL ops in this recording${a.lockTrace === 'replay-only' ? ': it traced the replay mutex only' : ''})\n`;
  if (!replay) out += '  (no replay mutex ops in this recording)\n';

  for (const l of shown) {
    const s = a.hostSteps[l.lock] ?? {};
    // Rewind's thread names already say their role.
    out += '\n' + lockDetails(r, l, lockTitle(l.lock), () => '', [['hold', s.hold], ['wait', s.wait]]);
  }
  out += marksText(a, false);
  out += '\n' + violationsText(r, 'replay mutex under the BQL, relock, release without holding, replay-log append without the replay mutex');
  return out;
}

/** Divergence marks, and (when the violations section is not shown) violation marks. */
function marksText(a: RwtraceLocksAnalysis, withViolations: boolean): string {
  const shown = a.marks.filter((m) => m.kind === 'divergence' || withViolations);
  if (shown.length === 0) return '';
  let out = `\nmarks: ${shown.length}\n`;
  for (const m of shown) {
    const what = m.violation ? `${m.violation.kind} violation` : m.kind;
    out += `  ${what} at icount ${m.icount}${m.lockOp !== undefined ? `, op #${m.lockOp}` : ''}${m.eventIndex !== undefined ? `, event #${m.eventIndex}` : ''}: ${m.violation?.message ?? m.message}\n`;
  }
  return withViolations ? out.slice(1) : out;
}
