import { RewindError } from '../errors';

/**
 * Which QEMU's record/replay behaviour the machine follows where versions differ. '7.2' is
 * Debian 12's QEMU; '10.0' is the newest Debian ships (bookworm-backports, 10.0.2), measured
 * the same way (test/emulator/threads/qemuParity.test.ts runs both).
 */
export type QemuVersion = '7.2' | '10.0';
export const QEMU_VERSIONS: readonly QemuVersion[] = ['7.2', '10.0'];
export const DEFAULT_QEMU: QemuVersion = '7.2';

export function parseQemuVersion(s: string): QemuVersion {
  if ((QEMU_VERSIONS as readonly string[]).includes(s)) return s as QemuVersion;
  throw new RewindError('USAGE', `--qemu takes ${QEMU_VERSIONS.join(' or ')} (the QEMU whose record/replay behaviour to follow), not '${s}'`);
}

/** What changes with the version, each item seen in that QEMU's own recordings and traces. */
export interface QemuProfile {
  readonly version: QemuVersion;
  /**
   * mtval on ebreak: 7.2 leaves it 0; 10.0 sets it to the pc (the spec allows either). The
   * traps guest prints it, so its output differs between the two QEMUs.
   */
  readonly ebreakTvalIsPc: boolean;
  /**
   * The test finisher: 7.2 calls exit() at the write, so the log has no guest-shutdown event;
   * 10.0 calls qemu_system_shutdown_request_with_code, which logs EVENT_SHUTDOWN_GUEST_SHUTDOWN
   * (pass) or EVENT_SHUTDOWN_GUEST_PANIC (fail) before the exit.
   */
  readonly finisherLogsShutdown: boolean;
  /**
   * cpu_handle_interrupt takes the BQL at every TB-loop exit in 7.2's riscv vCPU (its
   * interrupt_request is set from reset on); 10.0's skips it at the exits after an MMIO access
   * (cpu_io_recompile asks for CF_NOIRQ), as its traces show: the BQL once per device access,
   * not twice.
   */
  readonly bqlAtEveryExit: boolean;
  /** 10.0's rr loop head counts the vCPUs under qemu_cpu_list_lock (a QEMU_LOCK_GUARD each pass). */
  readonly cpuListAtLoopHead: boolean;
  /** A 7.2 site (`file:function`) as this version names it (softmmu/ became system/, the BQL's functions were renamed). */
  site(s: string): string;
}

const RENAMES_10: [RegExp, string][] = [
  [/^softmmu\//, 'system/'],
  [/^cpus-common\.c:/, 'cpu-common.c:'],
  [/:qemu_mutex_unlock_iothread$/, ':bql_unlock'],
  [/:qemu_mutex_lock_iothread$/, ':bql_lock'],
  [/:qemu_cond_wait_iothread$/, ':qemu_cond_wait_bql'],
];

const PROFILES: Record<QemuVersion, QemuProfile> = {
  '7.2': { version: '7.2', ebreakTvalIsPc: false, finisherLogsShutdown: false, bqlAtEveryExit: true, cpuListAtLoopHead: false, site: (s) => s },
  '10.0': {
    version: '10.0', ebreakTvalIsPc: true, finisherLogsShutdown: true, bqlAtEveryExit: false, cpuListAtLoopHead: true,
    site: (s) => RENAMES_10.reduce((acc, [re, to]) => acc.replace(re, to), s),
  },
};

export function qemuProfile(v: QemuVersion = DEFAULT_QEMU): QemuProfile {
  return PROFILES[v];
}
