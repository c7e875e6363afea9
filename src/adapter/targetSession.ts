import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { parseElf } from '../../emulator/debuginfo/elf';
import { DebugInfo, loadDebugInfo } from '../../emulator/debuginfo/debugInfo';
import { DebugTarget } from '../../emulator/debugger/debugTarget';
import { RewindError } from '../../emulator/errors';
import { TimeTravel } from '../../emulator/timetravel/timeTravel';
import { openRecording } from '../../emulator/cli/replayCommand';
import { readEvents } from '../../emulator/trace/rwtraceEvents';
import { ChunkType } from '../../emulator/trace/rwtraceFormat';
import { readSpilledSnapshots } from '../../emulator/timetravel/snapshotSpill';
import type { LaunchConfig } from './launchArgs';

/** What a launch opens: the engine's target, and what the session needs to know of it. */
export interface OpenedTarget {
  target: DebugTarget;
  info: DebugInfo;
  elfPath: string;
  /** Where the recording is (written in record mode). */
  tracePath: string;
  /** Writes what is recorded so far to disk (a debugger at a stop appends nothing by itself). */
  flush(): void;
  /** Ends the recording (record mode) and releases the file. */
  close(): void;
  /** A debugger write at the end of a live recording (recorded, so a replay makes it too); refused elsewhere. */
  writeMemory(addr: number, bytes: Uint8Array): void;
  writeRegister(hart: number, reg: number, value: number): void;
}

const noWrites = {
  writeMemory(): void {
    throw new RewindError('NOT_YET', 'writing guest memory from the debugger is not available yet');
  },
  writeRegister(): void {
    throw new RewindError('NOT_YET', 'writing guest registers from the debugger is not available yet');
  },
};

function readFile(p: string, what: string, code: string): Uint8Array {
  try {
    return fs.readFileSync(p);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new RewindError(code, `cannot read ${what} ${p}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`);
  }
}

/**
 * Opens the launch's target: a live recording of `program`, or a recording to replay, under
 * time travel. (Being moved into emulator/session, shared with the CLI.)
 */
export function openTarget(cfg: LaunchConfig, onOutput: (byte: number) => void): OpenedTarget {
  if (cfg.mode === 'record') {
    const elfPath = cfg.program!;
    const elf = readFile(elfPath, 'the program', 'ELF_MISSING');
    const image = parseElf(elf, path.basename(elfPath));
    const info = loadDebugInfo(image);
    const tt = new TimeTravel({
      elf, machine: { ramMiB: cfg.ramMiB, harts: cfg.harts, shift: cfg.shift }, events: [], endIcount: 0, live: {},
      interval: cfg.snapshotInterval, budgetBytes: cfg.snapshotBudget * 1024 * 1024, jit: cfg.jit, onOutput,
    });
    if (cfg.input) tt.machine.pushInput(cfg.input);
    return { target: new DebugTarget(tt, info, true, optimisedUnit(info)), info, elfPath, tracePath: cfg.trace!, flush: () => undefined, close: () => undefined, ...noWrites };
  }
  const tracePath = cfg.trace!;
  const { reader, meta } = openRecording(tracePath);
  const elfPath = cfg.program ?? meta.guest.path;
  const elf = readFile(elfPath, 'the program', 'ELF_MISSING');
  if (createHash('sha256').update(elf).digest('hex') !== meta.guest.sha256) throw new RewindError('GUEST_CHANGED', `${elfPath} is not the guest ${tracePath} was recorded with`);
  for (const c of reader.chunks) reader.payload(c);
  const events = readEvents(reader, tracePath);
  const endChunk = reader.stream(ChunkType.END)[0];
  const summary = endChunk ? JSON.parse(new TextDecoder().decode(reader.payload(endChunk))) as { icount: number } : undefined;
  const endIcount = summary ? summary.icount : events.length ? events[events.length - 1].icount : 0;
  const info = loadDebugInfo(parseElf(elf, path.basename(elfPath)));
  const tt = new TimeTravel({ elf, machine: meta.machine, events, endIcount, snapshots: readSpilledSnapshots(reader, tracePath), jit: cfg.jit, onOutput, interval: cfg.snapshotInterval, budgetBytes: cfg.snapshotBudget * 1024 * 1024 });
  return { target: new DebugTarget(tt, info, false, optimisedUnit(info)), info, elfPath, tracePath, flush: () => undefined, close: () => undefined, ...noWrites };
}

/** gdb trusts the locations of optimised units (it does not skip their prologues). */
function optimisedUnit(info: DebugInfo): (addr: number) => boolean {
  void info;
  return () => false;
}
