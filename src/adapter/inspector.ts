import type { DebugProtocol } from '@vscode/debugprotocol';
import { Handles } from '@vscode/debugadapter';
import type { StackFrame as EngineFrame } from '../../emulator/debuginfo/debugInfo';
import { ramWord } from '../../emulator/debugger/framePosition';
import type { Operation } from '../../emulator/debugger/debugTarget';
import { RewindError } from '../../emulator/errors';
import { dataId, hex, parseAddress } from './breakpoints';
import { disassembleAround } from './disassembly';
import { ExpressionHost } from './expressions';
import { csrItems, deviceItems, registerItems, StateItem, toVariables } from './machineScopes';
import { readMemory, writeMemory } from './memoryAccess';
import type { SourceFiles } from './sourceFiles';
import type { OpenedTarget } from './targetSession';
import { TimeTargets } from './timeTargets';

/** One frame as the session handed it out (valid until the machine moves). */
export interface FrameRef {
  hart: number;
  level: number;
  frame: EngineFrame;
}

type Scope = { kind: 'registers' | 'csrs' | 'devices' | 'locals' | 'args' | 'globals'; frame: FrameRef };

/**
 * Everything a stopped session shows: stack frames, scopes and variables, expressions, memory,
 * disassembly, and the time targets (goto, restart frame). Handles are valid until the machine
 * moves (invalidate()), as DAP expects.
 */
export class Inspector {
  private frames = new Handles<FrameRef>();
  private vars = new Handles<Scope | (() => StateItem[])>();
  readonly expressions: ExpressionHost;
  private readonly time: TimeTargets;

  constructor(private readonly opened: OpenedTarget, private readonly sources: SourceFiles) {
    this.expressions = new ExpressionHost(opened.target);
    this.time = new TimeTargets(opened.target, sources);
  }

  invalidate(): void {
    this.frames.reset();
    this.vars.reset();
  }

  /** For the breakpoint manager: conditions and log messages. */
  evaluate(args: DebugProtocol.EvaluateArguments): DebugProtocol.EvaluateResponse['body'];
  evaluate(expr: string, hart: number): { text: string; truthy: boolean };
  evaluate(a: DebugProtocol.EvaluateArguments | string, hart?: number): DebugProtocol.EvaluateResponse['body'] | { text: string; truthy: boolean } {
    if (typeof a === 'string') return this.expressions.condition(a, hart!);
    if (typeof a?.expression !== 'string') throw new RewindError('BAD_REQUEST', 'evaluate needs an expression');
    const frame = a.frameId !== undefined ? this.frameOf(a.frameId) : undefined;
    const r = this.expressions.evaluate(a.expression, frame?.hart ?? this.opened.target.currentHart, a.format?.hex === true);
    return { result: r.text, variablesReference: 0, ...(r.address !== undefined ? { memoryReference: hex(r.address) } : {}) };
  }

  private frameOf(id: unknown): FrameRef {
    const f = typeof id === 'number' ? this.frames.get(id) : undefined;
    if (!f) throw new RewindError('BAD_REQUEST', `no frame ${JSON.stringify(id)} (frames are valid until the guest moves)`);
    return f;
  }

  stackTrace(hart: number, start: number, levels: number): DebugProtocol.StackTraceResponse['body'] {
    const m = this.opened.target.machine;
    const h = m.harts[hart];
    let all = this.opened.info.callStack(h.pc >>> 0, h.x, ramWord(m));
    // As gdb's `backtrace past-main off`: what called main (the start-up code) is not shown.
    const main = all.findIndex((f) => f.function === 'main');
    if (main >= 0) all = all.slice(0, main + 1);
    const pick = all.slice(start, levels > 0 ? start + levels : undefined);
    const stackFrames = pick.map((f, i): DebugProtocol.StackFrame => {
      const level = start + i;
      const id = this.frames.create({ hart, level, frame: f });
      const loc = level === 0 ? this.opened.info.sourceLineAt(f.pc) : this.opened.info.sourceLineAt((f.pc - 1) >>> 0);
      const name = f.function ?? hex(f.pc);
      return {
        id, name, line: loc?.line ?? 0, column: loc ? Math.max(1, loc.column) : 0,
        instructionPointerReference: hex(level === 0 ? f.pc : f.pc),
        ...(loc ? { source: this.sources.source(loc.file) } : { presentationHint: 'subtle' as const }),
      };
    });
    return { stackFrames, totalFrames: all.length };
  }

  scopes(frameId: unknown): DebugProtocol.Scope[] {
    const frame = this.frameOf(frameId);
    const s = (name: string, kind: Scope['kind'], expensive: boolean, presentationHint?: 'locals' | 'arguments' | 'registers'): DebugProtocol.Scope => ({
      name, variablesReference: this.vars.create({ kind, frame }), expensive, ...(presentationHint ? { presentationHint } : {}),
    });
    return [
      s('Locals', 'locals', false, 'locals'), s('Arguments', 'args', false, 'arguments'), s('Globals', 'globals', true),
      s('Registers', 'registers', false, 'registers'), s('CSRs', 'csrs', true), s('Devices', 'devices', true),
    ];
  }

  variables(args: DebugProtocol.VariablesArguments): DebugProtocol.Variable[] {
    const v = typeof args?.variablesReference === 'number' ? this.vars.get(args.variablesReference) : undefined;
    if (!v) throw new RewindError('BAD_REQUEST', `no variables ${JSON.stringify(args?.variablesReference)} (references are valid until the guest moves)`);
    const items = typeof v === 'function' ? v() : this.scopeItems(v);
    const ref = (c: () => StateItem[]) => this.vars.create(c);
    let out = toVariables(items, ref);
    if (args.start !== undefined || args.count !== undefined) out = out.slice(args.start ?? 0, args.count ? (args.start ?? 0) + args.count : undefined);
    return out;
  }

  private scopeItems(s: Scope): StateItem[] {
    const m = this.opened.target.machine;
    const h = m.harts[s.frame.hart];
    switch (s.kind) {
      case 'registers':
        // Caller frames: what the unwinder knows of them (sp and the return address for now).
        if (s.frame.level === 0) return registerItems(h.x, h.pc >>> 0);
        return registerItems(Object.assign([...h.x].slice(0, 32), { 2: s.frame.frame.sp }), s.frame.frame.pc, (r) => r === 2 || r === 0);
      case 'csrs': return csrItems(m, s.frame.hart);
      case 'devices': return deviceItems(m);
      default: return [];
    }
  }

  setVariable(args: DebugProtocol.SetVariableArguments): DebugProtocol.SetVariableResponse['body'] {
    const v = typeof args?.variablesReference === 'number' ? this.vars.get(args.variablesReference) : undefined;
    if (!v || typeof v === 'function' || v.kind !== 'registers') throw new RewindError('READ_ONLY', `"${args?.name}" cannot be set here`);
    if (v.frame.level !== 0) throw new RewindError('READ_ONLY', 'registers can be set in the innermost frame only');
    const item = this.scopeItems(v).find((i) => i.name === args.name);
    if (!item || item.register === undefined) throw new RewindError('READ_ONLY', `"${args.name}" cannot be set`);
    const value = this.expressions.number(args.value, v.frame.hart);
    this.opened.writeRegister(v.frame.hart, item.register, value);
    this.invalidate();
    return { value: `${hex(value)} (${value | 0})` };
  }

  readMemory(args: DebugProtocol.ReadMemoryArguments): DebugProtocol.ReadMemoryResponse['body'] {
    return readMemory(this.opened.target.machine, args);
  }

  writeMemory(args: DebugProtocol.WriteMemoryArguments): DebugProtocol.WriteMemoryResponse['body'] {
    const r = writeMemory(args, (addr, bytes) => this.opened.writeMemory(addr, bytes));
    this.invalidate();
    return r;
  }

  disassemble(args: DebugProtocol.DisassembleArguments): DebugProtocol.DisassembledInstruction[] {
    const base = parseAddress(args?.memoryReference);
    if (base === undefined) throw new RewindError('BAD_REQUEST', `disassemble: "${args?.memoryReference}" is not an address`);
    const count = args.instructionCount;
    if (!Number.isInteger(count) || count < 0 || count > 100_000) throw new RewindError('BAD_REQUEST', 'disassemble: instructionCount must be 0..100000');
    return disassembleAround(this.opened.target.machine, this.opened.info, this.sources, (base + (args.offset ?? 0)) >>> 0, args.instructionOffset ?? 0, count);
  }

  dataBreakpointInfo(args: DebugProtocol.DataBreakpointInfoArguments): DebugProtocol.DataBreakpointInfoResponse['body'] {
    const hart = args.frameId !== undefined ? this.frameOf(args.frameId).hart : this.opened.target.currentHart;
    const r = this.expressions.lvalue(args.name, hart, args.asAddress === true);
    if (!r) return { dataId: null, description: `"${args.name}" is not in memory: a data breakpoint needs an address` };
    const len = args.bytes ?? r.size;
    return { dataId: dataId(r.address, len), description: `${args.name} (${len} byte${len === 1 ? '' : 's'} at ${hex(r.address)})`, accessTypes: ['write', 'read', 'readWrite'], canPersist: true };
  }

  gotoTargets(args: DebugProtocol.GotoTargetsArguments): DebugProtocol.GotoTarget[] {
    return this.time.targets(args);
  }

  gotoOperation(targetId: unknown): Operation {
    return this.time.goto(targetId, this.opened.target.currentHart);
  }

  restartFrameOperation(frameId: unknown): Operation {
    const f = this.frameOf(frameId);
    return this.time.restartFrame(f.hart, f.level);
  }

  sourceText(args: DebugProtocol.SourceArguments): DebugProtocol.SourceResponse['body'] {
    const ref = args?.source?.sourceReference ?? args?.sourceReference;
    const file = typeof ref === 'number' ? this.sources.byReference(ref) : undefined;
    if (!file) throw new RewindError('BAD_REQUEST', `no source ${JSON.stringify(ref)}`);
    return { content: this.time.listing(file), mimeType: 'text/plain' };
  }
}
