/**
 * Malformed and out-of-order DAP: a few thousand requests with random commands and random
 * arguments (wrong types, missing fields, garbage), before launch, while stopped and while the
 * guest runs, plus bytes that are not DAP at all. Every request gets a response; failures are
 * one line; the adapter stays up and still debugs afterwards.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Dap, guestElf } from '../support/dapSession';
import { REWIND_ADAPTER } from '../support/rewindCli';

const COMMANDS = [
  'launch', 'attach', 'configurationDone', 'setBreakpoints', 'setFunctionBreakpoints', 'setInstructionBreakpoints', 'setExceptionBreakpoints',
  'dataBreakpointInfo', 'setDataBreakpoints', 'continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'pause', 'goto', 'gotoTargets',
  'restartFrame', 'stackTrace', 'scopes', 'variables', 'setVariable', 'evaluate', 'readMemory', 'writeMemory', 'disassemble', 'loadedSources',
  'source', 'threads', 'exceptionInfo', 'cancel', 'completions', 'modules', 'setExpression', 'stepInTargets', 'terminateThreads', 'breakpointLocations',
  'rewind/reverseStepIn', 'rewind/reverseStepOut', 'rewind/goToStart', 'rewind/goToEnd', 'rewind/goToIcount', 'rewind/goToEvent', 'rewind/sendInput',
  'rewind/position', 'rewind/events', 'rewind/lockOps', 'rewind/bogus', '', 'x'.repeat(300),
];
const KEYS = ['threadId', 'frameId', 'variablesReference', 'name', 'value', 'expression', 'source', 'breakpoints', 'lines', 'filters', 'memoryReference',
  'offset', 'count', 'instructionCount', 'instructionOffset', 'targetId', 'icount', 'index', 'text', 'bytes', 'granularity', 'dataId', 'data', 'line', 'program', 'mode', 'by', 'from', 'to', 'limit'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function value(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * 12);
  switch (k) {
    case 0: return Math.floor(r() * 5);
    case 1: return -Math.floor(r() * 1e9);
    case 2: return r() * 1e20;
    case 3: return 'x';
    case 4: return '0x' + Math.floor(r() * 0xffffffff).toString(16);
    case 5: return null;
    case 6: return true;
    case 7: return depth > 2 ? [] : [value(r, depth + 1), value(r, depth + 1)];
    case 8: return depth > 2 ? {} : args(r, depth + 1);
    case 9: return '../../../etc/passwd';
    case 10: return 2 ** 53 + 7;
    default: return '{_message}%s\u0000\n';
  }
}

function args(r: () => number, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) out[KEYS[Math.floor(r() * KEYS.length)]] = value(r, depth);
  return out;
}

const stats = { ok: 0, failed: 0 };

async function barrage(d: Dap, seed: number, n: number): Promise<void> {
  const r = rng(seed);
  for (let i = 0; i < n; i++) {
    const command = COMMANDS[Math.floor(r() * COMMANDS.length)];
    // The adapter under test must not be closed by the barrage itself.
    if (command === 'disconnect' || command === 'terminate') continue;
    const a = r() < 0.1 ? value(r) : args(r);
    const res = await d.dc.send(command, a as never).then((x: { success: boolean }) => x, (e: Error) => ({ success: false, message: e.message }));
    if (!res.success) {
      const msg = (res as { message?: string }).message ?? '';
      assert.ok(!/\n\s+at /.test(msg), `no stack trace for ${command} ${JSON.stringify(a)}: ${msg}`);
      assert.ok(msg.length > 0, `an error says why (${command})`);
      assert.ok(!/internal error/.test(msg), `a bug, not a bad request: ${command} ${JSON.stringify(a)}: ${msg}`);
      stats.failed++;
    } else {
      stats.ok++;
    }
  }
}

describe('adapter: malformed and out-of-order requests', function () {
  this.timeout(600_000);

  it('a barrage before launch, while stopped and while running; the session still works after', async () => {
    const d = await Dap.start();
    try {
      await barrage(d, 1, 800);
      const r = await Promise.all([d.dc.launchRequest({ program: guestElf('marathon-O2'), trace: `${d.work}/m.rwtrace`, stopOnEntry: true } as never), d.dc.waitForEvent('initialized')]);
      assert.equal(r[0].success, true);
      const first = d.nextStop();
      await d.dc.configurationDoneRequest();
      await first;
      await barrage(d, 2, 1200);
      // Whatever the barrage left running, stop it and check the session still answers properly.
      await d.dc.pauseRequest({ threadId: 1 }).catch(() => undefined);
      await new Promise((res) => setTimeout(res, 300));
      await barrage(d, 3, 1000);
      await d.dc.pauseRequest({ threadId: 1 }).catch(() => undefined);
      await new Promise((res) => setTimeout(res, 300));
      const threads = await d.dc.threadsRequest();
      assert.equal(threads.body.threads.length, 1);
      const st = await d.dc.stackTraceRequest({ threadId: 1 }).catch(async () => {
        await d.dc.pauseRequest({ threadId: 1 });
        await new Promise((res) => setTimeout(res, 500));
        return d.dc.stackTraceRequest({ threadId: 1 });
      });
      assert.ok(st.body.stackFrames.length >= 1);
      assert.ok(stats.ok > 100 && stats.failed > 1000, `both answers and refusals (${stats.ok} answered, ${stats.failed} refused)`);
    } finally {
      await d.close();
    }
  });

  it('bytes that are not DAP do not end the adapter', async () => {
    const p = spawn('node', [REWIND_ADAPTER], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    const frame = (s: string) => `Content-Length: ${Buffer.byteLength(s)}\r\n\r\n${s}`;
    p.stdin.write(frame('{not json'));
    p.stdin.write(frame('[1,2,3]'));
    p.stdin.write(frame('{"type":"request","seq":1}'));
    p.stdin.write(frame(JSON.stringify({ type: 'request', seq: 2, command: 'threads' })));
    await new Promise((res) => setTimeout(res, 1000));
    assert.equal(p.exitCode, null, 'still running');
    assert.match(out, /"request_seq":2,"command":"threads","success":true/);
    p.kill();
  });
});
