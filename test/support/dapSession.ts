/**
 * Test support: Rewind's built debug adapter (dist/adapter.js) driven over DAP by
 * @vscode/debugadapter-testsupport's DebugClient, as an editor drives it, with the helpers the
 * adapter tests share: launch with breakpoints, wait for the stop a request causes, where the
 * guest is (frame 0), the output so far.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ensureCliBuilt, REPO_ROOT, REWIND_ADAPTER } from './rewindCli';

export const GUEST_BIN = path.join(REPO_ROOT, 'emulator', 'guest', 'bin');
export const GUEST_SRC = path.join(REPO_ROOT, 'emulator', 'guest', 'programs');
export const guestElf = (name: string): string => path.join(GUEST_BIN, `${name}.elf`);
export const guestSource = (name: string): string => path.join(GUEST_SRC, name);

export interface Where {
  name: string;
  file?: string;
  line: number;
  pc: number;
  frames: { name: string; file?: string; line: number; pc: number }[];
}

export class Dap {
  readonly dc: DebugClient;
  readonly output: { category: string; text: string }[] = [];
  readonly positions: DebugProtocol.Event[] = [];
  readonly progress: DebugProtocol.Event[] = [];
  readonly work: string;
  private stops: DebugProtocol.StoppedEvent[] = [];
  private waiters: ((e: DebugProtocol.StoppedEvent) => void)[] = [];

  private constructor() {
    ensureCliBuilt();
    this.dc = new DebugClient('node', REWIND_ADAPTER, 'rewind', { stdio: ['pipe', 'pipe', 'pipe'] } as never);
    this.dc.defaultTimeout = 120_000;
    this.work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-dap-'));
  }

  /** An adapter process, initialized (no launch yet). */
  static async start(init: Partial<DebugProtocol.InitializeRequestArguments> = {}): Promise<Dap> {
    const d = new Dap();
    await d.dc.start();
    d.dc.on('output', (e: DebugProtocol.OutputEvent) => d.output.push({ category: e.body.category ?? 'console', text: e.body.output }));
    d.dc.on('stopped', (e: DebugProtocol.StoppedEvent) => {
      const w = d.waiters.shift();
      if (w) w(e);
      else d.stops.push(e);
    });
    d.dc.on('rewind/position', (e: DebugProtocol.Event) => d.positions.push(e));
    for (const k of ['progressStart', 'progressUpdate', 'progressEnd']) d.dc.on(k, (e: DebugProtocol.Event) => d.progress.push(e));
    await d.dc.initializeRequest({ adapterID: 'rewind', clientID: 'rewind-tests', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path', supportsProgressReporting: true, supportsInvalidatedEvent: true, ...init });
    return d;
  }

  /**
   * Launches, sets breakpoints while configuring (as VS Code does between `initialized` and
   * `configurationDone`), and returns the first stop.
   */
  static async launch(args: Record<string, unknown>, setup: (d: Dap) => Promise<void> = async () => undefined): Promise<{ d: Dap; stop: DebugProtocol.StoppedEvent }> {
    const d = await Dap.start();
    const trace = args.trace ?? path.join(d.work, 'session.rwtrace');
    await Promise.all([d.dc.launchRequest({ trace, ...args } as DebugProtocol.LaunchRequestArguments), d.dc.waitForEvent('initialized')]);
    await setup(d);
    const stop = await d.after(() => d.dc.configurationDoneRequest());
    return { d, stop };
  }

  /** The next stop (one that already arrived first). */
  nextStop(timeoutMs = 120_000): Promise<DebugProtocol.StoppedEvent> {
    const s = this.stops.shift();
    if (s) return Promise.resolve(s);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no stopped event in time')), timeoutMs);
      this.waiters.push((e) => { clearTimeout(t); resolve(e); });
    });
  }

  /** Sends a request that resumes the guest and returns the stop it ends in. */
  async after(req: () => Promise<unknown>): Promise<DebugProtocol.StoppedEvent> {
    const stop = this.nextStop();
    await req();
    return stop;
  }

  async where(threadId = 1): Promise<Where> {
    const st = await this.dc.stackTraceRequest({ threadId });
    const frames = st.body.stackFrames.map((f) => ({ name: f.name, file: f.source?.path, line: f.line, pc: Number(f.instructionPointerReference) }));
    assert.ok(frames.length > 0, 'a stack trace has at least one frame');
    return { ...frames[0], frames };
  }

  stdout(): string {
    return this.output.filter((o) => o.category === 'stdout').map((o) => o.text).join('');
  }

  async close(): Promise<void> {
    await this.dc.stop();
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}
