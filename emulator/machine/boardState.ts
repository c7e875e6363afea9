import { RewindError } from '../errors';
import type { MachineSnapshot } from '../snapshot/machineSnapshot';
import type { Hart } from '../cpu/hart';
import type { SystemBus } from './bus';
import type { Clint } from './clint';
import type { GoldfishRtc } from './goldfishRtc';
import type { Plic } from './plic';
import type { Uart16550 } from './uart16550';
import type { VirtualClock } from './virtualClock';

/** What a machine's board is: the clock, the harts, RAM and the devices. */
export interface Board {
  clock: VirtualClock;
  harts: Hart[];
  bus: SystemBus;
  clint: Clint;
  plic: Plic;
  uart: Uart16550;
  rtc: GoldfishRtc;
}

/** The board's part of a snapshot. `ram: false`: without RAM (time travel keeps it page by page). */
export function saveBoard(b: Board, ram: boolean): Omit<MachineSnapshot, 'run'> {
  return {
    icount: b.clock.icount, warpNs: b.clock.warpNs,
    harts: b.harts.map((h) => h.saveState()),
    ...(ram ? { ram: b.bus.ram8.slice(), written: b.bus.written.slice() } : { ram: new Uint8Array(0) }),
    clint: b.clint.saveState(), plic: b.plic.saveState(), uart: b.uart.saveState(), rtc: b.rtc.saveState(),
  };
}

/** Puts the board back as `s` has it; refused if `s` is of another board. */
export function loadBoard(b: Board, s: MachineSnapshot, ram: boolean): void {
  if (s.harts.length !== b.harts.length || (ram && s.ram.length !== b.bus.ram8.length)) {
    throw new RewindError('SNAPSHOT_MISMATCH', `snapshot of a machine with ${s.harts.length} harts and ${s.ram.length >> 20} MiB RAM, this one has ${b.harts.length} and ${b.bus.ram8.length >> 20}`);
  }
  b.clock.icount = s.icount;
  b.clock.warpNs = s.warpNs;
  s.harts.forEach((hs, i) => b.harts[i].loadState(hs));
  if (ram) b.bus.loadRam(s.ram, s.written);
  b.bus.blocks.flush(); // decoded code may not match the restored RAM
  b.clint.loadState(s.clint);
  b.plic.loadState(s.plic);
  b.uart.loadState(s.uart);
  b.rtc.loadState(s.rtc);
}
