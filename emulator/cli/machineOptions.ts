import * as fs from 'fs';
import { MachineShape } from '../machine/machine';
import { DEFAULT_QEMU, parseQemuVersion, QEMU_VERSIONS } from '../machine/qemuVersion';
import { RewindError } from '../errors';
import { intOption } from './args';
import { parsePolicy, SchedulePolicy } from '../threads/scheduler';

/** The options every command that builds a machine takes, for util.parseArgs. */
export const MACHINE_OPTIONS = {
  'max-insns': { type: 'string' }, shift: { type: 'string' }, harts: { type: 'string' },
  ram: { type: 'string' }, 'no-jit': { type: 'boolean' }, sched: { type: 'string' }, qemu: { type: 'string' },
} as const;

export const MACHINE_USAGE = `[--max-insns N] [--shift N] [--harts N] [--ram MiB] [--sched fair|random:SEED] [--qemu ${QEMU_VERSIONS.join('|')}] [--no-jit]`;

type Values = Record<string, string | boolean | undefined>;

/** The machine configuration those options describe (the ones a recording must keep). */
export function machineConfig(values: Values): MachineShape {
  const qemu = values.qemu === undefined ? DEFAULT_QEMU : parseQemuVersion(String(values.qemu));
  return {
    ramMiB: intOption(values.ram, 'ram', 128, 1, 2047),
    harts: intOption(values.harts, 'harts', 1, 1, 8),
    shift: intOption(values.shift, 'shift', 0, 0, 10),
    // Kept only when it is not the default, so recordings made before the switch read the same.
    ...(qemu !== DEFAULT_QEMU ? { qemu } : {}),
  };
}

/** How the emulator's threads interleave (--sched). */
export function schedOption(values: Values): SchedulePolicy {
  return values.sched === undefined ? { kind: 'fair' } : parsePolicy(String(values.sched));
}

export function maxInsnsOption(values: Values): number {
  return intOption(values['max-insns'], 'max-insns', Number.MAX_SAFE_INTEGER, 1);
}

/** Reads a file the user named, with a one-line error that says why it could not be read. */
export function readUserFile(path: string, code = 'FILE_MISSING'): Uint8Array {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new RewindError(code, `cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message}`);
  }
}

export function readElfFile(path: string): Uint8Array {
  return readUserFile(path, 'ELF_MISSING');
}

export function readInput(path: string): Uint8Array {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw new RewindError('INPUT_MISSING', `cannot read input ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
