import * as path from 'path';
import { RewindError } from '../../emulator/errors';
import { DEFAULT_QEMU, QEMU_VERSIONS, QemuVersion } from '../../emulator/machine/qemuVersion';

/** A `launch` request's Rewind attributes, checked and with defaults applied. */
export interface LaunchConfig {
  /** `record` (a live recording, time travel from the first stop) or `replay` of `trace`. */
  mode: 'record' | 'replay';
  /** The guest ELF (absolute). Replay: defaults to the one the recording names. */
  program?: string;
  /** Record: the file written (default PROGRAM.rwtrace beside the ELF). Replay: the file read. */
  trace?: string;
  stopOnEntry: boolean;
  /** Bytes fed to the UART from the start (record mode). */
  input?: Uint8Array;
  harts: number;
  shift: number;
  ramMiB: number;
  scheduler: string;
  lockTrace: 'full' | 'replay-only' | 'off';
  /** Instructions between time-travel snapshots. */
  snapshotInterval: number;
  /** Snapshot memory budget, MiB. */
  snapshotBudget: number;
  jit: boolean;
  /** Record: whose record/replay behaviour to follow where QEMU versions differ. */
  qemu: QemuVersion;
}

/**
 * Attributes every VS Code launch configuration carries besides the debugger's own, and those
 * other clients add; they are accepted and ignored.
 */
const GENERIC = new Set(['type', 'request', 'name', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions', 'debugServer',
  'presentation', 'noDebug', 'suppressMultipleSessionWarning', 'console', 'cwd', 'env', 'linux', 'windows', 'osx', 'serverReadyAction']);

interface Attr {
  type: 'string' | 'boolean' | 'integer' | 'input';
  min?: number;
  max?: number;
  values?: readonly string[];
}

/** The launch attributes (the extension's package.json schema says the same for the editor). */
export const LAUNCH_ATTRIBUTES: Record<string, Attr> = {
  program: { type: 'string' },
  mode: { type: 'string', values: ['record', 'replay'] },
  trace: { type: 'string' },
  stopOnEntry: { type: 'boolean' },
  input: { type: 'input' },
  harts: { type: 'integer', min: 1, max: 8 },
  shift: { type: 'integer', min: 0, max: 10 },
  ram: { type: 'integer', min: 1, max: 2047 },
  scheduler: { type: 'string' },
  lockTrace: { type: 'string', values: ['full', 'replay-only', 'off'] },
  snapshotInterval: { type: 'integer', min: 10_000, max: 1 << 30 },
  snapshotBudget: { type: 'integer', min: 16, max: 65536 },
  jit: { type: 'boolean' },
  qemu: { type: 'string', values: QEMU_VERSIONS },
};

const bad = (msg: string): never => {
  throw new RewindError('LAUNCH_INVALID', msg);
};

function checkType(key: string, v: unknown, a: Attr): void {
  const show = JSON.stringify(v)?.slice(0, 60) ?? String(v);
  switch (a.type) {
    case 'string':
      if (typeof v !== 'string') bad(`launch attribute "${key}" must be a string, not ${show}`);
      if (a.values && !a.values.includes(v as string)) bad(`launch attribute "${key}" must be one of ${a.values.map((x) => `"${x}"`).join(', ')}, not ${show}`);
      break;
    case 'boolean':
      if (typeof v !== 'boolean') bad(`launch attribute "${key}" must be true or false, not ${show}`);
      break;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) bad(`launch attribute "${key}" must be an integer, not ${show}`);
      if ((a.min !== undefined && (v as number) < a.min) || (a.max !== undefined && (v as number) > a.max)) bad(`launch attribute "${key}" must be between ${a.min} and ${a.max}, not ${show}`);
      break;
    case 'input': {
      const ok = typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { file?: unknown }).file === 'string' && Object.keys(v).length === 1);
      if (!ok) bad(`launch attribute "input" must be the text to type, or { "file": "path" }, not ${show}`);
      break;
    }
  }
}

/**
 * Checks a launch request's arguments: every attribute known and of its type, paths made
 * absolute against `cwd` (the configuration's, else the adapter's). One-line errors name the
 * attribute and what it takes.
 */
export function parseLaunchArgs(raw: unknown, readFile: (p: string) => Uint8Array): LaunchConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('the launch request needs an arguments object');
  const args = raw as Record<string, unknown>;
  for (const [k, v] of Object.entries(args)) {
    if (k.startsWith('__') || GENERIC.has(k)) continue;
    const a = LAUNCH_ATTRIBUTES[k];
    if (!a) bad(`unknown launch attribute "${k}" (Rewind takes ${Object.keys(LAUNCH_ATTRIBUTES).join(', ')})`);
    if (v !== undefined && v !== null) checkType(k, v, a);
  }
  const cwd = typeof args.cwd === 'string' ? args.cwd : process.cwd();
  const abs = (p: unknown) => (typeof p === 'string' && p !== '' ? path.resolve(cwd, p) : undefined);
  const mode = (args.mode as LaunchConfig['mode'] | undefined) ?? 'record';
  const program = abs(args.program);
  let trace = abs(args.trace);
  if (mode === 'record' && !program) bad('launch attribute "program" is required: the guest ELF to record');
  if (mode === 'replay' && !trace) bad('launch attribute "trace" is required in replay mode: the .rwtrace to replay');
  if (mode === 'record' && !trace) trace = program!.replace(/\.elf$/i, '') + '.rwtrace';
  let input: Uint8Array | undefined;
  if (typeof args.input === 'string') input = new TextEncoder().encode(args.input);
  else if (args.input && typeof args.input === 'object') {
    const f = abs((args.input as { file: string }).file)!;
    input = readFile(f);
  }
  if (mode === 'replay' && input) bad('launch attribute "input" is for recording: a replay takes its input from the recording');
  const scheduler = (args.scheduler as string | undefined) ?? 'fair';
  if (!/^(fair|random:\d+)$/.test(scheduler)) bad(`launch attribute "scheduler" must be "fair" or "random:SEED", not ${JSON.stringify(scheduler)}`);
  return {
    mode, program, trace, input, scheduler,
    stopOnEntry: (args.stopOnEntry as boolean | undefined) ?? false,
    harts: (args.harts as number | undefined) ?? 1,
    shift: (args.shift as number | undefined) ?? 0,
    ramMiB: (args.ram as number | undefined) ?? 128,
    lockTrace: (args.lockTrace as LaunchConfig['lockTrace'] | undefined) ?? 'full',
    snapshotInterval: (args.snapshotInterval as number | undefined) ?? 2_000_000,
    snapshotBudget: (args.snapshotBudget as number | undefined) ?? 512,
    jit: (args.jit as boolean | undefined) ?? true,
    qemu: (args.qemu as QemuVersion | undefined) ?? DEFAULT_QEMU,
  };
}
