/**
 * The boot ROM QEMU's virt board puts at 0x1000 (hw/riscv/boot.c, riscv_setup_rom_reset_vec,
 * RV32 variant), followed by the fw_dynamic_info block at 0x1028 that a2 points to. Its six
 * instructions run before the ELF's entry and are counted, as in QEMU.
 */
export const ROM_BASE = 0x1000;
export const ROM_SIZE = 0xf000;

const FW_DYNAMIC_INFO_MAGIC = 0x4942534f;
const FW_DYNAMIC_INFO_VERSION = 2;
const FW_DYNAMIC_INFO_NEXT_MODE_S = 1;

export function buildResetRom(entry: number, fdtAddr: number): Uint8Array {
  const words = [
    0x00000297, // auipc t0, 0
    0x02828613, // addi  a2, t0, 40      -> fw_dynamic_info
    0xf1402573, // csrr  a0, mhartid
    0x0202a583, // lw    a1, 32(t0)      -> fdt address
    0x0182a283, // lw    t0, 24(t0)      -> entry
    0x00028067, // jr    t0
    entry >>> 0, 0, // start address (dword)
    fdtAddr >>> 0, 0, // fdt address (dword)
    // fw_dynamic_info: magic, version, next_addr, next_mode, options, boot_hart
    FW_DYNAMIC_INFO_MAGIC, FW_DYNAMIC_INFO_VERSION, entry >>> 0, FW_DYNAMIC_INFO_NEXT_MODE_S, 0, 0,
  ];
  const rom = new Uint8Array(ROM_SIZE);
  const dv = new DataView(rom.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w, true));
  return rom;
}

/**
 * Where QEMU 7.2 places the device tree (riscv_load_fdt): the highest 2 MiB-aligned address
 * below the end of RAM (capped at 3 GiB) with room for the blob, which is what a guest sees in a1.
 */
export function fdtAddress(ramBase: number, ramBytes: number): number {
  const MiB = 1024 * 1024;
  const end = Math.min(ramBase + ramBytes, 3072 * MiB);
  const fdtSize = 0x2000;
  return Math.floor((end - fdtSize) / (2 * MiB)) * 2 * MiB;
}
