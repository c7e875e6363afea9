import { DwarfReader } from './dwarfReader';
import { CompileUnit } from './dwarfUnits';
import { decodeLineProgram, LineOptions, LineRow, LineSections, SourceLocation, Statement } from './dwarfLineProgram';

// The decoder lives in dwarfLineProgram.ts; its types and entry points are part of this module's face too.
export { decodeLineProgram, lineProgramFiles } from './dwarfLineProgram';
export type { LineOptions, LineRow, LineSections, SourceLocation, Statement } from './dwarfLineProgram';

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

/** sameSourceFile(row, file), remembered per row file name (a table has few files, many rows). */
function fileMatcher(file: string): (rowFile: string) => boolean {
  const matches = new Map<string, boolean>();
  return (f) => {
    let m = matches.get(f);
    if (m === undefined) matches.set(f, (m = sameSourceFile(f, file)));
    return m;
  };
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
    const isFile = fileMatcher(file);
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
    const isFile = fileMatcher(file);
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
