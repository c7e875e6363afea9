import { createHash } from 'crypto';
import type { Machine } from './machine';
import { CSR } from '../cpu/csr';
import { PAGE } from './bus';


/**
 * A digest of everything that decides what the guest does next: every hart's registers, pc,
 * CSRs and wait state, RAM, the devices' registers, and the virtual clock. Two machines with the
 * same hash behave identically from here on; record/replay and time travel compare them.
 */
export function stateHash(m: Machine): string {
  const h = createHash('sha256');
  for (const hart of m.harts) {
    h.update(new Uint8Array(hart.x.buffer, 0, 32 * 4));
    const csrs = Object.values(CSR).map((n) => hart.readCsr(n) ?? 0);
    h.update(JSON.stringify([hart.pc >>> 0, hart.halted, hart.mip, csrs]));
  }
  // RAM by its non-zero 4 KiB pages (with their numbers): the same digest for the same contents,
  // without hashing (or even reading) the 128 MiB of zeros a small guest leaves untouched.
  const ram = m.bus.ram8;
  const index = Buffer.alloc(4);
  for (const page of m.bus.nonZeroPages()) {
    index.writeUInt32LE(page);
    h.update(index);
    h.update(new Uint8Array(ram.buffer, ram.byteOffset + page * PAGE, PAGE));
  }
  h.update(JSON.stringify([m.clock.icount, m.clock.warpNs, m.clint.saveState(), m.plic.saveState(), m.uart.saveState(), m.rtc.saveState()]));
  return h.digest('hex');
}
