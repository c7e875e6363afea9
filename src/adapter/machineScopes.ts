import type { DebugProtocol } from '@vscode/debugprotocol';
import { CSR } from '../../emulator/cpu/csr';
import { CAUSE_NAMES } from '../../emulator/cpu/traps';
import { ABI_NAMES } from '../../emulator/debuginfo/disasm';
import type { Machine } from '../../emulator/machine/machine';
import { hex } from './breakpoints';

/** A leaf or a group in the machine-state scopes; groups expand lazily. */
export interface StateItem {
  name: string;
  value: string;
  /** For registers and memory-backed values: what a `memoryReference` points at. */
  address?: number;
  children?: () => StateItem[];
  /** The register a `setVariable` on this item writes (x1..x31, or 32 for pc). */
  register?: number;
}

/** x0..x31 by ABI name (with the x-number), then pc: as this frame has them. */
export function registerItems(regs: ArrayLike<number>, pc: number, known?: (reg: number) => boolean): StateItem[] {
  const out: StateItem[] = [{ name: 'pc', value: hex(pc), address: pc >>> 0, register: 32 }];
  for (let i = 0; i < 32; i++) {
    const v = regs[i] >>> 0;
    const unknown = known && !known(i);
    out.push({ name: `${ABI_NAMES[i]} (x${i})`, value: unknown ? '<not saved>' : `${hex(v)} (${v | 0})`, address: unknown ? undefined : v, register: i === 0 ? undefined : i });
  }
  return out;
}

const MSTATUS_FIELDS: [string, number, number][] = [['MIE', 3, 1], ['MPIE', 7, 1], ['MPP', 11, 2], ['MPRV', 17, 1]];
const MIX_FIELDS: [string, number, number][] = [['MSIP/MSIE', 3, 1], ['MTIP/MTIE', 7, 1], ['MEIP/MEIE', 11, 1]];

function fields(v: number, spec: [string, number, number][]): StateItem[] {
  return spec.map(([n, bit, w]) => ({ name: n, value: String((v >>> bit) & ((1 << w) - 1)) }));
}

function causeText(c: number): string {
  const u = c >>> 0;
  if (u & 0x80000000) return ({ 3: 'machine software interrupt', 7: 'machine timer interrupt', 11: 'machine external interrupt' } as Record<number, string>)[u & 0x7fffffff] ?? `interrupt ${u & 0x7fffffff}`;
  return CAUSE_NAMES[u] ?? `exception ${u}`;
}

/** The machine-mode CSRs, read as a debugger reads them (no side effects). */
export function csrItems(m: Machine, hart: number): StateItem[] {
  const h = m.harts[hart];
  const r = (n: number) => (h.readCsr(n) ?? 0) >>> 0;
  const item = (name: string, n: number, extra?: Partial<StateItem>): StateItem => ({ name, value: hex(r(n)), ...extra });
  const mstatus = r(CSR.mstatus), mie = r(CSR.mie), mip = r(CSR.mip), mcause = r(CSR.mcause);
  const wide = (lo: number, hi: number) => String(r(hi) * 4294967296 + r(lo));
  return [
    item('mstatus', CSR.mstatus, { children: () => fields(mstatus, MSTATUS_FIELDS) }),
    item('misa', CSR.misa),
    item('mie', CSR.mie, { children: () => fields(mie, MIX_FIELDS) }),
    item('mip', CSR.mip, { children: () => fields(mip, MIX_FIELDS) }),
    item('mtvec', CSR.mtvec, { address: r(CSR.mtvec) & ~3 }),
    item('mscratch', CSR.mscratch),
    item('mepc', CSR.mepc, { address: r(CSR.mepc) }),
    { name: 'mcause', value: `${hex(mcause)} (${causeText(mcause)})` },
    item('mtval', CSR.mtval),
    item('mhartid', CSR.mhartid),
    { name: 'mcycle', value: wide(CSR.mcycle, CSR.mcycleh) },
    { name: 'minstret', value: wide(CSR.minstret, CSR.minstreth) },
    { name: 'time', value: wide(CSR.time, CSR.timeh) },
    { name: 'pmp', value: '', children: () => [0, 1, 2, 3].map((i) => item(`pmpcfg${i}`, CSR.pmpcfg0 + i)).concat(Array.from({ length: 16 }, (_, i) => item(`pmpaddr${i}`, CSR.pmpaddr0 + i))) },
  ];
}

const group = (name: string, value: string, items: StateItem[]): StateItem => ({ name, value, children: () => items });

/**
 * The board's devices, from their saved state: reading a register through the bus would have
 * side effects (an RBR read takes a byte from the FIFO, a PLIC claim completes an interrupt).
 */
export function deviceItems(m: Machine): StateItem[] {
  const u = m.uart.saveState();
  const c = m.clint.saveState();
  const p = m.plic.saveState();
  const rtc = m.rtc.saveState();
  const h8 = (v: number) => '0x' + (v & 0xff).toString(16).padStart(2, '0');
  const uart = group('UART (NS16550A @ 0x10000000)', `LSR ${h8(u.lsr)}, ${u.rx.length} byte${u.rx.length === 1 ? '' : 's'} received`, [
    { name: 'RBR (next byte)', value: u.rx.length ? `${h8(u.rx[0])} ${JSON.stringify(String.fromCharCode(u.rx[0]))}` : h8(u.rbr) },
    { name: 'IER', value: h8(u.ier) }, { name: 'IIR', value: h8(u.iir) }, { name: 'FCR', value: h8(u.fcr) },
    { name: 'LCR', value: h8(u.lcr) }, { name: 'MCR', value: h8(u.mcr) }, { name: 'LSR', value: h8(u.lsr) },
    { name: 'MSR', value: h8(u.msr) }, { name: 'SCR', value: h8(u.scr) }, { name: 'divisor latch', value: String(u.divider) },
    { name: 'receive FIFO', value: `[${u.rx.map(h8).join(', ')}]` },
  ]);
  const clint = group('CLINT (@ 0x02000000)', `mtime ${m.clock.mtime()}`, [
    { name: 'mtime', value: String(m.clock.mtime()) },
    ...c.timecmp.map((v, i) => ({ name: `mtimecmp[${i}]`, value: v })),
    ...c.msip.map((v, i) => ({ name: `msip[${i}]`, value: String(v) })),
  ]);
  const pending: number[] = [];
  p.pending.forEach((w, i) => { for (let b = 0; b < 32; b++) if (w & (1 << b)) pending.push(i * 32 + b); });
  const plic = group('PLIC (@ 0x0c000000)', pending.length ? `pending ${pending.join(', ')}` : 'nothing pending', [
    { name: 'pending sources', value: pending.join(', ') || 'none' },
    { name: 'priority', value: '', children: () => p.priority.map((v, i) => ({ name: `source ${i}`, value: String(v) })).filter((x, i) => i > 0 && x.value !== '0') },
    { name: 'threshold', value: p.threshold.join(', ') },
    { name: 'enable', value: p.enable.map((v) => hex(v)).join(', ') },
    { name: 'claimed', value: p.claimed.join(', ') },
  ]);
  const rtcItem = group('Goldfish RTC (@ 0x00101000)', rtc.alarmRunning ? 'alarm armed' : 'no alarm', [
    { name: 'alarm running', value: String(rtc.alarmRunning) }, { name: 'irq pending', value: String(rtc.irqPending) },
    { name: 'irq enabled', value: String(rtc.irqEnabled) },
  ]);
  return [uart, clint, plic, rtcItem];
}

/** DAP variables for items; `ref` hands out references for groups. */
export function toVariables(items: StateItem[], ref: (children: () => StateItem[]) => number): DebugProtocol.Variable[] {
  return items.map((i) => ({
    name: i.name, value: i.value, variablesReference: i.children ? ref(i.children) : 0,
    ...(i.address !== undefined ? { memoryReference: hex(i.address) } : {}),
  }));
}
