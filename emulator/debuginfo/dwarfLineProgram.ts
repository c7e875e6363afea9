import { FormContext, FormValue, readForm } from './dwarfForms';
import { DwarfReader, hex, invalid } from './dwarfReader';

/** One row of a line-number matrix (DWARF 5 section 6.2.2), with the file name resolved. */
export interface LineRow {
  address: number;
  /** The full path as addr2line and objdump -l print it (see fileName below). */
  file: string;
  line: number;
  column: number;
  isStmt: boolean;
  endSequence: boolean;
  discriminator: number;
}

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  discriminator: number;
}

/** A statement: where an is_stmt row starts, and the line it starts. */
export interface Statement {
  address: number;
  file: string;
  line: number;
  column: number;
}

export interface LineSections {
  line: Uint8Array;
  str?: Uint8Array;
  lineStr?: Uint8Array;
}

const DW_LNS_copy = 1, DW_LNS_advance_pc = 2, DW_LNS_advance_line = 3, DW_LNS_set_file = 4, DW_LNS_set_column = 5,
  DW_LNS_negate_stmt = 6, DW_LNS_set_basic_block = 7, DW_LNS_const_add_pc = 8, DW_LNS_fixed_advance_pc = 9,
  DW_LNS_set_prologue_end = 10, DW_LNS_set_epilogue_begin = 11, DW_LNS_set_isa = 12;
const DW_LNE_end_sequence = 1, DW_LNE_set_address = 2, DW_LNE_define_file = 3, DW_LNE_set_discriminator = 4;
const DW_LNCT_path = 1, DW_LNCT_directory_index = 2;

const isAbsolute = (p: string): boolean => p.startsWith('/');

interface FileEntry {
  name?: string;
  dir: number;
}

/**
 * The name BFD's concat_filename gives a file entry, which is what addr2line and objdump -l
 * print: an absolute name as is; otherwise the compilation directory (the unit's DW_AT_comp_dir,
 * dropped when the entry's directory is absolute), then the entry's directory, then the name,
 * joined with '/' and never normalised. So GCC's `-ffile-prefix-map=$PWD=.` yields
 * "./common/lib.c" (comp dir ".", directory "common"). DWARF 5 numbers directories and files
 * from 0; DWARF 2-4 from 1, directory 0 meaning the compilation directory and file 0 none.
 */
function fileName(files: (FileEntry | undefined)[], dirs: (string | undefined)[], index: number, compDir: string | undefined): string {
  const f = files[index];
  if (!f || f.name === undefined) return '<unknown>';
  if (isAbsolute(f.name)) return f.name;
  let subdir = dirs[f.dir];
  let dir = !subdir || !isAbsolute(subdir) ? compDir : undefined;
  if (!dir) {
    dir = subdir;
    subdir = undefined;
  }
  if (!dir) return f.name;
  return subdir ? `${dir}/${subdir}/${f.name}` : `${dir}/${f.name}`;
}

interface Header {
  version: number;
  minInstLength: number;
  maxOps: number;
  defaultIsStmt: boolean;
  lineBase: number;
  lineRange: number;
  opcodeBase: number;
  opcodeLengths: number[];
  dirs: (string | undefined)[];
  files: (FileEntry | undefined)[];
  programStart: number;
  end: number;
}

/** DWARF 5's self-describing directory and file tables (section 6.2.4.1, items 14-22). */
function readEntryTable(r: DwarfReader, ctx: FormContext, what: string): Map<number, FormValue>[] {
  const formats: { type: number; form: number }[] = [];
  const nFormats = r.u8();
  for (let i = 0; i < nFormats; i++) formats.push({ type: r.uleb(), form: r.uleb() });
  const count = r.uleb();
  // Every entry takes at least a byte unless it has no fields, so a larger count is corruption
  // (and would otherwise spin for up to 2^64 iterations).
  if (count > r.end - r.pos && (formats.length > 0 || count > 0xffff)) r.fail(`${what} table claims ${count} entries in ${r.end - r.pos} bytes`);
  const entries: Map<number, FormValue>[] = [];
  for (let i = 0; i < count; i++) {
    const e = new Map<number, FormValue>();
    for (const f of formats) e.set(f.type, readForm(r, f.form, ctx));
    entries.push(e);
  }
  return entries;
}

function readHeader(r: DwarfReader, s: LineSections): Header {
  const start = r.pos;
  const { offsetSize, end } = r.initialLength();
  const version = r.u16();
  if (version < 2 || version > 5) r.fail(`line program at ${hex(start)} has unsupported version ${version}`);
  let addressSize = 4;
  if (version >= 5) {
    addressSize = r.u8();
    r.u8(); // segment selector size: RISC-V has no segments
  }
  const headerLength = r.sized(offsetSize);
  const programStart = r.pos + headerLength;
  if (programStart > end) r.fail(`line program header length ${headerLength} runs past its unit`);
  const minInstLength = r.u8();
  const maxOps = version >= 4 ? r.u8() : 1;
  if (maxOps === 0) r.fail('maximum_operations_per_instruction is 0');
  const defaultIsStmt = r.u8() !== 0;
  const lineBase = r.i8();
  const lineRange = r.u8();
  if (lineRange === 0) r.fail('line_range is 0');
  const opcodeBase = r.u8();
  if (opcodeBase === 0) r.fail('opcode_base is 0');
  const opcodeLengths = [0];
  for (let i = 1; i < opcodeBase; i++) opcodeLengths.push(r.u8());
  const dirs: (string | undefined)[] = [];
  const files: (FileEntry | undefined)[] = [];
  if (version >= 5) {
    const ctx: FormContext = { version, offsetSize, addressSize, debugStr: s.str, debugLineStr: s.lineStr };
    for (const e of readEntryTable(r, ctx, 'directory')) {
      const p = e.get(DW_LNCT_path);
      dirs.push(typeof p === 'string' ? p : undefined);
    }
    for (const e of readEntryTable(r, ctx, 'file name')) {
      const p = e.get(DW_LNCT_path);
      const d = e.get(DW_LNCT_directory_index);
      files.push({ name: typeof p === 'string' ? p : undefined, dir: typeof d === 'number' ? d : 0 });
    }
  } else {
    // Index 0 is implicit before DWARF 5: the compilation directory, and no file.
    dirs.push(undefined);
    for (let d = r.cstr(); d !== ''; d = r.cstr()) dirs.push(d);
    files.push(undefined);
    for (let name = r.cstr(); name !== ''; name = r.cstr()) {
      const dir = r.uleb();
      r.uleb(); // modification time
      r.uleb(); // length
      files.push({ name, dir });
    }
  }
  if (r.pos > programStart) r.fail(`line program header tables run past header_length (${hex(r.pos)} > ${hex(programStart)})`);
  return { version, minInstLength, maxOps, defaultIsStmt, lineBase, lineRange, opcodeBase, opcodeLengths, dirs, files, programStart, end };
}

export interface LineOptions {
  /**
   * Name the rows of a DWARF 5 sequence that come before its first DW_LNS_set_file after file
   * entry 0, as binutils 2.40's BFD does (decode_line_info starts with concat_filename(table, 0);
   * binutils PR 30783 later changed it to entry 1). DWARF 5 section 6.2.2 says the file register
   * starts at 1, and readelf and gdb follow it; GCC 12 at -O0 relies on that (entry 1 is lib.h for
   * the out-of-line `static inline` functions at the start of lib.c's text), so by default Rewind
   * does too. Only the differential tests against addr2line and objdump set this.
   */
  bfdFirstFileZero?: boolean;
}

/**
 * Runs one unit's line-number program (DWARF 5 section 6.2.5) and returns its rows in program
 * order, end_sequence rows included.
 */
/**
 * The names of a line program's file table, as the line rows name them: what DW_AT_decl_file and
 * DW_AT_call_file index into.
 */
export function lineProgramFiles(s: LineSections, offset: number, compDir: string | undefined): (index: number) => string {
  if (offset >= s.line.length) invalid(`.debug_line: a unit's stmt_list ${hex(offset)} is past the end of the section (${s.line.length} bytes)`);
  const h = readHeader(new DwarfReader(s.line, '.debug_line', offset), s);
  return (i) => fileName(h.files, h.dirs, i, compDir);
}

export function decodeLineProgram(s: LineSections, offset: number, compDir: string | undefined, opts: LineOptions = {}): LineRow[] {
  if (offset >= s.line.length) invalid(`.debug_line: a unit's stmt_list ${hex(offset)} is past the end of the section (${s.line.length} bytes)`);
  const r = new DwarfReader(s.line, '.debug_line', offset);
  const h = readHeader(r, s);
  r.pos = h.programStart;
  const rows: LineRow[] = [];
  const names = new Map<number, string>();
  const nameOf = (i: number): string => {
    let n = names.get(i);
    if (n === undefined) names.set(i, (n = fileName(h.files, h.dirs, i, compDir)));
    return n;
  };

  const fileZeroFirst = opts.bfdFirstFileZero === true && h.version >= 5;
  let address = 0, opIndex = 0, file = 1, line = 1, column = 0, isStmt = h.defaultIsStmt, discriminator = 0;
  let fileSet = false;
  const reset = (): void => {
    address = 0; opIndex = 0; file = 1; line = 1; column = 0; isStmt = h.defaultIsStmt; discriminator = 0;
    fileSet = false;
  };
  const advance = (operationAdvance: number): void => {
    if (h.maxOps === 1) {
      address += h.minInstLength * operationAdvance;
    } else {
      // VLIW form (section 6.2.5.1); RISC-V always has max_ops 1.
      address += h.minInstLength * Math.floor((opIndex + operationAdvance) / h.maxOps);
      opIndex = (opIndex + operationAdvance) % h.maxOps;
    }
  };
  const emit = (endSequence: boolean): void => {
    rows.push({ address, file: nameOf(fileZeroFirst && !fileSet ? 0 : file), line, column, isStmt, endSequence, discriminator });
    discriminator = 0;
  };

  const prog = new DwarfReader(s.line, '.debug_line', h.programStart, h.end);
  while (!prog.atEnd) {
    const op = prog.u8();
    if (op >= h.opcodeBase) {
      const adjusted = op - h.opcodeBase;
      advance(Math.floor(adjusted / h.lineRange));
      line += h.lineBase + (adjusted % h.lineRange);
      emit(false);
      continue;
    }
    switch (op) {
      case 0: {
        const len = prog.uleb();
        if (len === 0) break;
        const opEnd = prog.pos + len;
        if (opEnd > prog.end) prog.fail(`extended opcode length ${len} runs past the line program`);
        const sub = prog.u8();
        if (sub === DW_LNE_end_sequence) {
          emit(true);
          reset();
        } else if (sub === DW_LNE_set_address) {
          address = prog.sized(len - 1);
          opIndex = 0;
        } else if (sub === DW_LNE_define_file) {
          const name = prog.cstr();
          const dir = prog.uleb();
          h.files.push({ name, dir });
        } else if (sub === DW_LNE_set_discriminator) {
          discriminator = prog.uleb();
        }
        // Vendor extended opcodes (HP, DW_LNE_lo_user...) carry their length: skip them.
        prog.pos = opEnd;
        break;
      }
      case DW_LNS_copy: emit(false); break;
      case DW_LNS_advance_pc: advance(prog.uleb()); break;
      case DW_LNS_advance_line: line += prog.sleb(); break;
      case DW_LNS_set_file: file = prog.uleb(); fileSet = true; break;
      case DW_LNS_set_column: column = prog.uleb(); break;
      case DW_LNS_negate_stmt: isStmt = !isStmt; break;
      case DW_LNS_set_basic_block: break;
      case DW_LNS_const_add_pc: advance(Math.floor((255 - h.opcodeBase) / h.lineRange)); break;
      case DW_LNS_fixed_advance_pc: address += prog.u16(); opIndex = 0; break;
      case DW_LNS_set_prologue_end: case DW_LNS_set_epilogue_begin: break;
      case DW_LNS_set_isa: prog.uleb(); break;
      default:
        // An opcode this reader does not know: the header says how many LEB128 operands to skip.
        for (let i = 0; i < h.opcodeLengths[op]; i++) prog.uleb();
    }
  }
  return rows;
}
