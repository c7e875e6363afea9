/**
 * Time travel over DAP: go to start / end / an icount / an event, Jump to Cursor in the past and
 * the future, restart frame, reverse step out, the position event on every stop, guest output
 * shown once however often the same stretch is replayed, progress for long operations.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Dap, guestElf, guestSource } from '../support/dapSession';
import { REWIND_CLI } from '../support/rewindCli';

const position = async (d: Dap) => (await d.dc.customRequest('rewind/position')).body as { icount: number; endIcount: number; eventIndex: number; live: boolean; atEnd: boolean; threads: { name: string; holds: string[] }[] };

function plainRun(elf: string): string {
  const r = spawnSync('node', [REWIND_CLI, 'run', elf], { encoding: 'latin1' });
  return r.stdout;
}

describe('adapter: time travel', function () {
  this.timeout(300_000);

  it('start, end, an icount, an event; each stop sends the position; output is shown once', async () => {
    const elf = guestElf('hello-O2');
    const { d, stop } = await Dap.launch({ program: elf });
    try {
      assert.match(stop.body.description ?? '', /exited with code 0/);
      const end = await position(d);
      assert.equal(end.live, true);
      assert.equal(end.icount, end.endIcount);
      assert.equal(d.stdout(), plainRun(elf), 'the guest printed what a plain run prints');
      await d.after(() => d.dc.customRequest('rewind/goToStart'));
      assert.equal((await position(d)).icount, 0);
      const mid = Math.floor(end.icount / 3);
      await d.after(() => d.dc.customRequest('rewind/goToIcount', { icount: mid }));
      assert.equal((await position(d)).icount, mid);
      const events = (await d.dc.customRequest('rewind/events', { from: 0, limit: 1000 })).body;
      assert.ok(events.total > 5);
      const e = events.events[Math.floor(events.events.length / 2)];
      await d.after(() => d.dc.customRequest('rewind/goToEvent', { index: e.index }));
      const atE = await position(d);
      assert.equal(atE.icount, e.icount);
      const byIcount = (await d.dc.customRequest('rewind/events', { by: 'icount', from: e.icount, to: e.icount + 1 })).body;
      assert.ok(byIcount.events.every((x: { icount: number }) => x.icount === e.icount) && byIcount.events.some((x: { index: number }) => x.index === e.index));
      await d.after(() => d.dc.customRequest('rewind/goToEnd'));
      assert.equal((await position(d)).icount, end.icount);
      // Replaying the whole run again printed nothing twice.
      assert.equal(d.stdout(), plainRun(elf));
      assert.equal(d.positions.length, 5, 'one position event per stop (the exit, then four jumps)');
      const p = d.positions[d.positions.length - 1].body;
      assert.ok(p.threads.some((t: { name: string }) => t.name === 'vcpu0'));
      const bad = await d.dc.customRequest('rewind/goToEvent', { index: 1e9 }).then(() => '', (err: Error) => err.message);
      assert.match(bad, /has no event #1000000000/);
    } finally {
      await d.close();
    }
  });

  it('Jump to Cursor travels to the next time a line runs, or the last time it ran', async () => {
    const src = guestSource('hello.c');
    const { d } = await Dap.launch({ program: guestElf('hello-O0') }, async (x) => { await x.dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line: 27 }] }); });
    try {
      const here = (await position(d)).icount;
      const t = await d.dc.gotoTargetsRequest({ source: { path: src }, line: 24 });
      assert.equal(t.body.targets.length, 2);
      // Backward: the last time line 24 ran (the loop before line 27).
      let s = await d.after(() => d.dc.gotoRequest({ threadId: 1, targetId: t.body.targets[1].id }));
      assert.equal(s.body.reason, 'goto');
      let w = await d.where();
      assert.equal(w.line, 24);
      const back = (await position(d)).icount;
      assert.ok(back < here);
      // Forward from there: the next time it runs is later again... or, from the start, the first time.
      await d.after(() => d.dc.customRequest('rewind/goToStart'));
      s = await d.after(() => d.dc.gotoRequest({ threadId: 1, targetId: t.body.targets[0].id }));
      w = await d.where();
      assert.equal(w.line, 24);
      const first = (await position(d)).icount;
      assert.ok(first > 0 && first < back);
      const none = await d.dc.gotoTargetsRequest({ source: { path: src }, line: 1 }).then(() => '', (e: Error) => e.message);
      assert.match(none, /has no code to travel to/);
    } finally {
      await d.close();
    }
  });

  it('restart frame goes back to the frame\'s entry; reverse step out to the call', async () => {
    const { d } = await Dap.launch({ program: guestElf('hello-O0') }, async (x) => { await x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'uart_putc' }] }); });
    try {
      // Step a few lines into uart_putc, then restart it.
      await d.after(() => d.dc.nextRequest({ threadId: 1 }));
      const inside = await d.where();
      assert.equal(inside.name, 'uart_putc');
      const st = await d.dc.stackTraceRequest({ threadId: 1 });
      await d.after(() => d.dc.restartFrameRequest({ frameId: st.body.stackFrames[0].id }));
      const entry = await d.where();
      const nm = spawnSync('riscv64-unknown-elf-nm', [guestElf('hello-O0')], { encoding: 'utf8' }).stdout;
      const putc = parseInt(/^([0-9a-f]+) \w uart_putc$/m.exec(nm)![1], 16);
      assert.equal(entry.pc, putc, 'at the first instruction of the restarted frame');
      assert.deepEqual(entry.frames.slice(1), inside.frames.slice(1), 'the same caller');
      // Reverse step out: to the call in the caller.
      await d.after(() => d.dc.customRequest('rewind/reverseStepOut', { threadId: 1 }));
      const call = await d.where();
      assert.equal(call.name, 'uart_puts');
      assert.equal(call.pc + 4 === inside.frames[1].pc || call.pc + 2 === inside.frames[1].pc, true, 'before the call instruction that returns to the caller frame\'s pc');
    } finally {
      await d.close();
    }
  });

  it('replays a recording; a far jump reports progress', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-marathon-'));
    const trace = path.join(work, 'marathon.rwtrace');
    const r = spawnSync('node', [REWIND_CLI, 'record', guestElf('marathon-O2'), '-o', trace], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    const { d, stop } = await Dap.launch({ mode: 'replay', trace, stopOnEntry: true });
    try {
      assert.equal(stop.body.reason, 'entry');
      const p = await position(d);
      assert.equal(p.live, false);
      await d.after(() => d.dc.customRequest('rewind/goToEnd'));
      assert.equal((await position(d)).icount, p.endIcount);
      assert.ok(d.progress.some((e) => e.event === 'progressStart') && d.progress.some((e) => e.event === 'progressEnd'), 'a 1-billion-instruction replay reports progress');
      const input = await d.dc.customRequest('rewind/sendInput', { text: 'x' }).then(() => '', (e: Error) => e.message);
      assert.match(input, /input refused: this session replays a recording/);
      // The same far jump again, cancelled from its progress notification: it stops where it got to.
      await d.after(() => d.dc.customRequest('rewind/goToStart'));
      const started = d.dc.waitForEvent('progressStart');
      const stopped = d.nextStop();
      await d.dc.customRequest('rewind/goToEnd');
      const ps = await started;
      await d.dc.customRequest('cancel', { progressId: ps.body.progressId });
      const s = await stopped;
      assert.equal(s.body.reason, 'pause');
      const at = (await position(d)).icount;
      assert.ok(at > 0 && at < p.endIcount, `cancelled part way (icount ${at} of ${p.endIcount})`);
      const terminated = d.dc.waitForEvent('terminated'); // it may come right behind the response
      await d.dc.terminateRequest();
      await terminated;
    } finally {
      await d.close();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('adapter: the bugdemo hunt, as a user does it', function () {
  this.timeout(300_000);
  for (const build of ['bugdemo-O0', 'bugdemo-O2']) {
    it(`${build}: run to the failure, watch cal.gain from the Globals pane, reverse-continue to the stray write`, async () => {
      const { d, stop } = await Dap.launch({ program: guestElf(build) });
      try {
        assert.match(stop.body.description ?? '', /exited with code 1/, 'the demo fails');
        assert.match(d.stdout(), /FAIL/);
        // The user opens Globals, expands cal and picks "Break on Value Change" on gain.
        const st = await d.dc.stackTraceRequest({ threadId: 1 });
        const scopes = (await d.dc.scopesRequest({ frameId: st.body.stackFrames[0].id })).body.scopes;
        const globals = scopes.find((s) => s.name === 'Globals');
        assert.ok(globals, `a Globals scope (${scopes.map((s) => s.name).join(', ')})`);
        const cal = (await d.dc.variablesRequest({ variablesReference: globals.variablesReference })).body.variables.find((v) => v.name === 'cal');
        assert.ok(cal && cal.variablesReference > 0, 'cal is expandable');
        const gain = (await d.dc.variablesRequest({ variablesReference: cal.variablesReference })).body.variables.find((v) => v.name === 'gain');
        assert.equal(gain?.value, '4294967295', 'gain was clobbered with (uint32_t)-1');
        const info = await d.dc.dataBreakpointInfoRequest({ name: 'gain', variablesReference: cal.variablesReference });
        assert.match(info.body.description, /^cal\.gain \(4 bytes at 0x[0-9a-f]+\)$/);
        // The same variable named as an expression (the watch pane) gives the same breakpoint.
        const byName = await d.dc.dataBreakpointInfoRequest({ name: 'cal.gain', frameId: st.body.stackFrames[0].id } as never);
        assert.equal(byName.body.dataId, info.body.dataId);
        const set = await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
        assert.equal(set.body.breakpoints[0].verified, true);

        const s = await d.after(() => d.dc.reverseContinueRequest({ threadId: 1 }));
        assert.equal(s.body.reason, 'data breakpoint');
        const w = await d.where();
        assert.deepEqual(w.frames.map((f) => f.name), ['load_offsets', 'main'], 'the stray store, called from main');
        assert.equal(w.line, 51, 'dst[i] = ... in load_offsets');
        const locals = (await d.dc.scopesRequest({ frameId: (await d.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].id })).body.scopes.find((x) => x.name === 'Locals');
        const i = (await d.dc.variablesRequest({ variablesReference: locals!.variablesReference })).body.variables.find((v) => v.name === 'i');
        if (i && !/optimized out/.test(i.value)) assert.equal(i.value, '8', 'the out-of-bounds index');
        // Before the store gain still holds UNITY; one step forward shows it clobbered.
        const before = await d.dc.evaluateRequest({ expression: 'cal.gain', context: 'watch' });
        assert.equal(before.body.result, '1024');
        await d.after(() => d.dc.stepInRequest({ threadId: 1, granularity: 'instruction' }));
        const after = await d.dc.evaluateRequest({ expression: 'cal.gain', context: 'watch' });
        assert.equal(after.body.result, '4294967295');
      } finally {
        await d.close();
      }
    });
  }
});
