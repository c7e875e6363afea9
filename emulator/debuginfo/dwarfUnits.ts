import { DW_FORM, FormContext, FormValue, readForm } from './dwarfForms';
import { DwarfReader, hex, invalid } from './dwarfReader';

/**
 * The top DIE of each compilation unit in .debug_info: just what the line reader needs. Its
 * DW_AT_comp_dir is what addr2line joins relative paths onto (a DWARF 4 line table does not
 * carry the compilation directory at all), and DW_AT_stmt_list says which line program belongs
 * to the unit.
 */
export interface CompileUnit {
  /** Offset of the unit header in .debug_info. */
  offset: number;
  version: number;
  addressSize: number;
  name?: string;
  compDir?: string;
  /** Offset of the unit's line program in .debug_line. */
  stmtList?: number;
  lowPc?: number;
  /** End of [lowPc, highPc), already made absolute for DWARF 4+'s offset form. */
  highPc?: number;
}

export interface UnitSections {
  info: Uint8Array;
  abbrev?: Uint8Array;
  str?: Uint8Array;
  lineStr?: Uint8Array;
}

const DW_UT_compile = 1, DW_UT_type = 2, DW_UT_partial = 3, DW_UT_skeleton = 4, DW_UT_split_compile = 5, DW_UT_split_type = 6;
const DW_AT_name = 0x03, DW_AT_stmt_list = 0x10, DW_AT_low_pc = 0x11, DW_AT_high_pc = 0x12, DW_AT_comp_dir = 0x1b;

interface AbbrevAttr {
  attr: number;
  form: number;
  implicitConst: number;
}

/** Finds abbreviation `code` in the table at `offset` and returns its attribute specs. */
function findAbbrev(abbrev: Uint8Array, offset: number, code: number): AbbrevAttr[] {
  if (offset >= abbrev.length) invalid(`.debug_abbrev: table offset ${hex(offset)} is past the end of the section`);
  const r = new DwarfReader(abbrev, '.debug_abbrev', offset);
  for (;;) {
    const c = r.uleb();
    if (c === 0) r.fail(`abbreviation ${code} not found in the table at ${hex(offset)}`);
    r.uleb(); // tag
    r.u8(); // has-children flag
    const attrs: AbbrevAttr[] = [];
    for (;;) {
      const attr = r.uleb();
      const form = r.uleb();
      if (attr === 0 && form === 0) break;
      attrs.push({ attr, form, implicitConst: form === DW_FORM.implicit_const ? r.sleb() : 0 });
    }
    if (c === code) return attrs;
  }
}

const str = (v: FormValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: FormValue | undefined): number | undefined => (typeof v === 'number' ? v : undefined);

/** Reads every unit header in .debug_info and the attributes of its root DIE. */
export function readCompileUnits(s: UnitSections): CompileUnit[] {
  const units: CompileUnit[] = [];
  const r = new DwarfReader(s.info, '.debug_info');
  while (!r.atEnd) {
    const offset = r.pos;
    const { offsetSize, end } = r.initialLength();
    const version = r.u16();
    if (version < 2 || version > 5) r.fail(`unit at ${hex(offset)} has unsupported DWARF version ${version}`);
    let unitType = DW_UT_compile;
    let addressSize: number;
    let abbrevOffset: number;
    if (version >= 5) {
      unitType = r.u8();
      addressSize = r.u8();
      abbrevOffset = r.sized(offsetSize);
      if (unitType === DW_UT_skeleton || unitType === DW_UT_split_compile) r.skip(8);
      else if (unitType === DW_UT_type || unitType === DW_UT_split_type) r.skip(8 + offsetSize);
    } else {
      abbrevOffset = r.sized(offsetSize);
      addressSize = r.u8();
    }
    if (addressSize !== 4 && addressSize !== 8) r.fail(`unit at ${hex(offset)} has address size ${addressSize}`);
    const unit: CompileUnit = { offset, version, addressSize };
    const isCode = unitType === DW_UT_compile || unitType === DW_UT_partial || unitType === DW_UT_skeleton;
    const body = new DwarfReader(s.info, '.debug_info', r.pos, end);
    const code = body.atEnd ? 0 : body.uleb();
    if (isCode && code !== 0) {
      if (!s.abbrev) invalid('.debug_info needs .debug_abbrev, which the ELF does not have');
      const ctx: FormContext = { version, offsetSize, addressSize, debugStr: s.str, debugLineStr: s.lineStr };
      let highIsOffset = false;
      for (const a of findAbbrev(s.abbrev, abbrevOffset, code)) {
        const v = readForm(body, a.form, ctx, a.implicitConst);
        if (a.attr === DW_AT_name) unit.name = str(v);
        else if (a.attr === DW_AT_comp_dir) unit.compDir = str(v);
        else if (a.attr === DW_AT_stmt_list) unit.stmtList = num(v);
        else if (a.attr === DW_AT_low_pc && a.form === DW_FORM.addr) unit.lowPc = num(v);
        else if (a.attr === DW_AT_high_pc) {
          // An index form (addrx, split DWARF) would need .debug_addr; GCC only uses them for -gsplit-dwarf.
          unit.highPc = num(v);
          // DWARF 4 section 2.17.2: a constant-class high_pc is an offset from low_pc.
          highIsOffset = a.form !== DW_FORM.addr;
        }
      }
      if (highIsOffset && unit.highPc !== undefined) unit.highPc = unit.lowPc === undefined ? undefined : unit.lowPc + unit.highPc;
    }
    units.push(unit);
    r.pos = end;
  }
  return units;
}
