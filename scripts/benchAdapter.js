// The debug adapter's part of `npm run bench`, through DAP against the built dist/adapter.js
// (as an editor talks to it): launch to first stop, pause latency while the guest spins, and
// stepBack / next / reverseContinue round trips at random points of the billion-instruction
// recording, and the variables request on a deep frame. Times are request to `stopped` event.
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');

const { quantile, now, verdictLine } = require('./benchStats');

async function timed(d, req) {
  const t0 = now();
  await d.after(req);
  return now() - t0;
}

async function benchAdapter({ table, fmt }) {
  const { Dap, guestElf } = require(path.join(ROOT, 'test', 'support', 'dapSession.ts'));
  const { assembleElf } = require(path.join(ROOT, 'test', 'support', 'assemble.ts'));
  const { REWIND_CLI, ensureCliBuilt } = require(path.join(ROOT, 'test', 'support', 'rewindCli.ts'));
  ensureCliBuilt(); // before the clock starts: a stale bundle would be rebuilt inside the first launch
  const rows = [];
  const verdicts = [];
  const target = (name, value, limit, unit) => verdicts.push(verdictLine(name, value, limit, unit, fmt));

  // Launch to the first stop: a live recording stopped on entry, and run to a breakpoint in main.
  {
    const launches = [];
    const toMain = [];
    for (let i = 0; i < 5; i++) {
      let t0 = now();
      const a = await Dap.launch({ program: guestElf('marathon-O2'), stopOnEntry: true });
      launches.push(now() - t0);
      await a.d.close();
      t0 = now();
      const b = await Dap.launch({ program: guestElf('hello-O0') }, (x) => x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main' }] }));
      toMain.push(now() - t0);
      await b.d.close();
    }
    rows.push(['launch → stop on entry (marathon-O2)', fmt(quantile(launches, 0.5)), fmt(quantile(launches, 0.99)), '5']);
    rows.push(['launch → breakpoint in main (hello-O0)', fmt(quantile(toMain, 0.5)), fmt(quantile(toMain, 0.99)), '5']);
  }

  // Pause while the guest spins in a loop that never ends.
  {
    const spin = assembleElf('loop:\n  addi a0, a0, 1\n  j loop\n');
    const { d } = await Dap.launch({ program: spin, stopOnEntry: true });
    const pauses = [];
    for (let i = 0; i < 20; i++) {
      await d.dc.continueRequest({ threadId: 1 });
      await new Promise((r) => setTimeout(r, 150 + (i % 5) * 40));
      pauses.push(await timed(d, () => d.dc.pauseRequest({ threadId: 1 })));
    }
    await d.close();
    rows.push(['pause while the guest spins', fmt(quantile(pauses, 0.5)), fmt(quantile(pauses, 0.99)), String(pauses.length)]);
    target('pause p99', quantile(pauses, 0.99), 100, 'ms');
  }

  // Round trips in a billion-instruction recording (replay mode, as a reopened trace).
  {
    const trace = path.join(require('os').tmpdir(), `rewind-bench-${process.pid}.rwtrace`);
    const r = spawnSync(process.execPath, [REWIND_CLI, 'record', guestElf('marathon-O2'), '-o', trace], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`rewind record failed: ${r.stderr}`);
    const { d } = await Dap.launch({ mode: 'replay', trace, stopOnEntry: true });
    const end = (await d.dc.customRequest('rewind/position')).body.endIcount;
    let seed = 12345;
    const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 4294967296; };
    const back = [], next = [], rc = [];
    for (let i = 0; i < 40; i++) {
      await d.after(() => d.dc.customRequest('rewind/goToIcount', { icount: Math.floor(rnd() * end) }));
      back.push(await timed(d, () => d.dc.stepBackRequest({ threadId: 1 })));
      next.push(await timed(d, () => d.dc.nextRequest({ threadId: 1 })));
    }
    await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'uart_puts' }] });
    for (let i = 0; i < 10; i++) {
      await d.after(() => d.dc.customRequest('rewind/goToIcount', { icount: Math.floor((0.2 + 0.8 * rnd()) * end) }));
      rc.push(await timed(d, () => d.dc.reverseContinueRequest({ threadId: 1 })));
    }
    await d.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'main' }] });
    await d.after(() => d.dc.customRequest('rewind/goToEnd'));
    const whole = await timed(d, () => d.dc.reverseContinueRequest({ threadId: 1 }));
    await d.close();
    require('fs').rmSync(trace, { force: true });
    rows.push(['stepBack (reverse next), marathon-O2', fmt(quantile(back, 0.5)), fmt(quantile(back, 0.99)), String(back.length)]);
    rows.push(['next, marathon-O2', fmt(quantile(next, 0.5)), fmt(quantile(next, 0.99)), String(next.length)]);
    rows.push(['reverseContinue to the last uart_puts', fmt(quantile(rc, 0.5)), fmt(quantile(rc, 0.99)), String(rc.length)]);
    rows.push([`reverseContinue end → main (${(end / 1e9).toFixed(2)} G insns)`, fmt(whole), fmt(whole), '1']);
    target('stepBack p99', quantile(back, 0.99), 250, 'ms');
    target('next p99', quantile(next, 0.99), 250, 'ms');
  }

  // Variables of a deep frame: 20 levels of fib at -O0.
  {
    const { d } = await Dap.launch({ program: guestElf('hello-O0') }, (x) => x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'fib', condition: '$a0 == 1' }] }));
    const times = [];
    for (let i = 0; i < 10; i++) {
      const t0 = now();
      const st = await d.dc.stackTraceRequest({ threadId: 1 });
      const deep = st.body.stackFrames[st.body.stackFrames.length - 2];
      const sc = await d.dc.scopesRequest({ frameId: deep.id });
      for (const s of sc.body.scopes.filter((x) => !x.expensive)) await d.dc.variablesRequest({ variablesReference: s.variablesReference });
      times.push(now() - t0);
      await d.after(() => d.dc.stepBackRequest({ threadId: 1 }));
    }
    await d.close();
    rows.push(['stack + scopes + variables, deep -O0 frame', fmt(quantile(times, 0.5)), fmt(quantile(times, 0.99)), String(times.length)]);
    target('variables of a deep frame p99', quantile(times, 0.99), 50, 'ms');
  }

  console.log('');
  console.log('Debug adapter over DAP (dist/adapter.js, request → stopped event; milliseconds)');
  console.log(table(['operation', 'p50 ms', 'p99 ms', 'samples'], rows));
  for (const v of verdicts) console.log(v);
}

module.exports = { benchAdapter };

if (require.main === module) {
  // Alone: `node scripts/benchAdapter.js` (after `npm run build`).
  require(path.join(ROOT, 'node_modules', 'ts-node')).register({ transpileOnly: true, project: path.join(ROOT, 'tsconfig.json') });
  const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));
  const table = (header, rows) => [header, ...rows].map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(46) : String(c).padStart(9))).join(' ')).join('\n');
  benchAdapter({ table, fmt }).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
}
