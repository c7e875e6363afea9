import { PAGE, RAM_BASE, SystemBus } from '../machine/bus';
import { MachineSnapshot } from '../snapshot/machineSnapshot';

/** One point time travel can restore: everything but RAM, plus the RAM pages changed since the snapshot before it. */
interface Entry {
  icount: number;
  /** Machine state without RAM (CPU, CSRs, devices, threads' position). */
  state: MachineSnapshot;
  /** Replay-log position: events consumed. */
  events: number;
  /** Page -> its contents at this snapshot, for the pages changed since the previous one. */
  pages: Map<number, Uint8Array>;
}

/** What a snapshot costs besides its pages: the JSON-ish state, roughly. */
const ENTRY_OVERHEAD = 4096;

/**
 * Copy-on-write snapshots for time travel. The bus tracks which pages the guest writes after
 * each snapshot (a flag per granule, so only a page's first write in an epoch costs anything);
 * a snapshot keeps just those pages, so it costs what changed since the previous one. A page's
 * contents at snapshot k are the newest version kept at or before k.
 *
 * A memory budget bounds the store: when it fills, snapshots are dropped where they are densest
 * relative to their distance from the newest one, so density falls off toward the past roughly
 * logarithmically. The first snapshot (the start) is never dropped.
 */
export class SnapshotStore {
  private readonly entries: Entry[] = [];
  private bytes = 0;
  /**
   * The snapshot the machine's RAM descends from (the last one taken or restored), by icount;
   * the bus's dirty list holds the pages written since.
   */
  private base: Entry | undefined;

  constructor(private readonly bus: SystemBus, readonly budgetBytes = 512 * 1024 * 1024) {}

  get count(): number {
    return this.entries.length;
  }

  get memoryBytes(): number {
    return this.bytes;
  }

  icounts(): number[] {
    return this.entries.map((e) => e.icount);
  }

  /** The newest snapshot at or before `icount`. */
  atOrBefore(icount: number): { icount: number; events: number } | undefined {
    const i = this.indexAtOrBefore(icount);
    return i < 0 ? undefined : this.entries[i];
  }

  has(icount: number): boolean {
    const i = this.indexAtOrBefore(icount);
    return i >= 0 && this.entries[i].icount === icount;
  }

  /**
   * Takes a snapshot of the machine now (`state` from saveState({ ram: false })). The first one
   * keeps every page that may be non-zero; later ones the pages written since the base.
   */
  take(state: MachineSnapshot, events: number): void {
    const bus = this.bus;
    const pages = new Map<number, Uint8Array>();
    const changed = this.base ? new Set(bus.dirty) : new Set(bus.nonZeroPages());
    // Taken between two older snapshots (after restoring one): the changes since the base are
    // the changes since the snapshot just before it in time, which is the base.
    for (const p of changed) pages.set(p, bus.ram8.slice(p * PAGE, (p + 1) * PAGE));
    const e: Entry = { icount: state.icount, state, events, pages };
    const at = this.indexAtOrBefore(e.icount) + 1;
    if (this.entries[at - 1]?.icount === e.icount) {
      // Already there (deterministic replay reaches the same state): keep the old one.
      this.base = this.entries[at - 1];
      bus.trackDirty();
      return;
    }
    // The next snapshot's pages were relative to the one before us: what changed between us and
    // it is a subset of that, so its versions stay right; nothing to fix.
    this.entries.splice(at, 0, e);
    this.bytes += ENTRY_OVERHEAD + pages.size * PAGE;
    this.base = e;
    bus.trackDirty();
    this.thin();
  }

  /**
   * Adds snapshots kept elsewhere (a recording's spilled ones, in icount order): each holds the
   * pages changed since the one before it, the first every page in use.
   */
  import(snapshots: { icount: number; events: number; state: MachineSnapshot; pages: Map<number, Uint8Array> }[]): void {
    if (this.entries.length) throw new Error('SnapshotStore.import: the store is not empty');
    for (const e of snapshots) {
      this.entries.push({ icount: e.icount, state: e.state, events: e.events, pages: e.pages });
      this.bytes += ENTRY_OVERHEAD + e.pages.size * PAGE;
    }
    this.thin();
  }

  /**
   * Puts RAM back as it was at the snapshot at exactly `icount`, and returns its machine state
   * and replay position for the caller to load.
   */
  restore(icount: number): { state: MachineSnapshot; events: number } {
    const j = this.indexAtOrBefore(icount);
    const target = this.entries[j];
    if (!target || target.icount !== icount) throw new Error(`no snapshot at icount ${icount}`);
    const bus = this.bus;
    // Pages that may differ: written since the base, and changed between the base and the target.
    const touched = new Set<number>(bus.dirty);
    if (this.base) {
      const b = this.entries.indexOf(this.base);
      const lo = Math.min(b, j), hi = Math.max(b, j);
      for (let k = lo + 1; k <= hi; k++) for (const p of this.entries[k].pages.keys()) touched.add(p);
    } else {
      // Nothing restored or taken yet: RAM is what loading the ELF left.
      for (const p of bus.nonZeroPages()) touched.add(p);
      for (let k = 0; k <= j; k++) for (const p of this.entries[k].pages.keys()) touched.add(p);
    }
    const zero = new Uint8Array(PAGE);
    // Restoring is not the guest writing: watchpoints must not hear of it.
    const watch = bus.onWatchedWrite;
    bus.onWatchedWrite = undefined;
    for (const p of touched) bus.writeRam(RAM_BASE + p * PAGE, this.pageAt(p, j) ?? zero);
    bus.onWatchedWrite = watch;
    this.base = target;
    bus.trackDirty();
    return { state: target.state, events: target.events };
  }

  /** Page p's contents at entry j: the newest version at or before it, or undefined for zeros. */
  private pageAt(p: number, j: number): Uint8Array | undefined {
    for (let k = j; k >= 0; k--) {
      const v = this.entries[k].pages.get(p);
      if (v) return v;
    }
    return undefined;
  }

  private indexAtOrBefore(icount: number): number {
    let lo = 0, hi = this.entries.length - 1, r = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid].icount <= icount) { r = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return r;
  }

  /** Drops snapshots until the store fits its budget (see the class comment). */
  private thin(): void {
    while (this.bytes > this.budgetBytes && this.entries.length > 2) {
      const newest = this.entries[this.entries.length - 1].icount;
      let best = -1, bestScore = Infinity;
      for (let k = 1; k < this.entries.length - 1; k++) {
        if (this.entries[k] === this.base) continue;
        const gap = this.entries[k + 1].icount - this.entries[k - 1].icount;
        const score = gap / Math.max(1, newest - this.entries[k].icount);
        if (score < bestScore) { bestScore = score; best = k; }
      }
      if (best < 0) return;
      this.drop(best);
    }
  }

  /** Removes entry k, handing the versions the next one needs over to it. */
  private drop(k: number): void {
    const gone = this.entries[k];
    const next = this.entries[k + 1];
    let freed = ENTRY_OVERHEAD;
    for (const [p, v] of gone.pages) {
      // The next snapshot's view of p was "unchanged since k": that version now lives with it.
      if (!next.pages.has(p)) next.pages.set(p, v);
      else freed += PAGE;
    }
    this.entries.splice(k, 1);
    this.bytes -= freed;
  }
}
