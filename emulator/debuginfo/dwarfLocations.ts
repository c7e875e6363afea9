import { DW_FORM } from './dwarfForms';
import { DwarfReader, hex, invalid } from './dwarfReader';

export interface ListSections {
  loclists?: Uint8Array;
  loc?: Uint8Array;
  rnglists?: Uint8Array;
  ranges?: Uint8Array;
  addr?: Uint8Array;
}

export interface UnitBases {
  version: number;
  offsetSize: 4 | 8;
  /** The unit's base address (DW_AT_low_pc of its root DIE), for offsets in lists. */
  base: number;
  addrBase?: number;
  loclistsBase?: number;
  rnglistsBase?: number;
}

export interface AddressRange {
  lo: number;
  hi: number;
}

function addrx(s: ListSections, u: UnitBases, i: number): number {
  if (!s.addr || u.addrBase === undefined) invalid('an address index is used, but the unit has no .debug_addr base');
  const r = new DwarfReader(s.addr, '.debug_addr', u.addrBase + i * 4);
  return r.u32();
}

/** The offset a loclistx / rnglistx index stands for (DWARF 5 section 7.29). */
function listOffset(sec: Uint8Array, name: string, base: number | undefined, index: number, offsetSize: 4 | 8): number {
  if (base === undefined) invalid(`${name}: a list index is used, but the unit has no list base`);
  const r = new DwarfReader(sec, name, base + index * offsetSize);
  return base + r.sized(offsetSize);
}

/**
 * The location list entries (range, expression) of a DW_AT_location given as a list: DWARF 5
 * .debug_loclists (every DW_LLE kind) or DWARF 4 .debug_loc.
 */
export function readLocationList(s: ListSections, u: UnitBases, value: number, form: number): { range: AddressRange; expr: Uint8Array }[] {
  const out: { range: AddressRange; expr: Uint8Array }[] = [];
  if (u.version >= 5) {
    if (!s.loclists) invalid('a location list points into .debug_loclists, which the ELF does not have');
    const off = form === DW_FORM.loclistx ? listOffset(s.loclists, '.debug_loclists', u.loclistsBase, value, u.offsetSize) : value;
    const r = new DwarfReader(s.loclists, '.debug_loclists', off);
    let base = u.base;
    for (let n = 0; ; n++) {
      if (n > 1_000_000) r.fail('a location list does not end');
      const kind = r.u8();
      const expr = () => r.bytesOf(r.uleb());
      switch (kind) {
        case 0: return out; // end_of_list
        case 1: base = addrx(s, u, r.uleb()); break;
        case 2: { const a = addrx(s, u, r.uleb()), b = addrx(s, u, r.uleb()); out.push({ range: { lo: a, hi: b }, expr: expr() }); break; }
        case 3: { const a = addrx(s, u, r.uleb()); const len = r.uleb(); out.push({ range: { lo: a, hi: a + len }, expr: expr() }); break; }
        case 4: { const a = r.uleb(), b = r.uleb(); out.push({ range: { lo: base + a, hi: base + b }, expr: expr() }); break; }
        case 5: out.push({ range: { lo: 0, hi: 2 ** 32 }, expr: expr() }); break; // default_location
        case 6: base = r.u32(); break;
        case 7: { const a = r.u32(), b = r.u32(); out.push({ range: { lo: a, hi: b }, expr: expr() }); break; }
        case 8: { const a = r.u32(); const len = r.uleb(); out.push({ range: { lo: a, hi: a + len }, expr: expr() }); break; }
        default: r.fail(`unknown location list entry kind ${kind} at ${hex(r.pos - 1)}`);
      }
    }
  }
  if (!s.loc) invalid('a location list points into .debug_loc, which the ELF does not have');
  const r = new DwarfReader(s.loc, '.debug_loc', value);
  let base = u.base;
  for (let n = 0; ; n++) {
    if (n > 1_000_000) r.fail('a location list does not end');
    const a = r.u32(), b = r.u32();
    if (a === 0 && b === 0) return out;
    if (a === 0xffffffff) { base = b; continue; }
    const len = r.u16();
    out.push({ range: { lo: base + a, hi: base + b }, expr: r.bytesOf(len) });
  }
}

/** The address ranges of DW_AT_ranges: DWARF 5 .debug_rnglists or DWARF 4 .debug_ranges. */
export function readRanges(s: ListSections, u: UnitBases, value: number, form: number): AddressRange[] {
  const out: AddressRange[] = [];
  if (u.version >= 5) {
    if (!s.rnglists) invalid('DW_AT_ranges points into .debug_rnglists, which the ELF does not have');
    const off = form === DW_FORM.rnglistx ? listOffset(s.rnglists, '.debug_rnglists', u.rnglistsBase, value, u.offsetSize) : value;
    const r = new DwarfReader(s.rnglists, '.debug_rnglists', off);
    let base = u.base;
    for (let n = 0; ; n++) {
      if (n > 1_000_000) r.fail('a range list does not end');
      const kind = r.u8();
      switch (kind) {
        case 0: return out;
        case 1: base = addrx(s, u, r.uleb()); break;
        case 2: { const a = addrx(s, u, r.uleb()), b = addrx(s, u, r.uleb()); out.push({ lo: a, hi: b }); break; }
        case 3: { const a = addrx(s, u, r.uleb()); out.push({ lo: a, hi: a + r.uleb() }); break; }
        case 4: { const a = r.uleb(), b = r.uleb(); out.push({ lo: base + a, hi: base + b }); break; }
        case 5: base = r.u32(); break;
        case 6: { const a = r.u32(), b = r.u32(); out.push({ lo: a, hi: b }); break; }
        case 7: { const a = r.u32(); out.push({ lo: a, hi: a + r.uleb() }); break; }
        default: r.fail(`unknown range list entry kind ${kind} at ${hex(r.pos - 1)}`);
      }
    }
  }
  if (!s.ranges) invalid('DW_AT_ranges points into .debug_ranges, which the ELF does not have');
  const r = new DwarfReader(s.ranges, '.debug_ranges', value);
  let base = u.base;
  for (let n = 0; ; n++) {
    if (n > 1_000_000) r.fail('a range list does not end');
    const a = r.u32(), b = r.u32();
    if (a === 0 && b === 0) return out;
    if (a === 0xffffffff) { base = b; continue; }
    out.push({ lo: base + a, hi: base + b });
  }
}
