import type { Player } from '../replay/replayLog';
import { isDebugWrite } from '../replay/debugEvents';
import { ownEvent } from './migrationThread';

/**
 * Replay: where in the log the events of threads other than the vCPUs lie (a migration's, a
 * savevm's) and the debugger's writes — the points where vCPU iterations end as they did when
 * recording. Found as the log grows (live mode), passed as the replay goes.
 */
export class ThreadEvents {
  private readonly at: { index: number; icount: number }[] = [];
  private next = 0;
  private scanned = 0;

  /** Icount of the next such event not yet passed at `icount` (Infinity: none). */
  nextAt(player: Player, icount: number): number {
    const all = player.all;
    for (; this.scanned < all.length; this.scanned++) {
      const e = all[this.scanned];
      if (ownEvent(e, all) || isDebugWrite(e)) this.at.push({ index: e.index, icount: e.icount });
    }
    const consumed = player.consumed;
    // One logged behind an event at a later icount (a rule-breaker stamped it with a stale
    // count) cannot stop the vCPUs: they run on, and find it in the past (a divergence).
    const stale = (o: { index: number; icount: number }) => o.index > 0 && all[o.index - 1].icount > o.icount;
    const passed = (o: { index: number; icount: number }) => o.index < consumed || o.icount < icount || stale(o);
    while (this.next < this.at.length && passed(this.at[this.next])) this.next++;
    return this.next < this.at.length ? this.at[this.next].icount : Infinity;
  }

  /** The next event is a migration's or savevm's, due at `icount`: the threads go on before run() returns. */
  static dueNow(player: Player, icount: number): boolean {
    const e = player.peek();
    return e !== undefined && e.icount === icount && ownEvent(e, player.all);
  }

  /** A machine restored: the search starts over from the log's start. */
  rewind(): void {
    this.next = 0;
  }
}
