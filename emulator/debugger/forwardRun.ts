import type { TimeTravel } from '../timetravel/timeTravel';
import { describeStop } from './runEnd';
import { MachineHooks } from './machineHooks';
import { CodeStop, HitContext, passes, Stop, StopReason, StopSet, WatchHit, WatchStop } from './stops';
import { describeTrap, isInterrupt, TRAP_FILTERS, trapFilterOf } from './trapFilters';

/** One slice of a long operation: a stop when it is over, `idle` while the guest waits for input, else more to do. */
export type Advance = { stop: Stop } | { idle: true } | undefined;

/** A step's own rule, riding on a forward run (see forwardStep.ts). */
export interface StepPlan {
  /** The addresses the plan wants to hear of now. */
  pcs(): ReadonlySet<number>;
  /**
   * An arrival at one of them, the machine at that moment: `stop` ends the step here; `reprobe`
   * stops the machine there to change pcs() and goes on; `go` carries on.
   */
  arrival(ctx: HitContext): 'stop' | 'go' | 'reprobe';
}

export interface ForwardOptions {
  /** A step rule; without one the run continues until a breakpoint, an exception or the end. */
  plan?: StepPlan;
  /** Stop here at the latest (go to icount); the stop's reason is `limitReason`. */
  limit?: number;
  limitReason?: StopReason;
  /** A live recording: running past the end records; an idle guest waits for input. */
  live: boolean;
}

/**
 * Runs the machine forward — continue, or a step — until a breakpoint, a data breakpoint, a trap
 * the user asked to stop on, the step's own target, the end of the recording or the guest's exit,
 * in slices so a front end stays responsive. Every stop is exact: the machine halts at the
 * instruction boundary it belongs to, with its threads where they were, so a live recording goes
 * on recording from there. The arrival the run starts at is not a hit (resuming from a
 * breakpoint does not stop on it again).
 */
export class ForwardRun {
  private readonly hooks: MachineHooks;
  private armed = false;
  private pending?: { stop: Stop; before?: number };
  private reprobe = false;
  private skip: { icount: number; pc: number; hart: number };
  private readonly codeAt = new Map<number, CodeStop[]>();
  private readonly values = new Map<number, Uint8Array>();

  constructor(private readonly tt: TimeTravel, private readonly stops: StopSet, private readonly opts: ForwardOptions) {
    this.hooks = new MachineHooks(tt.machine);
    for (const c of stops.code) for (const a of c.addresses) {
      const list = this.codeAt.get(a >>> 0) ?? [];
      list.push(c);
      this.codeAt.set(a >>> 0, list);
    }
    this.skip = this.here();
  }

  private here(): { icount: number; pc: number; hart: number } {
    const m = this.tt.machine;
    return { icount: m.icount, pc: m.harts[m.lastHart].pc >>> 0, hart: m.lastHart };
  }

  private pcs(): Set<number> {
    const s = new Set<number>(this.codeAt.keys());
    for (const a of this.opts.plan?.pcs() ?? []) s.add(a >>> 0);
    return s;
  }

  private arm(): void {
    const writes = this.stops.watch.filter((w) => w.onWrite);
    const reads = this.stops.watch.filter((w) => w.onRead);
    for (const w of writes) this.values.set(w.id, this.bytes(w));
    this.hooks.arm({
      pcs: this.pcs(),
      writes: writes.map((w) => ({ lo: w.lo, hi: w.hi })),
      read: reads.length ? { lo: Math.min(...reads.map((w) => w.lo)), hi: Math.max(...reads.map((w) => w.hi)) } : undefined,
      traps: true, // an ebreak with no handler always stops
    }, {
      arrival: (pc, icount, hart) => this.onArrival(pc, icount, hart),
      write: (addr, len, icount, pc, hart) => this.onAccess(writes, 'write', addr, len, icount, pc, hart),
      read: (addr, len, icount, pc, hart) => this.onAccess(reads, 'read', addr, len, icount, pc, hart),
      trap: (cause, tval, pc, icount, hart) => this.onTrap(cause, tval, pc, icount, hart),
    });
    this.armed = true;
  }

  private isSkipped(pc: number, icount: number, hart: number): boolean {
    return icount === this.skip.icount && pc === this.skip.pc && hart === this.skip.hart;
  }

  private onArrival(pc: number, icount: number, hart: number): void {
    if (this.pending || this.reprobe || this.isSkipped(pc, icount, hart)) return;
    const ctx: HitContext = { hart, pc, icount, reverse: false };
    const ids: number[] = [];
    let reason: StopReason | undefined;
    for (const c of this.codeAt.get(pc) ?? []) {
      if (passes(c, ctx)) {
        ids.push(c.id);
        reason ??= c.kind;
      }
    }
    if (ids.length) {
      this.stopHere({ reason: reason!, hart, hitIds: ids });
      return;
    }
    const plan = this.opts.plan;
    if (plan && plan.pcs().has(pc)) {
      const r = plan.arrival(ctx);
      if (r === 'stop') this.stopHere({ reason: 'step', hart });
      else if (r === 'reprobe') {
        this.reprobe = true;
        this.tt.machine.requestStop();
      }
    }
  }

  private onAccess(watches: WatchStop[], access: 'write' | 'read', addr: number, len: number, icount: number, pc: number, hart: number): void {
    if (this.pending) return;
    const ctx: HitContext = { hart, pc, icount, reverse: false };
    const hits: WatchHit[] = [];
    for (const w of watches) {
      if (!(addr < w.hi && addr + len > w.lo)) continue;
      const old = this.values.get(w.id) ?? new Uint8Array(0);
      const now = this.bytes(w);
      if (access === 'write') {
        if (sameBytes(old, now)) continue; // stored what was there: the value did not change
        this.values.set(w.id, now);
      }
      if (passes(w, ctx)) hits.push({ id: w.id, old, now, access });
    }
    if (!hits.length) return;
    this.stopHere({ reason: 'data breakpoint', hart, hitIds: hits.map((h) => h.id), watch: hits });
  }

  private onTrap(cause: number, tval: number, pc: number, icount: number, hart: number): void {
    if (this.pending || this.isSkipped(pc, icount, hart)) return;
    const m = this.tt.machine;
    const filter = trapFilterOf(cause);
    // An ebreak into nowhere (no trap vector that can be fetched) is a debugger breakpoint.
    const h = m.harts[hart];
    const unhandled = filter === 'ebreak' && (h.mtvec === 0 || m.bus.fetch16(h.mtvec & ~3) < 0);
    if (!unhandled && !this.stops.traps.has(filter)) return;
    const label = TRAP_FILTERS.find((f) => f.id === filter)!.label;
    const stop: Stop = unhandled
      ? { reason: 'breakpoint', hart, description: 'ebreak', text: `ebreak at 0x${(pc >>> 0).toString(16)} with no trap handler` }
      : { reason: 'exception', hart, description: label, text: describeTrap(cause, tval, pc) };
    // A synchronous exception is shown before the instruction that raises it (as a debugger
    // shows a faulting load); an interrupt where it is taken, at the handler.
    this.pending = { stop, before: isInterrupt(cause) ? undefined : icount };
    m.requestStop();
  }

  private stopHere(stop: Stop): void {
    this.pending = { stop };
    this.tt.machine.requestStop();
  }

  private bytes(w: WatchStop): Uint8Array {
    const m = this.tt.machine;
    const out = new Uint8Array(Math.max(0, w.hi - w.lo));
    for (let i = 0; i < out.length; i++) out[i] = m.bus.peek(w.lo + i, 1);
    return out;
  }

  /** Runs about `budget` instructions (fewer when something stops it). */
  advance(budget: number): Advance {
    if (!this.armed) this.arm();
    const m = this.tt.machine;
    const limit = this.opts.limit ?? Infinity;
    const target = Math.min(limit, m.icount + Math.max(1, budget));
    let r;
    try {
      r = this.tt.runTo(target);
    } catch (e) {
      this.cancel();
      throw e;
    }
    if (this.pending) return this.finish(this.pending.stop, this.pending.before);
    if (this.reprobe) {
      // Stopped before the arrival that asked for it: the plan has seen it, so resuming skips it.
      this.reprobe = false;
      this.hooks.setPcs(this.pcs());
      this.skip = this.here();
      return undefined;
    }
    if (r.reason === 'idle' && this.opts.live) return { idle: true };
    if (r.reason !== 'limit') return this.finish(describeStop(m, r));
    if (m.icount >= limit) return this.finish({ reason: this.opts.limitReason ?? 'goto', hart: m.lastHart });
    if (!this.opts.live && m.icount >= this.tt.endIcount) return this.finish({ reason: 'end', hart: m.lastHart, description: 'end of the recording', text: `the end of the recording, at icount ${m.icount}` });
    return undefined;
  }

  private finish(stop: Stop, before?: number): { stop: Stop } {
    this.cancel();
    if (before !== undefined) landBefore(this.tt, before);
    return { stop };
  }

  /** Takes the hooks off; the machine stays where it is. */
  cancel(): void {
    if (this.armed) this.hooks.disarm();
    this.armed = false;
  }
}

/**
 * Puts the machine just before the instruction that started at icount `at`. A faulting load or
 * store is not counted (as QEMU does), so its trap leaves the icount where it was: going back
 * one instruction and forward again is how to stand before it.
 */
export function landBefore(tt: TimeTravel, at: number): void {
  if (tt.icount > at) {
    tt.seek(at);
  } else if (at > 0) {
    tt.seek(at - 1);
    tt.runTo(at);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
