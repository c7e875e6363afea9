import { ElfImage, findSymbol } from '../debuginfo/elf';

/**
 * Spike's host-target interface, reduced to what riscv-tests style binaries use: the guest
 * stores `(code << 1) | 1` into the 64-bit `tohost` variable to end the run. QEMU's virt board
 * has no HTIF; Rewind watches the symbol's RAM so the same test binaries run here too.
 */
export class Htif {
  constructor(readonly tohost: number) {}

  static fromElf(elf: ElfImage): Htif | undefined {
    const s = findSymbol(elf, 'tohost');
    return s ? new Htif(s.value) : undefined;
  }

  /** Exit code requested by the value now in tohost's low word, or undefined. */
  exitCode(lowWord: number): number | undefined {
    return lowWord & 1 ? lowWord >>> 1 : undefined;
  }
}
