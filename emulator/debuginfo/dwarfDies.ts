import { DW_FORM, FormContext, FormValue, readForm } from './dwarfForms';
import { DwarfReader, hex, invalid } from './dwarfReader';

/** One debugging information entry (DWARF 5 section 2.1), its attributes decoded. */
export interface Die {
  /** Offset in .debug_info (references point here). */
  offset: number;
  tag: number;
  attrs: Map<number, { form: number; value: FormValue }>;
  children: Die[];
  parent?: Die;
  unit: UnitHeader;
}

export interface UnitHeader {
  offset: number;
  end: number;
  version: number;
  unitType: number;
  addressSize: number;
  offsetSize: 4 | 8;
  abbrevOffset: number;
  /** Where the root DIE starts. */
  dieOffset: number;
}

export interface InfoSections {
  info: Uint8Array;
  abbrev?: Uint8Array;
  str?: Uint8Array;
  lineStr?: Uint8Array;
  strOffsets?: Uint8Array;
  addr?: Uint8Array;
}

export interface AbbrevEntry {
  tag: number;
  children: boolean;
  attrs: { attr: number; form: number; implicitConst: number }[];
}

export const DW_UT = { compile: 1, type: 2, partial: 3, skeleton: 4, split_compile: 5, split_type: 6 } as const;

/** Every abbreviation of the table at `offset` (DWARF 5 section 7.5.3), by code. */
export function readAbbrevTable(abbrev: Uint8Array, offset: number): Map<number, AbbrevEntry> {
  if (offset >= abbrev.length) invalid(`.debug_abbrev: table offset ${hex(offset)} is past the end of the section`);
  const r = new DwarfReader(abbrev, '.debug_abbrev', offset);
  const table = new Map<number, AbbrevEntry>();
  for (;;) {
    if (r.atEnd) break;
    const code = r.uleb();
    if (code === 0) break;
    const tag = r.uleb();
    const children = r.u8() !== 0;
    const attrs: AbbrevEntry['attrs'] = [];
    for (;;) {
      const attr = r.uleb();
      const form = r.uleb();
      if (attr === 0 && form === 0) break;
      attrs.push({ attr, form, implicitConst: form === DW_FORM.implicit_const ? r.sleb() : 0 });
    }
    table.set(code, { tag, children, attrs });
  }
  return table;
}

/** The unit headers of .debug_info, in order. */
export function readUnitHeaders(info: Uint8Array): UnitHeader[] {
  const out: UnitHeader[] = [];
  const r = new DwarfReader(info, '.debug_info');
  while (!r.atEnd) {
    const offset = r.pos;
    const { offsetSize, end } = r.initialLength();
    const version = r.u16();
    if (version < 2 || version > 5) r.fail(`unit at ${hex(offset)} has unsupported DWARF version ${version}`);
    let unitType: number = DW_UT.compile;
    let addressSize: number;
    let abbrevOffset: number;
    if (version >= 5) {
      unitType = r.u8();
      addressSize = r.u8();
      abbrevOffset = r.sized(offsetSize);
      if (unitType === DW_UT.skeleton || unitType === DW_UT.split_compile) r.skip(8);
      else if (unitType === DW_UT.type || unitType === DW_UT.split_type) r.skip(8 + offsetSize);
    } else {
      abbrevOffset = r.sized(offsetSize);
      addressSize = r.u8();
    }
    if (addressSize !== 4 && addressSize !== 8) r.fail(`unit at ${hex(offset)} has address size ${addressSize}`);
    out.push({ offset, end, version, unitType, addressSize, offsetSize, abbrevOffset, dieOffset: r.pos });
    r.pos = end;
  }
  return out;
}

const REF_FORMS = new Set<number>([DW_FORM.ref1, DW_FORM.ref2, DW_FORM.ref4, DW_FORM.ref8, DW_FORM.ref_udata]);

/**
 * All DIEs of one unit as a tree. Unit-relative references (DW_FORM_ref1..ref_udata) come back
 * as .debug_info offsets, like DW_FORM_ref_addr, so callers look every reference up the same way.
 */
export function readUnitDies(s: InfoSections, u: UnitHeader, abbrevCache: Map<number, Map<number, AbbrevEntry>>): Die[] {
  if (!s.abbrev) invalid('.debug_info needs .debug_abbrev, which the ELF does not have');
  let table = abbrevCache.get(u.abbrevOffset);
  if (!table) abbrevCache.set(u.abbrevOffset, (table = readAbbrevTable(s.abbrev, u.abbrevOffset)));
  const ctx: FormContext = { version: u.version, offsetSize: u.offsetSize, addressSize: u.addressSize, debugStr: s.str, debugLineStr: s.lineStr };
  const r: DwarfReader = new DwarfReader(s.info, '.debug_info', u.dieOffset, u.end);
  const roots: Die[] = [];
  const stack: Die[] = [];
  while (!r.atEnd) {
    const offset = r.pos;
    const code = r.uleb();
    if (code === 0) {
      stack.pop();
      if (stack.length === 0 && roots.length > 0) break;
      continue;
    }
    const ab = table.get(code);
    if (!ab) r.fail(`DIE at ${hex(offset)} uses abbreviation ${code}, which its table does not have`);
    const attrs = new Map<number, { form: number; value: FormValue }>();
    for (const a of ab.attrs) {
      let value = readForm(r, a.form, ctx, a.implicitConst);
      if (REF_FORMS.has(a.form) && typeof value === 'number') value += u.offset;
      attrs.set(a.attr, { form: a.form, value });
    }
    const parent = stack[stack.length - 1];
    const die: Die = { offset, tag: ab.tag, attrs, children: [], parent, unit: u };
    if (parent) parent.children.push(die);
    else roots.push(die);
    if (ab.children) stack.push(die);
    else if (!parent) break;
  }
  return roots;
}
