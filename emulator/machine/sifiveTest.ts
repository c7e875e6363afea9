/**
 * SiFive test finisher as in QEMU 7.2 (hw/misc/sifive_test.c), at 0x100000 on `virt` (the FDT
 * "syscon" that poweroff/reboot drivers write 0x5555 / 0x7777 to).
 *
 * A write to offset 0 is decoded as status = value & 0xffff, code = (value >> 16) & 0xffff:
 *   0x3333 FAIL  -> QEMU exit(code); note code 0 therefore exits 0, like PASS
 *   0x5555 PASS  -> QEMU exit(0)
 *   0x7777 RESET -> qemu_system_reset_request(SHUTDOWN_CAUSE_GUEST_RESET)
 * Anything else (or any other offset) is only logged as a guest error. Reads return 0.
 * `onExit` gets the 16-bit code; QEMU's process exit status would be `code & 0xff`.
 */
import { MmioDevice } from './device';

const FINISHER_FAIL = 0x3333;
const FINISHER_PASS = 0x5555;
const FINISHER_RESET = 0x7777;

export class SifiveTest implements MmioDevice {
  readonly name = 'test';
  readonly base = 0x100000;
  readonly size = 0x1000;

  private readonly onExit: (code: number, fail: boolean) => void;
  private readonly onReset: (() => void) | undefined;

  /** Without `onReset`, a RESET write is ignored. */
  constructor(opts: { onExit: (code: number, fail: boolean) => void; onReset?: () => void }) {
    this.onExit = opts.onExit;
    this.onReset = opts.onReset;
  }

  /**
   * MemoryRegionOps.valid is min 2, max 4, aligned: byte accesses (and 8-byte ones) are decode
   * errors, which are access faults on RISC-V. The bus should fault when this returns false.
   */
  validAccess(offset: number, size: 1 | 2 | 4): boolean {
    return size >= 2 && offset % size === 0 && offset >= 0 && offset < this.size;
  }

  read(_offset: number, _size: 1 | 2 | 4): number {
    return 0;
  }

  /**
   * A 2-byte write at 0 carries only the status, so its code is 0. Writes at offset 2 are
   * ignored even though they overlap the code field, because QEMU only decodes addr == 0.
   */
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (!this.validAccess(offset, size) || offset !== 0) return;
    const v = size === 2 ? value & 0xffff : value >>> 0;
    const status = v & 0xffff;
    const code = (v >>> 16) & 0xffff;
    switch (status) {
      case FINISHER_FAIL:
        this.onExit(code, true);
        break;
      case FINISHER_PASS:
        this.onExit(0, false);
        break;
      case FINISHER_RESET:
        this.onReset?.();
        break;
      default:
        break;
    }
  }

  /** Stateless; present so every device can be snapshotted the same way. */
  saveState(): Record<string, never> {
    return {};
  }

  loadState(_s: Record<string, never>): void {
    // nothing to restore
  }
}
