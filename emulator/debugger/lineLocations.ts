import type { DebugInfo } from '../debuginfo/debugInfo';
import { TAG } from '../debuginfo/dwarfConstants';
import { RewindError } from '../errors';
import type { PrologueAnalyzer } from './prologue';

export interface LineLocation {
  address: number;
  /** The line the location stands for (past a prologue it is the body's first line). */
  line: number;
}

/** DIEs that make gdb give a lexical block a block of its own: it holds a symbol. */
const SYMBOL_TAGS = new Set<number>([TAG.variable, TAG.typedef, TAG.structure_type, TAG.union_type, TAG.enumeration_type, 0x0a /* label */, TAG.subprogram]);

/**
 * Where `break file:line` goes, as gdb 13 places it (linespec.c create_sals_line_offset): the
 * statement rows of that line, or of the next line that has any; one location per block (the
 * lowest address), where a block is the innermost function, inlined call or lexical block that
 * declares something (gdb builds no block for a lexical block without symbols); a location in
 * a function's prologue moved past it (so a line above a function stops in its body).
 */
export function lineLocations(info: DebugInfo, prologue: PrologueAnalyzer, file: string, line: number): { line: number; locations: LineLocation[] } {
  const rows = info.lines?.statementRowsFor(file, line);
  if (!rows || !rows.addresses.length) return { line, locations: [] };
  const seen = new Set<number>();
  const out: LineLocation[] = [];
  for (const pc of rows.addresses) {
    const chain = info.source.scopesAt(pc);
    const block = chain.find((n) => n.kind !== 'block' || n.die.children.some((c) => SYMBOL_TAGS.has(c.tag)));
    if (block) {
      if (seen.has(block.die.offset)) continue;
      seen.add(block.die.offset);
    }
    // The function from .debug_info, as gdb takes it: an overridden weak definition has no
    // symbol left, yet its code and its prologue are still there.
    const outer = chain.find((n) => n.kind === 'function');
    const entry = outer?.ranges[0]?.lo ?? info.functionAt(pc)?.address;
    let at = pc;
    if (entry !== undefined) {
      const body = prologue.bodyStart(entry);
      if (pc >= entry && pc < body) at = body;
    }
    out.push({ address: at, line: at === pc ? rows.line : info.sourceLineAt(at)?.line ?? rows.line });
  }
  const unique = [...new Map(out.map((l) => [l.address, l])).values()].sort((a, b) => a.address - b.address);
  return { line: rows.line, locations: unique };
}


/**
 * Where `break NAME` goes, as gdb places it: each out-of-line copy past its prologue, and the
 * entry of each inlined copy. Empty when the program has no function of that name.
 */
export function functionLocations(info: DebugInfo, prologue: PrologueAnalyzer, name: string): LineLocation[] {
  let copies: { entry: number; inlined: boolean }[] = [];
  try {
    copies = info.source.program?.functionEntries(name) ?? [];
  } catch (e) {
    if (!(e instanceof RewindError)) throw e;
  }
  const symbol = info.addressOf(name);
  if (symbol !== undefined && !copies.some((c) => !c.inlined && c.entry === symbol)) copies.push({ entry: symbol, inlined: false });
  const at = copies.map((c) => (c.inlined ? c.entry : prologue.bodyStart(c.entry)));
  return [...new Set(at)].sort((a, b) => a - b).map((address) => ({ address, line: info.sourceLineAt(address)?.line ?? 0 }));
}
