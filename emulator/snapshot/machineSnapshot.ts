import type { HartState } from '../cpu/hart';
import type { ClintState } from '../machine/clint';
import type { PlicState } from '../machine/plic';
import type { Uart16550State } from '../machine/uart16550';
import type { GoldfishRtcState } from '../machine/goldfishRtc';

/**
 * A whole machine at an instruction boundary: enough to continue exactly as the original would
 * have (the state hash of a restored machine equals the original's). RAM is a full copy here;
 * copy-on-write pages come with time travel.
 */
export interface MachineSnapshot {
  icount: number;
  warpNs: number;
  harts: HartState[];
  ram: Uint8Array;
  /** The pages of `ram` that may be non-zero (the others are zero), when known: not encoded. */
  written?: Uint8Array;
  clint: ClintState;
  plic: PlicState;
  uart: Uart16550State;
  rtc: GoldfishRtcState;
  /** The threads' own position: next hart, an iteration cut short, exit. */
  run: {
    nextHart: number;
    lastHart: number;
    cut?: { hart: number; end: number; timerAt: number | null; run?: VcpuRunState };
    /** The rr kick timer's deadline (absent in older snapshots: re-armed from the restore). */
    kickAtNs?: number;
    exitCode?: number;
    shutdownLogged: boolean;
    /** The main loop's start-up (and its checkpoints) is still to come: a snapshot at reset. Absent: done. */
    beforeStartUp?: boolean;
    /** The main loop woken, or queued for the locks, when the snapshot was taken (absent: polling). */
    mainLoop?: MainLoopState;
  };
}

/** Where a vCPU's execution run stands, so a restored one ends it where the original did. */
/** The main loop between two polls: its pending wake-ups, and whether it is queued for the locks. */
export interface MainLoopState { wakes: ('idle' | 'notify')[]; queued: boolean }

/** A vCPU's run cut by a snapshot; `modsPending`: timer_mod_ns calls it has yet to see. */
export interface VcpuRunState { runEnd: number; refillAt: number; modsPending: number }
