import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugTarget } from '../../emulator/debugger/debugTarget';
import type { CodeStop, HitContext, StopJudge, StopSet, WatchStop } from '../../emulator/debugger/stops';
import { TrapFilter, TRAP_FILTERS } from '../../emulator/debugger/trapFilters';
import { RewindError } from '../../emulator/errors';
import type { SourceFiles } from './sourceFiles';

/** How breakpoint conditions and log messages are evaluated: at the hit, on its hart. */
export interface ConditionHost {
  /** The expression's value as text, and whether it is non-zero; throws RewindError('EVAL') when it cannot be evaluated. */
  evaluate(expr: string, hart: number): { text: string; truthy: boolean };
}

/** A hit condition as VS Code users write it: `5`, `>= 5`, `> 5`, `< 5`, `<= 5`, `== 5`, `% 5`. */
function parseHitCondition(text: string): (count: number) => boolean {
  const m = /^\s*(>=|<=|==|=|>|<|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) throw new RewindError('BAD_HIT_CONDITION', `hit condition "${text}" is not a count: write N, >N, >=N, <N, <=N, ==N or %N`);
  const n = Number(m[2]);
  switch (m[1]) {
    case '>': return (c) => c > n;
    case '>=': return (c) => c >= n;
    case '<': return (c) => c < n;
    case '<=': return (c) => c <= n;
    case '%': return (c) => n > 0 && c % n === 0;
    default: return (c) => c === n; // bare N and ==N: the Nth hit
  }
}

interface Spec {
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

/**
 * The user's breakpoints, in DAP's terms, and the StopSet the engine runs with: source lines to
 * addresses (every location of a line, moved to the next line with code), functions to where
 * gdb puts `break FUNC`, instruction references, data breakpoints on address ranges, exception
 * filters for guest traps. Conditions, hit counts and log points become the stops' judges. A hit
 * count counts the times the breakpoint was reached, going forward or backward, in this session.
 */
export class BreakpointManager {
  private nextId = 1;
  private readonly source = new Map<string, CodeStop[]>();
  private functions: CodeStop[] = [];
  private readonly functionNames = new Map<number, string>();
  private instructions: CodeStop[] = [];
  private data: WatchStop[] = [];
  private traps = new Set<TrapFilter>();
  /** Messages for the user: log points, and conditions that could not be evaluated. */
  onMessage: (text: string, category: 'console' | 'stderr') => void = () => undefined;

  constructor(private readonly target: DebugTarget, private readonly sources: SourceFiles, private readonly cond: ConditionHost) {}

  stops(): StopSet {
    return { code: [...[...this.source.values()].flat(), ...this.functions, ...this.instructions], watch: this.data, traps: this.traps };
  }

  /** The judge for one breakpoint's condition, hit condition and log message. */
  private judge(spec: Spec, id: number): StopJudge {
    const j: StopJudge = {};
    if (spec.condition && spec.condition.trim() !== '') {
      const expr = spec.condition;
      j.condition = (ctx: HitContext) => {
        try {
          return this.cond.evaluate(expr, ctx.hart).truthy;
        } catch (e) {
          // gdb stops when a condition cannot be tested, and says why.
          if (!ctx.reverse) this.onMessage(`breakpoint ${id}: cannot evaluate condition "${expr}": ${(e as Error).message}\n`, 'stderr');
          return true;
        }
      };
    }
    const hits = spec.hitCondition && spec.hitCondition.trim() !== '' ? parseHitCondition(spec.hitCondition) : undefined;
    const log = spec.logMessage;
    if (hits || log !== undefined) {
      let count = 0;
      j.hit = (ctx: HitContext) => {
        count++;
        if (hits && !hits(count)) return false;
        if (log === undefined) return true;
        if (!ctx.reverse) this.onMessage(this.interpolate(log, ctx.hart) + '\n', 'console');
        return false;
      };
    }
    return j;
  }

  /** A log message's `{expr}` parts, evaluated (an error shows in place, as VS Code's own adapters do). */
  private interpolate(message: string, hart: number): string {
    return message.replace(/\{([^{}]+)\}/g, (_, expr: string) => {
      try {
        return this.cond.evaluate(expr, hart).text;
      } catch (e) {
        return `<${(e as Error).message}>`;
      }
    });
  }

  private checked(spec: Spec): void {
    for (const k of ['condition', 'hitCondition', 'logMessage'] as const) {
      if (spec[k] !== undefined && typeof spec[k] !== 'string') throw new RewindError('BAD_REQUEST', `a breakpoint's ${k} must be a string, not ${JSON.stringify(spec[k])}`);
    }
    if (spec.hitCondition && spec.hitCondition.trim() !== '') parseHitCondition(spec.hitCondition);
  }

  /** `breakpointLocations`: the lines from `line` to `endLine` where a breakpoint stays on its line (no move, no prologue skip). */
  locations(sourcePath: string, line: number, endLine = line): DebugProtocol.BreakpointLocation[] {
    const file = this.sources.dwarfNameOf(sourcePath);
    if (file === undefined) return [];
    const out: DebugProtocol.BreakpointLocation[] = [];
    for (let l = Math.max(1, line); l <= Math.min(endLine, line + 10_000); l++) {
      const placed = this.target.lineLocations(file, l);
      if (placed.locations.length && placed.locations.every((x) => x.line === l)) out.push({ line: l });
    }
    return out;
  }

  setSourceBreakpoints(sourcePath: string, bps: DebugProtocol.SourceBreakpoint[]): DebugProtocol.Breakpoint[] {
    const stops: CodeStop[] = [];
    const out: DebugProtocol.Breakpoint[] = [];
    const file = this.sources.dwarfNameOf(sourcePath);
    for (const bp of bps) {
      const id = this.nextId++;
      const source = { name: sourcePath.split(/[\\/]/).pop(), path: sourcePath };
      try {
        this.checked(bp);
      } catch (e) {
        out.push({ id, verified: false, line: bp.line, source, message: (e as Error).message });
        continue;
      }
      const placed = file !== undefined ? this.target.lineLocations(file, bp.line).locations : [];
      const addresses = placed.map((l) => l.address);
      const line = placed[0]?.line ?? bp.line;
      if (!addresses.length) {
        out.push({ id, verified: false, line: bp.line, source, message: file === undefined ? `${sourcePath} is not part of the program's debug info` : `no code at or after line ${bp.line}` });
        continue;
      }
      stops.push({ id, kind: 'breakpoint', addresses, ...this.judge(bp, id) });
      out.push({
        id, verified: true, line, source, instructionReference: hex(addresses[0]),
        ...(line !== bp.line ? { message: `moved to line ${line}, where the code for line ${bp.line} starts` } : {}),
      });
    }
    this.source.set(sourcePath, stops);
    return out;
  }

  setFunctionBreakpoints(bps: DebugProtocol.FunctionBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.functions = [];
    return bps.map((bp) => {
      const id = this.nextId++;
      const fn = bp.name.trim();
      // gdb's `break *ADDR` is an address taken as is; a name is every copy of that function.
      const literal = /^\*?(0x[0-9a-f]+)$/i.test(fn) ? Number(fn.replace('*', '')) : undefined;
      const addresses = literal !== undefined ? [literal] : this.target.functionLocations(fn).map((l) => l.address);
      if (!addresses.length) return { id, verified: false, message: `no function "${fn}" in the program` };
      try {
        this.checked(bp);
      } catch (e) {
        return { id, verified: false, message: (e as Error).message };
      }
      const at = addresses[0];
      this.functions.push({ id, kind: 'function breakpoint', addresses, ...this.judge(bp, id) });
      this.functionNames.set(id, fn);
      const loc = this.target.info.sourceLineAt(at);
      const path = loc ? this.sources.pathOf(loc.file) : undefined;
      return { id, verified: true, instructionReference: hex(at), ...(loc ? { line: loc.line, source: path ? { name: path.split(/[\\/]/).pop(), path } : { name: loc.file } } : {}) };
    });
  }

  /** The function a function breakpoint was set on. */
  functionOf(id: number): string | undefined {
    return this.functionNames.get(id);
  }

  setInstructionBreakpoints(bps: DebugProtocol.InstructionBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.instructions = [];
    return bps.map((bp) => {
      const id = this.nextId++;
      const base = parseAddress(bp.instructionReference);
      if (base === undefined) return { id, verified: false, message: `"${bp.instructionReference}" is not an instruction address` };
      const at = (base + (bp.offset ?? 0)) >>> 0;
      if (at & 1) return { id, verified: false, message: `0x${at.toString(16)} is not an instruction address (instructions are 2-byte aligned)` };
      try {
        this.checked(bp);
      } catch (e) {
        return { id, verified: false, message: (e as Error).message };
      }
      this.instructions.push({ id, kind: 'instruction breakpoint', addresses: [at], ...this.judge(bp, id) });
      return { id, verified: true, instructionReference: hex(at) };
    });
  }

  setDataBreakpoints(bps: DebugProtocol.DataBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.data = [];
    return bps.map((bp) => {
      const id = this.nextId++;
      const range = parseDataId(bp.dataId);
      if (!range) return { id, verified: false, message: `"${bp.dataId}" is not a data breakpoint this adapter made` };
      try {
        this.checked(bp);
      } catch (e) {
        return { id, verified: false, message: (e as Error).message };
      }
      const access = bp.accessType ?? 'write';
      this.data.push({ id, lo: range.addr, hi: range.addr + range.len, onWrite: access !== 'read', onRead: access !== 'write', ...this.judge(bp, id) });
      return { id, verified: true, message: `${access} of ${range.len} byte${range.len === 1 ? '' : 's'} at 0x${range.addr.toString(16)}` };
    });
  }

  setExceptionFilters(filters: string[], options: DebugProtocol.ExceptionFilterOptions[] = []): DebugProtocol.Breakpoint[] {
    const known = new Set(TRAP_FILTERS.map((f) => f.id));
    const all = [...filters, ...options.map((o) => o.filterId)];
    for (const f of all) if (!known.has(f as TrapFilter)) throw new RewindError('BAD_FILTER', `unknown exception filter "${f}" (Rewind has ${[...known].join(', ')})`);
    this.traps = new Set(all as TrapFilter[]);
    return all.map(() => ({ verified: true }));
  }
}

export function hex(a: number): string {
  return '0x' + (a >>> 0).toString(16).padStart(8, '0');
}

export function parseAddress(s: unknown): number | undefined {
  // From the client, so anything may come: only a string can be an address.
  if (typeof s !== 'string') return undefined;
  const t = s.trim();
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(t)) return undefined;
  const v = Number(t);
  return v <= 0xffffffff ? v : undefined;
}

/** Data breakpoint ids: `ADDR/LEN` in hex, what dataBreakpointInfo hands out. */
export function dataId(addr: number, len: number): string {
  return `${hex(addr)}/${len}`;
}

function parseDataId(id: string): { addr: number; len: number } | undefined {
  const m = /^(0x[0-9a-f]+)\/(\d+)$/i.exec(id);
  if (!m) return undefined;
  const addr = Number(m[1]), len = Number(m[2]);
  return len >= 1 && len <= 1 << 20 && addr + len <= 0x100000000 ? { addr, len } : undefined;
}
