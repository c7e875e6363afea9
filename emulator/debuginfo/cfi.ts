import { ElfImage } from './elf';
import { DwarfReader, hex, invalid, sectionBytes } from './dwarfReader';

/**
 * Call-frame information (DWARF 5 section 6.4) from .debug_frame, which GCC emits for RISC-V
 * bare-metal targets with -g, and .eh_frame, which -funwind-tables or C++ adds: CIEs, FDEs,
 * and the table row for a pc, computed by running the CIE's and FDE's call-frame instructions.
 */

/** Where a register's value in the caller lives (section 6.4.1). */
export type RegisterRule =
  | { kind: 'undefined' }
  | { kind: 'same' }
  /** Saved at CFA + offset. */
  | { kind: 'offset'; offset: number }
  /** Is CFA + offset. */
  | { kind: 'valOffset'; offset: number }
  /** Is in register `reg`. */
  | { kind: 'register'; reg: number }
  /** A DWARF expression: GCC never emits one for RISC-V frames, so it is carried, not evaluated. */
  | { kind: 'expression' };

export type CfaRule = { kind: 'register'; reg: number; offset: number } | { kind: 'expression' };

/** One row of the table: the CFA and the register rules in force from `start` on. */
export interface FrameRow {
  start: number;
  cfa: CfaRule;
  /** Only registers with a rule; the rest keep their value across the call ("same value"). */
  rules: Map<number, RegisterRule>;
  returnAddressRegister: number;
  /** The FDE covers a signal or trap frame ('S' augmentation): its pc is not a return address. */
  signalFrame: boolean;
}

interface Cie {
  offset: number;
  codeAlign: number;
  dataAlign: number;
  returnAddressRegister: number;
  /** DW_EH_PE_* encoding of FDE addresses ('R' augmentation; .eh_frame only). */
  fdeEncoding: number;
  hasAugmentationData: boolean;
  signalFrame: boolean;
  addressSize: number;
  instructions: DwarfReader;
}

export interface Fde {
  /** Offset of the FDE in its section, for messages. */
  offset: number;
  section: '.debug_frame' | '.eh_frame';
  start: number;
  end: number;
  cie: Cie;
  instructions: DwarfReader;
}

// DW_EH_PE_* (LSB 4.1 section 10.5.1): value format in the low nibble, application in the high.
const PE_omit = 0xff, PE_absptr = 0x00, PE_uleb128 = 0x01, PE_udata2 = 0x02, PE_udata4 = 0x03, PE_udata8 = 0x04,
  PE_sleb128 = 0x09, PE_sdata2 = 0x0a, PE_sdata4 = 0x0b, PE_sdata8 = 0x0c, PE_pcrel = 0x10, PE_indirect = 0x80;

interface SectionInfo {
  name: '.debug_frame' | '.eh_frame';
  bytes: Uint8Array;
  /** sh_addr, for pc-relative pointers in .eh_frame. */
  addr: number;
}

function readEncoded(r: DwarfReader, enc: number, s: SectionInfo, addressSize: number): number {
  if (enc === PE_omit) return 0;
  if ((enc & PE_indirect) !== 0) r.fail(`indirect pointer encoding ${hex(enc)} needs the loaded image`);
  const fieldAddr = s.addr + r.pos;
  let v: number;
  switch (enc & 0x0f) {
    case PE_absptr: v = r.sized(addressSize); break;
    case PE_uleb128: v = r.uleb(); break;
    case PE_udata2: v = r.u16(); break;
    case PE_udata4: v = r.u32(); break;
    case PE_udata8: v = r.u64(); break;
    case PE_sleb128: v = r.sleb(); break;
    case PE_sdata2: v = r.i16(); break;
    case PE_sdata4: v = r.i32(); break;
    case PE_sdata8: v = r.i64(); break;
    default: return r.fail(`unsupported pointer encoding ${hex(enc)}`);
  }
  switch (enc & 0x70) {
    case 0: break;
    case PE_pcrel: v += fieldAddr; break;
    default: return r.fail(`unsupported pointer application ${hex(enc & 0x70)} (only absolute and pc-relative pointers occur in static RISC-V executables)`);
  }
  return addressSize === 4 ? v >>> 0 : v;
}

function parseCie(s: SectionInfo, offset: number, r: DwarfReader, end: number): Cie {
  const version = r.u8();
  if (version !== 1 && version !== 3 && version !== 4) r.fail(`CIE at ${hex(offset)} has unsupported version ${version}`);
  const augmentation = r.cstr();
  let addressSize = 4;
  if (version === 4) {
    addressSize = r.u8();
    r.u8(); // segment selector size
    if (addressSize !== 4 && addressSize !== 8) r.fail(`CIE at ${hex(offset)} has address size ${addressSize}`);
  }
  const codeAlign = r.uleb();
  const dataAlign = r.sleb();
  const returnAddressRegister = version === 1 ? r.u8() : r.uleb();
  let fdeEncoding = PE_absptr;
  let signalFrame = false;
  const hasAugmentationData = augmentation.startsWith('z');
  if (hasAugmentationData) {
    const len = r.uleb();
    const aug = new DwarfReader(r.bytes, s.name, r.pos, Math.min(r.pos + len, end));
    r.skip(len);
    for (const c of augmentation.slice(1)) {
      if (c === 'R') fdeEncoding = aug.u8();
      else if (c === 'L') aug.u8();
      else if (c === 'P') readEncoded(aug, aug.u8(), s, addressSize);
      else if (c === 'S') signalFrame = true;
      // Unknown letters: their data is inside the 'z' length, already skipped.
      else break;
    }
  } else if (augmentation !== '') {
    // Without 'z' the layout of unknown augmentation data is unknowable (section 6.4.1).
    r.fail(`CIE at ${hex(offset)} has augmentation "${augmentation}" this reader does not know`);
  }
  return { offset, codeAlign, dataAlign, returnAddressRegister, fdeEncoding, hasAugmentationData, signalFrame, addressSize, instructions: new DwarfReader(r.bytes, s.name, r.pos, end) };
}

/** Reads every CIE and FDE of one section. */
function parseSection(s: SectionInfo): Fde[] {
  const isEh = s.name === '.eh_frame';
  const r = new DwarfReader(s.bytes, s.name);
  const cies = new Map<number, Cie>();
  const fdes: { offset: number; ciePtr: number; at: number; end: number }[] = [];
  while (!r.atEnd) {
    const offset = r.pos;
    // .eh_frame ends with a zero terminator (and may have padding after it).
    if (isEh && r.end - r.pos >= 4 && new DataView(s.bytes.buffer, s.bytes.byteOffset + r.pos, 4).getUint32(0, true) === 0) break;
    const { offsetSize, end } = r.initialLength();
    const idPos = r.pos;
    const lo = r.u32();
    const hi = offsetSize === 8 ? r.u32() : 0;
    const id = lo + hi * 0x1_0000_0000;
    // A CIE's id is 0 in .eh_frame and all ones (of the offset size) in .debug_frame.
    const isCie = isEh ? id === 0 : lo === 0xffffffff && (offsetSize === 4 || hi === 0xffffffff);
    if (isCie) cies.set(offset, parseCie(s, offset, new DwarfReader(s.bytes, s.name, r.pos, end), end));
    // .eh_frame's CIE pointer counts back from the field itself; .debug_frame's is a section offset.
    else fdes.push({ offset, ciePtr: isEh ? idPos - id : id, at: r.pos, end });
    r.pos = end;
  }
  const out: Fde[] = [];
  for (const f of fdes) {
    let cie = cies.get(f.ciePtr);
    if (!cie) {
      if (f.ciePtr < 0 || f.ciePtr >= s.bytes.length) invalid(`${s.name}: FDE at ${hex(f.offset)} points at a CIE at ${hex(f.ciePtr)}, outside the section`);
      // A CIE after its FDE, or one parseSection skipped past: read it where the FDE says.
      const cr = new DwarfReader(s.bytes, s.name, f.ciePtr);
      const { offsetSize, end } = cr.initialLength();
      cr.sized(offsetSize);
      cie = parseCie(s, f.ciePtr, new DwarfReader(s.bytes, s.name, cr.pos, end), end);
      cies.set(f.ciePtr, cie);
    }
    const r2 = new DwarfReader(s.bytes, s.name, f.at, f.end);
    const start = isEh ? readEncoded(r2, cie.fdeEncoding, s, cie.addressSize) : r2.sized(cie.addressSize);
    // The range is a length: same format as the start, never pc-relative.
    const length = isEh ? readEncoded(r2, cie.fdeEncoding & 0x0f, s, cie.addressSize) : r2.sized(cie.addressSize);
    if (cie.hasAugmentationData) r2.skip(r2.uleb());
    out.push({ offset: f.offset, section: s.name, start, end: start + length, cie, instructions: new DwarfReader(s.bytes, s.name, r2.pos, f.end) });
  }
  return out;
}

const DW_CFA_advance_loc = 0x40, DW_CFA_offset = 0x80, DW_CFA_restore = 0xc0;
const DW_CFA_nop = 0x00, DW_CFA_set_loc = 0x01, DW_CFA_advance_loc1 = 0x02, DW_CFA_advance_loc2 = 0x03,
  DW_CFA_advance_loc4 = 0x04, DW_CFA_offset_extended = 0x05, DW_CFA_restore_extended = 0x06, DW_CFA_undefined = 0x07,
  DW_CFA_same_value = 0x08, DW_CFA_register = 0x09, DW_CFA_remember_state = 0x0a, DW_CFA_restore_state = 0x0b,
  DW_CFA_def_cfa = 0x0c, DW_CFA_def_cfa_register = 0x0d, DW_CFA_def_cfa_offset = 0x0e, DW_CFA_def_cfa_expression = 0x0f,
  DW_CFA_expression = 0x10, DW_CFA_offset_extended_sf = 0x11, DW_CFA_def_cfa_sf = 0x12, DW_CFA_def_cfa_offset_sf = 0x13,
  DW_CFA_val_offset = 0x14, DW_CFA_val_offset_sf = 0x15, DW_CFA_val_expression = 0x16, DW_CFA_GNU_args_size = 0x2e,
  DW_CFA_GNU_negative_offset_extended = 0x2f;

interface State {
  cfa: CfaRule;
  rules: Map<number, RegisterRule>;
}
const copyState = (s: State): State => ({ cfa: { ...s.cfa }, rules: new Map(s.rules) });

/**
 * Runs call-frame instructions on `state`. Before each location change, `row(start)` gets the
 * state in force from `start` up to the new location. `initial` is the CIE's result, which
 * DW_CFA_restore goes back to.
 */
function execute(instructions: DwarfReader, cie: Cie, s: SectionInfo, state: State, loc: { at: number }, row: (start: number) => void, initial?: State): void {
  const r = new DwarfReader(instructions.bytes, instructions.section, instructions.pos, instructions.end);
  const stack: State[] = [];
  const setCfaReg = (reg: number): void => {
    state.cfa = state.cfa.kind === 'register' ? { ...state.cfa, reg } : { kind: 'register', reg, offset: 0 };
  };
  const setCfaOffset = (offset: number): void => {
    if (state.cfa.kind !== 'register') return r.fail('DW_CFA_def_cfa_offset after a CFA expression');
    state.cfa = { kind: 'register', reg: state.cfa.reg, offset };
  };
  const restore = (reg: number): void => {
    const rule = initial?.rules.get(reg);
    if (rule) state.rules.set(reg, rule);
    else state.rules.delete(reg);
  };
  const moveTo = (next: number): void => {
    row(loc.at);
    loc.at = next;
  };
  const advance = (delta: number): void => moveTo(loc.at + delta * cie.codeAlign);
  while (!r.atEnd) {
    const op = r.u8();
    const high = op & 0xc0, low = op & 0x3f;
    if (high === DW_CFA_advance_loc) {
      advance(low);
      continue;
    }
    if (high === DW_CFA_offset) {
      state.rules.set(low, { kind: 'offset', offset: r.uleb() * cie.dataAlign });
      continue;
    }
    if (high === DW_CFA_restore) {
      restore(low);
      continue;
    }
    switch (op) {
      case DW_CFA_nop: break;
      case DW_CFA_set_loc: moveTo(readEncoded(r, s.name === '.eh_frame' ? cie.fdeEncoding : PE_absptr, s, cie.addressSize)); break;
      case DW_CFA_advance_loc1: advance(r.u8()); break;
      case DW_CFA_advance_loc2: advance(r.u16()); break;
      case DW_CFA_advance_loc4: advance(r.u32()); break;
      case DW_CFA_offset_extended: { const reg = r.uleb(); state.rules.set(reg, { kind: 'offset', offset: r.uleb() * cie.dataAlign }); break; }
      case DW_CFA_offset_extended_sf: { const reg = r.uleb(); state.rules.set(reg, { kind: 'offset', offset: r.sleb() * cie.dataAlign }); break; }
      case DW_CFA_GNU_negative_offset_extended: { const reg = r.uleb(); state.rules.set(reg, { kind: 'offset', offset: -r.uleb() * cie.dataAlign }); break; }
      case DW_CFA_val_offset: { const reg = r.uleb(); state.rules.set(reg, { kind: 'valOffset', offset: r.uleb() * cie.dataAlign }); break; }
      case DW_CFA_val_offset_sf: { const reg = r.uleb(); state.rules.set(reg, { kind: 'valOffset', offset: r.sleb() * cie.dataAlign }); break; }
      case DW_CFA_restore_extended: restore(r.uleb()); break;
      case DW_CFA_undefined: state.rules.set(r.uleb(), { kind: 'undefined' }); break;
      case DW_CFA_same_value: state.rules.set(r.uleb(), { kind: 'same' }); break;
      case DW_CFA_register: { const reg = r.uleb(); state.rules.set(reg, { kind: 'register', reg: r.uleb() }); break; }
      case DW_CFA_remember_state: stack.push(copyState(state)); break;
      case DW_CFA_restore_state: {
        const saved = stack.pop();
        if (!saved) return r.fail('DW_CFA_restore_state with no remembered state');
        // The CFA rule comes back too, as in libgcc's unwinder and gdb: GCC's mid-function
        // epilogues (def_cfa_offset 0 before a `ret`, then restore_state) rely on it.
        state.cfa = saved.cfa;
        state.rules = saved.rules;
        break;
      }
      case DW_CFA_def_cfa: { const reg = r.uleb(); state.cfa = { kind: 'register', reg, offset: r.uleb() }; break; }
      case DW_CFA_def_cfa_sf: { const reg = r.uleb(); state.cfa = { kind: 'register', reg, offset: r.sleb() * cie.dataAlign }; break; }
      case DW_CFA_def_cfa_register: setCfaReg(r.uleb()); break;
      case DW_CFA_def_cfa_offset: setCfaOffset(r.uleb()); break;
      case DW_CFA_def_cfa_offset_sf: setCfaOffset(r.sleb() * cie.dataAlign); break;
      case DW_CFA_def_cfa_expression: r.skip(r.uleb()); state.cfa = { kind: 'expression' }; break;
      case DW_CFA_expression: case DW_CFA_val_expression: { const reg = r.uleb(); r.skip(r.uleb()); state.rules.set(reg, { kind: 'expression' }); break; }
      case DW_CFA_GNU_args_size: r.uleb(); break;
      default: r.fail(`unknown call-frame instruction ${hex(op)}`);
    }
  }
}

/** The call-frame tables of one ELF, FDEs sorted by address, parsed when first asked. */
export class CallFrameInfo {
  private constructor(private readonly sections: SectionInfo[]) {}

  private sorted?: Fde[];
  private readonly tables = new Map<Fde, FrameRow[]>();

  /** From .debug_frame and .eh_frame; an ELF with neither gives an empty table. */
  static fromElf(elf: ElfImage): CallFrameInfo {
    const sections: SectionInfo[] = [];
    for (const name of ['.debug_frame', '.eh_frame'] as const) {
      const bytes = sectionBytes(elf, name);
      const sec = elf.sections.find((x) => x.name === name);
      if (bytes && sec) sections.push({ name, bytes, addr: sec.addr >>> 0 });
    }
    return new CallFrameInfo(sections);
  }

  get fdes(): readonly Fde[] {
    if (!this.sorted) {
      // .debug_frame first: on equal starts the stable sort keeps it ahead of .eh_frame.
      this.sorted = this.sections.flatMap(parseSection).filter((f) => f.end > f.start).sort((a, b) => a.start - b.start);
    }
    return this.sorted;
  }

  fdeFor(pc: number): Fde | undefined {
    const a = pc >>> 0;
    const fdes = this.fdes;
    let lo = 0, hi = fdes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (fdes[mid].start > a) hi = mid - 1;
      else if (a >= fdes[mid].end) lo = mid + 1;
      else return fdes[mid];
    }
    return undefined;
  }

  /** The rows of `fde`'s table, sorted by start; a later row at the same start wins. */
  table(fde: Fde): FrameRow[] {
    let rows = this.tables.get(fde);
    if (!rows) {
      const sec = this.sections.find((s) => s.name === fde.section) as SectionInfo;
      const state: State = { cfa: { kind: 'register', reg: 2, offset: 0 }, rules: new Map() };
      // The CIE's initial instructions hold from the FDE's first address on.
      execute(fde.cie.instructions, fde.cie, sec, state, { at: fde.start }, () => undefined);
      const initial = copyState(state);
      const out: FrameRow[] = [];
      const snapshot = (start: number): void => {
        out.push({ start, cfa: { ...state.cfa }, rules: new Map(state.rules), returnAddressRegister: fde.cie.returnAddressRegister, signalFrame: fde.cie.signalFrame });
      };
      const loc = { at: fde.start };
      execute(fde.instructions, fde.cie, sec, state, loc, snapshot, initial);
      snapshot(loc.at);
      rows = out.sort((a, b) => a.start - b.start);
      this.tables.set(fde, rows);
    }
    return rows;
  }

  /** The table row in force at `pc`, or undefined where no FDE covers it. */
  rowAt(pc: number): FrameRow | undefined {
    const fde = this.fdeFor(pc);
    if (!fde) return undefined;
    const rows = this.table(fde);
    const a = pc >>> 0;
    let lo = 0, hi = rows.length - 1, found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].start <= a) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return rows[found];
  }
}
