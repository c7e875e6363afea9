import { Op, X0_SINK } from './opcodes';
import { decode16, decode32 } from './decode';
import { Cause, IRQ_PRIORITY } from './traps';
import { csrRead, csrWrite, MSTATUS_MIE, MSTATUS_MPIE } from './csr';
import { RAM_XOR, SystemBus } from '../machine/bus';
import { execute, Slow } from './interpreter';
import { VirtualClock } from '../machine/virtualClock';
import { IrqLine } from '../machine/device';

const INTERRUPT = 0x80000000;

/**
 * One RV32IMAC machine-mode hart: its architectural state and the interpreter.
 *
 * Instruction counting follows QEMU's icount so that counts match `-icount shift=0` exactly:
 * an instruction is counted when it starts; the ones QEMU rolls back (a load, store or CSR
 * access that faults at run time: QEMU restores icount through cpu_restore_state) are
 * un-counted; the ones QEMU keeps (ecall, ebreak, and illegal encodings, which its translator
 * turns into an exception at the end of the block) stay counted.
 */
export class Hart {
  /** x0..x31, plus x[32], the sink that absorbs writes to x0. */
  readonly x = new Int32Array(33);
  pc = 0;
  mstatus = 0;
  mie = 0;
  mip = 0;
  mtvec = 0;
  mscratch = 0;
  mepc = 0;
  mcause = 0;
  mtval = 0;
  /** mtval on ebreak is the pc (QEMU 10.0), not 0 (7.2): see machine/qemuVersion.ts. */
  ebreakTvalIsPc = false;
  tselect = 0;
  readonly pmpcfg = new Int32Array(4);
  readonly pmpaddr = new Int32Array(16);
  /** Instructions this hart has retired (QEMU-counted, see above). */
  retired = 0;
  private instretOffset = 0;
  private cycleOffset = 0;
  /** Trapping forever on an instruction fetch at the trap handler's own address. */
  stuck = false;
  /** In WFI, waiting for (mip & mie) != 0. */
  halted = false;
  /**
   * Where QEMU's log places what happens while the hart sleeps in WFI: one short of the count
   * the WFI's block is charged, as QEMU only accounts the WFI itself once the hart wakes.
   */
  sleepIcount = 0;
  /** LR/SC reservation: address and the value LR saw (QEMU's load_res / load_val). */
  private resAddr = -1;
  private resValue = 0;
  /** Icount already folded into `retired` and the clock during the current slice. */
  private syncedIc = 0;

  constructor(readonly hartId: number, readonly bus: SystemBus, readonly clock: VirtualClock) {}

  /** The line a device drives to set or clear one mip bit (MSIP, MTIP, MEIP). */
  irqLine(bit: number): IrqLine {
    return {
      set: (level: boolean) => {
        if (level) this.mip |= bit;
        else this.mip &= ~bit;
      },
    };
  }

  /**
   * minstret. A CSR instruction reads the value from before it retires (unprivileged spec
   * §10.1), but `retired` already counts it while it runs: csrRetiring takes it off again.
   */
  instret(): number {
    return this.retired + this.instretOffset - this.csrRetiring;
  }
  private csrRetiring = 0;
  /** A write replaces the increment of the instruction that makes it (spec §10.1). */
  setInstret(v: number): void {
    this.instretOffset = v - this.retired;
  }
  /** mcycle follows QEMU: it reads the virtual clock, in ns (= instructions at shift 0). */
  cycles(): number {
    return this.clock.virtualNs() + this.cycleOffset;
  }
  setCycles(v: number): void {
    this.cycleOffset = v - this.clock.virtualNs();
  }

  /** Debugger/test access to a CSR, with no side effects beyond the CSR's own. */
  readCsr(n: number): number | undefined {
    return csrRead(this, n);
  }
  writeCsr(n: number, v: number): boolean {
    return csrWrite(this, n, v);
  }

  /** Interrupts pending and enabled in mie, whether or not mstatus.MIE allows taking them. */
  hasWork(): boolean {
    return (this.mip & this.mie) !== 0;
  }

  /** Takes the highest-priority enabled interrupt if there is one (spec §3.1.9). */
  takeInterrupt(): boolean {
    const pending = this.mip & this.mie;
    if (pending === 0 || (this.mstatus & MSTATUS_MIE) === 0) return false;
    for (const irq of IRQ_PRIORITY) {
      if (pending & (1 << irq)) {
        this.pc = this.trap(INTERRUPT | irq, 0, this.pc);
        return true;
      }
    }
    return false;
  }

  /**
   * Told of every trap as it is taken, with the icount before the trapping instruction (or, for
   * an interrupt, where it is taken): the debugger's exception stops. Traps are rare, so the
   * hook costs nothing on the hot path.
   */
  onTrap: ((cause: number, tval: number, pc: number, icount: number) => void) | undefined = undefined;

  /** Trap entry into M-mode; returns the handler address. `ic` is the icount before the instruction. */
  /** Record/replay: told of every synchronous exception (QEMU logs each: replay_exception). */
  onException: ((loggedIcount: number) => void) | undefined = undefined;

  trap(cause: number, tval: number, pc: number, ic = this.clock.icount, logged = ic + 1): number {
    if (this.onTrap !== undefined) this.onTrap(cause, tval, pc, ic);
    // `logged`: where QEMU's log has it — after the trapping instruction, which QEMU counts,
    // except for a faulting access, which cpu_restore_state un-counts.
    if (this.onException !== undefined && (cause & INTERRUPT) === 0) this.onException(logged);
    this.mepc = pc;
    this.mcause = cause | 0;
    this.mtval = tval | 0;
    const mie = this.mstatus & MSTATUS_MIE;
    this.mstatus = mie ? MSTATUS_MPIE : 0;
    const base = this.mtvec & ~3;
    const vectored = (this.mtvec & 1) !== 0 && (cause & INTERRUPT) !== 0;
    return (vectored ? base + 4 * (cause & 0x7fffffff) : base) | 0;
  }

  /** The icount at which the next timer fires, set by the machine before each slice. */
  timerIcount = Infinity;
  /** Where a compiled block leaves the next pc. */
  readonly jitOut = { pc: 0, at: -1 };
  /** Where a slow path that trapped left the pc (the handler's address). */
  trapPc = 0;

  /**
   * Runs this hart until the icount reaches `limit` or the slice must end (interpreter.ts);
   * true when the guest ended it early.
   */
  execute(limit: number): boolean {
    return execute(this, limit);
  }

  beginSlice(ic: number): void {
    this.syncedIc = ic;
  }

  endSlice(ic: number): void {
    this.sync(ic);
  }

  /** Folds the slice's instructions into the hart's and the clock's counts. */
  private sync(ic: number): void {
    this.retired += ic - this.syncedIc;
    this.syncedIc = ic;
    this.clock.icount = ic;
  }

  /**
   * A load or store the interpreter's inline path did not take: misaligned, ROM, MMIO, a hole.
   * `ic` is the icount including this instruction; devices see it through the clock.
   */
  memSlow(w: number, imm: number, pc: number, ic: number): Slow {
    const op = w & 0xff;
    const x = this.x;
    const a = (x[(w >>> 14) & 31] + imm) | 0;
    const size = op === Op.LW || op === Op.SW ? 4 : op === Op.LH || op === Op.LHU || op === Op.SH ? 2 : 1;
    const isStore = op === Op.SB || op === Op.SH || op === Op.SW;
    const mmio = !this.inRam(a, size);
    if (mmio) this.sync(ic);
    this.bus.writeAt = ic - 1;
    this.bus.writePc = pc;
    if (isStore) {
      if (!this.bus.store(a, size, x[(w >>> 19) & 31])) return this.fault(Cause.STORE_ACCESS, a, pc, ic);
    } else {
      let v = this.bus.load(a, size);
      if (this.bus.fault) return this.fault(Cause.LOAD_ACCESS, a, pc, ic);
      if (op === Op.LB) v = (v << 24) >> 24;
      else if (op === Op.LH) v = (v << 16) >> 16;
      x[(w >>> 8) & 63] = v;
    }
    return mmio || this.bus.watchHit ? Slow.END_SLICE : Slow.CONTINUE;
  }

  private inRam(a: number, size: number): boolean {
    const off = (a ^ RAM_XOR) | 0;
    return off >= 0 && off + size <= this.bus.ramSize;
  }

  /** Enters the trap for a faulting access; QEMU un-counts the instruction (cpu_restore_state). */
  private fault(cause: number, addr: number, pc: number, ic: number): Slow {
    this.sync(ic - 1);
    this.trapPc = this.trap(cause, addr, pc, ic - 1, ic - 1);
    return Slow.TRAPPED;
  }

  /** Where rareOp leaves the next pc, and how the instruction counts (see rareOp). */
  nextPc = 0;
  countAdjust = 0;

  /**
   * Every instruction the interpreter does not handle inline: system and CSR instructions,
   * AMOs, illegal encodings and fetch faults. `pc` is the instruction's, `npc` the next one's,
   * `ic` the icount including it. Leaves the next pc in `nextPc` and in `countAdjust` what to
   * add to the one count the instruction got: -1 when QEMU would not count it, a WFI's extra
   * translation-block tail. Returns true when the slice must end.
   */
  rareOp(w: number, imm: number, pc: number, npc: number, ic: number): boolean {
    const op = w & 0xff;
    this.countAdjust = 0;
    this.nextPc = npc;
    switch (op) {
      case Op.FENCE_I:
        this.bus.blocks.flush();
        return false;
      case Op.ECALL:
        this.nextPc = this.trap(Cause.ECALL_M, 0, pc, ic - 1);
        return false;
      case Op.EBREAK:
        // QEMU 7.2 leaves mtval 0 for ebreak, 10.0 sets the pc (the spec allows either).
        this.nextPc = this.trap(Cause.BREAKPOINT, this.ebreakTvalIsPc ? pc : 0, pc, ic - 1);
        return false;
      case Op.MRET:
        this.mstatus = ((this.mstatus & MSTATUS_MPIE) ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
        this.nextPc = this.mepc | 0;
        return true; // interrupts may have become enabled
      case Op.WFI:
        this.countAdjust = this.wfi(npc, ic);
        return true;
      case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI:
        if (this.csrInstruction(w, imm, ic)) return true; // the write may change interrupt state
        this.countAdjust = -1; // QEMU rolls back icount for a CSR access that faults at run time
        this.nextPc = this.trap(Cause.ILLEGAL_INSTRUCTION, csrEncoding(w, imm), pc, ic - 1, ic - 1);
        return false;
      case Op.FETCH_FAULT:
        // QEMU raises the fetch fault before translating anything: nothing is counted.
        this.countAdjust = -1;
        this.nextPc = this.trap(Cause.FETCH_ACCESS, imm, pc, ic - 1, ic - 1);
        if (this.nextPc === pc) {
          // mtvec points at the unfetchable address itself: the hart would trap there forever
          // without executing (or counting) anything, so no instruction limit could stop it.
          this.stuck = true;
          return true;
        }
        return false;
      case Op.ILLEGAL:
        // Counted, as QEMU ends the translation block with the exception.
        this.nextPc = this.trap(Cause.ILLEGAL_INSTRUCTION, imm, pc, ic - 1);
        return false;
      default: {
        const r = this.atomic(w, pc, ic);
        if (r === Slow.TRAPPED) {
          this.countAdjust = -1;
          this.nextPc = this.trapPc;
        }
        return r === Slow.END_SLICE;
      }
    }
  }

  /** LR/SC and the AMOs, always on this slow path. */
  private atomic(w: number, pc: number, ic: number): Slow {
    const op = w & 0xff;
    const x = this.x;
    const a = x[(w >>> 14) & 31];
    const b = x[(w >>> 19) & 31];
    if (a & 3) {
      // QEMU 7.2 requires natural alignment for LR/SC/AMOs (MO_ALIGN) and reports a load
      // misaligned fault for LR and a store/AMO misaligned fault for the others.
      return this.fault(op === Op.LR_W ? Cause.LOAD_MISALIGNED : Cause.STORE_MISALIGNED, a, pc, ic);
    }
    const mmio = !this.inRam(a, 4);
    if (mmio) this.sync(ic);
    this.bus.writeAt = ic - 1;
    this.bus.writePc = pc;
    // SC's comparison with what LR saw is QEMU's implementation (a cmpxchg), not a read the
    // program made: a read watchpoint does not hear of it.
    const quiet = op === Op.SC_W ? this.bus.readWatch : null;
    if (quiet) this.bus.readWatch = null;
    const old = this.bus.load(a, 4) | 0;
    if (quiet) this.bus.readWatch = quiet;
    if (this.bus.fault) return this.fault(op === Op.LR_W ? Cause.LOAD_ACCESS : Cause.STORE_ACCESS, a, pc, ic);
    const rd = (w >>> 8) & 63;
    let nv: number;
    switch (op) {
      case Op.LR_W:
        this.resAddr = a;
        this.resValue = old;
        x[rd] = old;
        return mmio ? Slow.END_SLICE : Slow.CONTINUE;
      case Op.SC_W: {
        // QEMU's SC: succeeds while the reservation address matches and memory still holds the
        // value LR saw (a compare-and-swap), and always ends the reservation.
        const ok = this.resAddr === a && this.resValue === old;
        this.resAddr = -1;
        if (!ok) {
          x[rd] = 1;
          return mmio ? Slow.END_SLICE : Slow.CONTINUE;
        }
        nv = b;
        break;
      }
      case Op.AMOSWAP_W: nv = b; break;
      case Op.AMOADD_W: nv = (old + b) | 0; break;
      case Op.AMOXOR_W: nv = old ^ b; break;
      case Op.AMOAND_W: nv = old & b; break;
      case Op.AMOOR_W: nv = old | b; break;
      case Op.AMOMIN_W: nv = old < b ? old : b; break;
      case Op.AMOMAX_W: nv = old > b ? old : b; break;
      case Op.AMOMINU_W: nv = (old >>> 0) < (b >>> 0) ? old : b; break;
      default: nv = (old >>> 0) > (b >>> 0) ? old : b; break; // AMOMAXU
    }
    if (!this.bus.store(a, 4, nv)) return this.fault(Cause.STORE_ACCESS, a, pc, ic);
    x[rd] = op === Op.SC_W ? 0 : old;
    return mmio || this.bus.watchHit ? Slow.END_SLICE : Slow.CONTINUE;
  }

  /**
   * A CSR instruction; `ic` includes it. Returns false for illegal instruction (no such CSR,
   * or a write to a read-only one).
   */
  csrInstruction(w: number, csr: number, ic: number): boolean {
    this.sync(ic);
    const op = w & 0xff;
    const rd = (w >>> 8) & 63;
    const rs1 = (w >>> 14) & 31;
    const isImm = op === Op.CSRRWI || op === Op.CSRRSI || op === Op.CSRRCI;
    const src = isImm ? rs1 : this.x[rs1];
    const isWrite = op === Op.CSRRW || op === Op.CSRRWI;
    // csrrw with rd = x0 does not read; csrrs/csrrc with rs1 = x0 (or uimm = 0) do not write.
    const writes = isWrite || rs1 !== 0;
    this.csrRetiring = 1;
    try {
      const old = csrRead(this, csr);
      if (old === undefined) return false;
      if (writes) {
        const nv = isWrite ? src : op === Op.CSRRS || op === Op.CSRRSI ? old | src : old & ~src;
        if (!csrWrite(this, csr, nv)) return false;
      }
      if (rd !== X0_SINK) this.x[rd] = old | 0;
      return true;
    } finally {
      this.csrRetiring = 0;
    }
  }

  /**
   * WFI at icount `ic` (included), resuming at `npc`. Returns the extra instructions QEMU counts:
   * the rest of WFI's translation block, which QEMU charges although helper_wfi leaves the
   * block at the WFI without restoring icount; capped at the timer deadline, where icount would
   * have cut the block short. The clock sees them; instret does not.
   */
  wfi(npc: number, ic: number): number {
    const tail = Math.min(this.qemuTbTail(npc), Math.max(0, this.timerIcount - ic));
    if ((this.mip & this.mie) === 0) {
      this.halted = true;
      this.sleepIcount = ic + tail;
    }
    this.retired -= tail;
    return tail;
  }

  /**
   * How many instructions QEMU's riscv translator would put in a block after `pc`: up to and
   * including the first one that ends a block (a jump, branch, CSR access, trap-raising or
   * privileged instruction except WFI, fence.i), staying on pc's 4 KiB page, at most
   * TCG_MAX_INSNS.
   */
  private qemuTbTail(pc: number): number {
    const page = pc >>> 12;
    let n = 0;
    while (n < 511) {
      const lo = this.bus.fetch16(pc);
      if (lo < 0) break;
      const compressed = (lo & 3) !== 3;
      const len = compressed ? 2 : 4;
      if (((pc + len - 1) >>> 12) !== page) break;
      let w: number;
      if (compressed) w = decode16(lo);
      else {
        const hi = this.bus.fetch16((pc + 2) | 0);
        if (hi < 0) break;
        w = (lo & 0x1c) === 0x1c ? Op.ILLEGAL : decode32(lo | (hi << 16));
      }
      n++;
      if (endsQemuTb(w & 0xff)) break;
      pc = (pc + len) | 0;
    }
    return n;
  }

  /** Everything architectural and everything the counters need, as plain JSON. */
  saveState(): HartState {
    return {
      x: Array.from(this.x.subarray(0, 32)), pc: this.pc >>> 0, mstatus: this.mstatus, mie: this.mie, mip: this.mip,
      mtvec: this.mtvec, mscratch: this.mscratch, mepc: this.mepc, mcause: this.mcause, mtval: this.mtval,
      tselect: this.tselect, pmpcfg: Array.from(this.pmpcfg), pmpaddr: Array.from(this.pmpaddr),
      retired: this.retired, instretOffset: this.instretOffset, cycleOffset: this.cycleOffset,
      halted: this.halted, stuck: this.stuck, resAddr: this.resAddr, resValue: this.resValue,
    };
  }

  loadState(s: HartState): void {
    this.x.set(s.x);
    this.x[32] = 0;
    this.pc = s.pc | 0;
    this.mstatus = s.mstatus; this.mie = s.mie; this.mip = s.mip; this.mtvec = s.mtvec;
    this.mscratch = s.mscratch; this.mepc = s.mepc; this.mcause = s.mcause; this.mtval = s.mtval;
    this.tselect = s.tselect;
    this.pmpcfg.set(s.pmpcfg);
    this.pmpaddr.set(s.pmpaddr);
    this.retired = s.retired; this.instretOffset = s.instretOffset; this.cycleOffset = s.cycleOffset;
    this.halted = s.halted; this.stuck = s.stuck; this.resAddr = s.resAddr; this.resValue = s.resValue;
  }

  /** Clears the LR reservation (trap entry, snapshot load). */
  clearReservation(): void {
    this.resAddr = -1;
  }
}

function endsQemuTb(op: number): boolean {
  return (op >= Op.JAL && op <= Op.BGEU) || (op >= Op.FENCE_I && op <= Op.MRET)
    || (op >= Op.CSRRW && op <= Op.CSRRCI) || op === Op.ILLEGAL;
}

/**
 * The 32-bit encoding of a decoded CSR instruction, for mtval on an illegal CSR access (QEMU
 * reports the instruction bits, as the spec permits). Compressed forms do not exist for CSR
 * instructions, so the encoding is exactly recoverable from the decoded fields.
 */
function csrEncoding(w: number, csr: number): number {
  const funct3 = [1, 2, 3, 5, 6, 7][(w & 0xff) - Op.CSRRW];
  const rd = (w >>> 8) & 31; // the x0 sink (32) maps back to 0
  const rs1 = (w >>> 14) & 31;
  return ((csr << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | 0x73) | 0;
}

export interface HartState {
  x: number[]; pc: number; mstatus: number; mie: number; mip: number; mtvec: number; mscratch: number;
  mepc: number; mcause: number; mtval: number; tselect: number; pmpcfg: number[]; pmpaddr: number[];
  retired: number; instretOffset: number; cycleOffset: number; halted: boolean; stuck: boolean;
  resAddr: number; resValue: number;
}
