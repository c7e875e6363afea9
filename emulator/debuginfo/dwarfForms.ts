import { DwarfReader, hex, stringAt } from './dwarfReader';

/** Attribute form codes (DWARF 5 section 7.5.6, plus the GNU extensions binutils reads). */
export const DW_FORM = {
  addr: 0x01, block2: 0x03, block4: 0x04, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08,
  block: 0x09, block1: 0x0a, data1: 0x0b, flag: 0x0c, sdata: 0x0d, strp: 0x0e, udata: 0x0f,
  ref_addr: 0x10, ref1: 0x11, ref2: 0x12, ref4: 0x13, ref8: 0x14, ref_udata: 0x15, indirect: 0x16,
  sec_offset: 0x17, exprloc: 0x18, flag_present: 0x19, strx: 0x1a, addrx: 0x1b, ref_sup4: 0x1c,
  strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f, ref_sig8: 0x20, implicit_const: 0x21,
  loclistx: 0x22, rnglistx: 0x23, ref_sup8: 0x24, strx1: 0x25, strx2: 0x26, strx3: 0x27,
  strx4: 0x28, addrx1: 0x29, addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c,
  GNU_addr_index: 0x1f01, GNU_str_index: 0x1f02, GNU_ref_alt: 0x1f20, GNU_strp_alt: 0x1f21,
} as const;

/** What a form needs besides its bytes: the unit's sizes and the string sections. */
export interface FormContext {
  version: number;
  offsetSize: 4 | 8;
  addressSize: number;
  debugStr?: Uint8Array;
  debugLineStr?: Uint8Array;
}

/**
 * A decoded attribute value: a number (constants, addresses, offsets, references), a string
 * (resolved through .debug_str / .debug_line_str), or raw bytes (blocks, data16 such as an MD5).
 * Index forms (strx, addrx, ...) come back as the bare index: resolving them needs the unit's
 * base attributes, which GCC only emits for split DWARF.
 */
export type FormValue = number | string | Uint8Array;

export function readForm(r: DwarfReader, form: number, ctx: FormContext, implicitConst = 0): FormValue {
  const F = DW_FORM;
  switch (form) {
    case F.addr: return r.sized(ctx.addressSize);
    case F.data1: case F.ref1: case F.flag: case F.strx1: case F.addrx1: return r.u8();
    case F.data2: case F.ref2: case F.strx2: case F.addrx2: return r.u16();
    case F.strx3: case F.addrx3: return r.u24();
    case F.data4: case F.ref4: case F.ref_sup4: case F.strx4: case F.addrx4: return r.u32();
    case F.data8: case F.ref8: case F.ref_sig8: case F.ref_sup8: return r.u64();
    case F.data16: return r.bytesOf(16);
    case F.sdata: return r.sleb();
    case F.udata: case F.ref_udata: case F.strx: case F.addrx: case F.loclistx: case F.rnglistx:
    case F.GNU_addr_index: case F.GNU_str_index:
      return r.uleb();
    case F.string: return r.cstr();
    case F.strp: return stringAt(ctx.debugStr, '.debug_str', r.sized(ctx.offsetSize));
    case F.line_strp: return stringAt(ctx.debugLineStr, '.debug_line_str', r.sized(ctx.offsetSize));
    // The supplementary/alternate object files these point into are not part of the ELF.
    case F.strp_sup: case F.GNU_strp_alt: case F.GNU_ref_alt: case F.sec_offset:
      return r.sized(ctx.offsetSize);
    // DWARF 2 made ref_addr address-sized; DWARF 3 changed it to offset-sized.
    case F.ref_addr: return r.sized(ctx.version <= 2 ? ctx.addressSize : ctx.offsetSize);
    case F.block1: return r.bytesOf(r.u8());
    case F.block2: return r.bytesOf(r.u16());
    case F.block4: return r.bytesOf(r.u32());
    case F.block: case F.exprloc: return r.bytesOf(r.uleb());
    case F.flag_present: return 1;
    case F.implicit_const: return implicitConst;
    case F.indirect: {
      const actual = r.uleb();
      if (actual === F.indirect) r.fail('DW_FORM_indirect pointing at DW_FORM_indirect');
      return readForm(r, actual, ctx, implicitConst);
    }
    default: return r.fail(`unknown attribute form ${hex(form)}`);
  }
}
