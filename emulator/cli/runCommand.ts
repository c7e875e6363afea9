import { Machine } from '../machine/machine';
import { RewindError } from '../errors';
import { parse } from './args';
import { OutputSink } from './hostIo';
import { driveMachine, reportRun } from './driveMachine';
import { MACHINE_OPTIONS, MACHINE_USAGE, machineConfig, maxInsnsOption, readElfFile, schedOption } from './machineOptions';

export const RUN_USAGE = `rewind run PROG.elf [--input FILE|-] ${MACHINE_USAGE}`;

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { input: { type: 'string' }, ...MACHINE_OPTIONS }, RUN_USAGE);
  if (positionals.length !== 1) throw new RewindError('USAGE', `expected one ELF file (usage: ${RUN_USAGE})`);
  const out = new OutputSink(1);
  const machine = new Machine({ ...machineConfig(values), jit: !values['no-jit'], sched: schedOption(values), onOutput: out.put });
  const maxInsns = maxInsnsOption(values);
  machine.loadElf(readElfFile(positionals[0]), positionals[0]);
  for (const w of machine.loadWarnings) process.stderr.write(`rewind: warning: ${w}\n`);
  const { result, seconds, interrupted } = await driveMachine(machine, { input: values.input as string | undefined, maxInsns, afterStep: () => out.flush() });
  return reportRun(machine, result, seconds, maxInsns, interrupted);
}

// Shared by the other commands.
export { EXIT_IDLE, EXIT_LIMIT, EXIT_USAGE } from './driveMachine';
