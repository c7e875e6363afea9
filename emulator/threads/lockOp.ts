/**
 * The one lock-operation model every lock trace lands in: Rewind's own emulator threads and
 * QEMU's `-trace 'qemu_mutex_*'` logs alike.
 */
export type LockName = 'bql' | 'replay' | string; // other mutexes by their address or name

export type LockAction = 'wait' | 'acquired' | 'released';

export interface LockOp {
  /** Position in the trace, from 0. */
  index: number;
  /** Thread: a name for Rewind's threads (main-loop, vcpu0, migration), the TID for QEMU's. */
  thread: string;
  lock: LockName;
  action: LockAction;
  /** Where it happened: `module:function` for Rewind, `file:line` for QEMU. */
  site: string;
  /** Host time in seconds, when the trace has it (QEMU's -msg timestamp=on). */
  time?: number;
  /** Guest instruction count when it happened, when known (Rewind's own traces). */
  icount?: number;
  /** The scheduler's host step when it happened (Rewind's own traces): orders ops that share an icount. */
  step?: number;
  /** A violation of the lock rules found at this operation, if any. */
  violation?: string;
}
