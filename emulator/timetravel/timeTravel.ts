import { Machine, MachineConfig, RunResult } from '../machine/machine';
import { RAM_BASE } from '../machine/bus';
import { RewindError } from '../errors';
import { ReplayEvent } from '../replay/replayEvent';
import { SnapshotStore } from './snapshotStore';
import { SpilledSnapshot } from './snapshotSpill';

export interface TimeTravelOptions {
  elf: Uint8Array;
  machine: Pick<MachineConfig, 'ramMiB' | 'harts' | 'shift' | 'qemu'>;
  /** The recording's events; the replay is driven by them. */
  events: ReplayEvent[];
  /** Where the recording ends (its final icount); ignored for a live recording, whose end moves. */
  endIcount: number;
  /**
   * A live recording: the machine records (into `events`, and `sink` if given) whenever it is at
   * the end of the log, and replays it when sent back; new input is refused while in the past.
   */
  live?: { sink?: (e: ReplayEvent) => void };
  /** Instructions between periodic snapshots (default 2,000,000). */
  interval?: number;
  /** Snapshot memory budget (default 512 MiB). */
  budgetBytes?: number;
  jit?: boolean;
  /** Snapshots the recording already holds (see snapshotSpill.ts): seeks start from them. */
  snapshots?: SpilledSnapshot[];
  /** The guest's output, each byte once: output replayed again after going back is not repeated. */
  onOutput?: (byte: number) => void;
  /** The rest of the machine's configuration (scheduler, lock tracing), as a recording has it. */
  machineExtras?: Pick<MachineConfig, 'sched' | 'lockTrace' | 'hostNowNs'>;
}

/** A breakpoint or watchpoint hit: where (icount before the instruction) and which instruction. */
export interface Hit {
  icount: number;
  pc: number;
  hart: number;
}

/**
 * Time travel over a recording: the machine replays the log forward, snapshots are taken every
 * `interval` instructions, and any position is reached by restoring the snapshot at or before it
 * and replaying forward — so going back gives exactly the state a straight run would have,
 * clock, timers and UART included. Backward searches (reverse-continue, last write) scan the
 * snapshot intervals from the newest down, collecting hits with probes that do not disturb the
 * guest, and stop at the first interval that has one.
 */
export class TimeTravel {
  readonly machine: Machine;
  readonly store: SnapshotStore;
  private readonly interval: number;
  /** The furthest icount the guest has reached: output up to it has been shown already. */
  private frontier = 0;
  private frontierEnded = false;

  private behindAt(icount: number): boolean {
    return this.opts.live !== undefined && (icount < this.frontier || (this.frontierEnded && icount === this.frontier));
  }

  constructor(private readonly opts: TimeTravelOptions) {
    this.interval = opts.interval ?? 2_000_000;
    const out = opts.onOutput;
    this.machine = new Machine({
      ...opts.machine, ...opts.machineExtras, jit: opts.jit ?? true,
      replay: opts.live ? { mode: 'live', events: opts.events, sink: opts.live.sink } : { mode: 'replay', events: opts.events },
      onOutput: out ? (b) => { if (this.machine.icount >= this.frontier) out(b); } : undefined,
    });
    this.machine.loadElf(opts.elf);
    this.store = new SnapshotStore(this.machine.bus, opts.budgetBytes);
    if (opts.snapshots?.length) this.store.import(opts.snapshots);
    this.snapshot();
  }

  get icount(): number {
    return this.machine.icount;
  }

  /**
   * The machine is running over ground it has covered before (replaying its own log after going
   * back): what it does there was already recorded — lock operations, snapshots — and is not
   * recorded again.
   */
  get behind(): boolean {
    return this.isBehind;
  }

  private isBehind = false;

  /**
   * A live recording is at how far it has got: only there can it take input or a debugger's
   * write (before it, the stretch after would have been recorded for a different history).
   */
  get atFrontier(): boolean {
    return this.opts.live === undefined ? false : this.machine.icount >= this.frontier;
  }

  /** The end of the recording: fixed for a recording, the furthest point reached for a live one. */
  get endIcount(): number {
    return this.opts.live ? Math.max(this.frontier, this.machine.icount) : this.opts.endIcount;
  }

  private snapshot(): void {
    const m = this.machine;
    this.store.take(m.saveState({ ram: false }), m.replay!.player!.consumed);
  }

  /**
   * Runs forward to `target` (at most the end of the recording; a live one records past it),
   * snapshotting on the way.
   */
  runTo(target: number): RunResult {
    const m = this.machine;
    if (!this.opts.live) target = Math.min(target, this.endIcount);
    let r: RunResult = { reason: 'limit', exitCode: 0 };
    while (m.icount < target) {
      let next = (Math.floor(m.icount / this.interval) + 1) * this.interval;
      // A live recording replays up to how far it got, then records: a run stops at the
      // frontier once, so what happens beyond it is known to be new.
      this.isBehind = this.behindAt(m.icount);
      if (this.isBehind) next = Math.min(next, this.frontier);
      r = m.run(Math.min(target, next));
      if (m.icount > this.frontier) this.frontier = m.icount;
      // The guest ended at the frontier: arriving there again, everything was recorded already.
      if (!this.isBehind && m.icount === this.frontier && (r.reason === 'exit' || r.reason === 'stuck' || r.reason === 'aborted' || r.reason === 'postmigrate')) this.frontierEnded = true;
      if (r.reason === 'limit' && m.icount === next && m.icount % this.interval === 0 && !this.store.has(next)) this.snapshot();
      if (r.reason !== 'limit' || m.debugStopped) break;
    }
    this.isBehind = this.behindAt(m.icount);
    if (m.replay!.divergence) throw new RewindError('DIVERGED', `replay diverged at event #${m.replay!.divergence.eventIndex}, icount ${m.replay!.divergence.icount}: the log expected ${m.replay!.divergence.expected}, the machine did ${m.replay!.divergence.actual}`);
    return r;
  }

  /** Goes to exactly `target` (clamped to the recording): back through a snapshot, or forward. */
  seek(target: number): void {
    target = Math.max(0, Math.min(target, this.endIcount));
    const snap = this.store.atOrBefore(target)!;
    // Restore unless running on from here is the shorter way.
    if (target < this.icount || snap.icount > this.icount) this.restore(snap.icount);
    this.runTo(target);
  }

  private restore(icount: number): void {
    const m = this.machine;
    this.isBehind = this.opts.live !== undefined;
    const { state, events } = this.store.restore(icount);
    m.loadState(state, { ram: false });
    m.replay!.player!.skipTo(events);
  }

  /**
   * reverse-stepi: to the instruction boundary before this one. Some boundaries do not exist (a
   * WFI charges the rest of its block at once), so it goes to the latest one that does.
   */
  stepBack(): boolean {
    const here = this.icount;
    for (let t = here - 1; t >= 0; t--) {
      this.seek(t);
      if (this.icount < here) return true;
    }
    return false;
  }

  goToStart(): void {
    this.seek(0);
  }

  goToEnd(): void {
    this.seek(this.endIcount);
  }

  /** To where event n happened (the log's event index). */
  runToEvent(n: number): void {
    const e = this.opts.events[n];
    if (!e) throw new RewindError('NO_EVENT', `the recording has no event #${n} (it has ${this.opts.events.length})`);
    this.seek(e.icount);
  }

  /** Where the snapshot interval ending at `to` starts (for callers that scan backwards themselves). */
  intervalBefore(to: number): number {
    return this.store.atOrBefore(to - 1)!.icount;
  }

  /**
   * Replays [from, to) calling `onHit` at every arrival at one of `pcs`, while the machine is
   * there (its registers and memory are those of that moment).
   */
  probeInterval(pcs: Set<number>, from: number, to: number, onHit: (pc: number, icount: number, hart: number) => void): void {
    const blocks = this.machine.bus.blocks;
    this.seek(from);
    blocks.setProbe({ pcs, hit: (pc, icount, hart) => { if (icount >= from && icount < to) onHit(pc, icount, hart); } });
    try {
      this.runTo(to);
    } finally {
      blocks.setProbe(null);
    }
  }

  /** reverse-continue: the last arrival at a breakpoint before here; goes there. */
  reverseContinue(pcs: Set<number>): Hit | undefined {
    return this.withBreakpoints(pcs, (hits) => this.searchBack(hits));
  }

  /**
   * reverse-continue with breakpoints and watchpoints together: back to the latest arrival at a
   * breakpoint, store into the write range or load from the read range, whichever came last.
   * All probes ride on the same replays, so hits arrive in order.
   */
  reverseContinueTo(stops: { pcs?: Set<number>; write?: { lo: number; hi: number }; read?: { lo: number; hi: number } }): Hit | undefined {
    const hits: Hit[] = [];
    let run = (): Hit | undefined => this.searchBack(hits);
    const { pcs, write, read } = stops;
    if (pcs?.size) { const inner = run; run = () => this.withBreakpoints(pcs, inner, hits); }
    if (write) { const inner = run; run = () => this.withWriteWatch(write.lo, write.hi, inner, hits); }
    if (read) { const inner = run; run = () => this.withReadWatch(read.lo, read.hi, inner, hits); }
    return run();
  }

  /** The last store to [lo, hi) before `before` (default: here); goes there (before the store). */
  lastWrite(lo: number, hi: number, before = this.icount): Hit | undefined {
    return this.withWriteWatch(lo, hi, (hits) => this.searchBack(hits, before));
  }

  /** The last load (or AMO, LR) from [lo, hi) before `before` (default: here); goes there (before it). */
  lastRead(lo: number, hi: number, before = this.icount): Hit | undefined {
    return this.withReadWatch(lo, hi, (hits) => this.searchBack(hits, before));
  }

  /**
   * Runs `f` with a read watchpoint. Inline loads check nothing (they are the interpreter's
   * fastest path), so while it is on every access takes the slow path and compiled code is off:
   * slower, the same guest.
   */
  private withReadWatch<T>(lo: number, hi: number, f: (hits: Hit[]) => T, hits: Hit[] = []): T {
    const bus = this.machine.bus;
    const jit = bus.blocks.jit;
    bus.slowAll = true;
    bus.blocks.jit = false;
    bus.readWatch = { lo: lo - RAM_BASE, hi: hi - RAM_BASE };
    bus.onWatchedRead = (_off, _len, icount, pc) => hits.push({ icount, pc, hart: this.machine.lastHart });
    try {
      return f(hits);
    } finally {
      bus.slowAll = false;
      bus.blocks.jit = jit;
      bus.readWatch = null;
      bus.onWatchedRead = undefined;
    }
  }

  /** Runs `f` with a breakpoint probe feeding `hits` (the guest runs as it would without). */
  private withBreakpoints<T>(pcs: Set<number>, f: (hits: Hit[]) => T, hits: Hit[] = []): T {
    const blocks = this.machine.bus.blocks;
    blocks.setProbe({ pcs, hit: (pc, icount, hart) => hits.push({ icount, pc, hart }) });
    try {
      return f(hits);
    } finally {
      blocks.setProbe(null);
    }
  }

  /** Runs `f` with a write watchpoint on guest addresses [lo, hi) feeding `hits`. */
  private withWriteWatch<T>(lo: number, hi: number, f: (hits: Hit[]) => T, hits: Hit[] = []): T {
    const bus = this.machine.bus;
    const offLo = lo - RAM_BASE, offHi = hi - RAM_BASE;
    bus.setWriteWatch([{ lo: offLo, hi: offHi }]);
    bus.onWatchedWrite = (off, len, icount, pc) => {
      if (off < offHi && off + len > offLo) hits.push({ icount, pc, hart: this.machine.lastHart });
    };
    try {
      return f(hits);
    } finally {
      bus.setWriteWatch([]);
      bus.onWatchedWrite = undefined;
    }
  }

  /** The hits a probe reports while [from, to) replays (hits is the probe's list). */
  private collect(hits: Hit[], from: number, to: number): Hit[] {
    this.seek(from);
    hits.length = 0;
    this.runTo(to);
    return hits.filter((h) => h.icount >= from && h.icount < to);
  }

  /**
   * Scans snapshot intervals backwards from `before` and goes to the last hit found; stays put
   * (back where it started) when there is none.
   */
  private searchBack(hits: Hit[], before = this.icount): Hit | undefined {
    const start = this.icount;
    let to = before;
    while (to > 0) {
      const from = this.store.atOrBefore(to - 1)!.icount;
      const found = this.collect(hits, from, to);
      if (found.length) {
        const last = found[found.length - 1];
        this.seek(last.icount);
        return last;
      }
      to = from;
    }
    this.seek(start);
    return undefined;
  }
}
