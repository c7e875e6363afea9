import * as fs from 'fs';
import { Machine } from '../machine/machine';
import { RecordingFile } from '../session/recordingFile';
import { RewindError } from '../errors';
import { intOption, parse } from './args';
import * as path from 'path';
import { decodeMigration, encodeMigration } from '../snapshot/migrationStream';
import { guestSha256 as shaOf } from '../session/recordingFile';
import { Job } from '../threads/migrationThread';
import { parseTraceLevel, TraceLevel } from '../threads/lockTracer';
import { LockViolation } from '../threads/lockStats';
import { OutputSink } from './hostIo';
import { driveMachine, reportRun } from './driveMachine';
import { MACHINE_OPTIONS, MACHINE_USAGE, machineConfig, maxInsnsOption, readElfFile, readUserFile, schedOption } from './machineOptions';

export const RECORD_USAGE = `rewind record PROG.elf -o T.rwtrace [--input FILE|-] [--snapshot-at ICOUNT[,ICOUNT...]] [--migrate-at ICOUNT:FILE] [--lock-trace full|replay-only|off] [--inject migration-without-replay-lock] [--assert on|off] [--incoming FILE] [--progress] ${MACHINE_USAGE}`;
export const INJECTIONS = ['migration-without-replay-lock'] as const;

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
    'migrate-at': { type: 'string', multiple: true }, 'lock-trace': { type: 'string' }, inject: { type: 'string' }, assert: { type: 'string' }, progress: { type: 'boolean' }, incoming: { type: 'string' }, ...MACHINE_OPTIONS,
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
  const asserts = values.assert === undefined ? 'on' : String(values.assert);
  if (asserts !== 'on' && asserts !== 'off') throw new RewindError('USAGE', `--assert takes on or off, not '${asserts}'`);
  const elfPath = positionals[0];
  const elf = readElfFile(elfPath);
  let config = machineConfig(values);
  // The destination of a migration (QEMU's -incoming): the machine and the state come from the
  // migration file, and the recording starts at its icount.
  const incomingPath = values.incoming as string | undefined;
  const incoming = incomingPath === undefined ? undefined : decodeMigration(readUserFile(incomingPath, 'MIGRATION_MISSING'), incomingPath);
  if (incoming) {
    if (incoming.header.guestSha256 !== shaOf(elf)) throw new RewindError('MIGRATION_MISMATCH', `${incomingPath} was migrated from another guest than ${elfPath}`);
    config = incoming.header.machine as typeof config;
  }
  const incomingMeta = incoming && { file: path.resolve(incomingPath!), icount: incoming.header.icount, hash: incoming.header.hash };
  const file = new RecordingFile(outPath, { elfPath, elf, machine: config, sched, lockTrace, jobs, inject, ...(incomingMeta ? { incoming: incomingMeta } : {}), madeBy: { commandLine: ['rewind', 'record', ...argv] } });
  const guestSha256 = file.guestSha256;
  const locks = file.lockBatchSink();
  const onViolation = (v: LockViolation): void => {
    // Op numbers are the trace's own only when every op is traced.
    file.violation(v, machine.icount, lockTrace === 'full' ? v.index : undefined);
    if (file.violations <= SHOWN_VIOLATIONS) process.stderr.write(`rewind: lock rule violated (${v.kind}): ${v.message}\n`);
  };
  const out = new OutputSink(1);
  const machine = new Machine({
    ...config, jit: !values['no-jit'], sched, onOutput: out.put, replay: { mode: 'record', sink: file.event, from: incoming?.header.icount },
    ...(locks ? { lockTrace: { level: lockTrace, batch: locks } } : {}),
    jobs, injectMigrationWithoutReplayLock: inject === 'migration-without-replay-lock', assertReplayLock: asserts === 'on',
    jobHooks: {
      // savevm while recording: the state goes into a SNAPSHOT chunk; the event marks the spot.
      snapshot: (id, state) => {
        file.savevm(id, state);
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
  file.flushesTracer(machine.locks.tracer);
  machine.loadElf(elf, elfPath);
  for (const w of machine.loadWarnings) process.stderr.write(`rewind: warning: ${w}\n`);
  if (incoming) {
    machine.loadState(incoming.state);
    process.stderr.write(`rewind: incoming migration from ${incomingPath}: recording from icount ${incoming.header.icount}\n`);
  }
  const maxInsns = maxInsnsOption(values);
  file.spillSnapshots(machine);
  // --progress: what has been recorded so far, after every step (~20 ms), on the recorder's
  // clock; a tool killing the recorder can tell what the file must hold.
  const started = performance.now();
  const progress = values.progress
    ? () => process.stderr.write(`rewind: progress ${(performance.now() - started).toFixed(1)} ms: icount ${machine.icount}, ${machine.replay!.recorder!.count} events, ${locks ? machine.locks.tracer.count : 0} lock operations\n`)
    : undefined;
  const { result, seconds, interrupted } = await driveMachine(machine, {
    input: values.input as string | undefined, maxInsns,
    afterStep: () => {
      out.flush();
      file.afterStep(machine);
      progress?.();
    },
  });
  machine.replay!.end();
  file.close(machine, { reason: interrupted ? 'interrupted' : result.reason, exitCode: result.exitCode });
  process.stderr.write(`rewind: recorded ${machine.replay!.recorder!.count} events${locks ? ` and ${machine.locks.tracer.count} lock operations` : ''} to ${outPath}\n`);
  const violations = file.violations;
  if (violations > SHOWN_VIOLATIONS) process.stderr.write(`rewind: ${violations} lock rule violations in all (the first ${SHOWN_VIOLATIONS} shown; all are marked in the trace)\n`);
  const pending = jobs.filter((j) => j.at > machine.icount);
  for (const j of pending) process.stderr.write(`rewind: warning: the ${j.kind === 'snapshot' ? 'snapshot' : `migration to ${j.target}`} at icount ${j.at} never happened: the run ended at icount ${machine.icount}\n`);
  return reportRun(machine, result, seconds, maxInsns, interrupted);
}
