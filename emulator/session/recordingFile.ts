import { createHash } from 'crypto';
import * as path from 'path';
import { RewindError } from '../errors';
import type { Machine, MachineShape } from '../machine/machine';
import { stateHash } from '../machine/stateHash';
import type { ReplayEvent } from '../replay/replayEvent';
import type { MachineSnapshot } from '../snapshot/machineSnapshot';
import { encodeSnapshot } from '../snapshot/snapshotCodec';
import type { LockOp } from '../threads/lockOp';
import type { LockViolation } from '../threads/lockStats';
import type { LockBatch, LockTracer, TraceLevel } from '../threads/lockTracer';
import type { Job } from '../threads/migrationThread';
import type { SchedulePolicy } from '../threads/scheduler';
import { SnapshotSpiller } from '../timetravel/snapshotSpill';
import { FileSink } from '../trace/fileAccess';
import { EventStreamWriter } from '../trace/rwtraceEvents';
import { ChunkType } from '../trace/rwtraceFormat';
import { LockStreamWriter } from '../trace/rwtraceLocks';
import { appendMarks, Mark } from '../trace/rwtraceMarks';
import { RwtraceWriter } from '../trace/rwtraceWriter';

export const RECORDING_FORMAT = 'rewind-recording';
declare const REWIND_VERSION: string | undefined;

export interface RecordingSpec {
  elfPath: string;
  elf: Uint8Array;
  machine: MachineShape;
  sched: SchedulePolicy;
  lockTrace: TraceLevel;
  jobs?: Job[];
  inject?: string;
  /** A migration's destination: recorded from the state in `file` (icount, state hash). */
  incoming?: { file: string; icount: number; hash: string };
  /** Who made it: the command line, or the debugger's launch. */
  madeBy: { commandLine: string[] } | { debugger: string };
}

/** How a recording ended, for its END chunk. */
export interface RecordingEnd {
  reason: string;
  exitCode: number;
}

export function guestSha256(elf: Uint8Array): string {
  return createHash('sha256').update(elf).digest('hex');
}

/**
 * Writing one Rewind recording: the meta chunk, the events and lock streams, the marks of
 * lock-rule violations, the time-travel snapshots spilled as the run goes, and the END chunk.
 * Everything up to a point goes out together (flush), at least every 100 ms while the machine
 * runs (afterStep), so a recording killed at any moment keeps whole, consistent chunks up to the
 * last flush. `rewind record` and the debugger's live recordings both write through this.
 */
export class RecordingFile {
  private readonly writer: RwtraceWriter;
  private readonly events: EventStreamWriter;
  private readonly locks?: LockStreamWriter;
  private readonly marks: Mark[] = [];
  private spill?: SnapshotSpiller;
  private eventCount = 0;
  private lockCount = 0;
  violations = 0;
  readonly guestSha256: string;
  private closed = false;

  constructor(readonly outPath: string, readonly spec: RecordingSpec) {
    this.guestSha256 = guestSha256(spec.elf);
    const meta = {
      format: RECORDING_FORMAT,
      guest: { path: path.resolve(spec.elfPath), sha256: this.guestSha256, bytes: spec.elf.length },
      machine: spec.machine,
      sched: spec.sched.kind === 'random' ? `random:${spec.sched.seed}` : 'fair',
      lockTrace: spec.lockTrace,
      jobs: spec.jobs ?? [],
      ...(spec.inject ? { inject: spec.inject } : {}),
      ...(spec.incoming ? { incoming: spec.incoming } : {}),
      rewindVersion: typeof REWIND_VERSION === 'string' ? REWIND_VERSION : 'dev',
      ...spec.madeBy,
    };
    try {
      this.writer = new RwtraceWriter(new FileSink(outPath), meta);
    } catch (e) {
      throw new RewindError('OUTPUT', `cannot write ${outPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    this.events = new EventStreamWriter(this.writer);
    // A lock chunk never reaches the disk before the events up to it (a killed recording keeps
    // a lock stream no further on than its event stream).
    if (spec.lockTrace !== 'off') this.locks = new LockStreamWriter(this.writer, { beforeChunk: () => this.events.flush() });
  }

  /** The machine's replay sink: every event recorded. */
  readonly event = (e: ReplayEvent): void => {
    this.eventCount++;
    this.events.append(e);
  };

  /**
   * The lock stream's sink (undefined with --lock-trace off). `renumber`: ops are numbered as
   * written (a live recording drops the ops it replays, and the file's numbers stay dense).
   */
  lockSink(renumber = false): ((op: LockOp) => void) | undefined {
    const locks = this.locks;
    if (!locks) return undefined;
    return renumber ? (op) => { locks.append({ ...op, index: this.lockCount++ }); } : (op) => { this.lockCount++; locks.append(op); };
  }

  /**
   * The lock stream's batch sink (the recorder's fast path), or undefined with --lock-trace off.
   * `tracer`: the machine's, flushed into the file with everything else.
   */
  lockBatchSink(): ((b: LockBatch) => void) | undefined {
    const locks = this.locks;
    if (!locks) return undefined;
    return (b) => {
      this.lockCount += locks.appendBatch(b);
    };
  }

  /** The tracer whose batches go into this file: what it holds is written at every flush. */
  flushesTracer(tracer: LockTracer): void {
    this.tracer = tracer;
  }

  private tracer?: LockTracer;

  get eventsRecorded(): number {
    return this.eventCount;
  }

  get locksRecorded(): number {
    return this.lockCount;
  }

  /** A lock-rule violation: marked in the trace at the op it was found at. */
  violation(v: LockViolation, icount: number, lockOp?: number): void {
    this.violations++;
    this.marks.push({ kind: 'violation', icount: v.icount ?? icount, ...(lockOp !== undefined ? { lockOp } : {}), violation: v, message: v.message });
  }

  /** Time-travel snapshots go into the recording as it is made (a reopened one seeks from them). */
  spillSnapshots(machine: Machine): void {
    this.spill = new SnapshotSpiller(this.writer, machine.bus);
    this.spill.maybe(machine, 0);
  }

  /** A savevm snapshot (--snapshot-at): the state in a SNAPSHOT chunk; its event marks the spot. */
  savevm(id: number, state: MachineSnapshot): void {
    this.flush();
    this.writer.append(ChunkType.SNAPSHOT, encodeSnapshot(state), { firstIcount: state.icount, lastIcount: state.icount, firstItem: id, itemCount: 1 });
  }

  /**
   * Between run() steps: a time-travel snapshot when one is due (`spillAllowed`: on new ground
   * only, for a live recording that went back), and chunks whose time has come.
   */
  afterStep(machine: Machine, spillAllowed = true): void {
    if (this.spill && spillAllowed && this.spill.due(machine.icount)) {
      // The snapshot's event position must be on disk first: flush the events before it.
      this.events.flush();
      this.spill.maybe(machine, this.eventCount);
    }
    this.tracer?.flush();
    this.events.tick();
    this.locks?.tick();
    if (this.marks.length) appendMarks(this.writer, this.marks.splice(0));
  }

  /** Everything recorded so far goes to disk now (a debugger sitting at a stop appends nothing). */
  flush(): void {
    if (this.closed) return;
    this.tracer?.flush();
    this.events.flush();
    this.locks?.flush();
    appendMarks(this.writer, this.marks.splice(0));
  }

  /** The END chunk: how it ended and the machine's final state hash. */
  close(machine: Machine, end: RecordingEnd): void {
    if (this.closed) return;
    this.flush();
    this.writer.close(machine.icount, { icount: machine.icount, reason: end.reason, exitCode: end.exitCode, stateHash: stateHash(machine), violations: this.violations });
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
