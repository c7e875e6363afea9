import * as fs from 'fs';
import * as path from 'path';
import { parseElf } from '../../emulator/debuginfo/elf';
import { DebugInfo, loadDebugInfo } from '../../emulator/debuginfo/debugInfo';
import { DebugTarget } from '../../emulator/debugger/debugTarget';
import { RewindError } from '../../emulator/errors';
import { DEFAULT_QEMU } from '../../emulator/machine/qemuVersion';
import { LiveRecording } from '../../emulator/session/liveRecording';
import { openRecording, openTimeTravel } from '../../emulator/session/openRecording';
import { parsePolicy } from '../../emulator/threads/scheduler';
import type { LaunchConfig } from './launchArgs';

/** What a launch opens: the engine's target, and what the session needs to know of it. */
export interface OpenedTarget {
  target: DebugTarget;
  info: DebugInfo;
  elfPath: string;
  /** Where the recording is (written in record mode). */
  tracePath: string;
  /** A note for the user about the recording (cut short, damaged past some point). */
  warning?: string;
  /** Between slices of running: the recording's periodic writes. */
  tick(): void;
  /** Writes what is recorded so far to disk (a debugger at a stop appends nothing by itself). */
  flush(): void;
  /** Ends the recording (record mode). */
  close(): void;
  /** Input for the guest's UART: recorded at the end of a live recording, refused elsewhere. */
  pushInput(bytes: Uint8Array): void;
  /** A debugger write at the end of a live recording (recorded, so a replay makes it too); refused elsewhere. */
  writeMemory(addr: number, bytes: Uint8Array): void;
  writeRegister(hart: number, reg: number, value: number): void;
}

function readFile(p: string, what: string, code: string): Uint8Array {
  try {
    return fs.readFileSync(p);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new RewindError(code, `cannot read ${what} ${p}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`);
  }
}

const replayOnly = (): never => {
  throw new RewindError('REPLAY_ONLY', 'this session replays a recording, whose history is fixed: nothing can be written into the guest');
};

/**
 * Opens the launch's target through the engine's session layer (emulator/session), the same the
 * CLI's record / replay / seek use: a live recording of `program`, or a recording to replay.
 */
export function openTarget(cfg: LaunchConfig, onOutput: (byte: number) => void): OpenedTarget {
  const budgetBytes = cfg.snapshotBudget * 1024 * 1024;
  if (cfg.mode === 'record') {
    const elfPath = cfg.program!;
    const elf = readFile(elfPath, 'the program', 'ELF_MISSING');
    const info = loadDebugInfo(parseElf(elf, path.basename(elfPath)));
    const live = new LiveRecording({
      elfPath, elf, tracePath: cfg.trace!, machine: { ramMiB: cfg.ramMiB, harts: cfg.harts, shift: cfg.shift, ...(cfg.qemu !== DEFAULT_QEMU ? { qemu: cfg.qemu } : {}) },
      sched: parsePolicy(cfg.scheduler), lockTrace: cfg.lockTrace, jit: cfg.jit, interval: cfg.snapshotInterval, budgetBytes, onOutput,
    });
    if (cfg.input) live.pushInput(cfg.input);
    const loadWarnings = live.machine.loadWarnings;
    return {
      target: new DebugTarget(live.tt, info, true), info, elfPath, tracePath: cfg.trace!,
      ...(loadWarnings.length ? { warning: loadWarnings.join('; ') } : {}),
      tick: () => live.tick(), flush: () => live.flush(), close: () => live.close(), pushInput: (b) => live.pushInput(b),
      writeMemory: (a, b) => live.writeMemory(a, b), writeRegister: (h, r, v) => live.writeRegister(h, r, v),
    };
  }
  const tracePath = cfg.trace!;
  const { meta } = openRecording(tracePath);
  const elfPath = cfg.program ?? meta.guest.path;
  const elf = readFile(elfPath, 'the program', 'ELF_MISSING');
  const opened = openTimeTravel(tracePath, elf, elfPath, { jit: cfg.jit, onOutput, interval: cfg.snapshotInterval, budgetBytes });
  const info = loadDebugInfo(parseElf(elf, path.basename(elfPath)));
  return {
    target: new DebugTarget(opened.tt, info, false), info, elfPath, tracePath,
    warning: opened.problem ? `${tracePath}: ${opened.problem}; the recording is replayed as far as it goes` : opened.summary ? undefined : `${tracePath} was cut short (no END chunk): it is replayed as far as it goes`,
    tick: () => undefined, flush: () => undefined, close: () => undefined, writeMemory: replayOnly, writeRegister: replayOnly,
    pushInput: () => { throw new RewindError('REPLAY_ONLY', 'input refused: this session replays a recording, whose input is already in it'); },
  };
}

