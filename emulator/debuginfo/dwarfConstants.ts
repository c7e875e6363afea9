/** The DWARF tags, attributes and codes the variable readers use (DWARF 5 section 7). */
export const TAG = {
  array_type: 0x01, enumeration_type: 0x04, formal_parameter: 0x05, lexical_block: 0x0b, member: 0x0d, pointer_type: 0x0f,
  compile_unit: 0x11, structure_type: 0x13, subroutine_type: 0x15, typedef: 0x16, union_type: 0x17, unspecified_parameters: 0x18,
  variant: 0x19, inlined_subroutine: 0x1d, subrange_type: 0x21, base_type: 0x24, const_type: 0x26, enumerator: 0x28,
  subprogram: 0x2e, variable: 0x34, volatile_type: 0x35, restrict_type: 0x37, partial_unit: 0x3c, unspecified_type: 0x3b,
  atomic_type: 0x47, call_site: 0x48, call_site_parameter: 0x49, GNU_call_site: 0x4109, GNU_call_site_parameter: 0x410a,
} as const;

export const AT = {
  sibling: 0x01, location: 0x02, name: 0x03, byte_size: 0x0b, stmt_list: 0x10, low_pc: 0x11, high_pc: 0x12, language: 0x13,
  comp_dir: 0x1b, const_value: 0x1c, inline: 0x20, producer: 0x25, prototyped: 0x27, lower_bound: 0x22, count: 0x37,
  upper_bound: 0x2f, abstract_origin: 0x31, bit_size: 0x0d, bit_offset: 0x0c, data_member_location: 0x38, decl_file: 0x3a,
  decl_line: 0x3b, declaration: 0x3c, encoding: 0x3e, external: 0x3f, frame_base: 0x40, specification: 0x47, type: 0x49,
  ranges: 0x55, data_bit_offset: 0x6b, entry_pc: 0x52, call_file: 0x58, call_line: 0x59, call_column: 0x57, linkage_name: 0x6e,
  str_offsets_base: 0x72, addr_base: 0x73, rnglists_base: 0x74, loclists_base: 0x8c, call_value: 0x7e, call_return_pc: 0x7d,
  call_pc: 0x81, call_origin: 0x7f, call_target: 0x83, GNU_call_site_value: 0x2111, MIPS_linkage_name: 0x2007, enum_class: 0x6d,
} as const;

/** DW_ATE_*: how a base type's bits are read. */
export const ATE = {
  address: 0x1, boolean: 0x2, complex_float: 0x3, float: 0x4, signed: 0x5, signed_char: 0x6, unsigned: 0x7, unsigned_char: 0x8, UTF: 0x10,
} as const;

/** DW_LANG_Mips_Assembler: what GNU as writes for its own line info. */
export const LANG_ASSEMBLER = 0x8001;
