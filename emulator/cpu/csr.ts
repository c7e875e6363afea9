import type { Hart } from './hart';
import { MIP_MEIP, MIP_MSIP, MIP_MTIP } from '../machine/device';

/** CSR numbers this core implements (privileged spec v20211203, tables 2.2–2.5). */
export const CSR = {
  mstatus: 0x300, misa: 0x301, mie: 0x304, mtvec: 0x305, mstatush: 0x310, mcountinhibit: 0x320,
  mscratch: 0x340, mepc: 0x341, mcause: 0x342, mtval: 0x343, mip: 0x344,
  pmpcfg0: 0x3a0, pmpaddr0: 0x3b0,
  tselect: 0x7a0, tdata1: 0x7a1, tdata2: 0x7a2, tdata3: 0x7a3,
  mcycle: 0xb00, minstret: 0xb02, mcycleh: 0xb80, minstreth: 0xb82,
  cycle: 0xc00, time: 0xc01, instret: 0xc02, cycleh: 0xc80, timeh: 0xc81, instreth: 0xc82,
  mvendorid: 0xf11, marchid: 0xf12, mimpid: 0xf13, mhartid: 0xf14, mconfigptr: 0xf15,
} as const;

export const MSTATUS_MIE = 1 << 3;
export const MSTATUS_MPIE = 1 << 7;
/** MPP is WARL and this core has only M-mode, so it always reads 3 (spec §3.1.6.1). */
export const MSTATUS_MPP = 3 << 11;

/** MXL = 1 (32-bit), extensions A, C, I, M. */
export const MISA = (1 << 30) | (1 << 0) | (1 << 2) | (1 << 8) | (1 << 12);

const MIE_WRITABLE = MIP_MSIP | MIP_MTIP | MIP_MEIP;
const TWO32 = 4294967296;

/**
 * Reads a CSR as the instruction would (after the privilege check, which an M-only core
 * always passes). Returns undefined for a CSR that does not exist: the caller raises an
 * illegal-instruction exception.
 */
export function csrRead(h: Hart, n: number): number | undefined {
  switch (n) {
    case CSR.mstatus: return (h.mstatus | MSTATUS_MPP) >>> 0;
    case CSR.mstatush: return 0;
    case CSR.misa: return MISA >>> 0;
    case CSR.mie: return h.mie;
    case CSR.mtvec: return h.mtvec >>> 0;
    case CSR.mcountinhibit: return 0; // WARL, hardwired to zero: counters always run
    case CSR.mscratch: return h.mscratch >>> 0;
    case CSR.mepc: return h.mepc >>> 0;
    case CSR.mcause: return h.mcause >>> 0;
    case CSR.mtval: return h.mtval >>> 0;
    case CSR.mip: return h.mip;
    case CSR.tselect: return h.tselect;
    case CSR.tdata1: case CSR.tdata2: case CSR.tdata3: return 0; // no triggers: tdata reads zero
    case CSR.mcycle: case CSR.cycle: return lo32(h.cycles());
    case CSR.mcycleh: case CSR.cycleh: return hi32(h.cycles());
    case CSR.minstret: case CSR.instret: return lo32(h.instret());
    case CSR.minstreth: case CSR.instreth: return hi32(h.instret());
    case CSR.time: return lo32(h.clock.mtime());
    case CSR.timeh: return hi32(h.clock.mtime());
    case CSR.mvendorid: case CSR.marchid: case CSR.mimpid: case CSR.mconfigptr: return 0;
    case CSR.mhartid: return h.hartId;
  }
  if (n >= CSR.pmpcfg0 && n < CSR.pmpcfg0 + 4) return h.pmpcfg[n - CSR.pmpcfg0] >>> 0;
  if (n >= CSR.pmpaddr0 && n < CSR.pmpaddr0 + 16) return h.pmpaddr[n - CSR.pmpaddr0] >>> 0;
  // mhpmcounter3..31(h) and mhpmevent3..31 exist but are hardwired to zero, as the spec allows;
  // their unprivileged shadows hpmcounter3..31(h) likewise.
  if ((n >= 0xb03 && n <= 0xb1f) || (n >= 0xb83 && n <= 0xb9f) || (n >= 0x323 && n <= 0x33f)) return 0;
  if ((n >= 0xc03 && n <= 0xc1f) || (n >= 0xc83 && n <= 0xc9f)) return 0;
  return undefined;
}

/**
 * Writes a CSR. Returns false when the write must raise illegal-instruction: the CSR does not
 * exist or is read-only (CSR number bits [11:10] = 0b11, spec §2.1).
 */
export function csrWrite(h: Hart, n: number, v: number): boolean {
  if ((n >>> 10) === 3) return false;
  v |= 0;
  switch (n) {
    case CSR.mstatus: h.mstatus = v & (MSTATUS_MIE | MSTATUS_MPIE); return true;
    case CSR.mstatush: case CSR.misa: case CSR.mcountinhibit: return true; // WARL, no writable bits
    case CSR.mie: h.mie = v & MIE_WRITABLE; return true;
    case CSR.mtvec:
      // Modes 2 and 3 are reserved; QEMU ignores such a write entirely, and so do we.
      if ((v & 3) < 2) h.mtvec = v & ~2;
      return true;
    case CSR.mscratch: h.mscratch = v; return true;
    case CSR.mepc: h.mepc = v & ~1; return true; // IALIGN = 16 with C: only bit 0 is zero
    case CSR.mcause: h.mcause = v; return true;
    case CSR.mtval: h.mtval = v; return true;
    case CSR.mip: return true; // MSIP/MTIP/MEIP are driven by the CLINT and PLIC, read-only here
    case CSR.tselect: h.tselect = 0; return true; // one (absent) trigger: tselect stays 0
    case CSR.tdata1: case CSR.tdata2: case CSR.tdata3: return true;
    case CSR.mcycle: h.setCycles(hi32(h.cycles()) * TWO32 + (v >>> 0)); return true;
    case CSR.mcycleh: h.setCycles((v >>> 0) * TWO32 + lo32(h.cycles())); return true;
    case CSR.minstret: h.setInstret(hi32(h.instret()) * TWO32 + (v >>> 0)); return true;
    case CSR.minstreth: h.setInstret((v >>> 0) * TWO32 + lo32(h.instret())); return true;
  }
  if (n >= CSR.pmpcfg0 && n < CSR.pmpcfg0 + 4) { h.pmpcfg[n - CSR.pmpcfg0] = v; return true; }
  if (n >= CSR.pmpaddr0 && n < CSR.pmpaddr0 + 16) { h.pmpaddr[n - CSR.pmpaddr0] = v; return true; }
  if ((n >= 0xb03 && n <= 0xb1f) || (n >= 0xb83 && n <= 0xb9f) || (n >= 0x323 && n <= 0x33f)) return true;
  return false;
}

function lo32(v: number): number {
  return v % TWO32 >>> 0;
}
function hi32(v: number): number {
  return Math.floor(v / TWO32) >>> 0;
}
