/**
 * Test support: one debugging scenario played twice — by gdb-multiarch on QEMU (the oracle) and
 * by Rewind's adapter over DAP — recording at every stop what a user sees: the stop's line, the
 * call stack, and (when asked) locals, arguments and printed expressions.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Dap, GUEST_SRC } from './dapSession';
import { GdbQemu, stopLocation } from './gdbQemu';

/** `f:NAME` a function breakpoint, `l:FILE:LINE` a source line; ops n(ext) s(tep) f(inish) c(ontinue). */
export interface Scenario {
  elf: string;
  breakpoints: string[];
  ops: string;
  /** Expressions to print at every stop (globals, say). */
  prints?: string[];
  /** Capture locals and arguments of every frame at every stop. */
  variables?: boolean;
}

export interface Snapshot {
  op: string;
  frames: { func?: string; file?: string; line?: number }[];
  locals?: Record<string, string>[];
  args?: Record<string, string>[];
  prints?: Record<string, string>;
  /** Rewind only: the icount of the stop, and its reason. */
  icount?: number;
  reason?: string;
}

const base = (f?: string) => (f ? path.basename(f) : undefined);

export async function playGdb(s: Scenario): Promise<Snapshot[]> {
  const g = await GdbQemu.start(s.elf);
  try {
    for (const b of s.breakpoints) {
      const loc = b.startsWith('f:') ? b.slice(2) : b.slice(2);
      const r = await g.mi(`-break-insert ${loc}`);
      if (r.cls === 'error') throw new Error(`gdb: break ${loc}: ${r.message}`);
    }
    const out: Snapshot[] = [];
    await g.resume('-exec-continue');
    out.push(await gdbSnapshot(g, 'c', s));
    for (const op of s.ops) {
      const cmd = { n: '-exec-next', s: '-exec-step', f: '-exec-finish', c: '-exec-continue' }[op];
      if (!cmd) throw new Error(`unknown op ${op}`);
      const st = await g.resume(cmd);
      if (String(st.reason ?? '').startsWith('exited')) break;
      void stopLocation(st);
      out.push(await gdbSnapshot(g, op, s));
    }
    return out;
  } finally {
    await g.close();
  }
}

async function gdbSnapshot(g: GdbQemu, op: string, s: Scenario): Promise<Snapshot> {
  const frames = (await g.frames()).map((f) => ({ func: f.func, file: base(f.file), line: f.line }));
  const snap: Snapshot = { op, frames };
  if (s.variables) {
    snap.locals = [];
    snap.args = [];
    for (let i = 0; i < frames.length; i++) {
      await g.selectFrame(i);
      snap.locals.push(Object.fromEntries((await g.locals()).map((v) => [v.name, v.value])));
      snap.args.push(Object.fromEntries((await g.args(i)).map((v) => [v.name, v.value])));
    }
    await g.selectFrame(0);
  }
  if (s.prints) {
    snap.prints = {};
    for (const p of s.prints) snap.prints[p] = await g.print(p);
  }
  return snap;
}

/** Rewind's side: the same breakpoints and ops through DAP. Leaves the session open for more. */
export async function playRewind(s: Scenario): Promise<{ d: Dap; snaps: Snapshot[] }> {
  const fns = s.breakpoints.filter((b) => b.startsWith('f:')).map((b) => ({ name: b.slice(2) }));
  // gdb takes FILE:LINE as DWARF names the file; the editor sends the path on disk.
  const lines = s.breakpoints.filter((b) => b.startsWith('l:')).map((b) => b.slice(2)).map((l) => (l.startsWith('/') ? l : path.join(GUEST_SRC, l)));
  const { d } = await Dap.launch({ program: s.elf }, async (dap) => {
    if (fns.length) await dap.dc.setFunctionBreakpointsRequest({ breakpoints: fns });
    const byFile = new Map<string, number[]>();
    for (const l of lines) {
      const i = l.lastIndexOf(':');
      byFile.set(l.slice(0, i), [...(byFile.get(l.slice(0, i)) ?? []), Number(l.slice(i + 1))]);
    }
    for (const [file, ls] of byFile) await dap.dc.setBreakpointsRequest({ source: { path: file }, breakpoints: ls.map((line) => ({ line })) });
  });
  const snaps: Snapshot[] = [await rewindSnapshot(d, 'c', s)];
  for (const op of s.ops) {
    const stop = await d.after(() => {
      switch (op) {
        case 'n': return d.dc.nextRequest({ threadId: 1 });
        case 's': return d.dc.stepInRequest({ threadId: 1 });
        case 'f': return d.dc.stepOutRequest({ threadId: 1 });
        default: return d.dc.continueRequest({ threadId: 1 });
      }
    });
    if (stop.body.reason === 'goto' && /exited/.test(stop.body.description ?? '')) break;
    snaps.push({ ...(await rewindSnapshot(d, op, s)), reason: stop.body.reason });
  }
  return { d, snaps };
}

export async function rewindSnapshot(d: Dap, op: string, s: Scenario): Promise<Snapshot> {
  const st = await d.dc.stackTraceRequest({ threadId: 1 });
  // An inlined call is a frame like any other (selectable, with its locals), never a label.
  assert.ok(st.body.stackFrames.every((f) => f.presentationHint !== 'label'), 'no frame is a mere label');
  const frames = st.body.stackFrames.map((f) => ({ func: f.name.replace(/ \[inlined\]$/, ''), file: base(f.source?.path ?? f.source?.name), line: f.line }));
  const pos = await d.dc.customRequest('rewind/position');
  const snap: Snapshot = { op, frames, icount: pos.body.icount };
  if (s.variables) {
    snap.locals = [];
    snap.args = [];
    for (const f of st.body.stackFrames) {
      const scopes = await d.dc.scopesRequest({ frameId: f.id });
      const get = async (name: string) => {
        const sc = scopes.body.scopes.find((x: DebugProtocol.Scope) => x.name === name);
        if (!sc) return {};
        const vars = await d.dc.variablesRequest({ variablesReference: sc.variablesReference });
        return Object.fromEntries(vars.body.variables.map((v) => [v.name, v.value]));
      };
      snap.locals.push(await get('Locals'));
      snap.args.push(await get('Arguments'));
    }
  }
  if (s.prints) {
    snap.prints = {};
    for (const p of s.prints) {
      const r = await d.dc.evaluateRequest({ expression: p, frameId: st.body.stackFrames[0].id, context: 'watch' }).then((x) => x.body.result, (e: Error) => `<error: ${e.message}>`);
      snap.prints[p] = r;
    }
  }
  return snap;
}
