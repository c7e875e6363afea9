import { LockName } from './lockOp';
import { LockTracer } from './lockTracer';

/**
 * A fair FIFO lock for cooperatively scheduled emulator threads, modelled on QEMU's replay mutex
 * (a mutex plus a condition variable handing out tickets): a thread that asks gets a ticket and
 * holds the lock once its ticket is served; tickets are served in the order they were taken.
 *
 * Threads never block inside the emulator: acquire() answers whether the caller now holds the
 * lock, and a caller told "not yet" yields to the scheduler and asks again later, keeping its
 * place in the queue.
 */
export class TicketLock {
  private nextTicket = 0;
  private serving = 0;
  private readonly tickets = new Map<string, number>();
  holder: string | undefined;
  /** Where the current holder took it, for violation reports. */
  holderSite = '';
  /** The index of the op where the current holder took it. */
  holderOp = -1;

  constructor(readonly name: LockName, private readonly tracer: LockTracer) {}

  acquire(thread: string, site: string): boolean {
    let ticket = this.tickets.get(thread);
    if (ticket === undefined) {
      ticket = this.nextTicket++;
      this.tickets.set(thread, ticket);
      if (ticket !== this.serving || this.holder !== undefined) this.tracer.record(thread, this.name, 'wait', site);
    }
    if (ticket !== this.serving || this.holder !== undefined) return false;
    this.tickets.delete(thread);
    this.holder = thread;
    this.holderSite = site;
    this.holderOp = this.tracer.count;
    this.tracer.record(thread, this.name, 'acquired', site);
    return true;
  }

  release(thread: string, site: string): void {
    if (this.holder !== thread) {
      // Traced, not thrown: the rule checker reports it with both sites, and the run goes on so
      // the user can see the consequences on the timeline.
      this.tracer.record(thread, this.name, 'released', site);
      return;
    }
    this.holder = undefined;
    this.serving++;
    this.tracer.record(thread, this.name, 'released', site);
  }

  /** Forgets holder and queue (a machine restored from a snapshot starts its threads afresh). */
  reset(): void {
    this.tickets.clear();
    this.serving = this.nextTicket;
    this.holder = undefined;
  }

  /** Threads waiting, in the order they will get the lock. */
  waiters(): string[] {
    return [...this.tickets.entries()].sort((a, b) => a[1] - b[1]).map(([t]) => t);
  }

  heldBy(thread: string): boolean {
    return this.holder === thread;
  }
}
