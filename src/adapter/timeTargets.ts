import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugTarget, Operation } from '../../emulator/debugger/debugTarget';
import { ForwardRun, landBefore } from '../../emulator/debugger/forwardRun';
import { ReverseRun } from '../../emulator/debugger/reverseRun';
import { ReturnStepBack } from '../../emulator/debugger/reverseSteps';
import type { Advance } from '../../emulator/debugger/forwardRun';
import type { Stop, StopSet } from '../../emulator/debugger/stops';
import { ramWord } from '../../emulator/debugger/framePosition';
import { disassemble } from '../../emulator/debuginfo/disasm';
import { RewindError } from '../../emulator/errors';
import { hex } from './breakpoints';
import type { SourceFiles } from './sourceFiles';

/** Runs `first`; when it stops, `then` decides what runs next (or that this was the end). */
function chain(first: Operation, then: (stop: Stop) => Operation | Stop): Operation {
  let cur = first;
  let done = false;
  return {
    advance(budget: number): Advance {
      const r = cur.advance(budget);
      if (!r || !('stop' in r) || done) return r;
      const next = then(r.stop);
      if ('advance' in next) {
        cur = next;
        return undefined;
      }
      done = true;
      return { stop: next };
    },
    cancel: () => cur.cancel(),
    progress: () => cur.progress?.() ?? 0,
  };
}

/**
 * Travel to a source line ("Jump to Cursor"): to the next time the line runs after now, else the
 * last time before now. It moves the time position, never the pc of the program. Also "restart
 * frame": back to the moment the frame was entered.
 */
export class TimeTargets {
  private lines = new Map<number, { addresses: number[]; line: number; backward: boolean }>();
  private next = 1;

  constructor(private readonly target: DebugTarget, private readonly sources: SourceFiles) {}

  targets(args: DebugProtocol.GotoTargetsArguments): DebugProtocol.GotoTarget[] {
    const p = args?.source?.path;
    if (typeof p !== 'string' || typeof args.line !== 'number') throw new RewindError('BAD_REQUEST', 'gotoTargets needs source.path and line');
    const file = this.sources.dwarfNameOf(p);
    const addresses = file ? this.target.info.addressesFor(file, args.line) : [];
    if (!addresses.length) throw new RewindError('NO_CODE', `line ${args.line} of ${p.split(/[\\/]/).pop()} has no code to travel to`);
    const fwd = this.next++, back = this.next++;
    this.lines.set(fwd, { addresses, line: args.line, backward: false });
    this.lines.set(back, { addresses, line: args.line, backward: true });
    return [
      { id: fwd, label: `Next time line ${args.line} runs`, line: args.line, instructionPointerReference: hex(addresses[0]) },
      { id: back, label: `Last time line ${args.line} ran`, line: args.line, instructionPointerReference: hex(addresses[0]) },
    ];
  }

  goto(targetId: unknown, hart: number): Operation {
    const t = typeof targetId === 'number' ? this.lines.get(targetId) : undefined;
    if (!t) throw new RewindError('BAD_REQUEST', `no goto target ${JSON.stringify(targetId)}`);
    const stops: StopSet = { code: [{ id: 0, kind: 'breakpoint', addresses: t.addresses }], watch: [], traps: new Set() };
    const tt = this.target.tt;
    const origin = tt.icount;
    const found = (s: Stop) => s.reason === 'breakpoint' && s.hitIds?.includes(0);
    const asGoto = (s: Stop): Stop => ({ reason: 'goto', hart: s.hart, description: `line ${t.line}` });
    const notFound = (): Stop => {
      tt.seek(origin);
      return { reason: 'goto', hart, description: 'not reached', text: `line ${t.line} never runs in the recording: staying at icount ${origin}` };
    };
    const forward = () => new ForwardRun(tt, stops, { live: this.target.live });
    const backward = () => new ReverseRun(tt, stops);
    const [first, second] = t.backward ? [backward, forward] : [forward, backward];
    return chain(first(), (s) => {
      if (found(s)) return asGoto(s);
      tt.seek(origin);
      return chain(second(), (s2) => (found(s2) ? asGoto(s2) : notFound()));
    });
  }

  /** Back to where frame `level` was entered: to its call, then one instruction into it. */
  restartFrame(hart: number, level: number): Operation {
    const m = this.target.machine;
    const h = m.harts[hart];
    const stack = this.target.info.callStack(h.pc >>> 0, h.x, ramWord(m), level + 2);
    const caller = stack[level + 1];
    if (!caller) throw new RewindError('NO_CALLER', 'the outermost frame has no call to go back to');
    const back = new ReverseRun(this.target.tt, { code: [], watch: [], traps: new Set() }, new ReturnStepBack(hart, caller.pc, caller.sp));
    return chain(back, (s) => {
      if (s.reason === 'start') return s;
      // Before the call: one instruction more enters the frame.
      this.target.tt.runTo(this.target.tt.icount + 1);
      return { reason: 'goto', hart, description: 'frame restarted' };
    });
  }

  /** What is known of a source file that is not on disk: its lines with their instructions. */
  listing(dwarfName: string): string {
    const info = this.target.info;
    const m = this.target.machine;
    const rows = (info.lines?.rows ?? []).filter((r) => r.file === dwarfName && !r.endSequence);
    const byLine = new Map<number, number[]>();
    for (const r of rows) byLine.set(r.line, [...(byLine.get(r.line) ?? []), r.address]);
    let out = `// ${dwarfName} is not on this machine; what the program's debug info says of it:\n`;
    for (const line of [...byLine.keys()].sort((a, b) => a - b)) {
      out += `// line ${line}\n`;
      for (const a of [...new Set(byLine.get(line))].sort((x, y) => x - y).slice(0, 8)) {
        const lo = m.bus.peek(a, 2);
        const w = (lo & 3) === 3 ? (lo | (m.bus.peek(a + 2, 2) << 16)) >>> 0 : lo;
        out += `//   ${hex(a)}  ${disassemble(w, a, { symbolize: (x) => info.symbols.describe(x) }).text.replace('\t', ' ')}\n`;
      }
    }
    return out;
  }
}

export { landBefore };
