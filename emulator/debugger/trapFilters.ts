import { CAUSE_NAMES } from '../cpu/traps';

/**
 * The guest traps a debugger can stop on (the DAP exception filters). RISC-V's causes grouped
 * as a firmware developer thinks of them; an interrupt is any cause with the top bit set.
 */
export type TrapFilter = 'illegal' | 'misaligned' | 'access' | 'ecall' | 'ebreak' | 'interrupt';

export const TRAP_FILTERS: readonly { id: TrapFilter; label: string; description: string }[] = [
  { id: 'illegal', label: 'Illegal instruction', description: 'mcause 2: an undecodable instruction, or a CSR access the hart refuses' },
  { id: 'misaligned', label: 'Misaligned access', description: 'mcause 0, 4, 6: a misaligned fetch, or a misaligned LR/SC/AMO (plain loads and stores are done in hardware, as on QEMU)' },
  { id: 'access', label: 'Access fault', description: 'mcause 1, 5, 7: a fetch, load or store where there is no memory or device' },
  { id: 'ecall', label: 'ecall', description: 'mcause 8, 11: an environment call' },
  { id: 'ebreak', label: 'ebreak', description: 'mcause 3: an ebreak the guest handles itself (one with no handler always stops)' },
  { id: 'interrupt', label: 'Any interrupt', description: 'mcause with the top bit set: stops at the trap handler as the interrupt is taken' },
];

const INTERRUPT = 0x80000000;

export function isInterrupt(cause: number): boolean {
  return ((cause >>> 0) & INTERRUPT) !== 0;
}

export function trapFilterOf(cause: number): TrapFilter {
  const c = cause >>> 0;
  if (c & INTERRUPT) return 'interrupt';
  switch (c) {
    case 2: return 'illegal';
    case 0: case 4: case 6: return 'misaligned';
    case 1: case 5: case 7: return 'access';
    case 3: return 'ebreak';
    default: return 'ecall';
  }
}

const IRQ_NAMES: Record<number, string> = { 3: 'machine software interrupt', 7: 'machine timer interrupt', 11: 'machine external interrupt' };

/** One line for the user: what trapped, where, and the CSR values that say so. */
export function describeTrap(cause: number, tval: number, pc: number): string {
  const c = cause >>> 0;
  const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0');
  if (c & INTERRUPT) {
    const n = c & 0x7fffffff;
    return `${IRQ_NAMES[n] ?? `interrupt ${n}`} (mcause ${hex(c)}), taken at ${hex(pc)}`;
  }
  const name = CAUSE_NAMES[c] ?? `exception ${c}`;
  return `${name} at ${hex(pc)} (mcause ${c}, mtval ${hex(tval)})`;
}
