/**
 * Breakpoints over DAP: source lines (moved to code, unverified where there is none), functions
 * (where gdb's `break FUNC` goes), instruction addresses, data breakpoints, exception filters
 * for guest traps, and conditions, hit counts and log points on them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { assembleElf } from '../support/assemble';
import { Dap, guestElf, guestSource } from '../support/dapSession';
import { gdbBreakLocations } from '../support/gdbBreak';

function symbol(elf: string, name: string): number {
  const nm = spawnSync('riscv64-unknown-elf-nm', [elf], { encoding: 'utf8' });
  const m = new RegExp(`^([0-9a-f]+) \\w ${name}$`, 'm').exec(nm.stdout);
  if (!m) throw new Error(`no symbol ${name} in ${elf}`);
  return parseInt(m[1], 16);
}

async function register(d: Dap, name: string): Promise<number> {
  const st = await d.dc.stackTraceRequest({ threadId: 1 });
  const r = await d.dc.evaluateRequest({ expression: `$${name}`, frameId: st.body.stackFrames[0].id, context: 'repl' });
  return Number(r.body.result) >>> 0;
}

describe('adapter: breakpoints', function () {
  this.timeout(300_000);
  const bugdemo = guestElf('bugdemo-O0');
  const src = guestSource('bugdemo.c');

  it('source lines: verified where there is code, moved to the next line with code, unverified past the end', async () => {
    const d = await Dap.start();
    try {
      await d.dc.launchRequest({ program: bugdemo, trace: `${d.work}/t.rwtrace`, stopOnEntry: true } as never);
      const r = await d.dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line: 50 }, { line: 46 }, { line: 9999 }] });
      const [a, b, c] = r.body.breakpoints;
      assert.deepEqual([a.verified, a.line], [true, 50]);
      assert.equal(b.verified, true);
      assert.ok(b.line! > 46, 'a comment line moves down to code');
      assert.match(b.message ?? '', /moved to line/);
      assert.equal(c.verified, false);
      assert.match(c.message ?? '', /no code at or after line 9999/);
      const other = await d.dc.setBreakpointsRequest({ source: { path: '/nowhere/else.c' }, breakpoints: [{ line: 3 }] });
      assert.equal(other.body.breakpoints[0].verified, false);
      assert.match(other.body.breakpoints[0].message ?? '', /not part of the program/);
    } finally {
      await d.close();
    }
  });

  it('a function breakpoint stops where gdb would, with the call stack', async () => {
    const { d, stop } = await Dap.launch({ program: bugdemo }, (x) => x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'feed' }, { name: 'no_such_function' }] }).then((r) => {
      assert.equal(r.body.breakpoints[0].verified, true);
      assert.equal(r.body.breakpoints[1].verified, false);
      assert.match(r.body.breakpoints[1].message ?? '', /no function "no_such_function"/);
    }));
    try {
      assert.equal(stop.body.reason, 'function breakpoint');
      const w = await d.where();
      assert.deepEqual(w.frames.map((f) => f.name), ['feed', 'main']);
      assert.equal(w.line, 64, 'after the prologue, on the first line of the body');
    } finally {
      await d.close();
    }
  });

  it('an instruction breakpoint, by reference and offset', async () => {
    const target = symbol(bugdemo, 'load_offsets') + 0x20;
    const { d, stop } = await Dap.launch({ program: bugdemo }, (x) => x.dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: `0x${(target - 4).toString(16)}`, offset: 4 }] }).then(() => undefined));
    try {
      assert.equal(stop.body.reason, 'instruction breakpoint');
      assert.equal((await d.where()).pc, target);
    } finally {
      await d.close();
    }
  });

  it('a condition, a hit count and a log point', async () => {
    // feed(ch, raw): ch is in a0 at the body's first line (-O0 spills it, a0 still holds it).
    const { d, stop } = await Dap.launch({ program: bugdemo }, (x) => x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'feed', condition: '$a0 == 5' }] }).then(() => undefined));
    try {
      assert.equal(stop.body.reason, 'function breakpoint');
      assert.equal(await register(d, 'a0'), 5);
      const firstFive = (await d.dc.customRequest('rewind/position')).body.icount;
      // The 3rd time feed is reached from here on.
      await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'feed', hitCondition: '3' }] });
      await d.after(() => d.dc.continueRequest({ threadId: 1 }));
      const third = (await d.dc.customRequest('rewind/position')).body.icount;
      assert.ok(third > firstFive);
      assert.equal(await register(d, 'a0'), (5 + 3) % 8, 'three arrivals later: channel 8 mod 8');
      // A log point prints and does not stop; a breakpoint set anew counts its hits from zero.
      await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'feed', logMessage: 'feed ch={$a0}', hitCondition: '<= 4' } as never] }); // logMessage: Rewind's extension for function breakpoints
      const end = await d.after(() => d.dc.continueRequest({ threadId: 1 }));
      assert.match(end.body.description ?? '', /exited with code 1/);
      const logged = d.output.filter((o) => o.category === 'console' && o.text.startsWith('feed ch=')).map((o) => o.text.trim());
      assert.deepEqual(logged, ['feed ch=1', 'feed ch=2', 'feed ch=3', 'feed ch=4'], 'the first four hits after the stop print');
    } finally {
      await d.close();
    }
  });

  it('exception filters stop before the trapping instruction and say which trap it is', async () => {
    const traps = guestElf('traps-O2');
    const { d, stop } = await Dap.launch({ program: traps }, (x) => x.dc.setExceptionBreakpointsRequest({ filters: ['ecall', 'ebreak', 'illegal', 'access', 'interrupt'] }).then(() => undefined));
    try {
      const seen: string[] = [];
      let s = stop;
      for (let i = 0; i < 8 && s.body.reason === 'exception'; i++) {
        const w = await d.where();
        const info = await d.dc.exceptionInfoRequest({ threadId: 1 });
        seen.push(`${info.body.exceptionId}|${info.body.description}`);
        if (info.body.exceptionId === 'ecall') assert.equal(w.pc, symbol(traps, 'site_ecall'));
        if (info.body.exceptionId === 'ebreak') assert.equal(w.pc, symbol(traps, 'site_ebreak'));
        s = await d.after(() => d.dc.continueRequest({ threadId: 1 }));
      }
      assert.match(seen[0], /^ecall\|ecall from M-mode at 0x[0-9a-f]{8} \(mcause 11/);
      assert.match(seen[1], /^ebreak\|breakpoint at/);
      assert.match(seen[2], /^Illegal instruction\|illegal instruction at .*mtval 0x00000000/);
      assert.match(seen[3], /^Illegal instruction\|illegal instruction at .*mtval 0xf1101073/);
      assert.ok(seen.some((x) => /^Access fault\|load access fault at/.test(x)), seen.join('\n'));
    } finally {
      await d.close();
    }
  });

  it('an ebreak with no trap handler stops as a breakpoint would', async () => {
    const elf = assembleElf('  li a0, 1\n  li a1, 2\nhere:\n  ebreak\n  EXIT\n');
    const { d, stop } = await Dap.launch({ program: elf });
    try {
      assert.equal(stop.body.reason, 'breakpoint');
      assert.equal(stop.body.description, 'ebreak');
      assert.equal((await d.where()).pc, symbol(elf, 'here'));
      assert.equal(await register(d, 'a1'), 2);
    } finally {
      await d.close();
    }
  });

  it('data breakpoints on an address: write (a change), read, and both', async () => {
    const gain = symbol(bugdemo, 'cal') + 32; // cal.gain, after offset[8]
    const { d } = await Dap.launch({ program: bugdemo, stopOnEntry: true });
    try {
      const info = await d.dc.dataBreakpointInfoRequest({ name: `0x${gain.toString(16)}`, asAddress: true, bytes: 4 } as never);
      assert.deepEqual(info.body.accessTypes, ['write', 'read', 'readWrite']);
      await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'write' }] });
      let s = await d.after(() => d.dc.continueRequest({ threadId: 1 }));
      assert.equal(s.body.reason, 'data breakpoint');
      assert.equal((await d.where()).name, 'main', 'gain = UNITY in main');
      s = await d.after(() => d.dc.continueRequest({ threadId: 1 }));
      let w = await d.where();
      assert.deepEqual([s.body.reason, w.name], ['data breakpoint', 'load_offsets'], 'the stray write');
      await d.dc.setDataBreakpointsRequest({ breakpoints: [{ dataId: info.body.dataId!, accessType: 'read' }] });
      s = await d.after(() => d.dc.continueRequest({ threadId: 1 }));
      w = await d.where();
      assert.deepEqual([s.body.reason, w.name], ['data breakpoint', 'main'], 'its first read, in the report');
      assert.ok(w.line > 120, `read late in main (line ${w.line})`);
    } finally {
      await d.close();
    }
  });

  it('breakpointLocations: the lines where a breakpoint stays on its line, as gdb places them', async () => {
    const src = guestSource('bugdemo.c');
    const lines = Array.from({ length: 80 }, (_, i) => 30 + i);
    const gdb = gdbBreakLocations(bugdemo, lines.map((l) => `bugdemo.c:${l}`));
    const want = lines.filter((l, i) => gdb[i].length > 0 && gdb[i].every((x) => x.line === l));
    const { d } = await Dap.launch({ program: bugdemo, stopOnEntry: true });
    try {
      const r = await d.dc.customRequest('breakpointLocations', { source: { path: src }, line: 30, endLine: 109 });
      assert.deepEqual(r.body.breakpoints.map((b: { line: number }) => b.line), want);
      assert.ok(want.length > 20);
    } finally {
      await d.close();
    }
  });
});
