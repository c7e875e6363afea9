import type { Machine } from '../machine/machine';
import { EmuThread, StepResult } from './scheduler';

const SITE = 'main-loop:os_host_main_loop_wait';

/**
 * QEMU's main-loop thread, as far as Rewind's machine needs one: it holds the replay mutex and
 * then the BQL around its dispatch and drops both around its poll. Its one job here is the
 * character backend: host input waiting for the UART is queued as an async event (queueing
 * needs the replay mutex), which the next vCPU iteration delivers and logs. It has nothing to
 * do in replay, where input comes from the log.
 */
export class MainLoopThread implements EmuThread {
  readonly name = 'main-loop';
  readonly site = SITE;
  private inDispatch = false;

  constructor(private readonly m: Machine) {}

  waitingFor(): string {
    return this.inDispatch ? `the replay mutex (held by ${this.m.locks.replay.holder ?? 'nobody'})` : 'host input (polling)';
  }

  step(): StepResult {
    const m = this.m;
    if (!this.inDispatch && !m.inputWanted()) return 'blocked';
    this.inDispatch = true;
    const rr = m.replay !== undefined;
    if (rr && !m.locks.replay.acquire(this.name, SITE)) return 'blocked';
    m.locks.bql.acquire(this.name, SITE);
    m.queueInput();
    m.locks.bql.release(this.name, SITE);
    if (rr) m.locks.replay.release(this.name, SITE);
    this.inDispatch = false;
    return 'ran';
  }
}
