import { RewindError } from '../errors';
import { AT } from './dwarfConstants';
import type { DebugInfo } from './debugInfo';
import { evaluateLocation, evaluateValue, ExprContext, Location } from './dwarfExpression';
import { sectionBytes } from './dwarfReader';
import { DwarfProgram, ScopeNode, VariableInfo } from './dwarfScopes';
import { CType, sizeOf } from './dwarfTypes';
import { FormatOptions, formatValue } from './valueFormat';
import { evaluate, EvalEnv, scalar } from './cEvaluate';
import type { Die } from './dwarfDies';
import { FrameContext, readValue, Value } from './values';

/** One frame as a debugger lists it: physical frames, and inlined calls as frames of their own. */
export interface SourceFrame {
  level: number;
  pc: number;
  function?: string;
  file?: string;
  line?: number;
  /** An inlined call (its physical frame is the next non-inline one). */
  inline: boolean;
  /** The scopes whose variables this frame shows, innermost first. */
  scopes: ScopeNode[];
  /** The physical frame's state, shared by its inline frames. */
  context: FrameContext;
}

export interface NamedValue {
  name: string;
  value: Value;
  info: VariableInfo;
}

/**
 * Source-level state from DWARF .debug_info: frames with gdb's inline frames, the arguments and
 * locals of a frame, globals, values read through location expressions and lists.
 */
export class SourceView {
  readonly program?: DwarfProgram;
  private readonly dataSymbols: { name: string; lo: number; hi: number; text: boolean }[];

  constructor(private readonly info: DebugInfo) {
    const elf = info.elf;
    const infoSec = sectionBytes(elf, '.debug_info');
    if (infoSec) {
      this.program = new DwarfProgram({
        info: infoSec, abbrev: sectionBytes(elf, '.debug_abbrev'), str: sectionBytes(elf, '.debug_str'), lineStr: sectionBytes(elf, '.debug_line_str'),
        line: sectionBytes(elf, '.debug_line'), loclists: sectionBytes(elf, '.debug_loclists'), loc: sectionBytes(elf, '.debug_loc'),
        rnglists: sectionBytes(elf, '.debug_rnglists'), ranges: sectionBytes(elf, '.debug_ranges'), addr: sectionBytes(elf, '.debug_addr'),
        strOffsets: sectionBytes(elf, '.debug_str_offsets'),
      });
    }
    // gdb's `<sym+off>`: the object or function symbol an address falls in.
    this.dataSymbols = elf.symbols
      .filter((x) => (x.type === 1 || x.type === 2 || x.type === 0) && x.name && !x.name.startsWith('$') && !x.name.startsWith('.L') && x.shndx !== 0 && x.shndx < 0xff00)
      .map((x) => ({ name: x.name, lo: x.value >>> 0, hi: (x.value >>> 0) + Math.max(x.size, 0), text: ((elf.sections[x.shndx]?.flags ?? 0) & 4) !== 0 }))
      .sort((a, b) => a.lo - b.lo);
  }

  /**
   * `name` or `name+off` for an address, as gdb's `print symbol on` finds it: the nearest sized
   * symbol at or below that holds the address, else the nearest label below; a label (size 0)
   * outside code is never named (gdb's build_address_symbolic), so `end` past the last array
   * prints bare.
   */
  symbolize(addr: number): string | undefined {
    const a = addr >>> 0;
    let hi = -1;
    for (let lo = 0, top = this.dataSymbols.length; lo < top;) {
      const mid = (lo + top) >> 1;
      if (this.dataSymbols[mid].lo <= a) { hi = mid; lo = mid + 1; } else top = mid;
    }
    let zero: (typeof this.dataSymbols)[number] | undefined;
    let best: (typeof this.dataSymbols)[number] | undefined;
    for (let i = hi; i >= 0; i--) {
      const s = this.dataSymbols[i];
      if (s.hi === s.lo) { zero ??= s; continue; }
      if (a < s.hi) { best = s; break; }
      // Past its end: an earlier, larger symbol may still overlap the address.
      if (i > 0 && this.dataSymbols[i - 1].hi > a && this.dataSymbols[i - 1].hi !== this.dataSymbols[i - 1].lo) continue;
      break;
    }
    best ??= zero;
    if (!best || (best.hi === best.lo && !best.text)) return undefined;
    return a === best.lo ? best.name : `${best.name}+${a - best.lo}`;
  }

  /** The call stack from the innermost frame out, inline frames included, at most `max`. */
  /**
   * `hide`: at the innermost pc, inlined calls that start exactly there are not frames yet (gdb
   * shows the call site first; a `step` then enters them without moving). `keep` names the
   * function a user breakpoint was set on: its inlined copy stays shown, as in gdb.
   */
  frames(pc: number, x: ArrayLike<number>, read: (addr: number, len: number) => Uint8Array | undefined, max = 64, opts: { hide?: number | 'entry'; keep?: string } = {}): SourceFrame[] {
    const readWord = (a: number) => {
      const b = read(a, 4);
      if (!b) throw new Error('unreadable');
      return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    };
    const out: SourceFrame[] = [];
    const phys = this.info.physicalFrames(pc, x, readWord, max);
    phys.forEach((p, i) => {
      const callSite = i > 0;
      const look = callSite ? (p.frame.pc - 1) >>> 0 : p.frame.pc;
      const cfa = phys[i + 1]?.frame.sp;
      const context: FrameContext = { pc: p.frame.pc, callSite, regs: p.regs, cfa, read };
      let chain = this.scopeChain(look);
      if (i === 0) chain = this.hideInlineEntries(chain, p.frame.pc, opts);
      // Split the chain at inlined calls: each inline node starts a frame of its own.
      const groups: ScopeNode[][] = [[]];
      for (const n of chain) {
        groups[groups.length - 1].push(n);
        if (n.kind === 'inline') groups.push([]);
      }
      if (!groups[groups.length - 1].length) groups.pop();
      const loc = this.info.sourceLineAt(look);
      let file = loc?.file, line = loc?.line;
      if (!chain.length) {
        out.push({ level: out.length, pc: p.frame.pc, function: p.frame.function, file, line, inline: false, scopes: [], context });
        return;
      }
      for (const g of groups) {
        const head = g[g.length - 1];
        out.push({ level: out.length, pc: p.frame.pc, function: head.name ?? p.frame.function, file, line, inline: head.kind === 'inline', scopes: g, context });
        if (head.kind === 'inline') {
          file = head.callFile ?? file;
          line = head.callLine ?? line;
        }
      }
    });
    // As gdb's `backtrace past-main off`: the start-up code that called main is not a frame.
    const main = out.findIndex((f) => f.function === 'main' && !f.inline);
    return (main >= 0 ? out.slice(0, main + 1) : out).slice(0, max);
  }

  /** How many inlined calls start exactly at pc (innermost first): those a stop there hides. */
  inlineEntriesAt(pc: number, keep?: string): number {
    const entries: ScopeNode[] = [];
    for (const s of this.scopeChain(pc)) {
      if (s.kind === 'block') continue;
      if (s.kind !== 'inline' || s.ranges[0]?.lo !== pc) break;
      entries.push(s);
    }
    // A breakpoint on the function shows the outermost of its copies starting here (the one
    // gdb's location resolved to), and hides those nested in it.
    if (keep !== undefined) {
      for (let i = entries.length - 1; i >= 0; i--) if (entries[i].name === keep) return i;
    }
    return entries.length;
  }

  private hideInlineEntries(chain: ScopeNode[], pc: number, opts: { hide?: number | 'entry'; keep?: string }): ScopeNode[] {
    if (opts.hide === undefined || opts.hide === 0) return chain;
    const limit = opts.hide === 'entry' ? this.inlineEntriesAt(pc, opts.keep) : Math.min(opts.hide, this.inlineEntriesAt(pc));
    let hidden = 0;
    let k = 0;
    while (hidden < limit && k < chain.length) {
      if (chain[k].kind === 'inline') hidden++;
      k++;
    }
    return chain.slice(k);
  }

  /** The scopes at pc, innermost first; none where .debug_info is missing or damaged (for placement rules that can do without). */
  scopesAt(pc: number): ScopeNode[] {
    try {
      return this.scopeChain(pc);
    } catch (e) {
      if (e instanceof RewindError) return [];
      throw e;
    }
  }

  private scopeChain(pc: number): ScopeNode[] {
    try {
      return this.program?.scopeChain(pc) ?? [];
    } catch (e) {
      if (e instanceof RewindError) throw e;
      throw new RewindError('DEBUGINFO_INVALID', `.debug_info: ${(e as Error).message}`);
    }
  }

  /** The arguments of a frame's function, in order. */
  args(f: SourceFrame): NamedValue[] {
    const head = f.scopes[f.scopes.length - 1];
    if (!head || !this.program) return [];
    return this.program.variablesOf(head).filter((v) => v.kind === 'param' && listed(v)).map((v) => ({ name: v.name, info: v, value: this.value(v, f) }));
  }

  /** The locals in scope in a frame, innermost block first (gdb's `info locals`). */
  locals(f: SourceFrame): NamedValue[] {
    if (!this.program) return [];
    const out: NamedValue[] = [];
    for (const n of f.scopes) for (const v of this.program.variablesOf(n)) if (v.kind === 'local' && listed(v)) out.push({ name: v.name, info: v, value: this.value(v, f) });
    return out;
  }

  /** File-scope variables of the program (read through `read`). */
  globals(read: (addr: number, len: number) => Uint8Array | undefined): NamedValue[] {
    if (!this.program) return [];
    const ctx: FrameContext = { pc: 0, callSite: false, regs: new Array(32).fill(0), read };
    const frame: SourceFrame = { level: 0, pc: 0, inline: false, scopes: [], context: ctx };
    return this.program.globals().map((v) => ({ name: v.name, info: v, value: this.value(v, frame) }));
  }

  /** A variable's value in a frame. */
  value(v: VariableInfo, f: SourceFrame): Value {
    const loc = this.locationOf(v, f);
    return readValue(v.type, loc, f.context);
  }

  locationOf(v: VariableInfo, f: SourceFrame): Location {
    const d = v.die;
    if (!d || !this.program) return { kind: 'optimized' };
    const cv = d.attrs.get(AT.const_value);
    if (cv) return { kind: 'value', bytes: constBytes(cv.value, v.type) };
    const a = d.attrs.get(AT.location);
    if (!a) return { kind: 'optimized' };
    const ctx = this.exprContext(f);
    if (a.value instanceof Uint8Array) return evaluateLocation(a.value, ctx);
    const look = f.context.callSite ? (f.context.pc - 1) >>> 0 : f.context.pc >>> 0;
    const list = this.program.locationList(d, v.unit) ?? [];
    const e = list.find((x) => look >= x.range.lo && look < x.range.hi);
    return e ? evaluateLocation(e.expr, ctx) : { kind: 'optimized' };
  }

  private exprContext(f: SourceFrame): ExprContext {
    const c = f.context;
    const fn = f.scopes.find((n) => n.kind === 'function') ?? this.physicalFunction(f);
    const ctx: ExprContext = {
      reg: (n) => (n < 32 && (!c.known || c.known(n)) ? c.regs[n] >>> 0 : undefined),
      read: (addr, size) => {
        const b = c.read(addr, size);
        if (!b) return undefined;
        let v = 0;
        for (let i = size - 1; i >= 0; i--) v = v * 256 + b[i];
        return v;
      },
      cfa: () => c.cfa,
      frameBase: () => {
        const fb = fn?.die.attrs.get(AT.frame_base)?.value;
        return fb instanceof Uint8Array ? evaluateValue(fb, { ...ctx, frameBase: () => undefined }) : undefined;
      },
      entryValue: () => undefined,
    };
    return ctx;
  }

  /** The function an inline frame's code belongs to (for its frame base). */
  private physicalFunction(f: SourceFrame): ScopeNode | undefined {
    let n: ScopeNode | undefined = f.scopes[0];
    while (n && n.kind !== 'function') n = n.parent;
    return n;
  }

  /**
   * A C expression's value in a frame (no frame: globals only), as gdb's `print` computes it;
   * RewindError('EVAL') with gdb's message when it cannot be.
   */
  evaluate(expr: string, f: SourceFrame | undefined, read: (addr: number, len: number) => Uint8Array | undefined, special?: (name: string) => number | undefined): Value {
    const ctx: FrameContext = f?.context ?? { pc: 0, callSite: false, regs: new Array(32).fill(0), read };
    const frame: SourceFrame = f ?? { level: 0, pc: 0, inline: false, scopes: [], context: ctx };
    const program = this.program;
    const env: EvalEnv = {
      frame: ctx,
      special,
      variable: (name) => {
        if (!program) return undefined;
        for (const n of frame.scopes) {
          const v = program.variablesOf(n).find((x) => x.name === name && x.die);
          if (v) return this.value(v, frame);
        }
        const unit = frame.scopes[0]?.unit;
        this.globalList ??= program.globals();
        const g = this.globalList.filter((x) => x.name === name);
        const pick = g.find((x) => x.unit === unit) ?? g[0];
        if (pick) return this.value(pick, frame);
        const fn = program.functionNamed(name);
        if (fn) {
          const lo = fn.attrs.get(AT.low_pc)?.value;
          return { type: program.types.read(fn.offset) === undefined ? { kind: 'void' } : functionType(program, fn), address: typeof lo === 'number' ? lo : 0, bytes: new Uint8Array(0) };
        }
        const en = program.enumerator(name);
        if (en) return scalar(program.types.read(en.type), BigInt(en.value));
        return undefined;
      },
      type: (words) => {
        const off = program?.namedTypes().get(words.join(' '));
        return off === undefined ? undefined : program!.types.read(off);
      },
      isTypeName: (name) => {
        const off = program?.namedTypes().get(name);
        return off !== undefined && program!.dieAt(off)?.tag !== undefined && !this.info.elf.symbols.some((x) => x.name === name && x.type === 1);
      },
      isSymbol: (name) => this.info.elf.symbols.some((x) => x.name === name && x.shndx !== 0),
    };
    return evaluate(expr, env);
  }

  private globalList?: VariableInfo[];

  /** gdb's text for a value; `read` lets a `char *` show its string. */
  format(v: Value, opts: FormatOptions = {}): string {
    return formatValue(v, { symbolize: (a) => this.symbolize(a), ...opts });
  }

  /** gdb's `locations valid`: the unit at pc is optimised or assembly (no prologue skipping). */
  locationsTrusted(pc: number): boolean {
    try {
      return this.program?.locationsTrusted(pc) ?? false;
    } catch (e) {
      if (e instanceof RewindError) return false;
      throw e;
    }
  }
}

/** A function's C type from its subprogram DIE (return type, parameters). */
function functionType(program: DwarfProgram, fn: Die): CType {
  const o = program.origin(fn);
  const params = o.children.filter((c) => c.tag === 0x05).map((c) => program.types.typeOf(c));
  return { kind: 'function', returns: program.types.typeOf(o), params, variadic: o.children.some((c) => c.tag === 0x18) };
}

/**
 * Whether gdb lists a variable among a frame's arguments or locals: only those with a DWARF
 * location (gdb's LOC_COMPUTED and LOC_STATIC). One with no location at all (optimized away, or
 * an inlined copy's parameter with no DIE of its own) or only a constant value is left out; one
 * whose location list has no entry at the pc shows as <optimized out>.
 */
function listed(v: VariableInfo): boolean {
  return v.die !== undefined && v.die.attrs.has(AT.location);
}

/** DW_AT_const_value's bytes for a type: an integer (little-endian), a block, a string. */
function constBytes(v: number | string | Uint8Array, t: CType): Uint8Array {
  const size = Math.max(sizeOf(t), 1);
  if (v instanceof Uint8Array) return v.slice(0, size);
  if (typeof v === 'string') return new TextEncoder().encode(v);
  const out = new Uint8Array(size);
  let n = BigInt.asUintN(size * 8, BigInt(Math.trunc(v)));
  for (let i = 0; i < size; i++) { out[i] = Number(n & 0xffn); n >>= 8n; }
  return out;
}
