import * as fs from 'fs';
import * as path from 'path';
import { DebugSession, Event, InitializedEvent, OutputEvent, ProgressEndEvent, ProgressStartEvent, ProgressUpdateEvent, StoppedEvent, TerminatedEvent, Thread } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Granularity, Operation, StepKind } from '../../emulator/debugger/debugTarget';
import type { Stop } from '../../emulator/debugger/stops';
import { TRAP_FILTERS } from '../../emulator/debugger/trapFilters';
import { RewindError } from '../../emulator/errors';
import { POSITION_EVENT, PositionEvent, REWIND_REQUESTS, RewindRequestName } from '../protocol/rewindProtocol';
import { BreakpointManager } from './breakpoints';
import { customRequest } from './customRequests';
import { LaunchConfig, parseLaunchArgs } from './launchArgs';
import { Runner } from './runner';
import { SourceFiles, sourceRoots } from './sourceFiles';
import { OpenedTarget, openTarget } from './targetSession';
import { Inspector } from './inspector';

/** A request that cannot be served: a one-line message for the user, never a stack trace. */
class RequestError extends Error {}

/** DAP's stop reasons for the engine's. */
const DAP_REASON: Record<Stop['reason'], string> = {
  entry: 'entry', step: 'step', breakpoint: 'breakpoint', 'function breakpoint': 'function breakpoint', 'instruction breakpoint': 'instruction breakpoint',
  'data breakpoint': 'data breakpoint', exception: 'exception', pause: 'pause', goto: 'goto', start: 'goto', end: 'goto',
};

/**
 * One debug session over one recording: translates DAP requests into the engine's operations
 * (emulator/debugger's DebugTarget) and its stops back into DAP events. The guest runs in
 * slices (Runner), so the adapter answers while it runs. Knows nothing of VS Code.
 */
export class RewindSession extends DebugSession {
  private opened?: OpenedTarget;
  private cfg?: LaunchConfig;
  private bps?: BreakpointManager;
  private sources?: SourceFiles;
  private inspector?: Inspector;
  private readonly runner: Runner;
  private configured = false;
  private launched = false;
  private lastStop?: Stop;
  private clientProgress = false;
  private out: number[] = [];
  private readonly decoder = new TextDecoder('utf-8');

  constructor() {
    super();
    // The base class shuts down on any 'error', a message it cannot parse included; a client's
    // malformed message gets a line on stderr instead, and the session goes on.
    this.removeAllListeners('error');
    this.on('error', (e: { body?: unknown }) => {
      const what = String(e?.body ?? e);
      if (what.startsWith('Error handling data')) process.stderr.write(`rewind-adapter: ignored a malformed message: ${what}\n`);
      else this.shutdown();
    });
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.runner = new Runner({
      afterSlice: () => { this.flushOutput(); this.opened?.tick(); },
      stopped: (stop) => this.reportStop(stop),
      failed: (e) => this.reportFailure(e),
      progressStart: (id, title) => this.clientProgress && this.sendEvent(new ProgressStartEvent(id, title, undefined)),
      progressUpdate: (id, pct) => this.clientProgress && this.sendEvent(new ProgressUpdateEvent(id, pct === undefined ? undefined : `${pct}%`)),
      progressEnd: (id) => this.clientProgress && this.sendEvent(new ProgressEndEvent(id)),
    }, () => ({ reason: 'pause', hart: this.target.currentHart }));
  }

  private get target() {
    if (!this.opened) throw new RequestError('no program is being debugged: send launch first');
    return this.opened.target;
  }

  // ---- Requests: each handler runs inside `guard`, which turns errors into error responses ----

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    try {
      // DAP's default path format is `path`; the base class wants it said. Arguments that are
      // not an object at all reach the handlers as {} and get their own one-line errors.
      if (request.arguments === undefined || request.arguments === null || typeof request.arguments !== 'object') request.arguments = {};
      if (request.command === 'initialize' && request.arguments.pathFormat === undefined) request.arguments.pathFormat = 'path';
      super.dispatchRequest(request);
    } catch (e) {
      const response: DebugProtocol.Response = { type: 'response', seq: 0, request_seq: request.seq, command: request.command, success: false };
      this.fail(response, e);
    }
  }

  private fail(response: DebugProtocol.Response, e: unknown, showUser = true): void {
    let message: string;
    if (e instanceof RewindError || e instanceof RequestError) message = e.message;
    else {
      // A bug in Rewind: the user gets one line, the log the stack.
      message = `internal error in the Rewind debug adapter: ${(e as Error)?.message ?? String(e)}`;
      process.stderr.write(`rewind-adapter: ${(e as Error)?.stack ?? String(e)}\n`);
    }
    // The message goes in as a variable: DAP formats substitute {name} in `format`.
    this.sendErrorResponse(response, { id: 1, format: '{_message}', variables: { _message: message }, showUser });
  }

  /** `showUser` false where the client asked for itself and says what failed in its own words. */
  private guard<R extends DebugProtocol.Response>(response: R, body: () => void, showUser = true): void {
    try {
      body();
      this.sendResponse(response);
    } catch (e) {
      this.fail(response, e, showUser);
    }
  }

  private stopped(): void {
    if (!this.launched) throw new RequestError('no program is being debugged: send launch first');
    if (this.runner.running) throw new RequestError('the guest is running: pause it first');
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.clientProgress = args.supportsProgressReporting === true;
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsStepBack: true,
      supportsSteppingGranularity: true,
      supportsInstructionBreakpoints: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsDataBreakpoints: true,
      supportsDataBreakpointBytes: true,
      supportsReadMemoryRequest: true,
      supportsWriteMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsEvaluateForHovers: true,
      supportsSetVariable: true,
      supportsSetExpression: true,
      supportsBreakpointLocationsRequest: true,
      supportsGotoTargetsRequest: true,
      supportsRestartFrame: true,
      supportsLoadedSourcesRequest: true,
      supportsExceptionInfoRequest: true,
      supportsCancelRequest: true,
      supportsTerminateRequest: true,
      supportsValueFormattingOptions: true,
      supportsDelayedStackTraceLoading: true,
      exceptionBreakpointFilters: TRAP_FILTERS.map((f) => ({ filter: f.id, label: f.label, description: f.description, default: false })),
    };
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse, args: DebugProtocol.LaunchRequestArguments): void {
    this.guard(response, () => {
      if (this.launched) throw new RequestError('this session is already debugging a program');
      const cfg = parseLaunchArgs(args, (p) => {
        try {
          return fs.readFileSync(p);
        } catch (e) {
          throw new RewindError('INPUT_MISSING', `cannot read the input file ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      });
      this.cfg = cfg;
      this.opened = openTarget(cfg, (b) => this.out.push(b));
      const cwd = typeof (args as { cwd?: unknown }).cwd === 'string' ? (args as { cwd: string }).cwd : process.cwd();
      this.sources = new SourceFiles(this.opened.info, sourceRoots(this.opened.elfPath, cwd));
      this.inspector = new Inspector(this.opened, this.sources);
      const inspector = this.inspector;
      this.bps = new BreakpointManager(this.opened.target, this.sources, { evaluate: (expr, hart) => inspector.condition(expr, hart) });
      this.bps.onMessage = (text, category) => this.sendEvent(new OutputEvent(text, category));
      this.launched = true;
      this.sendEvent(new OutputEvent(`Rewind: ${cfg.mode === 'record' ? `recording ${path.basename(this.opened.elfPath)} to ${this.opened.tracePath}` : `replaying ${this.opened.tracePath}`}\n`, 'console'));
      if (this.opened.warning) this.sendEvent(new OutputEvent(`Rewind: ${this.opened.warning}\n`, 'stderr'));
    });
    if (this.launched) this.sendEvent(new InitializedEvent());
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.guard(response, () => {
      if (!this.launched) throw new RequestError('configurationDone before launch');
      if (this.configured) return;
      this.configured = true;
      // Time travel is there from the first instruction: stopping on entry stops at icount 0.
      setImmediate(() => {
        if (this.cfg!.stopOnEntry) this.reportStop({ reason: 'entry', hart: 0 });
        else this.run(this.target.continue(this.bps!.stops()), 'Running');
      });
    });
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    const n = this.opened ? this.opened.target.machine.harts.length : 1;
    response.body = { threads: Array.from({ length: n }, (_, i) => new Thread(i + 1, `hart ${i}`)) };
    this.sendResponse(response);
  }

  private hartOf(threadId: unknown): number {
    const n = this.target.machine.harts.length;
    if (typeof threadId !== 'number' || !Number.isInteger(threadId) || threadId < 1 || threadId > n) throw new RequestError(`no thread ${JSON.stringify(threadId)} (threads are 1..${n}, one per hart)`);
    return threadId - 1;
  }

  // ---- Breakpoints ----

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    this.guard(response, () => {
      this.launchedOnly();
      const p = args?.source?.path;
      if (typeof p !== 'string') throw new RequestError('setBreakpoints needs source.path');
      const lines = args.breakpoints ?? (args.lines ?? []).map((line) => ({ line }));
      if (!Array.isArray(lines) || lines.some((b) => typeof b?.line !== 'number')) throw new RequestError('setBreakpoints: every breakpoint needs a line number');
      response.body = { breakpoints: this.bps!.setSourceBreakpoints(p, lines) };
    });
  }

  protected override breakpointLocationsRequest(response: DebugProtocol.BreakpointLocationsResponse, args: DebugProtocol.BreakpointLocationsArguments): void {
    this.guard(response, () => {
      this.launchedOnly();
      const p = args?.source?.path;
      if (typeof p !== 'string' || typeof args.line !== 'number' || !Number.isInteger(args.line)) throw new RequestError('breakpointLocations needs source.path and a line');
      const end = typeof args.endLine === 'number' && Number.isInteger(args.endLine) ? args.endLine : args.line;
      response.body = { breakpoints: this.bps!.locations(p, args.line, end) };
    });
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.guard(response, () => {
      this.launchedOnly();
      if (!Array.isArray(args?.breakpoints) || args.breakpoints.some((b) => typeof b?.name !== 'string')) throw new RequestError('setFunctionBreakpoints: every breakpoint needs a function name');
      response.body = { breakpoints: this.bps!.setFunctionBreakpoints(args.breakpoints) };
    });
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    this.guard(response, () => {
      this.launchedOnly();
      if (!Array.isArray(args?.breakpoints) || args.breakpoints.some((b) => typeof b?.instructionReference !== 'string')) throw new RequestError('setInstructionBreakpoints: every breakpoint needs an instructionReference');
      response.body = { breakpoints: this.bps!.setInstructionBreakpoints(args.breakpoints) };
    });
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.guard(response, () => {
      this.launchedOnly();
      if (!Array.isArray(args?.filters)) throw new RequestError('setExceptionBreakpoints needs a filters array');
      response.body = { breakpoints: this.bps!.setExceptionFilters(args.filters, args.filterOptions) };
    });
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    this.guard(response, () => {
      this.launchedOnly();
      if (typeof args?.name !== 'string') throw new RequestError('dataBreakpointInfo needs a name');
      response.body = this.inspector!.dataBreakpointInfo(args);
    });
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.guard(response, () => {
      this.launchedOnly();
      if (!Array.isArray(args?.breakpoints) || args.breakpoints.some((b) => typeof b?.dataId !== 'string')) throw new RequestError('setDataBreakpoints: every breakpoint needs a dataId');
      response.body = { breakpoints: this.bps!.setDataBreakpoints(args.breakpoints) };
    });
  }

  private launchedOnly(): void {
    if (!this.launched) throw new RequestError('no program is being debugged: send launch first');
  }

  // ---- Running, forwards and backwards ----

  private run(op: Operation, title: string): void {
    this.inspector?.invalidate();
    this.runner.start(op, title);
  }

  private granularity(g: unknown): Granularity {
    if (g !== undefined && g !== 'statement' && g !== 'line' && g !== 'instruction') throw new RequestError(`unknown stepping granularity ${JSON.stringify(g)}`);
    return g === 'instruction' ? 'instruction' : 'line';
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse, args: DebugProtocol.ContinueArguments): void {
    this.guard(response, () => {
      this.stopped();
      if (args?.threadId !== undefined) this.hartOf(args.threadId);
      response.body = { allThreadsContinued: true };
      this.run(this.target.continue(this.bps!.stops()), 'Continuing');
    });
  }

  private step(response: DebugProtocol.Response, args: { threadId: number; granularity?: string }, kind: StepKind, back: boolean): void {
    this.guard(response, () => {
      this.stopped();
      const hart = this.hartOf(args?.threadId);
      const g = this.granularity(args?.granularity);
      const t = this.target;
      this.run(back ? t.stepBack(kind, g, hart, this.bps!.stops()) : t.step(kind, g, hart, this.bps!.stops(), this.inspector?.keepInline), back ? 'Stepping back' : 'Stepping');
    });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.step(response, args, 'over', false);
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.step(response, args, 'into', false);
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.step(response, args, 'out', false);
  }

  /** DAP's stepBack: no granularity means a reverse step *over*, at line level (what users expect). */
  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): void {
    this.step(response, args, 'over', true);
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse, args: DebugProtocol.ReverseContinueArguments): void {
    this.guard(response, () => {
      this.stopped();
      if (args?.threadId !== undefined) this.hartOf(args.threadId);
      this.run(this.target.reverseContinue(this.bps!.stops()), 'Running backwards');
    });
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.guard(response, () => {
      this.launchedOnly();
      if (this.runner.running) this.runner.pause();
      else this.reportStop({ reason: 'pause', hart: this.target.currentHart });
    });
  }

  protected override cancelRequest(response: DebugProtocol.CancelResponse, args: DebugProtocol.CancelArguments): void {
    this.guard(response, () => {
      if (args?.progressId !== undefined && args.progressId === this.runner.progress) this.runner.pause('cancel');
    });
  }

  protected override gotoTargetsRequest(response: DebugProtocol.GotoTargetsResponse, args: DebugProtocol.GotoTargetsArguments): void {
    this.guard(response, () => {
      this.stopped();
      response.body = { targets: this.inspector!.gotoTargets(args) };
    });
  }

  protected override gotoRequest(response: DebugProtocol.GotoResponse, args: DebugProtocol.GotoArguments): void {
    this.guard(response, () => {
      this.stopped();
      this.hartOf(args?.threadId);
      this.run(this.inspector!.gotoOperation(args?.targetId), 'Travelling in time');
    });
  }

  protected override restartFrameRequest(response: DebugProtocol.RestartFrameResponse, args: DebugProtocol.RestartFrameArguments): void {
    this.guard(response, () => {
      this.stopped();
      this.run(this.inspector!.restartFrameOperation(args?.frameId), 'Going back to the call');
    });
  }

  // ---- State ----

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    this.guard(response, () => {
      this.stopped();
      response.body = this.inspector!.stackTrace(this.hartOf(args?.threadId), args.startFrame ?? 0, args.levels ?? 0);
    });
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    this.guard(response, () => {
      this.stopped();
      response.body = { scopes: this.inspector!.scopes(args?.frameId) };
    });
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    this.guard(response, () => {
      this.stopped();
      response.body = { variables: this.inspector!.variables(args) };
    });
  }

  protected override setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): void {
    this.guard(response, () => {
      this.stopped();
      response.body = this.inspector!.setVariable(args);
    });
  }

  protected override setExpressionRequest(response: DebugProtocol.SetExpressionResponse, args: DebugProtocol.SetExpressionArguments): void {
    this.guard(response, () => {
      this.stopped();
      response.body = this.inspector!.setExpression(args);
    });
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    this.guard(response, () => {
      this.stopped();
      response.body = this.inspector!.evaluate(args);
    });
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    this.guard(response, () => {
      this.stopped();
      response.body = this.inspector!.readMemory(args);
    });
  }

  protected override writeMemoryRequest(response: DebugProtocol.WriteMemoryResponse, args: DebugProtocol.WriteMemoryArguments): void {
    this.guard(response, () => {
      this.stopped();
      response.body = this.inspector!.writeMemory(args);
    });
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    this.guard(response, () => {
      this.stopped();
      response.body = { instructions: this.inspector!.disassemble(args) };
    });
  }

  protected override loadedSourcesRequest(response: DebugProtocol.LoadedSourcesResponse): void {
    this.guard(response, () => {
      this.launchedOnly();
      response.body = { sources: this.sources!.dwarfFiles().map((f) => this.sources!.source(f)) };
    });
  }

  protected override sourceRequest(response: DebugProtocol.SourceResponse, args: DebugProtocol.SourceArguments): void {
    this.guard(response, () => {
      this.launchedOnly();
      response.body = this.inspector!.sourceText(args);
    });
  }

  protected override exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse, args: DebugProtocol.ExceptionInfoArguments): void {
    this.guard(response, () => {
      this.stopped();
      this.hartOf(args?.threadId);
      const s = this.lastStop;
      if (!s || s.reason !== 'exception') throw new RequestError('the guest did not stop on an exception');
      response.body = { exceptionId: s.description ?? 'exception', description: s.text, breakMode: 'always' };
    });
  }

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    this.guard(response, () => {
      if (!(REWIND_REQUESTS as readonly string[]).includes(command)) throw new RequestError(`unknown request "${command}"`);
      this.launchedOnly();
      const name = command as RewindRequestName;
      // Input and the read-only windows are served while the guest runs, too.
      if (!['rewind/position', 'rewind/events', 'rewind/lockOps', 'rewind/sendInput'].includes(name)) this.stopped();
      response.body = customRequest(name, args, {
        target: this.target, opened: this.opened!, stops: () => this.bps!.stops(), position: () => this.position(),
        run: (op, title) => this.run(op, title),
      });
    }, false);
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.shutdownTarget();
    this.sendResponse(response);
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.shutdownTarget();
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  /** The client went away without a disconnect: the recording is closed as on disconnect. */
  clientGone(): void {
    this.shutdownTarget();
    this.shutdown();
  }

  private shutdownTarget(): void {
    this.runner.abandon();
    this.flushOutput();
    try {
      this.opened?.close();
    } catch (e) {
      this.sendEvent(new OutputEvent(`Rewind: ${(e as Error).message}\n`, 'stderr'));
    }
  }

  // ---- Events ----

  private flushOutput(): void {
    if (!this.out.length) return;
    const text = this.decoder.decode(Uint8Array.from(this.out), { stream: true });
    this.out = [];
    if (text) this.sendEvent(new OutputEvent(text, 'stdout'));
  }

  private position(): PositionEvent {
    const t = this.target;
    const m = t.machine;
    const player = m.replay?.player;
    const holds = (name: string) => [m.locks.bql, m.locks.replay].filter((l) => l.holder === name).map((l) => l.name);
    const threads = m.threadNames.map((name) => ({ name, holds: holds(name) }));
    return {
      icount: m.icount, endIcount: t.tt.endIcount, eventIndex: player?.consumed ?? 0, hart: t.currentHart,
      pc: m.harts[t.currentHart].pc >>> 0, live: t.live, atEnd: t.live && (player?.atEnd ?? true), threads,
    };
  }

  private reportStop(stop: Stop): void {
    this.flushOutput();
    this.lastStop = stop;
    this.inspector?.invalidate();
    // A function breakpoint on an inlined function stops in its inlined copy, as gdb's does.
    if (this.inspector) this.inspector.keepInline = stop.reason === 'function breakpoint' && stop.hitIds?.length ? this.bps?.functionOf(stop.hitIds[0]) : undefined;
    this.opened?.flush();
    if (stop.text && (stop.reason === 'end' || stop.reason === 'start' || stop.reason === 'exception')) this.sendEvent(new OutputEvent(`Rewind: ${stop.text}\n`, stop.reason === 'exception' ? 'stderr' : 'console'));
    const e = new StoppedEvent(DAP_REASON[stop.reason], stop.hart + 1, stop.text) as DebugProtocol.StoppedEvent;
    e.body.allThreadsStopped = true;
    e.body.description = stop.description ?? stop.reason;
    if (stop.hitIds?.length) e.body.hitBreakpointIds = stop.hitIds;
    this.sendEvent(e);
    this.sendEvent(new Event(POSITION_EVENT, this.position()));
  }

  private reportFailure(e: unknown): void {
    if (e instanceof RewindError) {
      // A replay that left the recorded path, say: the user sees the one line, and can go back.
      this.reportStop({ reason: 'exception', hart: this.opened?.target.currentHart ?? 0, description: e.code === 'DIVERGED' ? 'replay diverged' : 'error', text: e.message });
      return;
    }
    process.stderr.write(`rewind-adapter: ${(e as Error)?.stack ?? String(e)}\n`);
    this.sendEvent(new OutputEvent(`Rewind: internal error: ${(e as Error)?.message ?? String(e)}\n`, 'stderr'));
    this.reportStop({ reason: 'pause', hart: this.opened?.target.currentHart ?? 0, description: 'internal error' });
  }
}
