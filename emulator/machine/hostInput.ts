/**
 * Host input reaches the UART at most once per this many instructions (10 µs of guest time at
 * shift 0, a byte time of a 1 Mbaud line), or at once when every hart sleeps. Handing it over at
 * every iteration would be legal (QEMU's main loop runs whenever it likes) but would make input
 * race a guest's UART set-up far more than real QEMU ever does.
 */
const INPUT_GAP = 10_000;

/**
 * Host input for the UART on its way to the guest: what the host has sent and not yet been
 * queued, and the batch the main loop has queued (as an async char-read event) for the next vCPU
 * loop head to deliver. A new batch is queued no sooner than INPUT_GAP instructions after the last.
 */
export class HostInput {
  private readonly bytes: number[] = [];
  private head = 0;
  private nextAt = 0;
  /** The batch queued for delivery, if any. */
  queued?: Uint8Array;

  push(bytes: Uint8Array): void {
    for (const b of bytes) this.bytes.push(b);
  }

  /** Anything not yet delivered. */
  get pending(): boolean {
    return this.head < this.bytes.length || this.queued !== undefined;
  }

  /** A batch could be queued now (nothing queued, bytes waiting, and the gap passed or the guest idle). */
  ready(icount: number, guestIdle: boolean): boolean {
    return this.queued === undefined && this.head < this.bytes.length && (guestIdle || icount >= this.nextAt);
  }

  /** Queues at most `room` bytes (what the UART says it can take) at `icount`. */
  queue(room: number, icount: number): void {
    this.nextAt = icount + INPUT_GAP;
    const n = Math.min(room, this.bytes.length - this.head);
    if (n <= 0) return;
    this.queued = Uint8Array.from(this.bytes.slice(this.head, this.head + n));
    this.head += n;
    if (this.head === this.bytes.length) {
      this.bytes.length = 0;
      this.head = 0;
    }
  }

  /** The queued batch, handed over for delivery. */
  take(): Uint8Array | undefined {
    const q = this.queued;
    this.queued = undefined;
    return q;
  }
}
