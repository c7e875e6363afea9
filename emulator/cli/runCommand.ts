import * as fs from 'fs';
import { Machine, RunResult } from '../machine/machine';
import { RewindError } from '../errors';
import { intOption, parse } from './args';
import { OutputSink } from './hostIo';

export const RUN_USAGE = 'rewind run PROG.elf [--input FILE|-] [--max-insns N] [--shift N] [--harts N] [--ram MiB] [--no-jit]';

/** Exit codes of the CLI beyond the guest's own (0..255 from the test device or HTIF). */
export const EXIT_USAGE = 2;
export const EXIT_IDLE = 3;
export const EXIT_LIMIT = 124;

/** How many instructions run between looks at stdin when input is streamed. */
const STREAM_CHUNK = 4_000_000;

export function readElfFile(path: string): Uint8Array {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new RewindError('ELF_MISSING', `cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`);
  }
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    input: { type: 'string' }, 'max-insns': { type: 'string' }, shift: { type: 'string' },
    harts: { type: 'string' }, ram: { type: 'string' }, 'no-jit': { type: 'boolean' },
  }, RUN_USAGE);
  if (positionals.length !== 1) throw new RewindError('USAGE', `expected one ELF file (usage: ${RUN_USAGE})`);
  const out = new OutputSink(1);
  const machine = new Machine({
    ramMiB: intOption(values.ram, 'ram', 128, 1, 2047),
    harts: intOption(values.harts, 'harts', 1, 1, 8),
    shift: intOption(values.shift, 'shift', 0, 0, 10),
    jit: !values['no-jit'],
    onOutput: out.put,
  });
  const maxInsns = intOption(values['max-insns'], 'max-insns', Number.MAX_SAFE_INTEGER, 1);
  machine.loadElf(readElfFile(positionals[0]), positionals[0]);
  for (const w of machine.loadWarnings) process.stderr.write(`rewind: warning: ${w}\n`);

  const input = values.input as string | undefined;
  let inputEnded = true;
  if (input !== undefined && input !== '-') {
    try {
      machine.pushInput(fs.readFileSync(input));
    } catch (e) {
      throw new RewindError('INPUT_MISSING', `cannot read input ${input}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else if (input === '-') {
    inputEnded = false;
    process.stdin.on('data', (d: Buffer) => machine.pushInput(d));
    process.stdin.on('end', () => { inputEnded = true; });
  }

  const t0 = process.hrtime.bigint();
  for (;;) {
    const stopAt = inputEnded && !machine.waitingOnHost() ? maxInsns : Math.min(maxInsns, machine.icount + STREAM_CHUNK);
    const result = machine.run(stopAt);
    out.flush();
    const done = result.reason === 'exit' || result.reason === 'stuck' || (result.reason === 'limit' && machine.icount >= maxInsns)
      || (result.reason === 'idle' && inputEnded && !machine.waitingOnHost());
    if (done) return finish(machine, result, t0, maxInsns, input === '-');
    // Streaming stdin: idle guests wait for the next input; busy ones only let pending
    // 'data' events in before running on.
    await new Promise<void>((r) => (result.reason === 'idle' ? setTimeout(r, 10) : setImmediate(r)));
  }
}

function finish(machine: Machine, result: RunResult, t0: bigint, maxInsns: number, streamed: boolean): number {
  if (streamed) process.stdin.destroy();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const mips = machine.icount / secs / 1e6;
  process.stderr.write(`rewind: ${machine.icount} instructions in ${secs.toFixed(3)} s (${mips.toFixed(1)} MIPS)\n`);
  if (result.reason === 'limit') {
    process.stderr.write(`rewind: stopped at the instruction limit (--max-insns ${maxInsns}) at pc 0x${(machine.harts[0].pc >>> 0).toString(16)}\n`);
    return EXIT_LIMIT;
  }
  if (result.reason === 'stuck') {
    const h = machine.harts.find((x) => x.stuck)!;
    process.stderr.write(`rewind: the guest is stuck: hart ${h.hartId} cannot fetch its trap handler at 0x${(h.pc >>> 0).toString(16)} (mtvec points at unmapped memory), so it would trap there forever\n`);
    return EXIT_IDLE;
  }
  if (result.reason === 'idle') {
    const why = machine.hasPendingInput() ? 'input is left but the UART takes no more' : 'no input left';
    process.stderr.write(`rewind: the guest is idle for good: every hart waits in WFI with no timer armed and ${why}\n`);
    return EXIT_IDLE;
  }
  return result.exitCode;
}
