import { Op } from './opcodes';
import type { Hart } from './hart';
import { RAM_XOR } from '../machine/bus';
import { LINE_SHIFT } from './blockCache';
import { COMPILE_THRESHOLD } from './blockCompiler';
import { mulh, mulhsu, mulhu } from './mulDiv';

/** What Hart.memSlow / Hart.atomic tell the interpreter. */
export const enum Slow {
  /** Done; carry on with the block. */
  CONTINUE,
  /** Done, but the machine must look (MMIO, HTIF): end the slice after this instruction. */
  END_SLICE,
  /** The access faulted; the hart has entered the trap handler at `h.trapPc`. */
  TRAPPED,
}

/**
 * Runs hart `h` until the clock's icount reaches `limit`, or earlier when something the machine
 * must look at happens: an MMIO or CSR access, mret, wfi, a write to the HTIF mailbox.
 * Interrupts are taken by the machine between slices, which is where QEMU takes them too (at a
 * TB boundary; every MMIO access and CSR instruction ends its TB).
 *
 * Execution goes block by block (see BlockCache): the lookup happens once per block, and inside
 * one the pc is only materialised where an instruction needs it. The icount of the slice is
 * base + n, plus (k - k0) inside the current block.
 *
 * Returns true when the slice ended before `limit` for a reason of the guest's own.
 *
 * A debugger stop (`bus.debugStop`, raised by a probe, a watchpoint or a trap hook) also ends
 * the slice at the next instruction boundary, but returns false: the vCPU's iteration must go on
 * where it was, or the guest would see other iteration boundaries than without the debugger
 * (and a replay would take its logged events elsewhere).
 *
 * This is the one long function in the emulator, on purpose: splitting the switch into calls
 * costs a large share of the interpreter's speed.
 */
export function execute(h: Hart, limit: number): boolean {
  const x = h.x;
  const bus = h.bus;
  const blocks = bus.blocks;
  const btag = blocks.tag;
  const bstart = blocks.start;
  const blen = blocks.length;
  const sw = blocks.slotWord;
  const si = blocks.slotImm;
  const spc = blocks.slotPc;
  const compiled = blocks.compiled;
  const hits = blocks.hits;
  const jit = blocks.jit;
  const jitOut = h.jitOut;
  const ram8 = bus.ram8;
  const ram16 = bus.ram16;
  const ram32 = bus.ram32;
  const lines = bus.lines;
  // With slowAll (a read watchpoint) no access is inline: all go through Hart.memSlow.
  const ramLim1 = bus.slowAll ? -1 : bus.ramSize;
  const ramLim2 = bus.slowAll ? -1 : bus.ramSize - 1;
  const ramLim4 = bus.slowAll ? -1 : bus.ramSize - 3;
  let pc = h.pc | 0;
  // n stays a small integer so V8 keeps the loop in int32 arithmetic (the icount itself passes
  // 2^31 after a few seconds of guest time).
  const base = h.clock.icount;
  let n = 0;
  let budget = Math.min(limit - base, 0x3fffffff) | 0;
  // Whether something in the guest ended the slice before `limit` (MMIO, CSR, WFI, ...).
  let early = false;
  h.beginSlice(base);
  const probe = blocks.probe;
  // The next block is entered mid-way, where a store into a watched granule left the last one
  // (Rewind's own exit, not a QEMU TB boundary: see BlockCache.built).
  let split = false;
  outer: while (n < budget) {
    if (probe !== null && probe.pcs.has(pc >>> 0)) {
      probe.hit(pc >>> 0, base + n, h.hartId);
      // A debugger stop before this instruction: the slice ends here, the iteration does not.
      if (bus.debugStop) break;
    }
    let t = (pc >>> 1) & 0xffff;
    if (btag[t] !== pc) {
      const seen = blocks.built;
      t = blocks.build(pc, n === 0 || split);
      // Stop before it: the next slice starts with it cached (at n 0, where nothing is counted).
      if (blocks.built !== seen && blocks.pauseOnBuild) break;
    }
    split = false;
    let k = bstart[t];
    const k0 = k;
    const len = blen[t];
    if (jit && len <= budget - n) {
      const f = compiled[t];
      if (f !== undefined) {
        const done = f(x, ram8, ram16, ram32, lines, jitOut, budget - n);
        if (jitOut.at < 0) {
          n += done;
          pc = jitOut.pc;
          split = jitOut.at === -2;
          continue;
        }
        // It stopped before instruction `at` of its last pass, which is ours to run.
        n += done - jitOut.at;
        k += jitOut.at;
      } else if (++hits[t] === COMPILE_THRESHOLD) {
        blocks.compile(t);
      }
    }
    let kend = k0 + len;
    if (len > budget - n) kend = k0 + (budget - n);
    while (k < kend) {
      const w = sw[k];
      const imm = si[k];
      k++;
      const rd = (w >>> 8) & 63;
      const rs1 = (w >>> 14) & 31;
      const rs2 = (w >>> 19) & 31;
      switch (w & 0xff) {
        case Op.ADDI: x[rd] = (x[rs1] + imm) | 0; continue;
        case Op.LUI: x[rd] = imm; continue;
        case Op.AUIPC: x[rd] = (spc[k - 1] + imm) | 0; continue;
        case Op.SLTI: x[rd] = x[rs1] < imm ? 1 : 0; continue;
        case Op.SLTIU: x[rd] = (x[rs1] >>> 0) < (imm >>> 0) ? 1 : 0; continue;
        case Op.XORI: x[rd] = x[rs1] ^ imm; continue;
        case Op.ORI: x[rd] = x[rs1] | imm; continue;
        case Op.ANDI: x[rd] = x[rs1] & imm; continue;
        case Op.SLLI: x[rd] = x[rs1] << imm; continue;
        case Op.SRLI: x[rd] = x[rs1] >>> imm; continue;
        case Op.SRAI: x[rd] = x[rs1] >> imm; continue;
        case Op.ADD: x[rd] = (x[rs1] + x[rs2]) | 0; continue;
        case Op.SUB: x[rd] = (x[rs1] - x[rs2]) | 0; continue;
        case Op.SLL: x[rd] = x[rs1] << (x[rs2] & 31); continue;
        case Op.SLT: x[rd] = x[rs1] < x[rs2] ? 1 : 0; continue;
        case Op.SLTU: x[rd] = (x[rs1] >>> 0) < (x[rs2] >>> 0) ? 1 : 0; continue;
        case Op.XOR: x[rd] = x[rs1] ^ x[rs2]; continue;
        case Op.SRL: x[rd] = x[rs1] >>> (x[rs2] & 31); continue;
        case Op.SRA: x[rd] = x[rs1] >> (x[rs2] & 31); continue;
        case Op.OR: x[rd] = x[rs1] | x[rs2]; continue;
        case Op.AND: x[rd] = x[rs1] & x[rs2]; continue;
        case Op.MUL: x[rd] = Math.imul(x[rs1], x[rs2]); continue;
        case Op.MULH: x[rd] = mulh(x[rs1], x[rs2]); continue;
        case Op.MULHSU: x[rd] = mulhsu(x[rs1], x[rs2]); continue;
        case Op.MULHU: x[rd] = mulhu(x[rs1], x[rs2]); continue;
        // Division by zero and INT_MIN / -1 (spec §7.2): JS `|0` truncation gives the required
        // INT_MIN and 0 for the overflow case by itself.
        case Op.DIV: { const b = x[rs2]; x[rd] = b === 0 ? -1 : (x[rs1] / b) | 0; continue; }
        case Op.DIVU: { const b = x[rs2] >>> 0; x[rd] = b === 0 ? -1 : ((x[rs1] >>> 0) / b) | 0; continue; }
        case Op.REM: { const b = x[rs2]; x[rd] = b === 0 ? x[rs1] : (x[rs1] % b) | 0; continue; }
        case Op.REMU: { const b = x[rs2] >>> 0; x[rd] = b === 0 ? x[rs1] : ((x[rs1] >>> 0) % b) | 0; continue; }
        // Loads and stores: the inline paths cover naturally aligned RAM accesses; everything
        // else (misaligned, ROM, MMIO, faults) goes through Hart.memSlow.
        case Op.LW: {
          const off = ((x[rs1] + imm) | 0) ^ RAM_XOR;
          if (off >= 0 && off < ramLim4 && (off & 3) === 0) { x[rd] = ram32[off >> 2]; continue; }
          break;
        }
        case Op.LBU: {
          const off = ((x[rs1] + imm) | 0) ^ RAM_XOR;
          if (off >= 0 && off < ramLim1) { x[rd] = ram8[off]; continue; }
          break;
        }
        case Op.LB: {
          const off = ((x[rs1] + imm) | 0) ^ RAM_XOR;
          if (off >= 0 && off < ramLim1) { x[rd] = (ram8[off] << 24) >> 24; continue; }
          break;
        }
        case Op.LHU: {
          const off = ((x[rs1] + imm) | 0) ^ RAM_XOR;
          if (off >= 0 && off < ramLim2 && (off & 1) === 0) { x[rd] = ram16[off >> 1]; continue; }
          break;
        }
        case Op.LH: {
          const off = ((x[rs1] + imm) | 0) ^ RAM_XOR;
          if (off >= 0 && off < ramLim2 && (off & 1) === 0) { x[rd] = (ram16[off >> 1] << 16) >> 16; continue; }
          break;
        }
        case Op.SW: {
          const off = ((x[rs1] + imm) | 0) ^ RAM_XOR;
          if (off >= 0 && off < ramLim4 && (off & 3) === 0) {
            ram32[off >> 2] = x[rs2];
            if (lines[off >>> LINE_SHIFT] === 0) continue;
            bus.writeAt = base + n + (k - 1 - k0);
            bus.writePc = spc[k - 1];
            bus.noteRamWrite(off, 4);
          } else break;
          // The store hit a granule with code (or the HTIF mailbox): the block may be stale.
          pc = spc[k];
          n += k - k0;
          split = true;
          if (bus.watchHit) { budget = n; early = true; } else if (bus.debugStop) budget = n;
          continue outer;
        }
        case Op.SB: {
          const off = ((x[rs1] + imm) | 0) ^ RAM_XOR;
          if (off >= 0 && off < ramLim1) {
            ram8[off] = x[rs2];
            if (lines[off >>> LINE_SHIFT] === 0) continue;
            bus.writeAt = base + n + (k - 1 - k0);
            bus.writePc = spc[k - 1];
            bus.noteRamWrite(off, 1);
          } else break;
          pc = spc[k];
          n += k - k0;
          split = true;
          if (bus.watchHit) { budget = n; early = true; } else if (bus.debugStop) budget = n;
          continue outer;
        }
        case Op.SH: {
          const off = ((x[rs1] + imm) | 0) ^ RAM_XOR;
          if (off >= 0 && off < ramLim2 && (off & 1) === 0) {
            ram16[off >> 1] = x[rs2];
            if (lines[off >>> LINE_SHIFT] === 0) continue;
            bus.writeAt = base + n + (k - 1 - k0);
            bus.writePc = spc[k - 1];
            bus.noteRamWrite(off, 2);
          } else break;
          pc = spc[k];
          n += k - k0;
          split = true;
          if (bus.watchHit) { budget = n; early = true; } else if (bus.debugStop) budget = n;
          continue outer;
        }
        case Op.FENCE: continue;
        // Fused pairs (see BlockCache): the ALU part, then the closing branch in the next slot
        // unless the slice ends between the two.
        case Op.ADDI_BNE: {
          x[rd] = (x[rs1] + imm) | 0;
          if (k === kend) continue;
          const b = sw[k++];
          pc = x[(b >>> 14) & 31] !== x[(b >>> 19) & 31] ? (spc[k - 1] + si[k - 1]) | 0 : spc[k];
          n += k - k0;
          continue outer;
        }
        case Op.ADD_BNE: {
          x[rd] = (x[rs1] + x[rs2]) | 0;
          if (k === kend) continue;
          const b = sw[k++];
          pc = x[(b >>> 14) & 31] !== x[(b >>> 19) & 31] ? (spc[k - 1] + si[k - 1]) | 0 : spc[k];
          n += k - k0;
          continue outer;
        }
        case Op.ADD_BLTU: {
          x[rd] = (x[rs1] + x[rs2]) | 0;
          if (k === kend) continue;
          const b = sw[k++];
          pc = (x[(b >>> 14) & 31] >>> 0) < (x[(b >>> 19) & 31] >>> 0) ? (spc[k - 1] + si[k - 1]) | 0 : spc[k];
          n += k - k0;
          continue outer;
        }
        case Op.XOR_BNE: {
          x[rd] = x[rs1] ^ x[rs2];
          if (k === kend) continue;
          const b = sw[k++];
          pc = x[(b >>> 14) & 31] !== x[(b >>> 19) & 31] ? (spc[k - 1] + si[k - 1]) | 0 : spc[k];
          n += k - k0;
          continue outer;
        }
        // Block-ending instructions: each sets pc and accounts for the block.
        case Op.JAL: x[rd] = spc[k]; pc = (spc[k - 1] + imm) | 0; n += k - k0; continue outer;
        case Op.JALR: { const tgt = (x[rs1] + imm) & ~1; x[rd] = spc[k]; pc = tgt; n += k - k0; continue outer; }
        case Op.BEQ: pc = x[rs1] === x[rs2] ? (spc[k - 1] + imm) | 0 : spc[k]; n += k - k0; continue outer;
        case Op.BNE: pc = x[rs1] !== x[rs2] ? (spc[k - 1] + imm) | 0 : spc[k]; n += k - k0; continue outer;
        case Op.BLT: pc = x[rs1] < x[rs2] ? (spc[k - 1] + imm) | 0 : spc[k]; n += k - k0; continue outer;
        case Op.BGE: pc = x[rs1] >= x[rs2] ? (spc[k - 1] + imm) | 0 : spc[k]; n += k - k0; continue outer;
        case Op.BLTU: pc = (x[rs1] >>> 0) < (x[rs2] >>> 0) ? (spc[k - 1] + imm) | 0 : spc[k]; n += k - k0; continue outer;
        case Op.BGEU: pc = (x[rs1] >>> 0) >= (x[rs2] >>> 0) ? (spc[k - 1] + imm) | 0 : spc[k]; n += k - k0; continue outer;
        default: {
          // Everything rare (system and CSR instructions, AMOs, traps by construction) goes
          // through one call site, so V8 has seen it early and the hot switch stays optimised.
          const ic = base + n + (k - k0);
          const end = h.rareOp(w, imm, spc[k - 1], spc[k], ic);
          n += k - k0 + h.countAdjust;
          pc = h.nextPc;
          if (end) { budget = n; early = true; } else if (bus.debugStop) budget = n;
          continue outer;
        }
      }
      // A load or store the inline path did not take.
      const r = h.memSlow(w, imm, spc[k - 1], base + n + (k - k0));
      if (r === Slow.CONTINUE && !bus.debugStop) continue;
      if (r === Slow.TRAPPED) { pc = h.trapPc; n += k - k0 - 1; if (bus.debugStop) budget = n; continue outer; }
      if (r === Slow.CONTINUE) { pc = spc[k]; n += k - k0; budget = n; continue outer; }
      pc = spc[k];
      n += k - k0;
      budget = n;
      early = true;
      continue outer;
    }
    pc = spc[k];
    n += k - k0;
  }
  h.pc = pc;
  h.endSlice(base + n);
  return early;
}

