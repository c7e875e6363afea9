/**
 * CSR names as binutils 2.40's objdump prints them (the DECLARE_CSR list of its riscv-opc.h).
 * objdump names every CSR it knows whatever extensions the ELF declares (a vector CSR prints as
 * `vl` in an RV32IMAC program), but which names exist depends on the privileged spec the ELF
 * declares (Tag_RISCV_priv_spec): 1.9.1 still has `sptbr` and `mbadaddr`, 1.12 has dropped the
 * N extension's `ustatus`... A file that declares none gets the newest, 1.12. The version
 * ranges below were measured against 2.40 under each of 1.9.1, 1.10, 1.11 and 1.12.
 * Unknown numbers print as hex (`0x7ff`).
 */

/** A privileged-spec version by its minor number: 1.9.1 is 9, 1.10 is 10, ... */
export type PrivSpec = 9 | 10 | 11 | 12;

/** objdump's choice when the ELF does not say: the newest spec it knows. */
export const DEFAULT_PRIV_SPEC: PrivSpec = 12;

const NAMED: ReadonlyArray<readonly [number, string]> = [
  [0x001, 'fflags'], [0x002, 'frm'], [0x003, 'fcsr'],
  [0x008, 'vstart'], [0x009, 'vxsat'], [0x00a, 'vxrm'], [0x00f, 'vcsr'], [0x015, 'seed'],
  [0x100, 'sstatus'], [0x104, 'sie'], [0x105, 'stvec'],
  [0x10c, 'sstateen0'], [0x10d, 'sstateen1'], [0x10e, 'sstateen2'], [0x10f, 'sstateen3'], [0x114, 'sieh'],
  [0x140, 'sscratch'], [0x141, 'sepc'], [0x142, 'scause'], [0x144, 'sip'],
  [0x14d, 'stimecmp'], [0x150, 'siselect'], [0x151, 'sireg'], [0x154, 'siph'], [0x15c, 'stopei'],
  [0x15d, 'stimecmph'],
  [0x200, 'vsstatus'], [0x204, 'vsie'], [0x205, 'vstvec'], [0x214, 'vsieh'], [0x240, 'vsscratch'],
  [0x241, 'vsepc'], [0x242, 'vscause'], [0x243, 'vstval'], [0x244, 'vsip'], [0x24d, 'vstimecmp'],
  [0x250, 'vsiselect'], [0x251, 'vsireg'], [0x254, 'vsiph'], [0x25c, 'vstopei'], [0x25d, 'vstimecmph'],
  [0x280, 'vsatp'],
  [0x300, 'mstatus'], [0x301, 'misa'], [0x302, 'medeleg'], [0x303, 'mideleg'], [0x304, 'mie'],
  [0x305, 'mtvec'], [0x308, 'mvien'], [0x309, 'mvip'],
  [0x30c, 'mstateen0'], [0x30d, 'mstateen1'], [0x30e, 'mstateen2'], [0x30f, 'mstateen3'],
  [0x313, 'midelegh'], [0x314, 'mieh'], [0x318, 'mvienh'], [0x319, 'mviph'],
  [0x31c, 'mstateen0h'], [0x31d, 'mstateen1h'], [0x31e, 'mstateen2h'], [0x31f, 'mstateen3h'],
  [0x340, 'mscratch'], [0x341, 'mepc'], [0x342, 'mcause'], [0x344, 'mip'], [0x350, 'miselect'],
  [0x351, 'mireg'], [0x354, 'miph'], [0x35c, 'mtopei'], [0x5a8, 'scontext'],
  [0x600, 'hstatus'], [0x602, 'hedeleg'], [0x603, 'hideleg'], [0x604, 'hie'], [0x605, 'htimedelta'],
  [0x606, 'hcounteren'], [0x607, 'hgeie'], [0x608, 'hvien'], [0x609, 'hvictl'], [0x60a, 'henvcfg'],
  [0x60c, 'hstateen0'], [0x60d, 'hstateen1'], [0x60e, 'hstateen2'], [0x60f, 'hstateen3'],
  [0x613, 'hidelegh'], [0x615, 'htimedeltah'], [0x618, 'hvienh'], [0x61a, 'henvcfgh'],
  [0x61c, 'hstateen0h'], [0x61d, 'hstateen1h'], [0x61e, 'hstateen2h'], [0x61f, 'hstateen3h'],
  [0x643, 'htval'], [0x644, 'hip'], [0x645, 'hvip'], [0x646, 'hviprio1'], [0x647, 'hviprio2'],
  [0x64a, 'htinst'], [0x655, 'hviph'], [0x656, 'hviprio1h'], [0x657, 'hviprio2h'], [0x680, 'hgatp'],
  [0x6a8, 'hcontext'],
  [0x7a0, 'tselect'], [0x7a1, 'tdata1'], [0x7a2, 'tdata2'], [0x7a3, 'tdata3'], [0x7a4, 'tinfo'],
  [0x7a5, 'tcontrol'], [0x7a8, 'mcontext'], [0x7aa, 'mscontext'],
  [0x7b0, 'dcsr'], [0x7b1, 'dpc'], [0x7b2, 'dscratch0'], [0x7b3, 'dscratch1'],
  [0xb00, 'mcycle'], [0xb02, 'minstret'], [0xb80, 'mcycleh'], [0xb82, 'minstreth'],
  [0xc00, 'cycle'], [0xc01, 'time'], [0xc02, 'instret'], [0xc20, 'vl'], [0xc21, 'vtype'], [0xc22, 'vlenb'],
  [0xc80, 'cycleh'], [0xc81, 'timeh'], [0xc82, 'instreth'],
  [0xda0, 'scountovf'], [0xdb0, 'stopi'], [0xe12, 'hgeip'], [0xeb0, 'vstopi'],
  [0xf11, 'mvendorid'], [0xf12, 'marchid'], [0xf13, 'mimpid'], [0xf14, 'mhartid'],
  [0xfb0, 'mtopi'],
];

/** Names that exist only from (`from`) or up to but excluding (`until`) a spec version. */
const VERSIONED: ReadonlyArray<readonly [number, string, PrivSpec, PrivSpec | 13]> = [
  [0x000, 'ustatus', 9, 12], [0x004, 'uie', 9, 12], [0x005, 'utvec', 9, 12], [0x040, 'uscratch', 9, 12],
  [0x041, 'uepc', 9, 12], [0x042, 'ucause', 9, 12], [0x043, 'ubadaddr', 9, 10], [0x043, 'utval', 10, 12],
  [0x044, 'uip', 9, 12], [0x102, 'sedeleg', 9, 12], [0x103, 'sideleg', 9, 12],
  [0x106, 'scounteren', 10, 13], [0x10a, 'senvcfg', 12, 13],
  [0x143, 'sbadaddr', 9, 10], [0x143, 'stval', 10, 13], [0x180, 'sptbr', 9, 10], [0x180, 'satp', 10, 13],
  [0x306, 'mcounteren', 10, 13], [0x30a, 'menvcfg', 12, 13], [0x310, 'mstatush', 12, 13], [0x31a, 'menvcfgh', 12, 13],
  [0x320, 'mucounteren', 9, 10], [0x320, 'mcountinhibit', 11, 13], [0x321, 'mscounteren', 9, 10],
  [0x322, 'mhcounteren', 9, 10], [0x343, 'mbadaddr', 9, 10], [0x343, 'mtval', 10, 13],
  [0x34a, 'mtinst', 12, 13], [0x34b, 'mtval2', 12, 13],
  [0x380, 'mbase', 9, 10], [0x381, 'mbound', 9, 10], [0x382, 'mibase', 9, 10], [0x383, 'mibound', 9, 10],
  [0x384, 'mdbase', 9, 10], [0x385, 'mdbound', 9, 10],
  [0x747, 'mseccfg', 12, 13], [0x757, 'mseccfgh', 12, 13], [0xf15, 'mconfigptr', 12, 13],
];

function buildTable(spec: PrivSpec): string[] {
  const t: string[] = new Array<string>(4096);
  for (const [n, name] of NAMED) t[n] = name;
  for (const [n, name, from, until] of VERSIONED) if (spec >= from && spec < until) t[n] = name;
  // The numbered families, written as ranges rather than 400 more lines. PMP arrived in 1.10
  // with 4 config and 16 address registers; 1.12 has 16 and 64.
  if (spec >= 10) {
    const cfgs = spec >= 12 ? 16 : 4, addrs = spec >= 12 ? 64 : 16;
    for (let i = 0; i < cfgs; i++) t[0x3a0 + i] = `pmpcfg${i}`;
    for (let i = 0; i < addrs; i++) t[0x3b0 + i] = `pmpaddr${i}`;
  }
  for (let i = 3; i < 32; i++) {
    t[0x320 + i] = `mhpmevent${i}`;
    t[0x720 + i] = `mhpmevent${i}h`;
    t[0xb00 + i] = `mhpmcounter${i}`;
    t[0xb80 + i] = `mhpmcounter${i}h`;
    t[0xc00 + i] = `hpmcounter${i}`;
    t[0xc80 + i] = `hpmcounter${i}h`;
  }
  return t;
}

const TABLES = new Map<PrivSpec, string[]>();

/** The CSR operand as objdump prints it under `spec`: its name, or `0x` and the number. */
export function csrName(csr: number, spec: PrivSpec = DEFAULT_PRIV_SPEC): string {
  let t = TABLES.get(spec);
  if (!t) TABLES.set(spec, (t = buildTable(spec)));
  return t[csr & 0xfff] ?? `0x${(csr & 0xfff).toString(16)}`;
}

/**
 * riscv_get_priv_spec_class_from_numbers: the version an ELF's priv-spec attribute triple
 * names, or undefined (objdump then uses the default) for any other triple.
 */
export function privSpecFromAttribute(major: number, minor: number, revision: number): PrivSpec | undefined {
  if (major !== 1) return undefined;
  if (minor === 9 && revision === 1) return 9;
  if (revision !== 0) return undefined;
  return minor === 10 || minor === 11 || minor === 12 ? minor : undefined;
}
