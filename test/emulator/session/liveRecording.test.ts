/**
 * Recordings made while debugging (emulator/session/liveRecording.ts): a session that records,
 * goes back and forth in time and records on writes an ordinary .rwtrace — `rewind replay
 * --verify` accepts it, its output is a plain run's, and its lock stream holds each operation
 * once (what the machine does again after going back is not written twice). Killed at any
 * moment, the file replays up to its last flush. Debugger writes are events a replay makes too.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LiveRecording } from '../../../emulator/session/liveRecording';
import { openRecording, openTimeTravel } from '../../../emulator/session/openRecording';
import { readLockOps } from '../../../emulator/trace/rwtraceLocks';
import { RwtraceReader } from '../../../emulator/trace/rwtraceReader';
import { FileSource } from '../../../emulator/trace/fileAccess';
import { encodeChunk, ChunkType } from '../../../emulator/trace/rwtraceFormat';
import { ensureCliBuilt, runCli, REPO_ROOT } from '../../support/rewindCli';

const BIN = path.join(REPO_ROOT, 'emulator', 'guest', 'bin');
const INPUTS = path.join(REPO_ROOT, 'emulator', 'guest', 'inputs');
const RAM = 16;

function lockOps(file: string) {
  return readLockOps(new RwtraceReader(new FileSource(file), file), file);
}

describe('live recordings into .rwtrace files', function () {
  this.timeout(600_000);
  let work: string;
  before(() => {
    ensureCliBuilt();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-live-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const [guest, input] of [['hello-O2', undefined], ['timer-O2', undefined], ['bugdemo-O2', undefined], ['echo-O2', 'echo.txt']] as const) {
    it(`${guest}: back and forth while recording; replay --verify accepts it, lock ops once each`, () => {
      const elfPath = path.join(BIN, `${guest}.elf`);
      const elf = fs.readFileSync(elfPath);
      const trace = path.join(work, `${guest}.rwtrace`);
      const out: number[] = [];
      const live = new LiveRecording({ elfPath, elf, tracePath: trace, machine: { ramMiB: RAM, harts: 1, shift: 0 }, interval: 20_000, onOutput: (b) => out.push(b) });
      const inputBytes = input ? fs.readFileSync(path.join(INPUTS, input)) : undefined;
      const tt = live.tt;
      const stepTo = (n: number) => { while (tt.icount < n) { const r = tt.runTo(Math.min(n, tt.icount + 7_777)); live.tick(); if (r.reason !== 'limit') break; } };
      if (inputBytes) live.pushInput(inputBytes.subarray(0, 10));
      stepTo(30_000);
      const a = tt.icount;
      tt.seek(Math.floor(a / 3));
      tt.stepBack();
      tt.seek(Math.floor(a / 2));
      assert.throws(() => live.pushInput(Buffer.from('x')), /in the past of the recording/);
      tt.goToEnd();
      if (inputBytes) live.pushInput(inputBytes.subarray(10));
      live.flush();
      stepTo(Number.MAX_SAFE_INTEGER);
      tt.seek(Math.floor(tt.icount / 4));
      live.close();

      const rv = runCli(['replay', '--verify', trace]);
      assert.match(rv.stderr, /replay verified: \d+ events, icount \d+, state hash [0-9a-f]+\.\.\. as recorded/, rv.stderr);
      const plain = runCli(['record', elfPath, '-o', path.join(work, `${guest}-plain.rwtrace`), '--ram', String(RAM), ...(input ? ['--input', path.join(INPUTS, input)] : [])]);
      assert.equal(Buffer.from(out).toString('latin1'), plain.stdout, 'the session printed what a plain run prints, once');
      assert.equal(rv.stdout, plain.stdout);
      const ops = lockOps(trace);
      ops.forEach((o, i) => assert.equal(o.index, i, 'ops numbered densely'));
      for (let i = 1; i < ops.length; i++) assert.ok((ops[i].icount ?? 0) >= (ops[i - 1].icount ?? 0), `op ${i} goes back in time: written twice?`);
      if (!input) {
        // Without input the recording's path is the plain run's: the same ops, in the same order.
        const want = lockOps(path.join(work, `${guest}-plain.rwtrace`));
        assert.equal(ops.length, want.length, 'as many lock operations as a straight recording');
        const key = (o: { thread: string; lock: string; action: string; icount?: number }) => `${o.thread} ${o.lock} ${o.action} @${o.icount}`;
        assert.deepEqual(ops.map(key), want.map(key));
      }
    });
  }

  it('debugger writes are recorded: a replay makes them, seeks see old and new values, the past refuses them', () => {
    const elfPath = path.join(BIN, 'bugdemo-O2.elf');
    const elf = fs.readFileSync(elfPath);
    const trace = path.join(work, 'writes.rwtrace');
    const out: number[] = [];
    const live = new LiveRecording({ elfPath, elf, tracePath: trace, machine: { ramMiB: RAM, harts: 1, shift: 0 }, onOutput: (b) => out.push(b) });
    const tt = live.tt;
    const m = tt.machine;
    const cal = openSymbol(elfPath, 'cal');
    tt.runTo(5_000); // past the stray write: cal.gain is 0xffffffff
    const gain = cal + 32;
    const at = tt.icount;
    assert.equal(m.bus.peek(gain, 4), 0xffffffff);
    live.writeMemory(gain, Uint8Array.from([0, 4, 0, 0])); // gain = 1024: the bug fixed by hand
    assert.equal(m.bus.peek(gain, 4), 1024);
    tt.runTo(10_000);
    tt.seek(at - 1);
    assert.equal(m.bus.peek(gain, 4), 0xffffffff, 'before the write: the old value');
    assert.throws(() => live.writeMemory(gain, Uint8Array.from([1])), (e: Error) => /write into the guest's memory refused: the machine is at icount \d+, in the past/.test(e.message) && !e.message.includes('\n'));
    tt.seek(at + 100);
    assert.equal(m.bus.peek(gain, 4), 1024, 'after it: the new one');
    assert.throws(() => live.writeRegister(0, 0, 1), /in the past of the recording/);
    tt.goToEnd();
    assert.throws(() => live.writeRegister(0, 0, 1), /register 0 cannot be written/);
    assert.throws(() => live.writeMemory(0x10000000, Uint8Array.from([1])), /is not RAM/);
    live.writeRegister(0, 10, 77); // a0
    assert.equal(m.harts[0].x[10], 77);
    tt.runTo(Number.MAX_SAFE_INTEGER);
    live.close();
    assert.match(Buffer.from(out).toString('latin1'), /calibrated mean \d+ \(expected 990\.\.1010\): ok/, 'the fixed gain gives the right mean');
    const rv = runCli(['replay', '--verify', trace]);
    assert.equal(rv.code, 0, rv.stderr);
    assert.match(rv.stdout, /: ok\n/);
    const dump = runCli(['dump', trace, '--kind', 'debug']);
    assert.match(dump.stdout, /EVENT_DEBUG_WRITE/);
    // A replay session refuses writes: its history is fixed.
    const opened = openTimeTravel(trace, elf, elfPath);
    opened.tt.seek(at + 10);
    assert.throws(() => opened.tt.machine.debugWrite({ target: 'memory', hart: 0, address: gain, bytes: [1] }), /replays a recording, whose history is fixed/);
  });

  it('killed at any moment, also stopped after a flush, the file replays up to its last flush', async () => {
    const script = path.join(work, 'killme.ts');
    fs.writeFileSync(script, `
      import * as fs from 'fs';
      import { LiveRecording } from ${JSON.stringify(path.join(REPO_ROOT, 'emulator', 'session', 'liveRecording'))};
      const [elfPath, trace, stopAt] = process.argv.slice(2);
      const live = new LiveRecording({ elfPath, elf: fs.readFileSync(elfPath), tracePath: trace, machine: { ramMiB: ${RAM}, harts: 1, shift: 0 } });
      const tt = live.tt;
      for (;;) {
        const r = tt.runTo(tt.icount + 50_000); live.tick();
        if (tt.icount >= Number(stopAt)) { live.flush(); process.stdout.write('stopped ' + live.file.eventsRecorded + '\\n'); setInterval(() => undefined, 1000); break; }
        if (r.reason !== 'limit') { tt.seek(0); tt.goToEnd(); }
      }
    `);
    const elfPath = path.join(BIN, 'crc32-O2.elf');
    for (const [i, stopAt, killAfterMs] of [[0, 3_000_000, 0], [1, 40_000_000, 200], [2, 1e15, 700], [3, 1e15, 1500]] as const) {
      const trace = path.join(work, `killed-${i}.rwtrace`);
      let flushedEvents = -1;
      const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script, elfPath, trace, String(stopAt)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => {
        let killed = false;
        const kill = () => { if (!killed) { killed = true; child.kill('SIGKILL'); } };
        child.stdout.on('data', (d: Buffer) => { const m = /stopped (\d+)/.exec(d.toString()); if (m) { flushedEvents = Number(m[1]); kill(); } });
        if (stopAt > 1e12) setTimeout(() => { const wait = () => (fs.existsSync(trace) && fs.statSync(trace).size > 4096 ? setTimeout(kill, killAfterMs) : setTimeout(wait, 50)); wait(); }, 0);
        child.on('exit', () => resolve());
      });
      assert.ok(fs.existsSync(trace), 'the file was started');
      const { meta } = openRecording(trace);
      assert.equal(meta.format, 'rewind-recording');
      const rv = runCli(['replay', '--verify', trace]);
      assert.match(rv.stderr, /replay verified: \d+ events, icount \d+, state not recorded \(incomplete recording\)/, `kill ${i}: ${rv.stderr}`);
      if (flushedEvents >= 0) {
        // Stopped and flushed, then killed: every event recorded before the stop is on disk.
        assert.equal(Number(/verified: (\d+) events/.exec(rv.stderr)![1]), flushedEvents, 'nothing recorded before the stop is lost');
      }
    }
  });

  it('an END chunk with the right checksum but wrong fields is a one-line error, not a crash', () => {
    const trace = path.join(work, 'crafted.rwtrace');
    const r = runCli(['record', path.join(BIN, 'hello-O2.elf'), '-o', trace]);
    assert.equal(r.code, 0);
    const bytes = fs.readFileSync(trace);
    const reader = new RwtraceReader(new FileSource(trace), trace);
    const end = reader.stream(ChunkType.END)[0];
    const crafted = encodeChunk({ type: ChunkType.END, flags: 0, sequence: end.sequence, firstIcount: end.firstIcount, lastIcount: end.lastIcount, firstItem: 0, itemCount: 0 }, new TextEncoder().encode(JSON.stringify({ icount: 'x', stateHash: 5 })));
    fs.writeFileSync(trace, Buffer.concat([bytes.subarray(0, end.offset), crafted]));
    for (const cmd of [['replay', '--verify', trace], ['seek', trace, '100']]) {
      const x = runCli(cmd);
      assert.equal(x.code, 2, `${cmd[0]}: ${x.stderr}`);
      assert.match(x.stderr, /^rewind: .*the END chunk does not describe how the recording ended/);
      assert.equal(x.stderr.trim().split('\n').length, 1);
    }
  });
});

function openSymbol(elf: string, name: string): number {
  const nm = spawnSync('riscv64-unknown-elf-nm', [elf], { encoding: 'utf8' }).stdout;
  return parseInt(new RegExp(`^([0-9a-f]+) \\w ${name}$`, 'm').exec(nm)![1], 16);
}
