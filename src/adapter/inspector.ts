import type { DebugProtocol } from '@vscode/debugprotocol';
import { Handles } from '@vscode/debugadapter';
import { CSR } from '../../emulator/cpu/csr';
import type { Operation } from '../../emulator/debugger/debugTarget';
import { scalar } from '../../emulator/debuginfo/cEvaluate';
import { sizeOf, strip, typeName } from '../../emulator/debuginfo/dwarfTypes';
import type { SourceFrame } from '../../emulator/debuginfo/sourceView';
import { bigValue, Value } from '../../emulator/debuginfo/values';
import { RewindError } from '../../emulator/errors';
import { RAM_BASE } from '../../emulator/machine/bus';
import { dataId, hex, parseAddress } from './breakpoints';
import { disassembleAround } from './disassembly';
import { csrItems, deviceItems, registerItems, StateItem, toVariables } from './machineScopes';
import { readMemory, writeMemory } from './memoryAccess';
import type { SourceFiles } from './sourceFiles';
import type { OpenedTarget } from './targetSession';
import { TimeTargets } from './timeTargets';
import { TreeItem, ValueTree } from './valueTree';

/** One frame as the session handed it out (valid until the machine moves). */
export interface FrameRef {
  hart: number;
  level: number;
  frame: SourceFrame;
}

type Scope = { kind: 'registers' | 'csrs' | 'devices' | 'locals' | 'args' | 'globals'; frame: FrameRef };
type Container = Scope | { kind: 'state'; items: () => StateItem[] } | { kind: 'tree'; frame: FrameRef; items: () => TreeItem[] };

const CSR_BY_NAME = CSR as Record<string, number>;

/**
 * Everything a stopped session shows: stack frames (inlined calls as frames, as gdb shows them),
 * scopes and variables from DWARF, expressions, memory, disassembly, and the time targets (goto,
 * restart frame). Handles are valid until the machine moves (invalidate()), as DAP expects.
 */
export class Inspector {
  private frames = new Handles<FrameRef>();
  private vars = new Handles<Container>();
  private readonly time: TimeTargets;
  /** The stop's function breakpoint names: their inlined copies show as frames at the stop. */
  keepInline?: string;

  constructor(private readonly opened: OpenedTarget, private readonly sources: SourceFiles) {
    this.time = new TimeTargets(opened.target, sources);
  }

  private get source() {
    return this.opened.info.source;
  }

  private get machine() {
    return this.opened.target.machine;
  }

  invalidate(): void {
    this.frames.reset();
    this.vars.reset();
  }

  /** Guest RAM and ROM as the debugger reads it (never a device). */
  private readonly read = (addr: number, len: number): Uint8Array | undefined => {
    const m = this.machine;
    if (len < 0 || len > 1 << 24) return undefined;
    const a = addr >>> 0;
    const off = a - RAM_BASE;
    if (off >= 0 && off + len <= m.ramBytes) return m.bus.ram8.slice(off, off + len);
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      if (m.bus.fetch16((a + i) & ~1) < 0) return undefined;
      out[i] = m.bus.peek(a + i, 1);
    }
    return out;
  };

  /** The call stack of a hart, inline frames included. */
  sourceFrames(hart: number): SourceFrame[] {
    const h = this.machine.harts[hart];
    return this.source.frames(h.pc >>> 0, h.x, this.read, 128, { hide: 'entry', keep: this.keepInline });
  }

  private frameOf(id: unknown): FrameRef {
    const f = typeof id === 'number' ? this.frames.get(id) : undefined;
    if (!f) throw new RewindError('BAD_REQUEST', `no frame ${JSON.stringify(id)} (frames are valid until the guest moves)`);
    return f;
  }

  stackTrace(hart: number, start: number, levels: number): DebugProtocol.StackTraceResponse['body'] {
    const all = this.sourceFrames(hart);
    const pick = all.slice(start, levels > 0 ? start + levels : undefined);
    const stackFrames = pick.map((f): DebugProtocol.StackFrame => {
      const id = this.frames.create({ hart, level: f.level, frame: f });
      const name = (f.function ?? hex(f.pc)) + (f.inline ? ' [inlined]' : '');
      return {
        id, name, line: f.line ?? 0, column: f.line ? 1 : 0, instructionPointerReference: hex(f.pc),
        ...(f.file ? { source: this.sources.source(f.file) } : { presentationHint: 'subtle' as const }),
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

  private tree(frame: FrameRef): ValueTree {
    return new ValueTree(this.source, frame.frame.context, (items) => this.vars.create({ kind: 'tree', frame, items }));
  }

  variables(args: DebugProtocol.VariablesArguments): DebugProtocol.Variable[] {
    const c = typeof args?.variablesReference === 'number' ? this.vars.get(args.variablesReference) : undefined;
    if (!c) throw new RewindError('BAD_REQUEST', `no variables ${JSON.stringify(args?.variablesReference)} (references are valid until the guest moves)`);
    let out: DebugProtocol.Variable[];
    if (c.kind === 'state') out = toVariables(c.items(), (items) => this.vars.create({ kind: 'state', items }));
    else if (c.kind === 'registers' || c.kind === 'csrs' || c.kind === 'devices') out = toVariables(this.stateItems(c), (items) => this.vars.create({ kind: 'state', items }));
    else {
      const frame = c.frame;
      const t = this.tree(frame);
      const items = c.kind === 'tree' ? c.items() : this.treeItems(c);
      if (c.kind === 'tree' && args.filter === 'indexed' && args.start !== undefined) {
        // An array's elements asked for by index (indexedVariables): the page the client wants.
        const arr = items[0]?.page ? items[0] : undefined;
        const parent = arr ?? items[0];
        const end = args.start + (args.count ?? 100);
        if (parent) return t.elements({ ...parent, page: undefined }, args.start, end).map((i) => t.variable(i));
      }
      out = items.map((i) => t.variable(i));
    }
    if (args.start !== undefined || args.count !== undefined) out = out.slice(args.start ?? 0, args.count ? (args.start ?? 0) + args.count : undefined);
    return out;
  }

  private treeItems(s: Scope): TreeItem[] {
    const f = s.frame.frame;
    const src = this.source;
    if (s.kind === 'locals') return src.locals(f).map((v) => ({ name: v.name, value: v.value, evaluateName: v.name }));
    if (s.kind === 'args') return src.args(f).map((v) => ({ name: v.name, value: v.value, evaluateName: v.name }));
    return src.globals(this.read).map((v) => ({ name: v.name, value: v.value, evaluateName: v.name }));
  }

  private stateItems(s: Scope): StateItem[] {
    const m = this.machine;
    const ctx = s.frame.frame.context;
    switch (s.kind) {
      case 'registers': return registerItems(ctx.regs, ctx.pc >>> 0);
      case 'csrs': return csrItems(m, s.frame.hart);
      default: return deviceItems(m);
    }
  }

  /** The frame an expression is evaluated in: the request's, else the hart's innermost. */
  private evalFrame(frameId: unknown, hart: number): FrameRef {
    if (frameId !== undefined) return this.frameOf(frameId);
    const f = this.sourceFrames(hart)[0];
    return { hart, level: 0, frame: f };
  }

  private special(hart: number): (name: string) => number | undefined {
    return (name) => {
      const n = CSR_BY_NAME[name];
      return n === undefined ? undefined : this.machine.harts[hart].readCsr(n);
    };
  }

  private value(expr: string, f: FrameRef): Value {
    return this.source.evaluate(expr, f.frame, this.read, this.special(f.hart));
  }

  evaluate(a: DebugProtocol.EvaluateArguments): DebugProtocol.EvaluateResponse['body'] {
    if (typeof a?.expression !== 'string') throw new RewindError('BAD_REQUEST', 'evaluate needs an expression');
    const f = this.evalFrame(a.frameId, this.opened.target.currentHart);
    const v = this.value(a.expression, f);
    const t = this.tree(f);
    const shown = t.variable({ name: a.expression, value: v, evaluateName: a.expression });
    const text = a.format?.hex && (strip(v.type).kind === 'base' || strip(v.type).kind === 'enum') ? this.source.format(v, { hex: true }) : shown.value;
    return { result: text, type: shown.type, variablesReference: shown.variablesReference, ...(shown.memoryReference ? { memoryReference: shown.memoryReference } : {}), ...(shown.indexedVariables ? { indexedVariables: shown.indexedVariables } : {}) };
  }

  /** For breakpoint conditions and log messages: evaluated on `hart` where it stands now. */
  condition(expr: string, hart: number): { text: string; truthy: boolean } {
    const f = this.evalFrame(undefined, hart);
    const v = this.value(expr, f);
    const text = this.source.format(v, { read: this.read });
    if (v.error) throw new RewindError('EVAL', v.error);
    const n = v.bytes ? bigValue(v, 0, Math.min(sizeOf(v.type) || 1, 8)) : undefined;
    if (n === undefined) throw new RewindError('EVAL', `${expr} is <optimized out> here`);
    return { text, truthy: n !== 0n };
  }

  setVariable(args: DebugProtocol.SetVariableArguments): DebugProtocol.SetVariableResponse['body'] {
    const c = typeof args?.variablesReference === 'number' ? this.vars.get(args.variablesReference) : undefined;
    if (!c || typeof args.name !== 'string' || typeof args.value !== 'string') throw new RewindError('BAD_REQUEST', 'setVariable needs a variablesReference, a name and a value');
    if (c.kind === 'registers') {
      const f = c.frame;
      if (f.level !== 0) throw new RewindError('READ_ONLY', 'registers can be set in the innermost frame only');
      const item = this.stateItems(c).find((i) => i.name === args.name);
      if (!item || item.register === undefined) throw new RewindError('READ_ONLY', `"${args.name}" cannot be set`);
      const v = this.value(args.value, f);
      const n = Number(BigInt.asUintN(32, bigValue(v, 0, Math.min(4, sizeOf(v.type))) ?? 0n));
      this.opened.writeRegister(f.hart, item.register, n);
      this.invalidate();
      return { value: `${hex(n)} (${n | 0})` };
    }
    if (c.kind !== 'tree' && c.kind !== 'locals' && c.kind !== 'args' && c.kind !== 'globals') throw new RewindError('READ_ONLY', `"${args.name}" cannot be set here`);
    const items = c.kind === 'tree' ? c.items() : this.treeItems(c);
    const item = items.find((i) => i.name === args.name);
    if (!item) throw new RewindError('BAD_REQUEST', `no variable "${args.name}" here`);
    return this.assign(item.value, args.name, args.value, c.frame);
  }

  /** `setExpression` (the watch pane): the expression must name something in memory or a register. */
  setExpression(args: DebugProtocol.SetExpressionArguments): DebugProtocol.SetExpressionResponse['body'] {
    if (typeof args?.expression !== 'string' || typeof args.value !== 'string') throw new RewindError('BAD_REQUEST', 'setExpression needs an expression and a value');
    const f = this.evalFrame(args.frameId, this.opened.target.currentHart);
    return this.assign(this.value(args.expression, f), args.expression, args.value, f);
  }

  private assign(target: Value, name: string, valueText: string, frame: FrameRef): { value: string; type: string } {
    const k = strip(target.type).kind;
    if (k === 'struct' || k === 'union' || k === 'array') throw new RewindError('READ_ONLY', `set the members of ${name} one by one`);
    const nv = this.value(valueText, frame);
    const n = bigValue(nv, 0, Math.min(8, sizeOf(nv.type))) ?? 0n;
    const bytes = scalar(target.type, n).bytes!;
    if (target.address !== undefined) this.opened.writeMemory(target.address, bytes);
    else if (target.register !== undefined) this.opened.writeRegister(frame.hart, target.register, Number(BigInt.asUintN(32, n)));
    else throw new RewindError('READ_ONLY', `${name} is not in memory or a register here (optimized out, or a computed value)`);
    this.invalidate();
    return { value: this.source.format({ ...target, bytes }, { read: this.read }), type: typeName(target.type) };
  }

  readMemory(args: DebugProtocol.ReadMemoryArguments): DebugProtocol.ReadMemoryResponse['body'] {
    return readMemory(this.machine, args);
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
    return disassembleAround(this.machine, this.opened.info, this.sources, (base + (args.offset ?? 0)) >>> 0, args.instructionOffset ?? 0, count);
  }

  dataBreakpointInfo(args: DebugProtocol.DataBreakpointInfoArguments): DebugProtocol.DataBreakpointInfoResponse['body'] {
    const hart = args.frameId !== undefined ? this.frameOf(args.frameId).hart : this.opened.target.currentHart;
    let address: number | undefined;
    let size = args.bytes;
    let what = args.name;
    if (args.asAddress) {
      const f = this.evalFrame(args.frameId, hart);
      const v = this.value(args.name, f);
      address = Number(BigInt.asUintN(32, bigValue(v, 0, Math.min(4, sizeOf(v.type))) ?? 0n));
      size ??= 4;
    } else {
      const c = typeof args.variablesReference === 'number' ? this.vars.get(args.variablesReference) : undefined;
      let v: Value | undefined;
      if (c && (c.kind === 'tree' || c.kind === 'locals' || c.kind === 'args' || c.kind === 'globals')) {
        const item = (c.kind === 'tree' ? c.items() : this.treeItems(c)).find((i) => i.name === args.name);
        v = item?.value;
        what = item?.evaluateName ?? args.name;
      } else if (!c) {
        v = this.value(args.name, this.evalFrame(args.frameId, hart));
      }
      if (!v || v.address === undefined) return { dataId: null, description: `${args.name} is not in memory here: a data breakpoint needs an address` };
      address = v.address;
      size ??= sizeOf(v.type);
    }
    if (!size || size < 1) return { dataId: null, description: `${args.name} has no size` };
    return { dataId: dataId(address, size), description: `${what} (${size} byte${size === 1 ? '' : 's'} at ${hex(address)})`, accessTypes: ['write', 'read', 'readWrite'], canPersist: true };
  }

  gotoTargets(args: DebugProtocol.GotoTargetsArguments): DebugProtocol.GotoTarget[] {
    return this.time.targets(args);
  }

  gotoOperation(targetId: unknown): Operation {
    return this.time.goto(targetId, this.opened.target.currentHart);
  }

  restartFrameOperation(frameId: unknown): Operation {
    const f = this.frameOf(frameId);
    // Inline frames share their physical frame's context: count the physical frames up to it.
    const frames = this.sourceFrames(f.hart);
    const physical = new Set(frames.slice(0, f.level + 1).map((x) => x.context)).size - 1;
    return this.time.restartFrame(f.hart, Math.max(0, physical));
  }

  sourceText(args: DebugProtocol.SourceArguments): DebugProtocol.SourceResponse['body'] {
    const ref = args?.source?.sourceReference ?? args?.sourceReference;
    const file = typeof ref === 'number' ? this.sources.byReference(ref) : undefined;
    if (!file) throw new RewindError('BAD_REQUEST', `no source ${JSON.stringify(ref)}`);
    return { content: this.time.listing(file), mimeType: 'text/plain' };
  }

}
