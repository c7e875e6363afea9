import * as fs from 'fs';
import { RewindError } from '../errors';
import { LockName } from '../threads/lockOp';
import { LockReport, LockStats, LockSummary } from '../threads/lockStats';
import { MutexTraceSummary, qemuThreadRoles, QemuThreadRole, readQemuMutexTrace } from '../trace/qemuMutexTrace';
import { intOption, parse } from './args';
import { fiveNumbers, lockDetails, pct, table, violationsText } from './locksText';
import { analyseRwtraceLocks, formatRwtraceLocks } from './locksRwtrace';
import { isRwtrace } from './dumpRwtrace';
import { EXIT_USAGE } from './driveMachine';

export const LOCKS_USAGE = 'rewind locks TRACE [--json] [--top N]';

/** Everything `rewind locks` knows about one trace; also its --json document. */
export interface LocksAnalysis {
  file: string;
  kind: 'qemu-mutex-trace';
  trace: MutexTraceSummary;
  /** First and last host time of the trace, in seconds, when it has timestamps. */
  span?: { first: number; last: number };
  roles: Record<string, QemuThreadRole[]>;
  report: LockReport;
}

export function analyseMutexTrace(file: string): LocksAnalysis {
  // Threads are known unless the trace turns out to have no thread ids; the parser tells us only
  // per line, so two LockStats run side by side would double the work — instead the first op
  // decides (a trace has one prefix format throughout).
  let stats: LockStats | undefined;
  let first: number | undefined, last: number | undefined;
  const trace = readQemuMutexTrace(file, {
    op: (op) => {
      stats ??= new LockStats({ threadsKnown: op.thread !== '?' });
      if (op.time !== undefined) { first ??= op.time; last = op.time; }
      stats.add(op);
    },
    rename: (address, name) => stats?.rename(address, name),
  });
  const report = (stats ?? new LockStats()).report();
  const find = (l: LockName) => report.locks.find((x) => x.lock === l);
  const a: LocksAnalysis = { file, kind: 'qemu-mutex-trace', trace, roles: qemuThreadRoles(find('bql'), find('replay')), report };
  if (first !== undefined && last !== undefined) a.span = { first, last };
  return a;
}

export async function locksCommand(argv: string[], write: (s: string) => void = (s) => { process.stdout.write(s); }): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, top: { type: 'string' } }, LOCKS_USAGE);
  if (positionals.length !== 1) throw new RewindError('USAGE', `expected one trace file (usage: ${LOCKS_USAGE})`);
  const top = intOption(values.top, 'top', 5, 0, 1000);
  const file = positionals[0];
  if (startsLikeRwtrace(file)) {
    const r = analyseRwtraceLocks(file);
    write(values.json ? JSON.stringify(r, null, 1) + '\n' : formatRwtraceLocks(r, top));
    if (r.problem && !r.finished) {
      // The same policy as `rewind dump`: what was read is shown, the damage makes it exit 2.
      process.stderr.write(`rewind: ${file}: ${r.problem.message} (offset 0x${r.problem.offset.toString(16)}); analysed the ${r.report.ops} lock ops before it\n`);
      return EXIT_USAGE;
    }
    return 0;
  }
  const a = analyseMutexTrace(file);
  write(values.json ? JSON.stringify(a, null, 1) + '\n' : formatLocks(a, top));
  return 0;
}

/** Whether `file` begins with the .rwtrace magic; unreadable files go on to the text reader, which says why. */
function startsLikeRwtrace(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(8);
      return isRwtrace(head.subarray(0, fs.readSync(fd, head, 0, 8, 0)));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

const ROLE_NAMES: Record<QemuThreadRole, string> = {
  'main-loop': 'main loop', vcpu: 'vCPU', rcu: 'RCU', migration: 'migration', 'start-up': 'start-up thread',
};

function roleOf(a: LocksAnalysis, t: string): string {
  const roles = a.roles[t] ?? [];
  const names = roles.includes('start-up') ? ['main loop (the start-up thread)'] : roles.map((r) => ROLE_NAMES[r]);
  const own = a.trace.threadNames[t];
  if (own !== undefined) names.push(`"${own}"`);
  return names.join(', ') || '-';
}

function lockTitle(a: LocksAnalysis, l: LockSummary): string {
  const addr = Object.entries(a.trace.aliases).find(([, n]) => n === l.lock)?.[0];
  if (l.lock === 'bql') return `BQL (${addr ?? 'address unknown'})`;
  if (l.lock === 'replay') return `replay mutex (${addr ?? 'address unknown'})`;
  // Other mutexes have no name in the trace: their busiest site says what they are.
  const site = Object.entries(l.sites).sort((x, y) => y[1].acquired + y[1].wait - x[1].acquired - x[1].wait)[0]?.[0];
  return site ? `${l.lock} (${site})` : l.lock;
}

/** The readable report: summary, threads, a table of locks, details per lock, violations. */
export function formatLocks(a: LocksAnalysis, top = 5): string {
  const { trace: s, report: r } = a;
  const ev = s.events;
  let out = `${a.file}: QEMU mutex trace (${s.formats.join(', ') || 'no events'})\n`;
  out += `  ${s.lines} lines: ${ev.lock} lock, ${ev.locked} locked, ${ev.unlock} unlock events; ${s.skipped} other lines skipped; ${s.bad.count} bad`;
  out += s.bad.count ? ` (first at line ${s.bad.firstLine}: ${JSON.stringify(s.bad.firstText)})` : '';
  out += s.truncatedLastLine ? '; the last line is cut short\n' : '\n';
  out += `  ${r.ops} lock ops; the replay mutex's ${s.replayInternal} internal ops folded into its logical ones\n`;
  if (s.replayLayout) out += `  replay mutex sites: ${s.replayLayout}\n`;
  if (a.span) out += `  host time ${(a.span.last - a.span.first).toFixed(6)} s\n`;
  if (!s.threadIds) out += '  no thread ids in this trace (QEMU prints them only with -msg timestamp=on, up to 10.1): per-thread rules not checked\n';
  for (const w of s.warnings) out += `  warning: ${w}\n`;

  const bql = r.locks.find((l) => l.lock === 'bql'), replay = r.locks.find((l) => l.lock === 'replay');
  out += '\nthreads\n';
  const trows = [['thread', 'role', 'BQL acq', 'replay acq', 'other acq']];
  for (const t of r.threads) {
    const acq = (l?: LockSummary) => l?.threads[t]?.acquisitions ?? 0;
    const other = r.locks.filter((l) => l !== bql && l !== replay).reduce((n, l) => n + acq(l), 0);
    trows.push([t, roleOf(a, t), String(acq(bql)), String(acq(replay)), String(other)]);
  }
  out += table(trows);

  const others = r.locks.filter((l) => l !== bql && l !== replay);
  const shown = [bql, replay, ...others.slice(0, top)].filter((l): l is LockSummary => l !== undefined);
  const unit = r.unit === 'insns' ? 'insns' : 'µs';
  out += `\nlocks (${r.locks.length}; BQL, replay mutex, then the ${Math.min(top, others.length)} busiest of ${others.length} others)\n`;
  const lrows = [['lock', 'acquired', 'contended', 'waits', `hold ${unit} p50/p90/p99/max`, `wait ${unit} p50/p90/p99/max`]];
  for (const l of shown) lrows.push([lockTitle(a, l), String(l.acquisitions), `${l.contended}${pct(l.contended, l.acquisitions)}`, String(l.waits), fiveNumbers(l.hold), fiveNumbers(l.wait)]);
  out += table(lrows);
  if (!bql) out += '  (no BQL in this trace: no op in cpus.c)\n';
  if (!replay) out += '  (no replay mutex in this trace: not a record/replay run, or no op in replay/replay-internal.c)\n';

  for (const l of shown) out += '\n' + lockDetails(r, l, lockTitle(a, l), (t) => (a.roles[t]?.length ? roleOf(a, t) : ''));

  out += '\n' + violationsText(r);
  return out;
}
