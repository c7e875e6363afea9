import type { Machine } from '../machine/machine';
import { RAM_BASE } from '../machine/bus';

/** What the hooks report, each while the machine is at that moment. */
export interface HookListener {
  /** A hart is about to execute the instruction at a probed `pc` (icount before it). */
  arrival?(pc: number, icount: number, hart: number): void;
  /** A store into a watched range has just happened (icount before the store). */
  write?(addr: number, len: number, icount: number, pc: number, hart: number): void;
  /** A load from the read-watched range has just happened. */
  read?(addr: number, len: number, icount: number, pc: number, hart: number): void;
  /** A trap is being taken (icount before the trapping instruction, or where an interrupt is taken). */
  trap?(cause: number, tval: number, pc: number, icount: number, hart: number): void;
}

export interface HookConfig {
  pcs: ReadonlySet<number>;
  writes: readonly { lo: number; hi: number }[];
  /** One range covering every read watchpoint (callers filter exactly). */
  read?: { lo: number; hi: number };
  traps: boolean;
}

/**
 * Arms a machine's non-intrusive debugger hooks for a run — breakpoint probes, write and read
 * watchpoints, the trap hook — and takes them off again. None of them changes what the guest
 * does; a listener that wants to stop calls machine.requestStop(). While a hook reports, the
 * reporting hart's pc reads as the instruction's own (a probe fires before the interpreter
 * stores it), so conditions evaluated there see the right frame.
 */
export class MachineHooks {
  private armed = false;
  private jit = true;
  private listener: HookListener = {};

  constructor(private readonly m: Machine) {}

  arm(cfg: HookConfig, listener: HookListener): void {
    if (this.armed) this.disarm();
    const m = this.m;
    const bus = m.bus;
    this.listener = listener;
    this.armed = true;
    this.setPcs(cfg.pcs);
    if (cfg.writes.length) {
      bus.setWriteWatch(cfg.writes.map((r) => ({ lo: r.lo - RAM_BASE, hi: r.hi - RAM_BASE })));
      bus.onWatchedWrite = (off, len, icount, pc) => this.at(m.lastHart, pc, () => this.listener.write?.(off + RAM_BASE, len, icount, pc >>> 0, m.lastHart));
    }
    if (cfg.read) {
      // Inline loads check nothing: while a read watchpoint is on, every access takes the slow
      // path and compiled code is off (slower, the same guest).
      this.jit = bus.blocks.jit;
      bus.slowAll = true;
      bus.blocks.jit = false;
      bus.readWatch = { lo: cfg.read.lo - RAM_BASE, hi: cfg.read.hi - RAM_BASE };
      bus.onWatchedRead = (off, len, icount, pc) => this.at(m.lastHart, pc, () => this.listener.read?.(off + RAM_BASE, len, icount, pc >>> 0, m.lastHart));
    }
    if (cfg.traps) {
      for (const h of m.harts) {
        const hart = h.hartId;
        // The CPU keeps pcs as signed 32-bit values; listeners get them as addresses.
        h.onTrap = (cause, tval, pc, icount) => this.at(hart, pc, () => this.listener.trap?.(cause, tval, pc >>> 0, icount, hart));
      }
    }
  }

  /** Replaces the probed addresses; only between run() calls (a running slice keeps its own). */
  setPcs(pcs: ReadonlySet<number>): void {
    const m = this.m;
    m.bus.blocks.setProbe(pcs.size ? { pcs: pcs as Set<number>, hit: (pc, icount, hart) => this.at(hart, pc, () => this.listener.arrival?.(pc, icount, hart)) } : null);
  }

  disarm(): void {
    if (!this.armed) return;
    const bus = this.m.bus;
    bus.blocks.setProbe(null);
    bus.setWriteWatch([]);
    bus.onWatchedWrite = undefined;
    if (bus.readWatch) {
      bus.slowAll = false;
      bus.blocks.jit = this.jit;
      bus.readWatch = null;
      bus.onWatchedRead = undefined;
    }
    for (const h of this.m.harts) h.onTrap = undefined;
    this.armed = false;
  }

  /** Runs `f` with hart `hart`'s pc reading as `pc`. */
  private at(hart: number, pc: number, f: () => void): void {
    const h = this.m.harts[hart];
    const saved = h.pc;
    h.pc = pc | 0;
    try {
      f();
    } finally {
      h.pc = saved;
    }
  }
}
