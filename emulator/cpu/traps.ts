/** mcause exception codes (privileged spec v20211203, table 3.6). */
export const enum Cause {
  FETCH_MISALIGNED = 0,
  FETCH_ACCESS = 1,
  ILLEGAL_INSTRUCTION = 2,
  BREAKPOINT = 3,
  LOAD_MISALIGNED = 4,
  LOAD_ACCESS = 5,
  STORE_MISALIGNED = 6,
  STORE_ACCESS = 7,
  ECALL_U = 8,
  ECALL_M = 11,
}

/** Interrupt numbers (mcause with the top bit set; bit positions in mip/mie). */
export const IRQ_MSI = 3;
export const IRQ_MTI = 7;
export const IRQ_MEI = 11;

/**
 * Machine-level interrupts in the order the spec takes them when several are pending and enabled
 * (§3.1.9: MEI, MSI, MTI, then the supervisor ones this core does not have).
 */
export const IRQ_PRIORITY = [IRQ_MEI, IRQ_MSI, IRQ_MTI];

export const CAUSE_NAMES: Record<number, string> = {
  0: 'instruction address misaligned', 1: 'instruction access fault', 2: 'illegal instruction',
  3: 'breakpoint', 4: 'load address misaligned', 5: 'load access fault',
  6: 'store/AMO address misaligned', 7: 'store/AMO access fault', 8: 'ecall from U-mode',
  11: 'ecall from M-mode',
};
