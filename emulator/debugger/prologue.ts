import type { DebugInfo } from '../debuginfo/debugInfo';
import type { LineRow } from '../debuginfo/dwarfLine';

/**
 * Where gdb considers a function's body to start: the address `break FUNC` uses and where
 * `step` into FUNC stops. gdb skips the prologue using the line table (the first line-table
 * entry of the function is the prologue, the next entry starts the body), except where it
 * trusts the compiler's locations — GCC's optimised units, whose variables have location lists,
 * and assembly — where it stops at the entry itself. Checked against gdb's `break FUNC` for
 * every function of the bundled guests.
 */
export class PrologueAnalyzer {
  private sorted?: LineRow[];

  /** `trustsLocations(addr)`: the unit holding addr is optimised or assembly (see above). */
  constructor(private readonly info: DebugInfo, private readonly trustsLocations: (addr: number) => boolean) {}

  bodyStart(entry: number): number {
    entry >>>= 0;
    if (this.trustsLocations(entry)) return entry;
    const rows = this.rows();
    // The first row at the entry, then the next row at a higher address in the same sequence.
    let lo = 0, hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].address < entry) lo = mid + 1;
      else hi = mid;
    }
    if (lo >= rows.length || rows[lo].address !== entry || rows[lo].endSequence) return entry;
    // Past every row at the entry (an end_sequence there belongs to the function before).
    let i = lo;
    while (i < rows.length && rows[i].address === entry) i++;
    const next = rows[i];
    // A function that is one line-table entry long has no prologue to skip that the table shows.
    if (!next || next.endSequence) return entry;
    return this.functionEntry(next.address) === entry ? next.address : entry;
  }

  /** The entry of the function at addr: its DIE's (a weak definition another overrode has no symbol left), else its symbol's. */
  private functionEntry(addr: number): number | undefined {
    return this.info.source.scopesAt(addr).find((n) => n.kind === 'function')?.ranges[0]?.lo ?? this.info.functionAt(addr)?.address;
  }

  private rows(): LineRow[] {
    if (!this.sorted) {
      const all = this.info.lines?.rows ?? [];
      this.sorted = all.map((r, i) => ({ r, i })).sort((a, b) => a.r.address - b.r.address || Number(a.r.endSequence) - Number(b.r.endSequence) || a.i - b.i).map((x) => x.r);
    }
    return this.sorted;
  }
}

/** A file name that GNU as wrote line info for (gdb treats such units as assembly). */
export function isAssemblyFile(file: string | undefined): boolean {
  return file !== undefined && /\.(s|S|sx|asm)$/.test(file);
}

/** The prologue rule gdb applies to a program: trusting the locations of its optimised units and assembly. */
export function gdbPrologues(info: DebugInfo): PrologueAnalyzer {
  return new PrologueAnalyzer(info, (a) => info.source.locationsTrusted(a) || isAssemblyFile(info.sourceLineAt(a)?.file));
}
