import { RewindError } from '../errors';
import { ElfImage, parseElf } from '../debuginfo/elf';
import { RAM_BASE, SystemBus } from './bus';

/**
 * Copies an ELF's loadable segments into RAM, as QEMU's loader does for -kernel: a segment
 * wholly outside RAM is an error (the ELF was linked for another board); the part of one that
 * sticks out is dropped, and said so in `warnings`.
 */
export function loadElfIntoRam(bus: SystemBus, ramBytes: number, bytes: Uint8Array, what: string): { elf: ElfImage; warnings: string[] } {
  const elf = parseElf(bytes, what);
  const hex = (n: number) => '0x' + (n >>> 0).toString(16);
  const ramEnd = RAM_BASE + ramBytes;
  const warnings: string[] = [];
  for (const seg of elf.segments) {
    const lo = Math.max(seg.paddr, RAM_BASE);
    const hi = Math.min(seg.paddr + seg.memSize, ramEnd);
    const range = `${hex(seg.paddr)}..${hex(seg.paddr + seg.memSize)}`;
    if (lo >= hi) throw new RewindError('ELF_INVALID', `${what}: segment at ${range} lies outside RAM (${hex(RAM_BASE)}..${hex(ramEnd)}); link it for the virt board's RAM`);
    if (lo > seg.paddr || hi < seg.paddr + seg.memSize) {
      // ld's default layout maps the ELF headers just below the first section, here below RAM.
      // QEMU's loader silently drops what has no memory behind it; Rewind does too, but says so.
      warnings.push(`${what}: segment at ${range} extends outside RAM; only ${hex(lo)}..${hex(hi)} is loaded`);
    }
  }
  for (const seg of elf.segments) {
    const image = new Uint8Array(seg.memSize);
    image.set(seg.data);
    const lo = Math.max(seg.paddr, RAM_BASE);
    const hi = Math.min(seg.paddr + seg.memSize, ramEnd);
    bus.writeRam(lo, image.subarray(lo - seg.paddr, hi - seg.paddr));
  }
  return { elf, warnings };
}
