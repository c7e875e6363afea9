import { createHash } from 'crypto';
import * as path from 'path';
import { Machine } from '../machine/machine';
import { stateHash } from '../machine/stateHash';
import { RewindError } from '../errors';
import { FileSink } from '../trace/fileAccess';
import { EventStreamWriter } from '../trace/rwtraceEvents';
import { RwtraceWriter } from '../trace/rwtraceWriter';
import { intOption, parse } from './args';
import { ChunkType } from '../trace/rwtraceFormat';
import { encodeSnapshot } from '../snapshot/snapshotCodec';
import { OutputSink } from './hostIo';
import { driveMachine, reportRun } from './driveMachine';
import { MACHINE_OPTIONS, MACHINE_USAGE, machineConfig, maxInsnsOption, readElfFile } from './machineOptions';

export const RECORD_USAGE = `rewind record PROG.elf -o T.rwtrace [--input FILE|-] [--snapshot-at ICOUNT[,ICOUNT...]] ${MACHINE_USAGE}`;
export const RECORDING_FORMAT = 'rewind-recording';
declare const REWIND_VERSION: string | undefined;

export async function recordCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    output: { type: 'string', short: 'o' }, input: { type: 'string' }, 'snapshot-at': { type: 'string' }, ...MACHINE_OPTIONS,
  }, RECORD_USAGE);
  const snapshotAt = values['snapshot-at'] === undefined ? [] : String(values['snapshot-at']).split(',').map((v) => intOption(v, 'snapshot-at', 0)).sort((a, b) => a - b);
  if (positionals.length !== 1) throw new RewindError('USAGE', `expected one ELF file (usage: ${RECORD_USAGE})`);
  const outPath = values.output as string | undefined;
  if (!outPath) throw new RewindError('USAGE', `-o T.rwtrace is required (usage: ${RECORD_USAGE})`);
  const elfPath = positionals[0];
  const elf = readElfFile(elfPath);
  const config = machineConfig(values);
  const meta = {
    format: RECORDING_FORMAT,
    guest: { path: path.resolve(elfPath), sha256: createHash('sha256').update(elf).digest('hex'), bytes: elf.length },
    machine: config,
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
  const out = new OutputSink(1);
  const machine = new Machine({ ...config, jit: !values['no-jit'], onOutput: out.put, replay: { mode: 'record', sink: events.append } });
  machine.loadElf(elf, elfPath);
  for (const w of machine.loadWarnings) process.stderr.write(`rewind: warning: ${w}\n`);
  const maxInsns = maxInsnsOption(values);
  // savevm while recording: the state goes into a SNAPSHOT chunk, and an event marks the spot.
  const pauses = snapshotAt.map((at, id) => ({
    at,
    action: () => {
      machine.replay!.snapshot(id);
      events.flush();
      writer.append(ChunkType.SNAPSHOT, encodeSnapshot(machine.saveState()), { firstIcount: at, lastIcount: at, firstItem: id, itemCount: 1 });
      process.stderr.write(`rewind: snapshot ${id} taken at icount ${at}\n`);
    },
  }));
  const { result, seconds, interrupted } = await driveMachine(machine, {
    input: values.input as string | undefined, maxInsns, pauses,
    afterStep: () => { out.flush(); events.tick(); },
  });
  machine.replay!.end();
  events.flush();
  writer.close(machine.icount, { icount: machine.icount, reason: interrupted ? 'interrupted' : result.reason, exitCode: result.exitCode, stateHash: stateHash(machine) });
  process.stderr.write(`rewind: recorded ${machine.replay!.recorder!.count} events to ${outPath}\n`);
  return reportRun(machine, result, seconds, maxInsns, interrupted);
}
