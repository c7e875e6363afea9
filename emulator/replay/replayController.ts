import { Divergence, Player, Recorder, ReplayPosition } from './replayLog';
import { ReplayEvent } from './replayEvent';
import { charRead, charWrite } from './charEvents';
import { hostClockRead } from './clockEvents';
import { snapshotSaved } from './snapshotEvents';
import { migration, runState } from './migrationEvents';

export type ReplayConfig =
  | { mode: 'record'; sink: (e: ReplayEvent) => void }
  | { mode: 'replay'; events: ReplayEvent[] };

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
    if (cfg.mode === 'record') this.recorder = new Recorder(pos, cfg.sink, guard);
    else this.player = new Player(cfg.events, pos, guard);
  }

  get replaying(): boolean {
    return this.player !== undefined;
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
    if (this.recorder) this.recorder.append('EVENT_INTERRUPT', 'interrupt', data);
    else this.player!.take('EVENT_INTERRUPT', data);
  }

  shutdown(cause: string, code: number): void {
    if (this.recorder) this.recorder.append('EVENT_SHUTDOWN', 'shutdown', { cause, code });
    else this.player!.take('EVENT_SHUTDOWN', { cause, code });
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
    this.recorder?.append('EVENT_END', 'end');
  }

  get divergence(): Divergence | undefined {
    return this.player?.divergence;
  }
}
