import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Machine } from '../machine/machine';
import { stateHash } from '../machine/stateHash';
import { RewindError } from '../errors';
import { FileSink } from '../trace/fileAccess';
import { EventStreamWriter } from '../trace/rwtraceEvents';
import { LockStreamWriter } from '../trace/rwtraceLocks';
import { appendMarks, Mark } from '../trace/rwtraceMarks';
import { RwtraceWriter } from '../trace/rwtraceWriter';
import { intOption, parse } from './args';
import { ChunkType } from '../trace/rwtraceFormat';
import { encodeSnapshot } from '../snapshot/snapshotCodec';
import { encodeMigration } from '../snapshot/migrationStream';
import { Job } from '../threads/migrationThread';
import { parseTraceLevel, TraceLevel } from '../threads/lockTracer';
import { LockViolation } from '../threads/lockStats';
import { OutputSink } from './hostIo';
import { SnapshotSpiller } from '../timetravel/snapshotSpill';
import { driveMachine, reportRun } from './driveMachine';
import { MACHINE_OPTIONS, MACHINE_USAGE, machineConfig, maxInsnsOption, readElfFile, schedOption } from './machineOptions';

export const RECORD_USAGE = `rewind record PROG.elf -o T.rwtrace [--input FILE|-] [--snapshot-at ICOUNT[,ICOUNT...]] [--migrate-at ICOUNT:FILE] [--lock-trace full|replay-only|off] [--inject migration-without-replay-lock] ${MACHINE_USAGE}`;
export const RECORDING_FORMAT = 'rewind-recording';
export const INJECTIONS = ['migration-without-replay-lock'] as const;
declare const REWIND_VERSION: string | undefined;

/** Violations printed as they happen; the rest are counted (all are in the trace). */
const SHOWN_VIOLATIONS = 5;

/** The migration thread's work: snapshots (--snapshot-at) and migrations (--migrate-at, repeatable). */
function jobsFrom(values: Record<string, unknown>): Job[] {
  const jobs: Job[] = [];
  const snapshotAt = values['snapshot-at'] === undefined ? [] : String(values['snapshot-at']).split(',').map((v) => intOption(v, 'snapshot-at', 0)).sort((a, b) => a - b);
  snapshotAt.forEach((at, id) => jobs.push({ kind: 'snapshot', at, id }));
  for (const m of (values['migrate-at'] as string[] | undefined) ?? []) {
    const i = m.indexOf(':');
    if (i <= 0 || i === m.length - 1) throw new RewindError('USAGE', `--migrate-at takes ICOUNT:FILE, not '${m}'`);
    jobs.push({ kind: 'migrate', at: intOption(m.slice(0, i), 'migrate-at', 0), target: m.slice(i + 1) });
  }
  const at = jobs.map((j) => j.at).sort((a, b) => a - b);
  const dup = at.find((v, k) => k > 0 && at[k - 1] === v);
  if (dup !== undefined) throw new RewindError('USAGE', `two snapshots or migrations at icount ${dup}: give each its own instruction count`);
  return jobs.sort((a, b) => a.at - b.at);
}

export async function recordCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    output: { type: 'string', short: 'o' }, input: { type: 'string' }, 'snapshot-at': { type: 'string' },
    'migrate-at': { type: 'string', multiple: true }, 'lock-trace': { type: 'string' }, inject: { type: 'string' }, ...MACHINE_OPTIONS,
  }, RECORD_USAGE);
  if (positionals.length !== 1) throw new RewindError('USAGE', `expected one ELF file (usage: ${RECORD_USAGE})`);
  const outPath = values.output as string | undefined;
  if (!outPath) throw new RewindError('USAGE', `-o T.rwtrace is required (usage: ${RECORD_USAGE})`);
  const jobs = jobsFrom(values);
  const sched = schedOption(values);
  let lockTrace: TraceLevel = 'full';
  if (values['lock-trace'] !== undefined) {
    try {
      lockTrace = parseTraceLevel(String(values['lock-trace']));
    } catch (e) {
      throw new RewindError('USAGE', `--lock-trace: ${(e as Error).message}`);
    }
  }
  const inject = values.inject as string | undefined;
  if (inject !== undefined && !(INJECTIONS as readonly string[]).includes(inject)) throw new RewindError('USAGE', `--inject takes ${INJECTIONS.join(', ')}, not '${inject}'`);
  const elfPath = positionals[0];
  const elf = readElfFile(elfPath);
  const config = machineConfig(values);
  const guestSha256 = createHash('sha256').update(elf).digest('hex');
  const meta = {
    format: RECORDING_FORMAT,
    guest: { path: path.resolve(elfPath), sha256: guestSha256, bytes: elf.length },
    machine: config,
    sched: sched.kind === 'random' ? `random:${sched.seed}` : 'fair',
    lockTrace,
    jobs,
    ...(inject ? { inject } : {}),
    rewindVersion: typeof REWIND_VERSION === 'string' ? REWIND_VERSION : 'dev',
    commandLine: ['rewind', 'record', ...argv],
  };
  let writer: RwtraceWriter;
  try {
    writer = new RwtraceWriter(new FileSink(outPath), meta);
  } catch (e) {
    throw new RewindError('OUTPUT', `cannot write ${outPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const events = new EventStreamWriter(writer);
  const locks = lockTrace === 'off' ? undefined : new LockStreamWriter(writer);
  const marks: Mark[] = [];
  let violations = 0;
  const onViolation = (v: LockViolation): void => {
    // Op numbers are the trace's own only when every op is traced.
    marks.push({ kind: 'violation', icount: v.icount ?? machine.icount, ...(lockTrace === 'full' ? { lockOp: v.index } : {}), violation: v, message: v.message });
    if (++violations <= SHOWN_VIOLATIONS) process.stderr.write(`rewind: lock rule violated (${v.kind}): ${v.message}\n`);
  };
  // Everything up to a point goes out together, so a killed recording keeps whole, consistent chunks.
  const flush = (): void => {
    events.flush();
    locks?.flush();
    appendMarks(writer, marks.splice(0));
  };
  const out = new OutputSink(1);
  const machine = new Machine({
    ...config, jit: !values['no-jit'], sched, onOutput: out.put, replay: { mode: 'record', sink: events.append },
    ...(locks ? { lockTrace: { level: lockTrace, sink: locks.append } } : {}),
    jobs, injectMigrationWithoutReplayLock: inject === 'migration-without-replay-lock',
    jobHooks: {
      // savevm while recording: the state goes into a SNAPSHOT chunk; the event marks the spot.
      snapshot: (id, state) => {
        flush();
        writer.append(ChunkType.SNAPSHOT, encodeSnapshot(state), { firstIcount: state.icount, lastIcount: state.icount, firstItem: id, itemCount: 1 });
        process.stderr.write(`rewind: snapshot ${id} taken at icount ${state.icount}\n`);
      },
      migrate: (target, state, hash, eventIndex) => {
        try {
          fs.writeFileSync(target, encodeMigration({ format: 'rewind-migration', guestSha256, machine: config, icount: state.icount, eventIndex, hash }, state));
        } catch (e) {
          const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
          process.stderr.write(`rewind: migration to ${target} failed at icount ${state.icount}: ${why}; recording goes on\n`);
          return `cannot write ${target}: ${why}`;
        }
        process.stderr.write(`rewind: migrated the VM state to ${target} at icount ${state.icount}\n`);
      },
    },
  });
  machine.checker!.onViolation(onViolation);
  machine.loadElf(elf, elfPath);
  for (const w of machine.loadWarnings) process.stderr.write(`rewind: warning: ${w}\n`);
  const maxInsns = maxInsnsOption(values);
  // Time-travel snapshots go into the recording as it is made (a reopened one seeks from them).
  const spill = new SnapshotSpiller(writer, machine.bus);
  spill.maybe(machine, 0);
  const { result, seconds, interrupted } = await driveMachine(machine, {
    input: values.input as string | undefined, maxInsns,
    afterStep: () => {
      out.flush();
      // The snapshot's event position must be on disk first: flush the events before it.
      if (spill.due(machine.icount)) { events.flush(); spill.maybe(machine, machine.replay!.recorder!.count); }
      events.tick(); locks?.tick();
      if (marks.length) appendMarks(writer, marks.splice(0));
    },
  });
  machine.replay!.end();
  flush();
  writer.close(machine.icount, { icount: machine.icount, reason: interrupted ? 'interrupted' : result.reason, exitCode: result.exitCode, stateHash: stateHash(machine), violations });
  process.stderr.write(`rewind: recorded ${machine.replay!.recorder!.count} events${locks ? ` and ${machine.locks.tracer.count} lock operations` : ''} to ${outPath}\n`);
  if (violations > SHOWN_VIOLATIONS) process.stderr.write(`rewind: ${violations} lock rule violations in all (the first ${SHOWN_VIOLATIONS} shown; all are marked in the trace)\n`);
  const pending = jobs.filter((j) => j.at > machine.icount);
  for (const j of pending) process.stderr.write(`rewind: warning: the ${j.kind === 'snapshot' ? 'snapshot' : `migration to ${j.target}`} at icount ${j.at} never happened: the run ended at icount ${machine.icount}\n`);
  return reportRun(machine, result, seconds, maxInsns, interrupted);
}
