import { FormContext, FormValue, readForm } from './dwarfForms';
import { DwarfReader, hex, invalid } from './dwarfReader';
import { CompileUnit } from './dwarfUnits';

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

/**
 * Whether a row's file is the file a user named: the same path once "./" prefixes are dropped,
 * or one a path suffix of the other at a '/' boundary, so "qsort.c", "programs/qsort.c" and
 * "/home/me/rewind/emulator/guest/programs/qsort.c" all name "./programs/qsort.c".
 */
export function sameSourceFile(rowFile: string, query: string): boolean {
  const norm = (p: string): string => p.replace(/\/(\.\/)+/g, '/').replace(/^(\.\/)+/, '');
  const a = norm(rowFile);
  const b = norm(query);
  return a === b || a.endsWith('/' + b) || b.endsWith('/' + a);
}

interface Sequence {
  low: number;
  /** The end_sequence address: the first address past the sequence. */
  end: number;
  /** One row per address (the last one written there), sorted, the end_sequence row last. */
  rows: LineRow[];
  /** Where each statement starts, one per address, sorted. */
  statements: Statement[];
  /** Statement starts whose line differs from the statement before them. */
  boundaries: number[];
  /** The rows a debugger keeps (see debuggerRows), in program order, for breakpoints. */
  visible: LineRow[];
  /** The same, sorted by address (stable), made on first use. */
  sortedVisible?: LineRow[];
}

const sameLine = (a: { file: string; line: number }, b: { file: string; line: number }): boolean => a.file === b.file && a.line === b.line;

/** Largest index i with key(items[i]) <= x, or -1. */
function floorIndex<T>(items: readonly T[], x: number, key: (t: T) => number): number {
  let lo = 0, hi = items.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(items[mid]) <= x) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * The rows gdb keeps for statements and breakpoints (dwarf2/read.c lnp_state_machine::record_line
 * and buildsym.c record_line). gdb files each row under its source file and, when the file
 * changes, closes the old file's table at the current address, which deletes that file's rows
 * there: at -O2 a `return x;` row sharing its address with an inlined call's first row is
 * dropped, so a breakpoint on the line goes where its own code starts. A non-statement row that
 * changes file where a statement already is, is ignored instead; and a repeat of the same line
 * is dropped once that line has had a discriminator (gdb PR 17276).
 */
function debuggerRows(raw: LineRow[]): LineRow[] {
  const kept: (LineRow | undefined)[] = [];
  const byFile = new Map<string, number[]>();
  let lastFile: string | undefined;
  let lastLine = 0;
  let lastAddr = 0;
  let stmtAtAddr = false;
  let prevLine: number | undefined;
  let lineHasDiscriminator = false;
  const closeFile = (file: string | undefined, address: number): void => {
    const rows = file === undefined ? undefined : byFile.get(file);
    while (rows && rows.length > 0 && kept[rows[rows.length - 1]]?.address === address) kept[rows.pop() as number] = undefined;
  };
  for (const row of raw) {
    lineHasDiscriminator = row.line !== prevLine ? row.discriminator !== 0 : lineHasDiscriminator || row.discriminator !== 0;
    prevLine = row.line;
    const fileChanged = row.file !== lastFile;
    const ignore = !row.endSequence && ((fileChanged && lastAddr === row.address && !row.isStmt && stmtAtAddr) || row.line === 0);
    if ((fileChanged && !ignore) || row.endSequence) closeFile(lastFile, row.address);
    if (!row.endSequence && !ignore) {
      if (fileChanged || row.line !== lastLine || !lineHasDiscriminator) {
        const list = byFile.get(row.file) ?? [];
        list.push(kept.length);
        byFile.set(row.file, list);
        kept.push(row);
      }
      lastFile = row.file;
      lastLine = row.line;
    }
    if (row.address !== lastAddr) {
      stmtAtAddr = false;
      lastAddr = row.address;
    }
    stmtAtAddr ||= row.isStmt;
  }
  return kept.filter((r): r is LineRow => r !== undefined);
}

function buildSequence(raw: LineRow[]): Sequence {
  const rows: LineRow[] = [];
  let low = Infinity;
  for (const row of raw) {
    low = Math.min(low, row.address);
    const last = rows[rows.length - 1];
    // Relaxation and zero-length lines leave several rows at one address; BFD's add_line_info
    // keeps only the last one written (PR ld/4986), so addr2line reports that one.
    if (last && last.address === row.address && last.endSequence === row.endSequence) rows[rows.length - 1] = row;
    else rows.push(row);
  }
  // DWARF requires nondecreasing addresses within a sequence; sort anyway, as BFD does, keeping
  // the end_sequence row last.
  const sorted = (xs: LineRow[]): LineRow[] => xs.map((r, i) => ({ r, i })).sort((a, b) => a.r.address - b.r.address || Number(a.r.endSequence) - Number(b.r.endSequence) || a.i - b.i).map((x) => x.r);
  const ordered = sorted(rows);
  const end = ordered[ordered.length - 1].address;

  const statements: Statement[] = [];
  const boundaries: number[] = [];
  const visible = debuggerRows(raw);
  for (const row of sorted(visible.filter((r) => r.isStmt))) {
    const st: Statement = { address: row.address, file: row.file, line: row.line, column: row.column };
    const last = statements[statements.length - 1];
    // Several statements at one address (lines that produced no code): the last one is where
    // execution really is.
    if (last && last.address === st.address) statements[statements.length - 1] = st;
    else statements.push(st);
  }
  for (let i = 0; i < statements.length; i++) {
    if (i === 0 || !sameLine(statements[i], statements[i - 1])) boundaries.push(statements[i].address);
  }
  return { low, end, rows: ordered, statements, boundaries, visible };
}

/**
 * Orders a unit's sequences for binary search the way BFD's sort_line_sequences does: by start,
 * larger first on ties; a sequence nested in the one before it is dropped and an overlapping one
 * starts where the one before it ends.
 */
function sortSequences(seqs: Sequence[]): Sequence[] {
  const order = seqs.map((s, i) => ({ s, i })).sort((a, b) => a.s.low - b.s.low || b.s.end - a.s.end || a.i - b.i).map((x) => x.s);
  const out: Sequence[] = [];
  let lastEnd = -Infinity;
  for (const s of order) {
    if (out.length > 0 && s.low < lastEnd) {
      if (s.end <= lastEnd) continue;
      s.low = lastEnd;
    }
    lastEnd = s.end;
    out.push(s);
  }
  return out;
}

/**
 * The line-number information of a whole program: every unit's sequences, with the queries a
 * debugger needs. Units are searched in .debug_info order and the first one whose sequences
 * cover an address answers, as BFD does for the non-overlapping units compilers emit.
 */
export class LineTable {
  /** Every row of every unit, in program order (end_sequence rows included). */
  readonly rows: readonly LineRow[];
  private readonly units: Sequence[][];
  private boundaryCache?: number[];

  constructor(programs: LineRow[][]) {
    this.rows = programs.flat();
    this.units = programs.map((rows) => {
      const seqs: Sequence[] = [];
      let start = 0;
      rows.forEach((r, i) => {
        if (r.endSequence) {
          seqs.push(buildSequence(rows.slice(start, i + 1)));
          start = i + 1;
        }
      });
      // Rows after the last end_sequence belong to no sequence (DWARF 5 section 6.2.5.3 requires
      // every sequence to end with one); BFD drops them too.
      return sortSequences(seqs);
    });
  }

  private sequenceAt(addr: number): Sequence | undefined {
    const a = addr >>> 0;
    for (const seqs of this.units) {
      const i = floorIndex(seqs, a, (s) => s.low);
      if (i >= 0 && a < seqs[i].end) return seqs[i];
    }
    return undefined;
  }

  /** The source line of the instruction at `addr`, as `addr2line -e ELF addr` reports it. */
  lookup(addr: number): SourceLocation | undefined {
    const seq = this.sequenceAt(addr);
    if (!seq) return undefined;
    const row = seq.rows[floorIndex(seq.rows, addr >>> 0, (r) => r.address)];
    return { file: row.file, line: row.line, column: row.column, discriminator: row.discriminator };
  }

  /**
   * The source line a debugger shows for the instruction at `addr`, as gdb's find_pc_line picks
   * it: among the rows gdb keeps (debuggerRows), the last one at or before `addr`; if that one is
   * not a statement, a statement at the same address wins. At -O2 several rows share an address
   * (an inlined call's first rows, view numbers), where addr2line reports the last one written
   * and gdb the statement.
   */
  debuggerLineAt(addr: number): SourceLocation | undefined {
    const seq = this.sequenceAt(addr);
    if (!seq) return undefined;
    seq.sortedVisible ??= seq.visible.map((r, i) => ({ r, i })).sort((a, b) => a.r.address - b.r.address || a.i - b.i).map((x) => x.r);
    const rows = seq.sortedVisible;
    let i = floorIndex(rows, addr >>> 0, (r) => r.address);
    // floorIndex finds some row at the greatest address <= addr; take the last one there.
    while (i >= 0 && i + 1 < rows.length && rows[i + 1].address === rows[i].address) i++;
    if (i < 0) return this.lookup(addr);
    let best = i;
    if (!rows[best].isStmt) {
      let k = best;
      while (k > 0 && rows[k - 1].address === rows[k].address && rows[k - 1].line !== 0 && !rows[k].isStmt) k--;
      if (rows[k].isStmt) best = k;
    }
    const row = rows[best];
    return { file: row.file, line: row.line, column: row.column, discriminator: row.discriminator };
  }

  /**
   * The statement `addr` belongs to: the nearest is_stmt row at or before it in its sequence.
   * A debugger shows this line when it stops at `addr` and steps until it changes.
   */
  statementAt(addr: number): Statement | undefined {
    const seq = this.sequenceAt(addr);
    if (!seq) return undefined;
    const i = floorIndex(seq.statements, addr >>> 0, (s) => s.address);
    return i >= 0 ? seq.statements[i] : undefined;
  }

  /**
   * Sorted addresses where a statement for a different line than the previous statement begins:
   * where a source-level step may stop (an is_stmt row that starts a new line).
   */
  statementBoundaries(): readonly number[] {
    if (!this.boundaryCache) {
      const all = new Set<number>();
      for (const seqs of this.units) for (const s of seqs) for (const a of s.boundaries) all.add(a);
      this.boundaryCache = [...all].sort((a, b) => a - b);
    }
    return this.boundaryCache;
  }

  /**
   * Every statement's address, sorted: a forward step stops at the first one reached whose line
   * differs from the line being stepped (a branch can land on a statement that is not a
   * boundary, such as a loop condition sharing its line with the increment before it).
   */
  statementAddresses(): readonly number[] {
    if (!this.statementCache) {
      const all = new Set<number>();
      for (const seqs of this.units) for (const s of seqs) for (const st of s.statements) all.add(st.address);
      this.statementCache = [...all].sort((a, b) => a - b);
    }
    return this.statementCache;
  }

  private statementCache?: number[];

  /** Whether `addr` starts a new line's statement (a member of statementBoundaries()). */
  isStatementBoundary(addr: number): boolean {
    const b = this.statementBoundaries();
    const i = floorIndex(b, addr >>> 0, (x) => x);
    return i >= 0 && b[i] === addr >>> 0;
  }

  /**
   * Where a breakpoint on `file`:`line` goes: the first address of each run of rows for that
   * line that starts with a statement, a run ending at a row for any other line. So a line GCC
   * split into several places (loop conditions, inlined calls, code moved by -O2) gets one
   * address per place, and stops once per visit. gdb instead keeps one location per lexical
   * block, which needs .debug_info's block tree: its first location is always ours, and on the
   * guests both give the same set for most lines (see dwarfLine.test.ts). Sorted; empty if the
   * line has no statement.
   */
  addressesFor(file: string, line: number): number[] {
    const out = new Set<number>();
    const matches = new Map<string, boolean>();
    const isFile = (f: string): boolean => {
      let m = matches.get(f);
      if (m === undefined) matches.set(f, (m = sameSourceFile(f, file)));
      return m;
    };
    for (const seqs of this.units) {
      for (const s of seqs) {
        let inRun = false;
        for (const row of s.visible) {
          const match = row.line === line && isFile(row.file);
          if (match && row.isStmt && !inRun) out.add(row.address);
          inRun = match && (inRun || row.isStmt);
        }
      }
    }
    return [...out].sort((a, b) => a - b);
  }

  /**
   * gdb's candidates for `break file:line`: every statement row of exactly that line, by address
   * (its linetable is sorted so), and, when there is none, the smallest later line that has one.
   */
  statementRowsFor(file: string, line: number): { line: number; addresses: number[] } {
    const matches = new Map<string, boolean>();
    const isFile = (f: string): boolean => {
      let m = matches.get(f);
      if (m === undefined) matches.set(f, (m = sameSourceFile(f, file)));
      return m;
    };
    const exact = new Set<number>();
    let later = Infinity;
    for (const seqs of this.units) {
      for (const s of seqs) {
        for (const row of s.visible) {
          if (!row.isStmt || row.endSequence || !isFile(row.file)) continue;
          if (row.line === line) exact.add(row.address);
          else if (row.line > line && row.line < later) later = row.line;
        }
      }
    }
    if (exact.size || later === Infinity) return { line, addresses: [...exact].sort((a, b) => a - b) };
    return this.statementRowsFor(file, later);
  }

  /** Every file some row refers to, as lookup() names them. */
  files(): string[] {
    return [...new Set(this.rows.map((r) => r.file))].sort();
  }
}

/**
 * Builds the line table of a program: one line program per compilation unit (DW_AT_stmt_list),
 * or, with no .debug_info to say where the programs are, every program in .debug_line in turn.
 */
export function readLineTable(s: LineSections, units: CompileUnit[], opts: LineOptions = {}): LineTable {
  const programs: LineRow[][] = [];
  const seen = new Set<number>();
  const withLines = units.filter((u) => u.stmtList !== undefined);
  if (withLines.length > 0) {
    for (const u of withLines) {
      const off = u.stmtList as number;
      if (seen.has(off)) continue;
      seen.add(off);
      programs.push(decodeLineProgram(s, off, u.compDir, opts));
    }
  } else {
    const r = new DwarfReader(s.line, '.debug_line');
    while (!r.atEnd) {
      const off = r.pos;
      programs.push(decodeLineProgram(s, off, undefined, opts));
      r.pos = off;
      r.pos = r.initialLength().end;
    }
  }
  return new LineTable(programs);
}
