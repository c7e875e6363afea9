import { Op, X0_SINK } from './opcodes';
import { decode16, decode32, decoded } from './decode';
import { Cause, IRQ_PRIORITY } from './traps';
import { csrRead, csrWrite, MSTATUS_MIE, MSTATUS_MPIE } from './csr';
import { DECODE_MASK, NO_TAG, RAM_XOR, SystemBus } from '../machine/bus';
import { VirtualClock } from '../machine/virtualClock';
import { IrqLine } from '../machine/device';

const INTERRUPT = 0x80000000;

/** Outcome of a slow-path memory access. */
const enum Access { RAM, MMIO, FAULT }

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
  tselect = 0;
  readonly pmpcfg = new Int32Array(4);
  readonly pmpaddr = new Int32Array(16);
  /** Instructions this hart has retired (QEMU-counted, see above). */
  retired = 0;
  private instretOffset = 0;
  private cycleOffset = 0;
  /** In WFI, waiting for (mip & mie) != 0. */
  halted = false;
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

  instret(): number {
    return this.retired + this.instretOffset;
  }
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

  /** Trap entry into M-mode; returns the handler address. */
  trap(cause: number, tval: number, pc: number): number {
    this.mepc = pc;
    this.mcause = cause | 0;
    this.mtval = tval | 0;
    const mie = this.mstatus & MSTATUS_MIE;
    this.mstatus = mie ? MSTATUS_MPIE : 0;
    const base = this.mtvec & ~3;
    const vectored = (this.mtvec & 1) !== 0 && (cause & INTERRUPT) !== 0;
    return (vectored ? base + 4 * (cause & 0x7fffffff) : base) | 0;
  }

  /** Folds the slice's instructions into the hart's and the clock's counts. */
  private sync(ic: number): void {
    this.retired += ic - this.syncedIc;
    this.syncedIc = ic;
    this.clock.icount = ic;
  }

  private decodeInto(pc: number, idx: number): void {
    const bus = this.bus;
    const lo = bus.fetch16(pc);
    let w: number;
    if (lo < 0) {
      w = Op.FETCH_FAULT;
      decoded.imm = pc;
    } else if ((lo & 3) !== 3) {
      w = decode16(lo);
      if ((w & 0xff) === Op.ILLEGAL) decoded.imm = lo;
    } else {
      const hi = bus.fetch16((pc + 2) | 0);
      if (hi < 0) {
        w = Op.FETCH_FAULT;
        decoded.imm = (pc + 2) | 0;
      } else {
        const insn = lo | (hi << 16);
        // Encodings of 48 bits and longer ([4:2] = 111) are reserved in this core.
        w = (lo & 0x1c) === 0x1c ? Op.ILLEGAL : decode32(insn);
        if ((w & 0xff) === Op.ILLEGAL) decoded.imm = insn;
      }
    }
    this.bus.decodeWord[idx] = w;
    this.bus.decodeImm[idx] = decoded.imm;
    this.bus.decodeTag[idx] = w === Op.FETCH_FAULT ? NO_TAG : pc;
  }

  // Typed as number: TypeScript would otherwise narrow it across the calls that change it.
  private access: number = Access.RAM;

  private loadSlow(a: number, size: 1 | 2 | 4, ic: number): number {
    const off = a ^ RAM_XOR;
    if (off >= 0 && off + size <= this.bus.ramSize) {
      this.access = Access.RAM;
    } else {
      this.sync(ic);
      this.access = Access.MMIO;
    }
    const v = this.bus.load(a, size);
    if (this.bus.fault) this.access = Access.FAULT;
    return v;
  }

  private storeSlow(a: number, size: 1 | 2 | 4, v: number, ic: number): void {
    const off = a ^ RAM_XOR;
    if (off >= 0 && off + size <= this.bus.ramSize) {
      this.access = Access.RAM;
    } else {
      this.sync(ic);
      this.access = Access.MMIO;
    }
    if (!this.bus.store(a, size, v)) this.access = Access.FAULT;
  }

  /**
   * Runs until the clock's icount reaches `limit`, or earlier when something the machine must
   * look at happens: an MMIO access, a CSR access, mret, wfi, a stop request. Interrupts are
   * taken by the machine between slices, which is where QEMU takes them too (at a TB boundary,
   * and every MMIO access or CSR write ends its TB).
   *
   * This is the one long function in the emulator: splitting the switch into calls costs more
   * than a third of the interpreter's speed.
   */
  execute(limit: number): void {
    const x = this.x;
    const bus = this.bus;
    const tags = bus.decodeTag;
    const words = bus.decodeWord;
    const imms = bus.decodeImm;
    const ram8 = bus.ram8;
    const ram16 = bus.ram16;
    const ram32 = bus.ram32;
    const codePages = bus.codePages;
    const ramLim1 = bus.ramSize;
    const ramLim2 = bus.ramSize - 1;
    const ramLim4 = bus.ramSize - 3;
    let pc = this.pc | 0;
    let ic = this.clock.icount;
    let end = limit;
    this.syncedIc = ic;
    while (ic < end) {
      const idx = (pc >>> 1) & DECODE_MASK;
      if (tags[idx] !== pc) this.decodeInto(pc, idx);
      const w = words[idx];
      const imm = imms[idx];
      const rd = (w >>> 8) & 63;
      const rs1 = (w >>> 14) & 31;
      const rs2 = (w >>> 19) & 31;
      const npc = (pc + 4 - ((w >>> 23) & 2)) | 0;
      ic++;
      switch (w & 0xff) {
        case Op.LUI: x[rd] = imm; pc = npc; break;
        case Op.AUIPC: x[rd] = (pc + imm) | 0; pc = npc; break;
        case Op.JAL: x[rd] = npc; pc = (pc + imm) | 0; break;
        case Op.JALR: { const t = (x[rs1] + imm) & ~1; x[rd] = npc; pc = t; break; }
        case Op.BEQ: pc = x[rs1] === x[rs2] ? (pc + imm) | 0 : npc; break;
        case Op.BNE: pc = x[rs1] !== x[rs2] ? (pc + imm) | 0 : npc; break;
        case Op.BLT: pc = x[rs1] < x[rs2] ? (pc + imm) | 0 : npc; break;
        case Op.BGE: pc = x[rs1] >= x[rs2] ? (pc + imm) | 0 : npc; break;
        case Op.BLTU: pc = (x[rs1] >>> 0) < (x[rs2] >>> 0) ? (pc + imm) | 0 : npc; break;
        case Op.BGEU: pc = (x[rs1] >>> 0) >= (x[rs2] >>> 0) ? (pc + imm) | 0 : npc; break;
        case Op.LB: case Op.LBU: case Op.LH: case Op.LHU: case Op.LW: {
          const a = (x[rs1] + imm) | 0;
          const off = a ^ RAM_XOR;
          const op = w & 0xff;
          let v: number;
          if (op === Op.LW && off >= 0 && off < ramLim4 && (off & 3) === 0) v = ram32[off >> 2];
          else if (op === Op.LBU && off >= 0 && off < ramLim1) v = ram8[off];
          else if (op === Op.LB && off >= 0 && off < ramLim1) v = (ram8[off] << 24) >> 24;
          else if (op === Op.LHU && off >= 0 && off < ramLim2 && (off & 1) === 0) v = ram16[off >> 1];
          else if (op === Op.LH && off >= 0 && off < ramLim2 && (off & 1) === 0) v = (ram16[off >> 1] << 16) >> 16;
          else {
            const size = op === Op.LW ? 4 : op === Op.LH || op === Op.LHU ? 2 : 1;
            v = this.loadSlow(a, size, ic);
            if (this.access === Access.FAULT) {
              ic--;
              pc = this.trap(Cause.LOAD_ACCESS, a, pc);
              break;
            }
            if (op === Op.LB) v = (v << 24) >> 24;
            else if (op === Op.LH) v = (v << 16) >> 16;
            if (this.access === Access.MMIO) end = ic;
          }
          x[rd] = v;
          pc = npc;
          break;
        }
        case Op.SB: case Op.SH: case Op.SW: {
          const a = (x[rs1] + imm) | 0;
          const off = a ^ RAM_XOR;
          const op = w & 0xff;
          const v = x[rs2];
          if (op === Op.SW && off >= 0 && off < ramLim4 && (off & 3) === 0) ram32[off >> 2] = v;
          else if (op === Op.SB && off >= 0 && off < ramLim1) ram8[off] = v;
          else if (op === Op.SH && off >= 0 && off < ramLim2 && (off & 1) === 0) ram16[off >> 1] = v;
          else {
            this.storeSlow(a, op === Op.SW ? 4 : op === Op.SH ? 2 : 1, v, ic);
            if (this.access === Access.FAULT) {
              ic--;
              pc = this.trap(Cause.STORE_ACCESS, a, pc);
              break;
            }
            if (this.access === Access.MMIO || bus.watchHit) end = ic;
            pc = npc;
            break;
          }
          if (codePages[off >>> 12] !== 0) {
            bus.noteRamWrite(off, 4);
            if (bus.watchHit) end = ic;
          }
          pc = npc;
          break;
        }
        case Op.ADDI: x[rd] = (x[rs1] + imm) | 0; pc = npc; break;
        case Op.SLTI: x[rd] = x[rs1] < imm ? 1 : 0; pc = npc; break;
        case Op.SLTIU: x[rd] = (x[rs1] >>> 0) < (imm >>> 0) ? 1 : 0; pc = npc; break;
        case Op.XORI: x[rd] = x[rs1] ^ imm; pc = npc; break;
        case Op.ORI: x[rd] = x[rs1] | imm; pc = npc; break;
        case Op.ANDI: x[rd] = x[rs1] & imm; pc = npc; break;
        case Op.SLLI: x[rd] = x[rs1] << imm; pc = npc; break;
        case Op.SRLI: x[rd] = x[rs1] >>> imm; pc = npc; break;
        case Op.SRAI: x[rd] = x[rs1] >> imm; pc = npc; break;
        case Op.ADD: x[rd] = (x[rs1] + x[rs2]) | 0; pc = npc; break;
        case Op.SUB: x[rd] = (x[rs1] - x[rs2]) | 0; pc = npc; break;
        case Op.SLL: x[rd] = x[rs1] << (x[rs2] & 31); pc = npc; break;
        case Op.SLT: x[rd] = x[rs1] < x[rs2] ? 1 : 0; pc = npc; break;
        case Op.SLTU: x[rd] = (x[rs1] >>> 0) < (x[rs2] >>> 0) ? 1 : 0; pc = npc; break;
        case Op.XOR: x[rd] = x[rs1] ^ x[rs2]; pc = npc; break;
        case Op.SRL: x[rd] = x[rs1] >>> (x[rs2] & 31); pc = npc; break;
        case Op.SRA: x[rd] = x[rs1] >> (x[rs2] & 31); pc = npc; break;
        case Op.OR: x[rd] = x[rs1] | x[rs2]; pc = npc; break;
        case Op.AND: x[rd] = x[rs1] & x[rs2]; pc = npc; break;
        case Op.MUL: x[rd] = Math.imul(x[rs1], x[rs2]); pc = npc; break;
        case Op.MULH: x[rd] = mulh(x[rs1], x[rs2]); pc = npc; break;
        case Op.MULHSU: x[rd] = mulhsu(x[rs1], x[rs2]); pc = npc; break;
        case Op.MULHU: x[rd] = mulhu(x[rs1], x[rs2]); pc = npc; break;
        case Op.DIV: { const b = x[rs2]; x[rd] = b === 0 ? -1 : (x[rs1] / b) | 0; pc = npc; break; }
        case Op.DIVU: { const b = x[rs2] >>> 0; x[rd] = b === 0 ? -1 : ((x[rs1] >>> 0) / b) | 0; pc = npc; break; }
        case Op.REM: { const b = x[rs2]; x[rd] = b === 0 ? x[rs1] : (x[rs1] % b) | 0; pc = npc; break; }
        case Op.REMU: { const b = x[rs2] >>> 0; x[rd] = b === 0 ? x[rs1] : ((x[rs1] >>> 0) % b) | 0; pc = npc; break; }
        case Op.FENCE: pc = npc; break;
        case Op.FENCE_I: bus.flushDecodeCache(); pc = npc; break;
        case Op.ECALL: pc = this.trap(Cause.ECALL_M, 0, pc); break;
        case Op.EBREAK: pc = this.trap(Cause.BREAKPOINT, pc, pc); break;
        case Op.MRET:
          this.mstatus = ((this.mstatus & MSTATUS_MPIE) ? MSTATUS_MIE : 0) | MSTATUS_MPIE;
          pc = this.mepc | 0;
          end = ic;
          break;
        case Op.WFI: {
          pc = npc;
          if ((this.mip & this.mie) === 0) this.halted = true;
          // QEMU counts the rest of WFI's translation block although it leaves the block at the
          // WFI (helper_wfi exits without restoring icount), capped at the timer deadline where
          // icount would have cut the block short. The clock sees them; instret does not.
          const tail = Math.min(this.tbTailLength(npc), Math.max(0, this.timerIcount - ic));
          ic += tail;
          this.retired -= tail;
          end = ic;
          break;
        }
        case Op.CSRRW: case Op.CSRRS: case Op.CSRRC: case Op.CSRRWI: case Op.CSRRSI: case Op.CSRRCI: {
          this.sync(ic);
          if (!this.csrOp(w & 0xff, imm, rd, rs1)) {
            ic--;
            this.sync(ic);
            pc = this.trap(Cause.ILLEGAL_INSTRUCTION, 0, pc);
            break;
          }
          pc = npc;
          end = ic;
          break;
        }
        case Op.LR_W: case Op.SC_W: case Op.AMOSWAP_W: case Op.AMOADD_W: case Op.AMOXOR_W:
        case Op.AMOAND_W: case Op.AMOOR_W: case Op.AMOMIN_W: case Op.AMOMAX_W:
        case Op.AMOMINU_W: case Op.AMOMAXU_W: {
          const r = this.atomic(w & 0xff, x[rs1], x[rs2], ic);
          if (r.fault >= 0) {
            ic--;
            pc = this.trap(r.fault, x[rs1], pc);
            break;
          }
          x[rd] = r.value;
          if (this.access === Access.MMIO) end = ic;
          pc = npc;
          break;
        }
        case Op.FETCH_FAULT:
          // QEMU raises the fetch fault before translating anything: nothing is counted.
          ic--;
          pc = this.trap(Cause.FETCH_ACCESS, imm, pc);
          break;
        default: // Op.ILLEGAL
          pc = this.trap(Cause.ILLEGAL_INSTRUCTION, imm, pc);
          break;
      }
    }
    this.pc = pc;
    this.sync(ic);
  }

  /** The icount at which the next timer fires, set by the machine before each slice. */
  timerIcount = Infinity;

  /**
   * How many instructions QEMU's riscv translator would put in a block after `pc` (up to and
   * including the first one that ends a block: a jump, branch, CSR access, trap-raising or
   * privileged instruction, fence.i), staying on pc's 4 KiB page and within TCG_MAX_INSNS.
   */
  private tbTailLength(pc: number): number {
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
      if (endsBlock(w & 0xff)) break;
      pc = (pc + len) | 0;
    }
    return n;
  }

  /** Executes a CSR instruction; false means illegal instruction. */
  private csrOp(op: number, csr: number, rd: number, rs1: number): boolean {
    const imm = op === Op.CSRRWI || op === Op.CSRRSI || op === Op.CSRRCI;
    const src = imm ? rs1 : this.x[rs1];
    const isWrite = op === Op.CSRRW || op === Op.CSRRWI;
    // csrrw with rd = x0 does not read; csrrs/csrrc with rs1 = x0 (or uimm = 0) do not write.
    const reads = !(isWrite && rd === X0_SINK);
    const writes = isWrite || rs1 !== 0;
    let old = 0;
    if (reads || !isWrite) {
      const v = csrRead(this, csr);
      if (v === undefined) return false;
      old = v;
    } else if (csrRead(this, csr) === undefined) {
      return false;
    }
    if (writes) {
      const nv = isWrite ? src : op === Op.CSRRS || op === Op.CSRRSI ? old | src : old & ~src;
      if (!csrWrite(this, csr, nv)) return false;
    }
    this.x[rd] = old | 0;
    return true;
  }

  private readonly atomicResult = { value: 0, fault: -1 };

  private atomic(op: number, a: number, b: number, ic: number): { value: number; fault: number } {
    const r = this.atomicResult;
    r.fault = -1;
    this.access = Access.RAM;
    if (a & 3) {
      // QEMU 7.2 requires natural alignment for LR/SC/AMOs (MO_ALIGN) and reports a load
      // misaligned fault for LR and a store/AMO misaligned fault for the others.
      r.fault = op === Op.LR_W ? Cause.LOAD_MISALIGNED : Cause.STORE_MISALIGNED;
      return r;
    }
    const old = this.loadSlow(a, 4, ic) | 0;
    if (this.access === Access.FAULT) {
      r.fault = op === Op.LR_W ? Cause.LOAD_ACCESS : Cause.STORE_ACCESS;
      return r;
    }
    let nv: number;
    switch (op) {
      case Op.LR_W:
        this.resAddr = a;
        this.resValue = old;
        r.value = old;
        return r;
      case Op.SC_W: {
        const ok = this.resAddr === a && this.resValue === old;
        this.resAddr = -1;
        if (!ok) { r.value = 1; return r; }
        nv = b;
        r.value = 0;
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
    if (op !== Op.SC_W) r.value = old;
    const was = this.access;
    this.storeSlow(a, 4, nv, ic);
    if (this.access === Access.FAULT) r.fault = Cause.STORE_ACCESS;
    else if (was === Access.MMIO) this.access = Access.MMIO;
    return r;
  }

  /** Clears the LR reservation (trap entry, snapshot load). */
  clearReservation(): void {
    this.resAddr = -1;
  }
}

/** Instructions after which QEMU's riscv translator ends a translation block. */
function endsBlock(op: number): boolean {
  return (op >= Op.JAL && op <= Op.BGEU) || (op >= Op.FENCE_I && op <= Op.MRET)
    || (op >= Op.CSRRW && op <= Op.CSRRCI) || op === Op.ILLEGAL;
}

/** Upper 32 bits of the unsigned 64-bit product, in 16-bit limbs so no double loses precision. */
function mulhu(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lo = al * bl;
  const m1 = ah * bl;
  const m2 = al * bh;
  const mid = (lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
  return (ah * bh + (m1 >>> 16) + (m2 >>> 16) + (mid >>> 16)) | 0;
}

function mulh(a: number, b: number): number {
  let h = mulhu(a, b);
  if (a < 0) h = (h - b) | 0;
  if (b < 0) h = (h - a) | 0;
  return h;
}

function mulhsu(a: number, b: number): number {
  let h = mulhu(a, b);
  if (a < 0) h = (h - b) | 0;
  return h;
}

