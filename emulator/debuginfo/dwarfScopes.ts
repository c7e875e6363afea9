import { RewindError } from '../errors';
import { AT, LANG_ASSEMBLER, TAG } from './dwarfConstants';
import { AbbrevEntry, Die, InfoSections, readUnitDies, readUnitHeaders, UnitHeader } from './dwarfDies';
import { DW_FORM } from './dwarfForms';
import { lineProgramFiles } from './dwarfLine';
import { AddressRange, ListSections, readLocationList, readRanges, UnitBases } from './dwarfLocations';
import { CType, num, signedConst, str, TypeReader } from './dwarfTypes';

/** A variable or parameter: its names and type from the abstract DIE, its location from the concrete one. */
export interface VariableInfo {
  name: string;
  kind: 'param' | 'local' | 'global';
  type: CType;
  /** The DIE holding DW_AT_location / DW_AT_const_value (undefined: optimized out everywhere). */
  die?: Die;
  /** The abstract instance's DIE, when the variable belongs to an inlined or outlined copy. */
  origin?: Die;
  unit: UnitInfo;
  declLine?: number;
}

/** A function, a lexical block or an inlined call, with the addresses it covers. */
export interface ScopeNode {
  kind: 'function' | 'block' | 'inline';
  die: Die;
  /** Where names and types come from (an abstract origin, or the DIE itself). */
  origin: Die;
  name?: string;
  ranges: AddressRange[];
  children: ScopeNode[];
  parent?: ScopeNode;
  unit: UnitInfo;
  /** An inlined call's site. */
  callFile?: string;
  callLine?: number;
}

export interface UnitInfo {
  header: UnitHeader;
  root: Die;
  bases: UnitBases;
  name?: string;
  language?: number;
  ranges: AddressRange[];
  /** File table names (DW_AT_decl_file, DW_AT_call_file). */
  fileName(index: number): string | undefined;
  scopes?: ScopeNode[];
  hasLocationLists?: boolean;
}

export interface ProgramSections extends InfoSections, ListSections {
  line?: Uint8Array;
}

const within = (rs: AddressRange[], pc: number) => rs.some((r) => pc >= r.lo && pc < r.hi);

/**
 * The program's .debug_info as a debugger walks it: units, the DIE at a reference, the scopes
 * (functions, blocks, inlined calls) covering a pc, their variables, the globals. Each unit is
 * read the first time a query needs it.
 */
export class DwarfProgram {
  private headers?: UnitHeader[];
  private readonly units = new Map<number, UnitInfo>();
  private readonly dies = new Map<number, Die>();
  private readonly abbrevs = new Map<number, Map<number, AbbrevEntry>>();
  readonly types: TypeReader;

  constructor(private readonly s: ProgramSections) {
    this.types = new TypeReader((o) => this.dieAt(o));
  }

  private allHeaders(): UnitHeader[] {
    this.headers ??= readUnitHeaders(this.s.info);
    return this.headers;
  }

  /** Every compile unit, read. */
  allUnits(): UnitInfo[] {
    return this.allHeaders().filter((h) => h.unitType === 1 || h.unitType === 3).map((h) => this.unit(h));
  }

  private unit(h: UnitHeader): UnitInfo {
    let u = this.units.get(h.offset);
    if (u) return u;
    const roots = readUnitDies(this.s, h, this.abbrevs);
    const root = roots[0];
    if (!root) throw new RewindError('DEBUGINFO_INVALID', `.debug_info: the unit at 0x${h.offset.toString(16)} has no DIEs`);
    const index = (d: Die) => {
      this.dies.set(d.offset, d);
      for (const c of d.children) index(c);
    };
    roots.forEach(index);
    const low = root.attrs.get(AT.low_pc);
    const bases: UnitBases = {
      version: h.version, offsetSize: h.offsetSize, base: low && low.form === DW_FORM.addr ? (low.value as number) : 0,
      addrBase: num(root, AT.addr_base), loclistsBase: num(root, AT.loclists_base), rnglistsBase: num(root, AT.rnglists_base),
    };
    const stmt = num(root, AT.stmt_list);
    let files: ((i: number) => string) | undefined;
    const fileName = (i: number): string | undefined => {
      if (stmt === undefined || !this.s.line) return undefined;
      files ??= lineProgramFiles({ line: this.s.line, str: this.s.str, lineStr: this.s.lineStr }, stmt, str(root, AT.comp_dir));
      return files(i);
    };
    u = { header: h, root, bases, name: str(root, AT.name), language: num(root, AT.language), ranges: [], fileName };
    u.ranges = this.rangesOf(root, u);
    this.units.set(h.offset, u);
    return u;
  }

  /** The DIE at a .debug_info offset (reading its unit if need be). */
  dieAt(offset: number): Die | undefined {
    const hit = this.dies.get(offset);
    if (hit) return hit;
    const h = this.allHeaders().find((x) => offset >= x.offset && offset < x.end);
    if (!h) return undefined;
    this.unit(h);
    return this.dies.get(offset);
  }

  rangesOf(d: Die, u: UnitInfo): AddressRange[] {
    const ranges = d.attrs.get(AT.ranges);
    // Empty entries cover nothing (gdb drops them too; one first in a list is not the entry).
    if (ranges && typeof ranges.value === 'number') return readRanges(this.s, u.bases, ranges.value, ranges.form).filter((r) => r.hi > r.lo);
    const lo = d.attrs.get(AT.low_pc);
    const hi = d.attrs.get(AT.high_pc);
    if (!lo || typeof lo.value !== 'number') return [];
    if (!hi || typeof hi.value !== 'number') return [{ lo: lo.value, hi: lo.value + 1 }];
    // DWARF 4 section 2.17.2: a constant-class high_pc is an offset from low_pc.
    return [{ lo: lo.value, hi: hi.form === DW_FORM.addr ? hi.value : lo.value + hi.value }];
  }

  /** The unit whose code covers pc. */
  unitAt(pc: number): UnitInfo | undefined {
    // Units' ranges can overlap (an assembly unit's section padding reaching into the next
    // unit's code): the one with a function at pc wins.
    const covering = this.allUnits().filter((u) => within(u.ranges, pc));
    return covering.find((u) => this.scopes(u).some((n) => n.kind === 'function' && within(n.ranges, pc))) ?? covering[0];
  }

  /** The scopes of a unit, as a forest of functions with their blocks and inlined calls. */
  scopes(u: UnitInfo): ScopeNode[] {
    if (u.scopes) return u.scopes;
    const out: ScopeNode[] = [];
    const walk = (d: Die, parent: ScopeNode | undefined, into: ScopeNode[]) => {
      for (const c of d.children) {
        const kind = c.tag === TAG.subprogram ? 'function' : c.tag === TAG.lexical_block ? 'block' : c.tag === TAG.inlined_subroutine ? 'inline' : undefined;
        if (!kind) {
          if (c.tag !== TAG.variable && c.tag !== TAG.formal_parameter && c.children.length && c.tag !== TAG.structure_type && c.tag !== TAG.union_type) walk(c, parent, into);
          continue;
        }
        const ranges = this.rangesOf(c, u);
        const origin = this.origin(c);
        const node: ScopeNode = { kind, die: c, origin, name: str(origin, AT.name) ?? str(c, AT.name), ranges, children: [], parent, unit: u };
        if (kind === 'inline') {
          const cf = num(c, AT.call_file);
          node.callFile = cf === undefined ? undefined : u.fileName(cf);
          node.callLine = num(c, AT.call_line);
        }
        if (!ranges.length) {
          // gdb: a block with no addresses is as if it were not there (its contents belong to the
          // enclosing scope); abstract instances (DW_AT_inline, no code) are only origins.
          if (kind === 'block') walk(c, parent, into);
          continue;
        }
        into.push(node);
        walk(c, node, node.children);
      }
    };
    walk(u.root, undefined, out);
    u.scopes = out.filter((n) => n.ranges.length);
    return u.scopes;
  }

  /** The DIE that holds a DIE's name and type: its abstract origin or specification, followed through. */
  origin(d: Die): Die {
    let cur = d;
    for (let i = 0; i < 8; i++) {
      const ref = cur.attrs.get(AT.abstract_origin)?.value ?? cur.attrs.get(AT.specification)?.value;
      if (typeof ref !== 'number') return cur;
      const next = this.dieAt(ref);
      if (!next) return cur;
      cur = next;
    }
    return cur;
  }

  /** The scopes covering pc, innermost first (blocks, inlined calls, up to the function). */
  scopeChain(pc: number): ScopeNode[] {
    const u = this.unitAt(pc);
    if (!u) return [];
    let level = this.scopes(u).filter((n) => n.kind === 'function');
    const chain: ScopeNode[] = [];
    for (;;) {
      const hit = level.find((n) => (n.ranges.length ? within(n.ranges, pc) : false));
      if (!hit) break;
      chain.push(hit);
      level = hit.children;
    }
    return chain.reverse();
  }

  /**
   * The variables a scope declares, in declaration order. An inlined or outlined copy declares
   * the abstract instance's variables; those it has no DIE of are optimized out there.
   */
  variablesOf(n: ScopeNode): VariableInfo[] {
    const out: VariableInfo[] = [];
    const seen = new Set<number>();
    // The DIEs declaring this scope's variables: its own, and those of blocks without addresses.
    const declared = (d: Die): Die[] => d.children.flatMap((c) => (c.tag === TAG.lexical_block && !this.rangesOf(c, n.unit).length ? declared(c) : [c]));
    for (const c of declared(n.die)) {
      if (c.tag !== TAG.variable && c.tag !== TAG.formal_parameter) continue;
      const o = this.origin(c);
      if (o !== c) seen.add(o.offset);
      const v = this.variable(c, o, n.unit, c.tag === TAG.formal_parameter ? 'param' : 'local');
      if (v) out.push(v);
    }
    if (n.origin !== n.die) {
      // Abstract variables with a concrete copy anywhere in this instance (nested blocks too).
      const mark = (d: Die) => {
        for (const c of d.children) {
          const o = c.attrs.get(AT.abstract_origin)?.value;
          if (typeof o === 'number') seen.add(o);
          mark(c);
        }
      };
      mark(n.die);
      // Only the abstract scope's own variables: its nested blocks have concrete copies of their own.
      for (const c of n.origin.children) {
        if ((c.tag !== TAG.variable && c.tag !== TAG.formal_parameter) || seen.has(c.offset)) continue;
        const v = this.variable(undefined, c, n.unit, c.tag === TAG.formal_parameter ? 'param' : 'local');
        if (v) out.push(v);
      }
    }
    return out;
  }

  private variable(concrete: Die | undefined, origin: Die, u: UnitInfo, kind: VariableInfo['kind']): VariableInfo | undefined {
    const name = str(origin, AT.name);
    if (name === undefined) return undefined;
    const holder = concrete && (concrete.attrs.has(AT.location) || concrete.attrs.has(AT.const_value)) ? concrete : origin.attrs.has(AT.location) || origin.attrs.has(AT.const_value) ? origin : undefined;
    return { name, kind, type: this.types.typeOf(origin.attrs.has(AT.type) ? origin : concrete ?? origin), die: holder, origin: concrete ? origin : undefined, unit: u, declLine: num(origin, AT.decl_line) };
  }

  /** File-scope variables (globals and statics) of every unit, with a location. */
  globals(): VariableInfo[] {
    const out: VariableInfo[] = [];
    for (const u of this.allUnits()) {
      for (const c of u.root.children) {
        if (c.tag !== TAG.variable) continue;
        const o = this.origin(c);
        const v = this.variable(c, o, u, 'global');
        if (v && v.die) out.push(v);
      }
    }
    return out;
  }

  private typeNames?: Map<string, number>;
  private functionDies?: Map<string, Die>;
  private enumeratorDies?: Map<string, { value: number; type: number }>;

  /** Named types by their C spelling (`uint32_t`, `struct foo`, `unsigned int`): DIE offsets. */
  namedTypes(): Map<string, number> {
    if (this.typeNames) return this.typeNames;
    const m = new Map<string, number>();
    const fns = new Map<string, Die>();
    const enums = new Map<string, { value: number; type: number }>();
    const walk = (d: Die) => {
      const name = str(d, AT.name);
      if (name !== undefined && !d.attrs.has(AT.declaration)) {
        const key = d.tag === TAG.structure_type ? `struct ${name}` : d.tag === TAG.union_type ? `union ${name}` : d.tag === TAG.enumeration_type ? `enum ${name}`
          : d.tag === TAG.typedef || d.tag === TAG.base_type ? name : undefined;
        if (key !== undefined && !m.has(key)) m.set(key, d.offset);
      }
      if (d.tag === TAG.enumeration_type) {
        for (const c of d.children) {
          const n = str(c, AT.name);
          const v = c.attrs.has(AT.const_value) ? signedConst(c, AT.const_value) : undefined;
          if (c.tag === TAG.enumerator && n !== undefined && v !== undefined && !enums.has(n)) enums.set(n, { value: v, type: d.offset });
        }
      }
      if (d.tag === TAG.subprogram && d.attrs.has(AT.low_pc)) {
        const n = str(this.origin(d), AT.name);
        if (n !== undefined && !fns.has(n)) fns.set(n, d);
      }
      for (const c of d.children) walk(c);
    };
    for (const u of this.allUnits()) walk(u.root);
    this.typeNames = m;
    this.functionDies = fns;
    this.enumeratorDies = enums;
    return m;
  }

  /** An enumeration constant (`GREEN`): its value and its enumeration type's DIE offset. */
  enumerator(name: string): { value: number; type: number } | undefined {
    this.namedTypes();
    return this.enumeratorDies!.get(name);
  }

  /**
   * Where each copy of the function `name` starts, out-of-line and inlined, as gdb's `break
   * NAME` finds them: a block's entry is its first range's start (gdb 13 reads no DW_AT_entry_pc).
   */
  functionEntries(name: string): { entry: number; inlined: boolean }[] {
    const out: { entry: number; inlined: boolean }[] = [];
    const walk = (nodes: ScopeNode[]) => {
      for (const n of nodes) {
        if (n.kind !== 'block' && n.name === name && n.ranges.length) out.push({ entry: n.ranges[0].lo, inlined: n.kind === 'inline' });
        walk(n.children);
      }
    };
    for (const u of this.allUnits()) walk(this.scopes(u));
    return out;
  }

  /** The out-of-line function named `name` (its concrete DIE), for `print main`. */
  functionNamed(name: string): Die | undefined {
    this.namedTypes();
    return this.functionDies!.get(name);
  }

  /** Location list entries of a variable's DW_AT_location given as a list. */
  locationList(d: Die, u: UnitInfo): { range: AddressRange; expr: Uint8Array }[] | undefined {
    const a = d.attrs.get(AT.location);
    if (!a || a.value instanceof Uint8Array || typeof a.value !== 'number') return undefined;
    return readLocationList(this.s, u.bases, a.value, a.form);
  }

  /**
   * gdb trusts a unit's locations — and then does not skip prologues — when GCC optimised it
   * (its variables have location lists) or when it is assembly.
   */
  locationsTrusted(pc: number): boolean {
    const u = this.unitAt(pc);
    if (!u) return false;
    if (u.language === LANG_ASSEMBLER) return true;
    if (u.hasLocationLists === undefined) {
      let found = false;
      const walk = (d: Die) => {
        if (found) return;
        const a = d.attrs.get(AT.location);
        if (a && (a.form === DW_FORM.sec_offset || a.form === DW_FORM.loclistx || (u.header.version < 4 && (a.form === DW_FORM.data4 || a.form === DW_FORM.data8)))) found = true;
        for (const c of d.children) walk(c);
      };
      walk(u.root);
      u.hasLocationLists = found;
    }
    return u.hasLocationLists;
  }
}
