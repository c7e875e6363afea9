import { RewindError } from '../errors';
import type { MachineShape } from '../machine/machine';
import type { TraceLevel } from '../threads/lockTracer';
import type { SchedulePolicy } from '../threads/scheduler';
import { TimeTravel } from '../timetravel/timeTravel';
import { RecordingFile } from './recordingFile';

export interface LiveRecordingOptions {
  elfPath: string;
  elf: Uint8Array;
  /** The .rwtrace written. */
  tracePath: string;
  machine: MachineShape;
  sched?: SchedulePolicy;
  lockTrace?: TraceLevel;
  jit?: boolean;
  /** Time-travel snapshot interval (instructions) and memory budget (bytes). */
  interval?: number;
  budgetBytes?: number;
  /** Each byte of guest output once, however often the same stretch is replayed. */
  onOutput?: (byte: number) => void;
  /** Who makes it, for the recording's meta (the debugger's launch). */
  madeBy?: string;
}

/**
 * A recording made while being debugged: the machine records at the end of its log, goes back
 * in time by replaying its own log, and records on once back at the end, all into an ordinary
 * .rwtrace that `rewind replay --verify` accepts — whole after close(), and up to the last flush
 * if the process is killed. What the machine does again after going back (its lock operations,
 * its snapshots) is not written twice. Debugger writes into memory and registers are recorded
 * as events, so a replay makes them too.
 */
export class LiveRecording {
  readonly tt: TimeTravel;
  readonly file: RecordingFile;

  constructor(opts: LiveRecordingOptions) {
    const lockTrace = opts.lockTrace ?? 'full';
    const sched = opts.sched ?? { kind: 'fair' };
    this.file = new RecordingFile(opts.tracePath, {
      elfPath: opts.elfPath, elf: opts.elf, machine: opts.machine, sched, lockTrace, madeBy: { debugger: opts.madeBy ?? 'rewind debug adapter' },
    });
    const locks = this.file.lockSink(true);
    let tt: TimeTravel | undefined;
    this.tt = tt = new TimeTravel({
      elf: opts.elf, machine: opts.machine, events: [], endIcount: 0, interval: opts.interval, budgetBytes: opts.budgetBytes, jit: opts.jit,
      live: { sink: this.file.event }, onOutput: opts.onOutput,
      machineExtras: { sched, ...(locks ? { lockTrace: { level: lockTrace, sink: (op) => { if (!tt?.behind) locks(op); } } } : {}) },
    });
    const m = this.tt.machine;
    m.checker?.onViolation((v) => { if (!this.tt.behind) this.file.violation(v, m.icount); });
    this.file.spillSnapshots(m);
  }

  get machine() {
    return this.tt.machine;
  }

  /** Between slices of running: chunks whose time has come, a snapshot on new ground. */
  tick(): void {
    if (!this.file.isClosed) this.file.afterStep(this.tt.machine, !this.tt.behind);
  }

  /** Everything so far to disk (the debugger stopped: nothing else would write it). */
  flush(): void {
    this.file.flush();
  }

  /** Input for the UART, recorded; refused (IN_THE_PAST) behind the end of the log. */
  pushInput(bytes: Uint8Array): void {
    this.closedCheck();
    this.tt.machine.pushInput(bytes);
  }

  writeMemory(address: number, bytes: Uint8Array): void {
    this.closedCheck("a write into the guest's memory");
    this.tt.machine.debugWrite({ target: 'memory', hart: 0, address: address >>> 0, bytes: Array.from(bytes) });
  }

  /** Register `reg` of hart `hart`: x1..x31, or 32 for the pc. */
  writeRegister(hart: number, reg: number, value: number): void {
    this.closedCheck("a write into the guest's registers");
    const v = value >>> 0;
    this.tt.machine.debugWrite({ target: 'register', hart, address: reg, bytes: [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24] });
  }

  /** New input or a write is only taken at the end of what has been recorded. */
  private closedCheck(what = 'input'): void {
    if (this.file.isClosed) throw new RewindError('RECORDING_CLOSED', 'the recording is closed');
    const tt = this.tt;
    if (!tt.atFrontier) throw new RewindError('IN_THE_PAST', `${what} refused: the machine is at icount ${tt.icount}, in the past of the recording (its end is at icount ${tt.endIcount}); go to the end to change what happens`);
  }

  /**
   * Ends the recording: back at its end, the END event and chunk, the state hash there. A guest
   * that has not finished is recorded as interrupted (replay runs to that point).
   */
  close(): void {
    if (this.file.isClosed) return;
    const tt = this.tt;
    tt.goToEnd();
    const m = tt.machine;
    const r = m.run(m.icount); // runs nothing: says whether the guest has ended
    m.replay!.end();
    this.file.close(m, r.reason === 'limit' ? { reason: 'interrupted', exitCode: 0 } : { reason: r.reason, exitCode: r.exitCode });
  }
}
