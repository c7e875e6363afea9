import type { Operation } from '../../emulator/debugger/debugTarget';
import type { Stop } from '../../emulator/debugger/stops';

/** Each slice runs about this long, so a pause or any other request waits at most that. */
const SLICE_MS = 20;
/** Long operations say so (DAP progress events) once they have run this long. */
const PROGRESS_AFTER_MS = 400;

export interface RunnerHooks {
  /** After every slice (the guest's output so far goes out). */
  afterSlice(): void;
  /** The operation ended in a stop. */
  stopped(stop: Stop): void;
  /** The operation threw: a divergence, a bad state; the session reports it. */
  failed(error: unknown): void;
  progressStart?(id: string, title: string): void;
  progressUpdate?(id: string, percentage?: number, message?: string): void;
  progressEnd?(id: string): void;
}

/**
 * Drives one Operation at a time in slices on the event loop, so the adapter answers requests
 * while the guest runs: each slice is sized to take about SLICE_MS at the speed the last one ran;
 * between slices a pause is noticed. While the guest waits for input it polls gently.
 */
export class Runner {
  private op?: Operation;
  private title = '';
  private pauseWanted: 'pause' | 'cancel' | undefined;
  private budget = 1_000_000;
  private started = 0;
  private progressId?: string;
  private seq = 0;
  private timer?: NodeJS.Timeout | NodeJS.Immediate;

  constructor(private readonly hooks: RunnerHooks, private readonly pauseStop: (op: Operation) => Stop) {}

  get running(): boolean {
    return this.op !== undefined;
  }

  /** The id of the progress report of the running operation, if one was started. */
  get progress(): string | undefined {
    return this.progressId;
  }

  start(op: Operation, title: string): void {
    if (this.op) throw new Error('internal: an operation is already running');
    this.op = op;
    this.title = title;
    this.pauseWanted = undefined;
    this.started = Date.now();
    this.progressId = undefined;
    this.schedule(0);
  }

  /** Stop at the next slice boundary; the stop is reported with reason `pause`. */
  pause(kind: 'pause' | 'cancel' = 'pause'): void {
    if (this.op) this.pauseWanted = kind;
  }

  /** Ends the running operation without reporting (disconnect). */
  abandon(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.op?.cancel();
    this.op = undefined;
    this.endProgress();
  }

  private schedule(delayMs: number): void {
    this.timer = delayMs > 0 ? setTimeout(() => this.slice(), delayMs) : setImmediate(() => this.slice());
  }

  private slice(): void {
    const op = this.op;
    if (!op) return;
    if (this.pauseWanted) {
      op.cancel();
      this.finish(this.pauseStop(op));
      return;
    }
    const t0 = process.hrtime.bigint();
    let r;
    try {
      r = op.advance(this.budget);
    } catch (e) {
      this.op = undefined;
      this.endProgress();
      this.hooks.afterSlice();
      this.hooks.failed(e);
      return;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    // Aim the next slice at SLICE_MS, within bounds that keep a cold start from overshooting.
    if (ms > 0.5) this.budget = Math.max(10_000, Math.min(200_000_000, Math.round(this.budget * SLICE_MS / ms)));
    else this.budget = Math.min(200_000_000, this.budget * 2);
    this.hooks.afterSlice();
    if (r && 'stop' in r) {
      this.finish(r.stop);
      return;
    }
    this.reportProgress(op);
    // An idle guest waits for input that only the user can give: look again a little later.
    this.schedule(r && 'idle' in r ? 15 : 0);
  }

  private reportProgress(op: Operation): void {
    if (Date.now() - this.started < PROGRESS_AFTER_MS) return;
    const pct = op.progress?.();
    if (!this.progressId) {
      this.progressId = `rewind-${++this.seq}`;
      this.hooks.progressStart?.(this.progressId, this.title);
    }
    this.hooks.progressUpdate?.(this.progressId, pct === undefined ? undefined : Math.round(pct * 100));
  }

  private endProgress(): void {
    if (this.progressId) this.hooks.progressEnd?.(this.progressId);
    this.progressId = undefined;
  }

  private finish(stop: Stop): void {
    this.op = undefined;
    this.endProgress();
    this.hooks.stopped(stop);
  }
}
