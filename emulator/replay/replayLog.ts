import { ReplayEvent } from './replayEvent';

/** Where the machine is, for event stamps and divergence reports. */
export interface ReplayPosition {
  icount(): number;
  pc(): number;
}

/** Record mode: every nondeterministic input, and the outputs that pin replay down, appended. */
export class Recorder {
  /** Icount of the last event written: an event further on is preceded by an INSTRUCTION event. */
  private last: number;

  constructor(private readonly pos: ReplayPosition, private readonly sink: (e: ReplayEvent) => void, private readonly guard?: (event: string) => void, private index = 0, lastIcount = 0) {
    this.last = lastIcount;
  }

  /**
   * Appends an event at the machine's icount (or at `icount`, for what QEMU stamps before the
   * instruction that is running: a WFI's sleep). As QEMU's replay_save_instructions does, the
   * instructions run since the previous event are written first, as their own event — unless
   * `uncounted` (QEMU's replay_put_event alone: the next event's INSTRUCTION covers them).
   */
  append(name: string, kind: ReplayEvent['kind'], data: ReplayEvent['data'] = {}, icount = this.pos.icount(), uncounted = false): void {
    this.guard?.(name);
    if (icount > this.last && !uncounted) {
      this.sink({ index: this.index++, icount, kind: 'instruction', name: 'EVENT_INSTRUCTION', offset: -1, data: { instructions: icount - this.last } });
      this.last = icount;
    }
    this.sink({ index: this.index++, icount, kind, name, offset: -1, data });
  }

  /** Continues after a log restored to `icount` (live recording behind its end). */
  resumeAt(icount: number): void {
    this.last = icount;
  }

  get count(): number {
    return this.index;
  }
}

/** What went wrong when replay stopped matching the log. */
export interface Divergence {
  eventIndex: number;
  icount: number;
  pc: number;
  expected: string;
  actual: string;
}

export function describeEvent(e: ReplayEvent | undefined): string {
  if (!e) return 'the end of the log';
  const d = e.data ? Object.entries(e.data).map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : v}`).join(' ') : '';
  return `${e.name}${d ? ' ' + d : ''} at icount ${e.icount}`;
}

/**
 * Replay mode: hands the machine the recorded inputs at exactly the recorded instruction counts
 * and checks every recorded output against what the machine does now. The first mismatch is
 * kept as a Divergence (the machine stops at the next instruction boundary and reports it);
 * nothing is thrown from inside the running guest.
 */
export class Player {
  private next = 0;
  divergence?: Divergence;

  constructor(private readonly events: ReplayEvent[], private readonly pos: ReplayPosition, private readonly guard?: (event: string) => void) {}

  /** Every event there is has been consumed (live mode: the machine is at the log's end). */
  get atEnd(): boolean {
    return this.skipInstructions() >= this.events.length;
  }

  /**
   * INSTRUCTION events say how far the machine runs before the next event, which every event's
   * icount says already: replay passes over them, so they check nothing twice.
   */
  private skipInstructions(): number {
    const ev = this.events;
    while (this.next < ev.length && ev[this.next].kind === 'instruction') this.next++;
    return this.next;
  }

  get all(): readonly ReplayEvent[] {
    return this.events;
  }

  /** The next event not yet consumed. */
  peek(): ReplayEvent | undefined {
    return this.events[this.skipInstructions()];
  }

  get consumed(): number {
    return this.next;
  }

  /** Icount of the next event of one of these names, if it is the next event at all. */
  nextIcountOf(...names: string[]): number | undefined {
    const e = this.events[this.skipInstructions()];
    return e && names.includes(e.name) ? e.icount : undefined;
  }

  /**
   * Consumes the next event, which must be `name` at the current icount with matching `check`
   * fields; returns it, or undefined after recording a divergence.
   */
  take(name: string, check: Record<string, number | string> = {}, icount = this.pos.icount()): ReplayEvent | undefined {
    if (this.divergence) return undefined;
    this.guard?.(name);
    const e = this.events[this.skipInstructions()];
    const ok = e && e.name === name && e.icount === icount && Object.entries(check).every(([k, v]) => e.data?.[k] === v);
    if (!ok) {
      const actual = `${name}${Object.keys(check).length ? ' ' + Object.entries(check).map(([k, v]) => `${k}=${v}`).join(' ') : ''} at icount ${icount}`;
      this.divergence = { eventIndex: this.next, icount, pc: this.pos.pc(), expected: describeEvent(e), actual };
      return undefined;
    }
    this.next++;
    return e;
  }

  /** Continues from event `index` on (replay started from a snapshot taken there). */
  skipTo(index: number): void {
    this.next = index;
  }

  /** Records a divergence found by the machine itself (e.g. it ran past an input's icount). */
  diverge(actual: string): void {
    if (this.divergence) return;
    this.skipInstructions();
    this.divergence = { eventIndex: this.next, icount: this.pos.icount(), pc: this.pos.pc(), expected: describeEvent(this.events[this.next]), actual };
  }
}
