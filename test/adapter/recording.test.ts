/**
 * A recording made in the debugger is an ordinary .rwtrace: `rewind replay --verify` accepts it
 * after a session of going back and forth with debugger writes in it, and after the adapter
 * process was killed. Writes are recorded at the frontier and refused in the past and in replay.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assembleElf } from '../support/assemble';
import { Dap, guestElf } from '../support/dapSession';
import { FileSource } from '../../emulator/trace/fileAccess';
import { readLockOps } from '../../emulator/trace/rwtraceLocks';
import { RwtraceReader } from '../../emulator/trace/rwtraceReader';
import { REWIND_ADAPTER, REWIND_CLI } from '../support/rewindCli';

const cli = (...args: string[]) => spawnSync('node', [REWIND_CLI, ...args], { encoding: 'latin1', timeout: 300_000 });

async function frame0(d: Dap): Promise<number> {
  return (await d.dc.stackTraceRequest({ threadId: 1 })).body.stackFrames[0].id;
}

async function variable(d: Dap, scope: string, name: string): Promise<{ ref: number; value: string }> {
  const scopes = (await d.dc.scopesRequest({ frameId: await frame0(d) })).body.scopes;
  const s = scopes.find((x) => x.name === scope)!;
  const v = (await d.dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables.find((x) => x.name === name);
  assert.ok(v, `${name} in ${scope}`);
  return { ref: s.variablesReference, value: v.value };
}

const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (e: Error) => e.message);

describe('adapter: the recording it makes', function () {
  this.timeout(300_000);
  let work: string;
  before(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-adrec-')); });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('bugdemo fixed by hand in the debugger: writes at the frontier are recorded, refused in the past; replay --verify accepts the file and prints "ok"', async () => {
    const trace = path.join(work, 'fixed.rwtrace');
    const { d, stop } = await Dap.launch({ program: guestElf('bugdemo-O0'), trace }, async (x) => {
      await x.dc.setBreakpointsRequest({ source: { path: path.join(path.dirname(guestElf('x')), '..', 'programs', 'bugdemo.c') }, breakpoints: [{ line: 91 }] });
    });
    try {
      assert.equal(stop.body.reason, 'breakpoint');
      assert.equal((await d.where()).line, 91, 'after load_offsets returned');
      assert.equal((await d.dc.evaluateRequest({ expression: 'cal.gain', context: 'watch' })).body.result, '4294967295');
      // Step back into the past: a write there would rewrite history, so it is refused.
      await d.after(() => d.dc.stepBackRequest({ threadId: 1 }));
      assert.match(await refusal(d.dc.customRequest('setExpression', { expression: 'cal.gain', value: '1024' })), /refused: the machine is at icount \d+, in the past/);
      assert.match(await refusal(d.dc.customRequest('writeMemory', { memoryReference: '0x80000000', data: 'AA==' })), /refused: .*in the past/);
      const regs = await variable(d, 'Registers', 'a0 (x10)');
      assert.match(await refusal(d.dc.setVariableRequest({ variablesReference: regs.ref, name: 'a0 (x10)', value: '1' })), /in the past of the recording/);
      // Back at the frontier (the breakpoint, again) the write is taken, and recorded.
      await d.after(() => d.dc.nextRequest({ threadId: 1 }));
      assert.equal((await d.where()).line, 91);
      const set = await d.dc.customRequest('setExpression', { expression: 'cal.gain', value: '1024' });
      assert.equal(set.body.value, '1024');
      assert.equal((await d.dc.evaluateRequest({ expression: 'cal.gain', context: 'watch' })).body.result, '1024');
      const end = await d.after(() => d.dc.continueRequest({ threadId: 1 }));
      assert.match(end.body.description ?? '', /exited with code 0/, `the fix made the demo pass: ${JSON.stringify(end.body)} ${JSON.stringify(await d.where())}`);
      assert.match(d.stdout(), /: ok\n/);
      // Going back from the end shows the old value before the write, the new after.
      await d.after(() => d.dc.customRequest('rewind/goToStart'));
      await d.dc.setBreakpointsRequest({ source: { path: path.join(path.dirname(guestElf('x')), '..', 'programs', 'bugdemo.c') }, breakpoints: [] });
    } finally {
      await d.close();
    }
    const rv = cli('replay', '--verify', trace);
    assert.equal(rv.status, 0, rv.stderr);
    assert.match(rv.stderr, /replay verified: \d+ events, icount \d+, state hash [0-9a-f]+\.\.\. as recorded/);
    assert.match(rv.stdout, /: ok\n/, 'the replay makes the debugger\'s write too');
    assert.match(cli('dump', trace, '--kind', 'debug').stdout, /EVENT_DEBUG_WRITE/);

    // Replaying that file in the debugger: its history is fixed, writes are refused.
    const r = await Dap.launch({ mode: 'replay', trace, stopOnEntry: true });
    try {
      assert.match(await refusal(r.d.dc.customRequest('writeMemory', { memoryReference: '0x80000000', data: 'AA==' })), /replays a recording, whose history is fixed/);
    } finally {
      await r.d.close();
    }
  });

  it('rewind/lockOps: windows of the file\'s lock stream, by index and by icount, the same ops as a plain recording, none twice after going back', async () => {
    const elf = guestElf('hello-O2');
    const plainTrace = path.join(work, 'plain.rwtrace');
    assert.equal(cli('record', elf, '-o', plainTrace).status, 0);
    const plain = readLockOps(new RwtraceReader(new FileSource(plainTrace), plainTrace), plainTrace);
    const key = (o: { thread: string; lock: string; action: string; icount?: number; site: string }) => `${o.thread} ${o.lock} ${o.action} @${o.icount} ${o.site}`;
    const trace = path.join(work, 'locks.rwtrace');
    const { d } = await Dap.launch({ program: elf, trace, stopOnEntry: true });
    try {
      await d.after(() => d.dc.continueRequest({ threadId: 1 }));
      const all = (await d.dc.customRequest('rewind/lockOps', { limit: 10_000 })).body as { total: number; ops: { index: number; icount?: number; thread: string; lock: string; action: string; site: string }[] };
      assert.equal(all.total, plain.length, 'as many ops as a plain recording');
      assert.deepEqual(all.ops.slice(0, 2000).map(key), plain.slice(0, 2000).map(key));
      const byIndex = (await d.dc.customRequest('rewind/lockOps', { from: 10, to: 20 })).body;
      assert.deepEqual(byIndex.ops.map((o: { index: number }) => o.index), Array.from({ length: 10 }, (_, i) => 10 + i));
      const mid = plain[Math.floor(plain.length / 2)].icount!;
      const byIcount = (await d.dc.customRequest('rewind/lockOps', { by: 'icount', from: mid, to: mid + 500, limit: 10_000 })).body;
      assert.deepEqual(byIcount.ops.map(key), plain.filter((o) => o.icount! >= mid && o.icount! < mid + 500).map(key));
      // Back to the start and forward again: the machine redoes its lock ops, the file keeps them once.
      await d.after(() => d.dc.customRequest('rewind/goToStart'));
      await d.after(() => d.dc.continueRequest({ threadId: 1 }));
      assert.equal((await d.dc.customRequest('rewind/lockOps', { limit: 1 })).body.total, plain.length);
      assert.match(await refusal(d.dc.customRequest('rewind/lockOps', { by: 'time' })), /by must be "index" or "icount"/);
      assert.match(await refusal(d.dc.customRequest('rewind/lockOps', { from: -1 })), /from must be an integer >= 0/);
    } finally {
      await d.close();
    }
  });

  it('killed with SIGKILL while the guest runs: the file replays up to its last flushed chunk', async () => {
    const trace = path.join(work, 'killed.rwtrace');
    // A guest that prints forever: every byte is an event, so the event stream grows.
    const elf = assembleElf('  li t0, 0x10000000\n  li t1, 120\nloop:\n  sb t1, 0(t0)\n  j loop\n');
    const a = rawAdapter();
    await a.launch({ program: elf, trace });
    a.send('continue', { threadId: 1 });
    // Let it record for a while, then kill the process.
    const t0 = Date.now();
    while (Date.now() - t0 < 20_000 && !(fs.existsSync(trace) && fs.statSync(trace).size > 64 * 1024)) await sleep(100);
    await sleep(1000);
    assert.ok(!/exited with code/.test(a.out()), 'still running when killed');
    const gone = a.exited();
    a.p.kill('SIGKILL');
    await gone;
    const rv = cli('replay', '--verify', trace);
    const m = /replay verified: (\d+) events, icount [1-9]\d+, state not recorded \(incomplete recording\)/.exec(rv.stderr);
    assert.ok(m && Number(m[1]) > 1000, `thousands of events kept:\n${rv.stderr}`);
    // Killed between two chunks, or in the middle of writing one: the reader says which.
    assert.match(rv.stderr, /no END chunk: the recording did not finish cleanly|is incomplete: the recording was cut short/);
    assert.equal(rv.stdout, 'x'.repeat(rv.stdout.length), 'the replay prints what the guest printed');
    assert.ok(rv.stdout.length > 1000);
  });

  it('a client that goes away without disconnecting (stdin closed) leaves a whole recording, and the adapter exits', async () => {
    const trace = path.join(work, 'orphan.rwtrace');
    const a = rawAdapter();
    await a.launch({ program: guestElf('hello-O2'), trace });
    a.send('continue', { threadId: 1 });
    await a.waitFor(/exited with code/);
    const exited = a.exited();
    a.p.stdin.end();
    const code = await Promise.race([exited, sleep(10_000).then(() => 'still running')]);
    assert.equal(code, 0, 'the adapter ended with its client');
    const rv = cli('replay', '--verify', trace);
    assert.equal(rv.status, 0, rv.stderr);
    assert.match(rv.stderr, /state hash [0-9a-f]+\.\.\. as recorded/, 'closed with its END chunk');
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The adapter process spoken to by hand, so that the test decides how it ends. */
function rawAdapter() {
  const p = spawn('node', [REWIND_ADAPTER], { stdio: ['pipe', 'pipe', 'inherit'] });
  let text = '';
  let seq = 1;
  p.stdout.on('data', (b: Buffer) => { text += b.toString(); });
  const send = (command: string, args: unknown) => {
    const body = JSON.stringify({ seq: seq++, type: 'request', command, arguments: args });
    p.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  };
  const waitFor = async (re: RegExp) => {
    const t0 = Date.now();
    while (!re.test(text) && Date.now() - t0 < 60_000) await sleep(50);
    assert.match(text, re);
  };
  return {
    p, send, waitFor, out: () => text,
    exited: () => new Promise<number | null>((r) => (p.exitCode !== null || p.signalCode !== null ? r(p.exitCode) : p.on('exit', (code) => r(code)))),
    async launch(args: Record<string, unknown>) {
      send('initialize', { adapterID: 'rewind' });
      send('launch', { ...args, stopOnEntry: true });
      send('configurationDone', {});
      await waitFor(/"reason":"entry"/);
    },
  };
}
