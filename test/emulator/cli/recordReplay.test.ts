import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSource } from '../../../emulator/trace/fileAccess';
import { readEvents } from '../../../emulator/trace/rwtraceEvents';
import { RwtraceReader } from '../../../emulator/trace/rwtraceReader';
import { assertOneLineError, CliRun, ensureCliBuilt, REPO_ROOT, REWIND_CLI, runCli } from '../../support/rewindCli';

const cli = (...args: string[]): CliRun => runCli(args);
const bin = (name: string) => path.join(REPO_ROOT, 'emulator', 'guest', 'bin', name);

describe('rewind record / replay', () => {
  let dir = '';
  before(() => {
    ensureCliBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-rr-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('record writes the guest output to stdout as run does, and replay --verify reproduces it without the input', () => {
    const trace = path.join(dir, 'echo.rwtrace');
    const input = path.join(REPO_ROOT, 'emulator', 'guest', 'inputs', 'echo.txt');
    const run = cli('run', bin('echo-O2.elf'), '--input', input);
    const rec = cli('record', bin('echo-O2.elf'), '-o', trace, '--input', input);
    assert.equal(rec.code, 0, rec.stderr);
    assert.equal(rec.stdout, run.stdout);
    const rep = cli('replay', '--verify', trace);
    assert.equal(rep.code, 0, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);
    assert.match(rep.stderr, /replay verified: \d+ events, icount \d+, state hash [0-9a-f]+\.\.\. as recorded/);
  });

  it('a two-hart recording replays with the same interleaving (same output, icount and state)', () => {
    const trace = path.join(dir, 'smp.rwtrace');
    const rec = cli('record', bin('smp-O2.elf'), '--harts', '2', '-o', trace);
    assert.equal(rec.code, 0, rec.stderr);
    const rep = cli('replay', '--verify', trace);
    assert.equal(rep.code, 0, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);
  });

  it('dump shows a recording\'s events, one JSON entry per event, filtered by kind like a QEMU log', () => {
    const trace = path.join(dir, 'timer.rwtrace');
    const rec = cli('record', bin('timer-O2.elf'), '-o', trace);
    const recorded = Number(/recorded (\d+) events/.exec(rec.stderr)![1]);
    const all = JSON.parse(cli('dump', '--json', trace).stdout);
    assert.equal(all.format, 'rwtrace');
    assert.equal(all.events.length, recorded);
    assert.equal(all.events[all.events.length - 1].name, 'EVENT_END');
    const interrupts = JSON.parse(cli('dump', '--json', '--kind', 'interrupt', trace).stdout);
    assert.equal(interrupts.events.length, 20); // the timer guest takes 20 timer interrupts
    assert.ok(interrupts.events.every((e: { data: { cause: number } }) => e.data.cause === 0x80000007));
  });

  it('snapshots taken while recording are passed and checked on replay, and replay can start from one (loadvm)', () => {
    const trace = path.join(dir, 'timer-snap.rwtrace');
    const rec = cli('record', bin('timer-O2.elf'), '-o', trace, '--snapshot-at', '7000,2000');
    assert.equal(rec.code, 0, rec.stderr);
    assert.match(rec.stderr, /snapshot 0 taken at icount 2000\nrewind: snapshot 1 taken at icount 7000/);
    const full = cli('replay', '--verify', trace);
    assert.equal(full.code, 0, full.stderr);
    assert.equal(full.stdout, rec.stdout);
    // From snapshot 1 on, the guest prints exactly what the recording logged after icount 7000.
    const later = JSON.parse(cli('dump', '--json', '--kind', 'char-write', trace).stdout).events
      .filter((e: { icount: number }) => e.icount > 7000).map((e: { data: { byte: number } }) => e.data.byte);
    const resumed = cli('replay', '--verify', '--from-snapshot', '1', trace);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.stdout, Buffer.from(later).toString('latin1'));
    assert.match(resumed.stderr, /replay verified: .* as recorded/);
    assertOneLineError(cli('replay', '--from-snapshot', '5', trace), /has no snapshot 5 \(it has 0, 1\)/);
  });

  it('Ctrl-C while recording closes the recording cleanly (exit 130), and it replays to that point', async function () {
    this.timeout(60_000);
    const trace = path.join(dir, 'interrupted.rwtrace');
    const child = spawn(process.execPath, [REWIND_CLI, 'record', bin('echo-O2.elf'), '-o', trace, '--input', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let recorded = '';
    let stderr = '';
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (d: string) => { recorded += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdin.write('ctrl-c after this\n');
    while (!/CTRL-C AFTER THIS\n/.test(recorded)) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 130, stderr);
    assert.match(stderr, /^rewind: interrupted at icount \d+, pc 0x[0-9a-f]+$/m);
    const rep = cli('replay', '--verify', trace);
    assert.equal(rep.code, 0, rep.stderr);
    assert.equal(rep.stdout, recorded);
    assert.match(rep.stderr, /replay verified: .* as recorded/);
    assert.match(rep.stderr, /reached the end of the recording, which was interrupted at icount \d+/);
  });

  it('a flipped byte in a chunk replay does not need (the lock stream) is still a checksum error, not a silent success', () => {
    const trace = path.join(dir, 'hello-flip-locks.rwtrace');
    assert.equal(cli('record', bin('hello-O2.elf'), '-o', trace).code, 0);
    const bytes = fs.readFileSync(trace);
    let at = 32, seq = 0;
    while (bytes[at + 4] !== 3) { at += 48 + bytes.readUInt32LE(at + 12); seq++; }
    bytes[at + 48 + 3] ^= 0x01;
    fs.writeFileSync(trace, bytes);
    assertOneLineError(cli('replay', trace), new RegExp(`^rewind: chunk ${seq} at offset 0x${at.toString(16)}: checksum mismatch$`));
  });

  it('replaying with another guest ELF is refused with one line', () => {
    const trace = path.join(dir, 'hello.rwtrace');
    assert.equal(cli('record', bin('hello-O2.elf'), '-o', trace).code, 0);
    assertOneLineError(cli('replay', trace, '--elf', bin('hello-O0.elf')), /^rewind: .*hello-O0\.elf is not the guest .*hello\.rwtrace was recorded with \(sha256 [0-9a-f]{12}\.\.\., recorded [0-9a-f]{12}\.\.\.\)$/);
  });

  it('a flipped byte in the event stream gives a checksum error naming the chunk, one line, exit 2', () => {
    const trace = path.join(dir, 'hello-flip.rwtrace');
    assert.equal(cli('record', bin('hello-O2.elf'), '-o', trace).code, 0);
    const bytes = fs.readFileSync(trace);
    // Walk the chunk headers (32-byte file header, then 48-byte chunk headers) to the first EVENTS chunk.
    let at = 32, seq = 0;
    while (bytes[at + 4] !== 2) { at += 48 + bytes.readUInt32LE(at + 12); seq++; }
    bytes[at + 48 + 7] ^= 0x10;
    fs.writeFileSync(trace, bytes);
    assertOneLineError(cli('replay', trace), new RegExp(`^rewind: chunk ${seq} at offset 0x${at.toString(16)}: checksum mismatch$`));
  });

  it('a recording killed with SIGKILL replays what it had flushed: a prefix of what the guest printed', async function () {
    this.timeout(60_000);
    const trace = path.join(dir, 'killed.rwtrace');
    const child = spawn(process.execPath, [REWIND_CLI, 'record', bin('echo-O2.elf'), '-o', trace, '--input', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let recorded = '';
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (d: string) => { recorded += d; });
    child.stdin.write('hello, rewind\n');
    // Kill only once the echoed line's output events are in a flushed chunk (at most 100 ms after
    // they happened), however slow the machine: the test is about what a kill keeps.
    const flushedWrites = (): number => {
      let r: RwtraceReader | undefined;
      try {
        r = new RwtraceReader(new FileSource(trace), trace);
        return readEvents(r, trace).filter((e) => e.name === 'EVENT_CHAR_WRITE').length;
      } catch {
        return 0; // not even the header yet
      } finally {
        r?.close();
      }
    };
    while (!/HELLO, REWIND\n/.test(recorded) || flushedWrites() < recorded.length) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.match(recorded, /HELLO, REWIND/);
    const rep = cli('replay', trace);
    assert.equal(rep.code, 0, rep.stderr); // it stops where the log ends, and says so
    assert.match(rep.stderr, /^rewind: reached the end of the incomplete recording at icount \d+: all \d+ events it kept were replayed$/m);
    assert.match(rep.stderr, /^rewind: warning: .*killed\.rwtrace: .*replaying the \d+ events recorded before it$/m);
    assert.ok(recorded.startsWith(rep.stdout), `replay printed ${JSON.stringify(rep.stdout)}, the recording ${JSON.stringify(recorded)}`);
    assert.match(rep.stdout, /HELLO, REWIND/);
  });
});
