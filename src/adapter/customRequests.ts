import type { DebugTarget, Operation } from '../../emulator/debugger/debugTarget';
import type { StopSet } from '../../emulator/debugger/stops';
import { RewindError } from '../../emulator/errors';
import { lockOpsWindow } from '../../emulator/session/lockWindow';
import type { PositionEvent, RewindRequestName, WindowArgs } from '../protocol/rewindProtocol';
import type { OpenedTarget } from './targetSession';

export interface CustomContext {
  target: DebugTarget;
  opened: OpenedTarget;
  stops(): StopSet;
  position(): PositionEvent;
  run(op: Operation, title: string): void;
}

const bad = (msg: string): never => {
  throw new RewindError('BAD_REQUEST', msg);
};

function int(v: unknown, what: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(`${what} must be an integer >= ${min}, not ${JSON.stringify(v)}`);
  return v as number;
}

function hartOf(t: DebugTarget, threadId: unknown): number {
  const n = t.machine.harts.length;
  if (typeof threadId !== 'number' || !Number.isInteger(threadId) || threadId < 1 || threadId > n) bad(`no thread ${JSON.stringify(threadId)} (threads are 1..${n})`);
  return (threadId as number) - 1;
}

function window(args: WindowArgs | undefined, total: number, icountOf: (i: number) => number): [number, number] {
  const limit = Math.min(args?.limit ?? 1000, 10_000);
  let from = 0, to = total;
  if (args?.by === 'icount') {
    // Items in icount order: binary search the first at or after each bound.
    const lower = (x: number) => { let lo = 0, hi = total; while (lo < hi) { const mid = (lo + hi) >> 1; if (icountOf(mid) < x) lo = mid + 1; else hi = mid; } return lo; };
    if (args.from !== undefined) from = lower(args.from);
    if (args.to !== undefined) to = lower(args.to);
  } else {
    if (args?.from !== undefined) from = Math.min(int(args.from, 'from'), total);
    if (args?.to !== undefined) to = Math.min(int(args.to, 'to'), total);
  }
  return [from, Math.min(to, from + limit)];
}

/** The custom requests (src/protocol/rewindProtocol.ts) on the engine. */
export function customRequest(name: RewindRequestName, args: unknown, c: CustomContext): unknown {
  const a = (args ?? {}) as Record<string, unknown>;
  const t = c.target;
  switch (name) {
    case 'rewind/reverseStepIn': {
      const hart = hartOf(t, a.threadId);
      c.run(t.stepBack('into', a.granularity === 'instruction' ? 'instruction' : 'line', hart, c.stops()), 'Stepping back');
      return {};
    }
    case 'rewind/reverseStepOut':
      c.run(t.stepBack('out', 'line', hartOf(t, a.threadId), c.stops()), 'Stepping back out');
      return {};
    case 'rewind/goToStart':
      c.run(t.goBackTo(0), 'Going to the start');
      return {};
    case 'rewind/goToEnd':
      c.run(t.live ? t.goBackTo(t.tt.endIcount) : t.runForwardTo(t.tt.endIcount), 'Going to the end');
      return {};
    case 'rewind/goToIcount': {
      const target = int(a.icount, 'icount');
      if (!t.live && target > t.tt.endIcount) bad(`icount ${target} is past the end of the recording (${t.tt.endIcount})`);
      c.run(target <= t.tt.icount ? t.goBackTo(target) : t.runForwardTo(target), `Going to icount ${target}`);
      return {};
    }
    case 'rewind/goToEvent': {
      const events = t.machine.replay?.player?.all ?? [];
      const i = int(a.index, 'index');
      if (i >= events.length) bad(`the recording has no event #${i} (it has ${events.length})`);
      const target = events[i].icount;
      c.run(target <= t.tt.icount ? t.goBackTo(target) : t.runForwardTo(target), `Going to event #${i}`);
      return {};
    }
    case 'rewind/sendInput': {
      let bytes: Uint8Array;
      if (typeof a.text === 'string') bytes = new TextEncoder().encode(a.text);
      else if (Array.isArray(a.bytes) && a.bytes.every((b) => Number.isInteger(b) && b >= 0 && b < 256)) bytes = Uint8Array.from(a.bytes as number[]);
      else return bad('sendInput needs text, or bytes (0..255)');
      c.opened.pushInput(bytes);
      return { accepted: bytes.length };
    }
    case 'rewind/position':
      return c.position();
    case 'rewind/events': {
      const events = t.machine.replay?.player?.all ?? [];
      const [from, to] = window(a as WindowArgs, events.length, (i) => events[i].icount);
      return { total: events.length, events: events.slice(from, to).map((e) => ({ index: e.index, icount: e.icount, name: e.name, kind: e.kind, ...(e.data ? { data: e.data } : {}) })) };
    }
    case 'rewind/lockOps': {
      // Read from the file, where a live recording has just flushed what it did so far.
      const w = (args ?? {}) as WindowArgs;
      if (w.by !== undefined && w.by !== 'index' && w.by !== 'icount') bad(`by must be "index" or "icount", not ${JSON.stringify(w.by)}`);
      const from = w.from === undefined ? undefined : int(w.from, 'from');
      const to = w.to === undefined ? undefined : int(w.to, 'to');
      const limit = Math.min(w.limit === undefined ? 1000 : int(w.limit, 'limit', 1), 10_000);
      c.opened.flush();
      const r = lockOpsWindow(c.opened.tracePath, { by: w.by, from, to, limit });
      return {
        total: r.total,
        ops: r.ops.map((o) => ({ index: o.index, icount: o.icount, step: o.step, thread: o.thread, lock: o.lock, action: o.action, site: o.site, ...(o.violation ? { violation: o.violation } : {}) })),
      };
    }
  }
}
