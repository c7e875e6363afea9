import { RewindError } from '../errors';
import { QEMU_VERSIONS } from '../machine/qemuVersion';
import type { MachineShape } from '../machine/machine';
import type { ReplayEvent } from '../replay/replayEvent';
import { readSpilledSnapshots } from '../timetravel/snapshotSpill';
import { TimeTravel, TimeTravelOptions } from '../timetravel/timeTravel';
import { FileSource } from '../trace/fileAccess';
import { readEvents } from '../trace/rwtraceEvents';
import { ChunkType } from '../trace/rwtraceFormat';
import { RwtraceReader } from '../trace/rwtraceReader';
import { guestSha256, RECORDING_FORMAT } from './recordingFile';

export interface RecordingMeta {
  format: string;
  guest: { path: string; sha256: string };
  machine: MachineShape;
  /** A migration's destination: recorded from the state a migration wrote to `file`. */
  incoming?: { file: string; icount: number; hash: string };
}

/** The END chunk: how the recording finished. Absent when it was cut short (killed). */
export interface RecordingSummary {
  icount: number;
  reason: string;
  exitCode: number;
  stateHash: string;
  violations?: number;
}

/** Opens a .rwtrace that holds a Rewind recording, with a one-line error for anything else. */
export function openRecording(file: string): { reader: RwtraceReader; meta: RecordingMeta } {
  let src: FileSource;
  try {
    src = new FileSource(file);
  } catch (e) {
    throw new RewindError('TRACE_MISSING', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const reader = new RwtraceReader(src, file);
  const meta = reader.meta as unknown as RecordingMeta;
  const m = meta?.machine as unknown as Record<string, unknown> | undefined;
  const ints = m && ['ramMiB', 'harts', 'shift'].every((k) => Number.isInteger(m[k]));
  if (meta?.format !== RECORDING_FORMAT || typeof meta.guest?.sha256 !== 'string' || typeof meta.guest?.path !== 'string' || !ints) {
    throw new RewindError('TRACE_INVALID', `${file}: not a Rewind recording`);
  }
  if (m.qemu !== undefined && !(QEMU_VERSIONS as readonly unknown[]).includes(m.qemu)) {
    throw new RewindError('TRACE_INVALID', `${file}: recorded with the behaviour of QEMU ${JSON.stringify(m.qemu).slice(0, 20)}, which this Rewind does not know (it knows ${QEMU_VERSIONS.join(', ')})`);
  }
  return { reader, meta };
}

/** The END chunk's summary, checked field by field (a crafted one must not crash a reader). */
export function readSummary(reader: RwtraceReader, file: string): RecordingSummary | undefined {
  const end = reader.stream(ChunkType.END)[0];
  if (!end) return undefined;
  let s: unknown;
  try {
    s = JSON.parse(new TextDecoder().decode(reader.payload(end)));
  } catch {
    throw new RewindError('TRACE_CORRUPT', `${file}: the END chunk is not valid JSON`);
  }
  const o = s as Record<string, unknown>;
  const ok = typeof o === 'object' && o !== null && Number.isSafeInteger(o.icount) && (o.icount as number) >= 0
    && typeof o.reason === 'string' && Number.isInteger(o.exitCode) && typeof o.stateHash === 'string';
  if (!ok) throw new RewindError('TRACE_CORRUPT', `${file}: the END chunk does not describe how the recording ended (icount, reason, exit code, state hash)`);
  return o as unknown as RecordingSummary;
}

/** The guest's ELF is the one the recording was made with (by its hash). */
export function checkGuest(meta: RecordingMeta, elf: Uint8Array, elfPath: string, file: string): void {
  const sha = guestSha256(elf);
  if (sha !== meta.guest.sha256) {
    throw new RewindError('GUEST_CHANGED', `${elfPath} is not the guest ${file} was recorded with (sha256 ${sha.slice(0, 12)}..., recorded ${meta.guest.sha256.slice(0, 12)}...)`);
  }
}

export interface OpenedRecording {
  tt: TimeTravel;
  meta: RecordingMeta;
  events: ReplayEvent[];
  summary?: RecordingSummary;
  /** Where the recording ends: the END chunk's icount, or the last event's when it was cut short. */
  endIcount: number;
  /** Cut short (no END chunk), or damaged after some point: what the reader says. */
  problem?: string;
}

/**
 * A recording opened for time travel: checked (every chunk's checksum, the guest's hash, the END
 * chunk), with the time-travel snapshots it holds, so seeks start from the nearest one.
 */
export function openTimeTravel(file: string, elf: Uint8Array, elfPath: string, opts: Partial<Omit<TimeTravelOptions, 'elf' | 'machine' | 'events' | 'endIcount'>> = {}): OpenedRecording {
  const { reader, meta } = openRecording(file);
  checkGuest(meta, elf, elfPath, file);
  if (meta.incoming) throw new RewindError('UNSUPPORTED', `${file} is a migration's destination (it starts from ${meta.incoming.file} at icount ${meta.incoming.icount}): the debugger cannot open it yet; rewind replay ${file} --incoming ${meta.incoming.file} replays it`);
  // Every chunk's checksum, also those a replay does not read (locks, marks).
  for (const c of reader.chunks) reader.payload(c);
  const events = readEvents(reader, file);
  const summary = readSummary(reader, file);
  const endIcount = summary ? summary.icount : events.length ? events[events.length - 1].icount : 0;
  const tt = new TimeTravel({ elf, machine: meta.machine, events, endIcount, snapshots: readSpilledSnapshots(reader, file), ...opts });
  return { tt, meta, events, summary, endIcount, problem: reader.problem ? `${reader.problem.message} (offset 0x${reader.problem.offset.toString(16)})` : undefined };
}
