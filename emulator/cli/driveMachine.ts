import { Machine, RunResult } from '../machine/machine';
import { readInput } from './machineOptions';

/** Exit codes of the CLI beyond the guest's own (0..255 from the test device or HTIF). */
export const EXIT_USAGE = 2;
export const EXIT_IDLE = 3;
/** A replay-mutex assert fired: the status a shell gives QEMU's abort (128 + SIGABRT). */
export const EXIT_ABORTED = 134;
export const EXIT_LIMIT = 124;
/** Stopped by Ctrl-C or SIGTERM, after flushing output and closing any recording (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/**
 * How long one run() step lasts, in host time: between steps the loop looks at stdin and
 * signals, and a recording writes what is due, so every stream reaches the disk on time
 * whether the guest computes at hundreds of MIPS or polls devices at a few.
 */
const STEP_MS = 20;
const MIN_STEP = 10_000;
const MAX_STEP = 256_000_000;

/** Instructions for the next step, from how long the last `ran` instructions took. */
function nextStep(step: number, ran: number, ms: number): number {
  if (ran < step) return step;   // the step ended early (a pause, an idle hart): no measure
  const fit = ms > 0 ? (step * STEP_MS) / ms : step * 4;
  return Math.round(Math.min(MAX_STEP, Math.max(MIN_STEP, step / 4, Math.min(fit, step * 4))));
}

export interface DriveOptions {
  /** A file to feed the UART, '-' for stdin, or nothing. */
  input?: string;
  maxInsns: number;
  /** Called after every run() step, e.g. to flush output. */
  afterStep?: () => void;
  /** Instruction counts at which to stop and call `action` (e.g. take a snapshot), in order. */
  pauses?: { at: number; action: () => void }[];
}

/**
 * Runs a machine to its end as the CLI does: input from a file or streamed from stdin, an
 * instruction limit, and waiting (not spinning) while an idle guest waits for the host.
 */
export async function driveMachine(machine: Machine, opts: DriveOptions): Promise<{ result: RunResult; seconds: number; interrupted: boolean }> {
  // The machine returns to this loop every few million instructions (splitting a run changes
  // nothing the guest sees), so Ctrl-C is handled here: output flushed, a recording closed.
  let interrupted = false;
  const onSignal = () => { interrupted = true; };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let inputEnded = true;
  if (opts.input !== undefined && opts.input !== '-') {
    machine.pushInput(readInput(opts.input));
  } else if (opts.input === '-') {
    inputEnded = false;
    process.stdin.on('data', (d: Buffer) => machine.pushInput(d));
    process.stdin.on('end', () => { inputEnded = true; });
  }
  const pauses = [...(opts.pauses ?? [])].sort((a, b) => a.at - b.at);
  const t0 = process.hrtime.bigint();
  let step = 100_000;
  try {
    for (;;) {
      const pause = pauses.find((p) => p.at >= machine.icount);
      let stopAt = Math.min(opts.maxInsns, machine.icount + step);
      if (pause) stopAt = Math.min(stopAt, pause.at);
      const from = machine.icount;
      const s0 = performance.now();
      const result = machine.run(stopAt);
      if (stopAt === from + step) step = nextStep(step, machine.icount - from, performance.now() - s0);
      if (pause && machine.icount === pause.at && result.reason === 'limit') {
        pauses.splice(pauses.indexOf(pause), 1);
        pause.action();
        continue;
      }
      opts.afterStep?.();
      const done = result.reason === 'exit' || result.reason === 'stuck' || result.reason === 'diverged' || result.reason === 'aborted' || result.reason === 'postmigrate'
        || (result.reason === 'limit' && machine.icount >= opts.maxInsns)
        || (result.reason === 'idle' && inputEnded && !machine.waitingOnHost());
      if (done || interrupted) return { result, seconds: Number(process.hrtime.bigint() - t0) / 1e9, interrupted: interrupted && !done };
      // Streaming stdin: idle guests wait for the next input; busy ones only let pending
      // 'data' events in before running on.
      await new Promise<void>((r) => (result.reason === 'idle' ? setTimeout(r, 10) : setImmediate(r)));
    }
  } finally {
    if (opts.input === '-') process.stdin.destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The closing stderr lines every running command prints, and its exit code: the instruction
 * count and speed, then why the run ended if the guest did not end it itself.
 */
export function reportRun(machine: Machine, result: RunResult, seconds: number, maxInsns: number, interrupted = false): number {
  if (result.reason === 'diverged') {
    // An error, and only that: one line saying where and how.
    const d = machine.replay!.divergence!;
    process.stderr.write(`rewind: replay diverged at event #${d.eventIndex}, icount ${d.icount}, pc 0x${d.pc.toString(16)}: the log expected ${d.expected}, the machine did ${d.actual}\n`);
    return EXIT_USAGE;
  }
  const mips = machine.icount / seconds / 1e6;
  process.stderr.write(`rewind: ${machine.icount} instructions in ${seconds.toFixed(3)} s (${mips.toFixed(1)} MIPS)\n`);
  if (interrupted) {
    process.stderr.write(`rewind: interrupted at icount ${machine.icount}, pc 0x${(machine.harts[0].pc >>> 0).toString(16)}\n`);
    return EXIT_INTERRUPTED;
  }
  switch (result.reason) {
    case 'exit':
      return result.exitCode;
    case 'limit':
      process.stderr.write(`rewind: stopped at the instruction limit (--max-insns ${maxInsns}) at pc 0x${(machine.harts[0].pc >>> 0).toString(16)}\n`);
      return EXIT_LIMIT;
    case 'stuck': {
      const h = machine.harts.find((x) => x.stuck)!;
      process.stderr.write(`rewind: the guest is stuck: hart ${h.hartId} cannot fetch its trap handler at 0x${(h.pc >>> 0).toString(16)} (mtvec points at unmapped memory), so it would trap there forever\n`);
      return EXIT_IDLE;
    }
    case 'postmigrate':
      process.stderr.write(`rewind: the VM migrated out at icount ${machine.icount}: the source stays in postmigrate, as QEMU's, and runs no more (rewind record --incoming FILE goes on from the migrated state)\n`);
      return 0;
    case 'aborted':
      process.stderr.write(`rewind: ${machine.aborted} (the recording stops here, as QEMU aborts; --assert off goes on)\n`);
      return EXIT_ABORTED;
    case 'idle': {
      const why = machine.hasPendingInput() ? 'input is left but the UART takes no more' : 'no input left';
      process.stderr.write(`rewind: the guest is idle for good: every hart waits in WFI with no timer armed and ${why}\n`);
      return EXIT_IDLE;
    }
  }
}
