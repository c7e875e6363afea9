/**
 * Launching the adapter with bad input: each failure is an error response with one line (no
 * stack trace), the adapter process stays up and answers the next request.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Dap, guestElf } from '../support/dapSession';
import { REWIND_CLI } from '../support/rewindCli';

async function launchError(args: Record<string, unknown>): Promise<string> {
  const d = await Dap.start();
  try {
    const err = await d.dc.launchRequest(args as never).then(() => undefined, (e: Error) => e.message);
    assert.ok(err, `launch ${JSON.stringify(args)} should fail`);
    assert.ok(!err.includes('\n') && !/at .*\.(js|ts):\d+/.test(err), `one line, no stack trace: ${err}`);
    // Still alive: a request after the failure is answered.
    const threads = await d.dc.threadsRequest();
    assert.equal(threads.success, true);
    return err;
  } finally {
    await d.close();
  }
}

describe('adapter: launch', function () {
  this.timeout(300_000);
  let work: string;
  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-launch-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('a missing ELF', async () => {
    assert.match(await launchError({ program: path.join(work, 'nope.elf') }), /cannot read the program .*nope\.elf: no such file/);
  });

  it('an ELF for another machine, a text file and a truncated ELF', async () => {
    assert.match(await launchError({ program: '/bin/sh' }), /not a RISC-V|RISC-V|ELF32|32-bit/i);
    const text = path.join(work, 'notes.elf');
    fs.writeFileSync(text, 'hello, not an ELF\n');
    assert.match(await launchError({ program: text }), /not an ELF|ELF/);
    const cut = path.join(work, 'cut.elf');
    fs.writeFileSync(cut, fs.readFileSync(guestElf('hello-O2')).subarray(0, 300));
    assert.match(await launchError({ program: cut }), /truncated|past the end|cut|short|ELF/i);
  });

  it('unknown attributes and attributes of the wrong type', async () => {
    assert.match(await launchError({ program: guestElf('hello-O2'), bogus: 1 }), /unknown launch attribute "bogus"/);
    assert.match(await launchError({ program: guestElf('hello-O2'), harts: 'two' }), /"harts" must be an integer/);
    assert.match(await launchError({ program: guestElf('hello-O2'), harts: 9 }), /"harts" must be between 1 and 8/);
    assert.match(await launchError({ program: guestElf('hello-O2'), stopOnEntry: 'yes' }), /"stopOnEntry" must be true or false/);
    assert.match(await launchError({ program: guestElf('hello-O2'), mode: 'rewind' }), /"mode" must be one of "record", "replay"/);
    assert.match(await launchError({ program: guestElf('hello-O2'), scheduler: 'chaos' }), /"scheduler" must be "fair" or "random:SEED"/);
    assert.match(await launchError({ program: guestElf('hello-O2'), input: 42 }), /"input" must be the text to type, or \{ "file": "path" \}/);
    assert.match(await launchError({ program: guestElf('hello-O2'), qemu: '9.2' }), /"qemu" must be one of "7\.2", "10\.0"/);
    assert.match(await launchError({ mode: 'replay' }), /"trace" is required in replay mode/);
    assert.match(await launchError({}), /"program" is required/);
  });

  it('"qemu": "10.0" records as QEMU 10.0 does (the traps guest prints mtval as the pc), and the recording says so', async () => {
    const trace = path.join(work, 'traps10.rwtrace');
    const { d, stop } = await Dap.launch({ program: guestElf('traps-O2'), trace, qemu: '10.0' });
    try {
      assert.match(stop.body.description ?? '', /exited with code 0/);
      assert.match(d.stdout(), /ebreak: mcause=3 \(breakpoint\), mepc=site, mtval=site/);
    } finally {
      await d.close();
    }
    const rep = spawnSync('node', [REWIND_CLI, 'replay', '--verify', trace], { encoding: 'utf8' });
    assert.equal(rep.status, 0, rep.stderr);
    assert.match(rep.stdout, /mtval=site/);
  });

  it('a corrupted trace, a trace of another ELF, a file that is not a trace', async () => {
    const trace = path.join(work, 'hello.rwtrace');
    const r = spawnSync('node', [REWIND_CLI, 'record', guestElf('hello-O2'), '-o', trace], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(await launchError({ mode: 'replay', trace, program: guestElf('bugdemo-O2') }), /is not the guest/);
    const bytes = fs.readFileSync(trace);
    const damaged = path.join(work, 'damaged.rwtrace');
    const copy = Buffer.from(bytes);
    copy[Math.floor(copy.length / 2)] ^= 0x40;
    fs.writeFileSync(damaged, copy);
    assert.match(await launchError({ mode: 'replay', trace: damaged }), /checksum|corrupt|damaged/i);
    assert.match(await launchError({ mode: 'replay', trace: guestElf('hello-O2') }), /not a|rwtrace|trace/i);
  });
});
