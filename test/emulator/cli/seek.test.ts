/**
 * `rewind seek` and `rewind last-write` as a user runs them: the state printed at an icount is
 * the state a straight replay reaches there, and the last write found is a store instruction
 * whose address (computed from the printed registers) lies in the range asked about.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine } from '../../../emulator/machine/machine';
import { FileSource } from '../../../emulator/trace/fileAccess';
import { readEvents } from '../../../emulator/trace/rwtraceEvents';
import { RwtraceReader } from '../../../emulator/trace/rwtraceReader';
import { stateHash } from '../../../emulator/machine/stateHash';
import { TimeTravel } from '../../../emulator/timetravel/timeTravel';
import { readSpilledSnapshots } from '../../../emulator/timetravel/snapshotSpill';
import { assertOneLineError, CliRun, ensureCliBuilt, REPO_ROOT, runCli } from '../../support/rewindCli';

const cli = (...args: string[]): CliRun => runCli(args);
const bin = (name: string) => path.join(REPO_ROOT, 'emulator', 'guest', 'bin', name);

interface SeekJson { icount: number; pc: number; where: string; instruction: string; registers: Record<string, number>; stack: { pc: number; function?: string; file?: string; line?: number }[] }

describe('rewind seek / last-write', function () {
  this.timeout(120_000);
  let dir = '';
  let trace = '';
  before(() => {
    ensureCliBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-seek-'));
    trace = path.join(dir, 'bugdemo.rwtrace');
    assert.equal(cli('record', bin('bugdemo-O0.elf'), '-o', trace).code, 1); // bugdemo exits 1 by design
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the machine state at an icount: the same registers and pc a straight replay has there, with function, file:line and call stack', () => {
    const events = readEvents(new RwtraceReader(new FileSource(trace)), trace);
    for (const at of [0, 1234, 1_000_000, 20_000_001]) {
      const r = cli('seek', trace, String(at), '--json');
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as SeekJson;
      const m = new Machine({ replay: { mode: 'replay', events } });
      m.loadElf(fs.readFileSync(bin('bugdemo-O0.elf')));
      m.run(at);
      assert.equal(s.icount, m.icount);
      assert.equal(s.pc, m.harts[0].pc >>> 0);
      assert.deepEqual(Object.values(s.registers), Array.from(m.harts[0].x.subarray(0, 32), (v) => v >>> 0));
      if (at > 0) {
        assert.match(s.where, /^0x[0-9a-f]{8} <\w+(\+0x[0-9a-f]+)?> at \.\/(programs|common)\/\w+\.[cS]:\d+$/);
        assert.ok(s.stack.length >= 2 && s.stack.some((f) => f.function === 'main'), JSON.stringify(s.stack));
      }
    }
    const text = cli('seek', trace, '1000000');
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^icount 1000000, hart 0\npc 0x[0-9a-f]{8} <\w+\+0x[0-9a-f]+> at \.\/programs\/bugdemo\.c:\d+\n {3}\S+/);
    assert.match(text.stdout, /\ncall stack\n {2}#0 .*\n {2}#1 .*<main\+0x[0-9a-f]+> at \.\/programs\/bugdemo\.c:\d+\n/);
  });

  it('last-write finds a store into the range: the printed instruction writes there', () => {
    const r = cli('last-write', trace, 'cal', '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { range: [number, number]; write: { icount: number; pc: number; state: SeekJson } };
    const s = j.write.state;
    assert.equal(s.icount, j.write.icount);
    const m = /^(sw|sh|sb)\t(\w+),(-?\d+)\((\w+)\)$/.exec(s.instruction);
    assert.ok(m, s.instruction);
    const addr = (s.registers[m[4]] + Number(m[3])) >>> 0;
    const size = { sw: 4, sh: 2, sb: 1 }[m[1] as 'sw' | 'sh' | 'sb'];
    assert.ok(addr < j.range[1] && addr + size > j.range[0], `${s.instruction} writes 0x${addr.toString(16)}, outside ${j.range.map((x) => x.toString(16))}`);
    // Nothing wrote the range after it: asking again from just after that store finds the same one.
    const again = JSON.parse(cli('last-write', trace, 'cal', '--before', String(j.write.icount + 1), '--json').stdout);
    assert.equal(again.write.icount, j.write.icount);
    const none = cli('last-write', trace, 'cal', '--before', '0');
    assert.match(none.stdout, /^no write to 0x[0-9a-f]+\.\.0x[0-9a-f]+ \(cal\) before icount 0\n$/);
  });

  it('a recording holds time-travel snapshots, so a reopened one seeks from them: same states as a straight replay', () => {
    const long = path.join(dir, 'marathon.rwtrace');
    assert.equal(cli('record', bin('marathon-O2.elf'), '-o', long).code, 0);
    const reader = new RwtraceReader(new FileSource(long));
    const spilled = readSpilledSnapshots(reader, long);
    const events = readEvents(reader, long);
    // One at the start, then one at least every 64 M instructions of the 1.01 G-instruction run.
    assert.equal(spilled[0].icount, 0);
    assert.ok(spilled.length >= 12, `${spilled.length} snapshots`);
    for (let i = 1; i < spilled.length; i++) assert.ok(spilled[i].icount - spilled[i - 1].icount >= 64_000_000);
    const elf = fs.readFileSync(bin('marathon-O2.elf'));
    const tt = new TimeTravel({ elf, machine: { ramMiB: 128, harts: 1, shift: 0 }, events, endIcount: 1_011_559_396, snapshots: spilled });
    // The store starts with them: the first seek far out restores the nearest instead of replaying from 0.
    assert.deepEqual(tt.store.icounts(), spilled.map((x) => x.icount));
    for (const at of [300_000_001, 70_000_000, 5]) {
      tt.seek(at);
      const m = new Machine({ replay: { mode: 'replay', events } });
      m.loadElf(elf);
      m.run(at);
      assert.equal(stateHash(tt.machine), stateHash(m), `seek(${at})`);
    }
    // loadvm snapshots (--snapshot-at) are another kind: --from-snapshot does not mistake these for them.
    assertOneLineError(cli('replay', long, '--from-snapshot', '0'), /^rewind: .* has no snapshot 0 \(it has none\)$/);
  });

  it('bad requests are one-line errors', () => {
    assertOneLineError(cli('seek', trace, '999999999999'), /^rewind: icount 999999999999 is past the end of the recording \(\d+\)$/);
    assertOneLineError(cli('seek', trace), /^rewind: expected a recording and an instruction count/);
    assertOneLineError(cli('last-write', trace, 'no_such_symbol'), /^rewind: 'no_such_symbol' is neither an address nor a symbol of the guest$/);
    assertOneLineError(cli('seek', trace, '10', '--elf', bin('hello-O2.elf')), /^rewind: .*hello-O2\.elf is not the guest .*bugdemo\.rwtrace was recorded with \(sha256 [0-9a-f]{12}\.\.\., recorded [0-9a-f]{12}\.\.\.\)$/);
    assertOneLineError(cli('seek', path.join(dir, 'missing.rwtrace'), '10'), /^rewind: cannot read .*missing\.rwtrace/);
  });
});
