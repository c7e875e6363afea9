import { Divergence, Player, Recorder, ReplayPosition } from './replayLog';
import { ReplayEvent } from './replayEvent';
import { charRead, charWrite } from './charEvents';
import { hostClockRead } from './clockEvents';
import { snapshotSaved } from './snapshotEvents';
import { migration, runState } from './migrationEvents';
import { checkpoint, virtualRtClock } from './checkpointEvents';
import type { CheckpointKind } from './eventCodec';

export type ReplayConfig =
  /** `from`: the icount recording starts at (a destination VM, migrated in there). */
  | { mode: 'record'; sink: (e: ReplayEvent) => void; from?: number }
  | { mode: 'replay'; events: ReplayEvent[] }
  /**
   * Record, and go back in time while recording: `events` is the log so far (it grows). While
   * the machine is behind its end it replays; at the end it records again.
   */
  | { mode: 'live'; events: ReplayEvent[]; sink?: (e: ReplayEvent) => void };

/**
 * The machine's one point of contact with record/replay: each hook is called where the machine
 * meets the outside world (host clock, UART input and output, interrupts, shutdown). In record
 * mode the hooks log; in replay mode they feed the logged inputs back and check the outputs.
 * The event families live in their own files (charEvents.ts, clockEvents.ts), as in QEMU's
 * replay/ folder.
 */
export class ReplayController {
  readonly recorder?: Recorder;
  readonly player?: Player;

  /**
   * `guard` is called with every event written or replayed, before it is: the machine checks the
   * calling thread holds the replay mutex there.
   */
  constructor(cfg: ReplayConfig, pos: ReplayPosition, guard?: (event: string) => void) {
    if (cfg.mode === 'record') this.recorder = new Recorder(pos, cfg.sink, guard, 0, cfg.from ?? 0);
    else if (cfg.mode === 'replay') this.player = new Player(cfg.events, pos, guard);
    else {
      const events = cfg.events;
      const player = new Player(events, pos, guard);
      this.player = player;
      this.recorder = new Recorder(pos, (e) => {
        events.push(e);
        player.skipTo(events.length);
        cfg.sink?.(e);
      }, guard, events.length, events.length ? events[events.length - 1].icount : 0);
      this.live = true;
    }
  }

  private readonly live: boolean = false;

  /** A live recording (see ReplayConfig). */
  get isLive(): boolean {
    return this.live;
  }

  /** The recorder, when what happens now is to be logged (record mode, or live at the log's end). */
  get rec(): Recorder | undefined {
    return this.live ? (this.player!.atEnd ? this.recorder : undefined) : this.recorder;
  }

  /** The player, when what happens now comes from the log (replay mode, or live behind its end). */
  get play(): Player | undefined {
    return this.live ? (this.player!.atEnd ? undefined : this.player) : this.player;
  }

  get replaying(): boolean {
    return this.play !== undefined;
  }

  /** A read of the host clock (the Goldfish RTC). */
  hostNow(real: () => bigint): bigint {
    return hostClockRead(this, real);
  }

  /** A byte the guest sent to the UART. */
  output(byte: number): void {
    charWrite(this, byte);
  }

  /** Record: host input was handed to the UART. */
  inputDelivered(bytes: Uint8Array): void {
    charRead.recorded(this, bytes);
  }

  /** Replay: the input to hand to the UART now, if the log has some at this icount. */
  inputDue(icount: number): Uint8Array | undefined {
    return charRead.due(this, icount);
  }

  interrupt(hart: number, cause: number): void {
    const data = { hart, cause };
    const rec = this.rec;
    if (rec) rec.append('EVENT_INTERRUPT', 'interrupt', data);
    else this.play!.take('EVENT_INTERRUPT', data);
  }

  /**
   * The guest stopped the machine (the test finisher, HTIF). QEMU 7.2's finisher calls exit()
   * at once, so its log has no guest-shutdown event, only the SHUTDOWN_HOST_SIGNAL that
   * replay_finish writes at exit; Rewind writes the same, with the exit code beside it.
   */
  /** A synchronous exception taken at `icount` (QEMU's cpu_handle_exception logs each one). */
  exception(hart: number, icount: number): void {
    const rec = this.rec;
    if (rec) rec.append('EVENT_EXCEPTION', 'exception', { hart, cause: 0 }, icount);
    else this.play!.take('EVENT_EXCEPTION', { hart }, icount);
  }

  /**
   * QEMU 10.0's test finisher: qemu_system_shutdown_request_with_code logs the guest's shutdown
   * cause (pass: guest-shutdown, fail: guest-panic) before the exit's SHUTDOWN_HOST_SIGNAL,
   * without the instructions since the previous event (replay_shutdown_request calls
   * replay_put_event alone): QEMU's log has it at that event's icount, Rewind's at the write's.
   */
  guestShutdown(panic: boolean, code: number): void {
    const name = panic ? 'EVENT_SHUTDOWN_GUEST_PANIC' : 'EVENT_SHUTDOWN_GUEST_SHUTDOWN';
    const rec = this.rec;
    if (rec) rec.append(name, 'shutdown', { code }, undefined, true);
    else this.play!.take(name, { code });
  }

  shutdown(cause: string, code: number): void {
    const rec = this.rec;
    if (rec) rec.append('EVENT_SHUTDOWN_HOST_SIGNAL', 'shutdown', { cause, code });
    else this.play!.take('EVENT_SHUTDOWN_HOST_SIGNAL', { cause, code });
  }

  /** A checkpoint (replay/checkpointEvents.ts); false: replay diverged. */
  checkpoint(kind: CheckpointKind, icount?: number): boolean {
    return checkpoint(this, kind, icount);
  }

  /** A read of QEMU_CLOCK_VIRTUAL_RT, logged. */
  virtualRt(realNs: () => bigint, icount?: number): bigint {
    return virtualRtClock(this, realNs, icount);
  }

  /** A snapshot was taken here (record), or replay has reached where one was (false: diverged). */
  snapshot(id: number): boolean {
    return snapshotSaved(this, id);
  }

  /** The VM stops or runs again (the migration thread). False: replay diverged. */
  runState(state: string): boolean {
    return runState(this, state);
  }

  /** A migration phase: setup, completed (detail: state hash), failed (detail: why). False: diverged. */
  migration(phase: string, target: string, detail = ''): boolean {
    return migration(this, phase, target, detail);
  }

  /** Record: the last event, at the final icount. */
  end(): void {
    this.rec?.append('EVENT_END', 'end');
  }

  get divergence(): Divergence | undefined {
    return this.player?.divergence;
  }
}
