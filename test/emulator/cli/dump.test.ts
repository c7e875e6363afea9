/**
 * `rewind dump` on QEMU replay logs, run as a user runs it (node dist/cli.js): JSON and text
 * output, filters, and one-line errors with exit 2 for damaged, foreign or unsupported files.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ReplayEvent } from '../../../emulator/replay/replayEvent';
import { ensureCliBuilt, REPO_ROOT, assertOneLineError, CliRun, runCli } from '../../support/rewindCli';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
const QEMU72 = path.join(FIXTURES, 'qemu-7.2');
const HELLO = path.join(QEMU72, 'hello.replay.bin');
const KILLED = path.join(FIXTURES, 'qemu-7.2-killed', 'spin-killed.replay.bin');

interface Expected { events: number; instructions: number; byType: Record<string, number> }
const expected = JSON.parse(fs.readFileSync(path.join(QEMU72, 'expected.json'), 'utf8')) as Record<string, Expected>;

interface DumpJson {
  file: string; format: string; version: string | null; layout: string; headerMissing: boolean;
  instructions: number; totalEvents: number; problem?: { offset: number; events: number; message: string };
  events: ReplayEvent[];
}
const dump = (...args: string[]): CliRun => runCli(['dump', ...args]);

function dumpJson(...args: string[]): DumpJson {
  const r = dump(...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout) as DumpJson;
}

/** Event lines of the text output (everything but the summary line). */
function eventLines(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('#'));
}

describe('rewind dump (QEMU replay logs)', function () {
  this.timeout(120_000);
  let work: string;
  const put = (name: string, data: string | Uint8Array) => {
    const f = path.join(work, name);
    fs.writeFileSync(f, data);
    return f;
  };

  before(function () {
    this.timeout(300_000);
    ensureCliBuilt();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-dump-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const [file, exp] of Object.entries(expected)) {
    it(`--json of ${file}: one document, one entry per event, the header excluded`, () => {
      const j = dumpJson(path.join(QEMU72, file));
      assert.deepEqual([j.format, j.version, j.layout, j.headerMissing, j.problem], ['qemu-replay-log', '0xe0200c', '7.2+', false, undefined]);
      assert.equal(j.events.length, exp.events);
      assert.equal(j.totalEvents, exp.events);
      assert.equal(j.instructions, exp.instructions);
      assert.deepEqual(j.events.map((e) => e.index), Array.from({ length: exp.events }, (_, i) => i));
      assert.equal(j.events[0].offset, 12);
    });
  }

  it('text output: one aligned line per event, then a summary naming the assumed layout', () => {
    const r = dump(HELLO);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, expected['hello.replay.bin'].events + 1);
    assert.match(lines[0], /^#0 +0 {2}EVENT_CLOCK_HOST +value=\d+$/);
    const nameColumn = new Set(lines.slice(0, -1).map((l) => l.indexOf('EVENT_')));
    assert.equal(nameColumn.size, 1, 'names start in one column');
    assert.match(lines.at(-1)!, /^577 events; 30360137 instructions; version 0xe0200c, layout 7\.2\+ assumed/);
  });

  it('--kind char-write (or EVENT_CHAR_WRITE) shows only those events', () => {
    const n = expected['hello.replay.bin'].byType.EVENT_CHAR_WRITE;
    const text = eventLines(dump(HELLO, '--kind', 'char-write').stdout);
    assert.equal(text.length, n);
    assert.ok(text.every((l) => / EVENT_CHAR_WRITE +result=1 offset=1$/.test(l)), text[0]);
    const j = dumpJson(HELLO, '--kind', 'EVENT_CHAR_WRITE');
    assert.equal(j.events.length, n);
    assert.ok(j.events.every((e) => e.kind === 'char-write'));
    assert.equal(j.totalEvents, expected['hello.replay.bin'].events);
    assert.equal(dumpJson(HELLO, '--kind', 'cp_clock_warp_account,async').events.length, expected['hello.replay.bin'].byType.EVENT_CP_CLOCK_WARP_ACCOUNT);
  });

  it('--from/--to select an inclusive window of the file\'s own event numbers, combinable with --kind', () => {
    assert.deepEqual(dumpJson(HELLO, '--from', '10', '--to', '20').events.map((e) => e.index), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    assert.deepEqual(eventLines(dump(HELLO, '--from', '570').stdout).map((l) => l.split(' ')[0]), ['#570', '#571', '#572', '#573', '#574', '#575', '#576']);
    const j = dumpJson(HELLO, '--from', '14', '--to', '21', '--kind', 'instruction');
    assert.deepEqual(j.events.map((e) => [e.index, e.name, e.icount]), [[17, 'EVENT_INSTRUCTION', 36], [19, 'EVENT_INSTRUCTION', 43], [21, 'EVENT_INSTRUCTION', 50]]);
    assert.match(dump(HELLO, '--from', '5', '--to', '6').stdout, /\n2 of 577 events shown; /);
  });

  it('a truncated file: prints the decoded prefix, then one line on stderr and exit 2', () => {
    const cut = put('cut.replay.bin', fs.readFileSync(HELLO).subarray(0, 3000));
    const r = dump(cut);
    const line = assertOneLineError(r, /^rewind: \S+cut\.replay\.bin: decoded 482 events \(2998 bytes\) then stopped at offset 2998: the file ends inside EVENT_INSTRUCTION at offset 2998 /, { stdoutAllowed: true });
    assert.ok(line.startsWith(`rewind: ${cut}: `));
    assert.equal(eventLines(r.stdout).length, 482);
    const j = dump(cut, '--json');
    assert.equal(j.code, 2);
    const doc = JSON.parse(j.stdout) as DumpJson;
    assert.deepEqual([doc.events.length, doc.problem?.offset, doc.problem?.events], [482, 2998, 482]);
  });

  it('a recording QEMU was killed in: says the header is missing, prints what was flushed, exit 2', () => {
    const r = dump(KILLED);
    assertOneLineError(r, /^rewind: \S+: decoded 1161 events \(8201 bytes\) then stopped at offset 8201: the file ends inside/, { stdoutAllowed: true });
    assert.match(r.stdout, /\n1161 events; 1738 instructions; header missing \(QEMU writes it when recording finishes\), layout 7\.2\+ assumed; /);
    const doc = JSON.parse(dump(KILLED, '--json').stdout) as DumpJson;
    assert.deepEqual([doc.version, doc.headerMissing, doc.events.length], [null, true, 1161]);
  });

  it('an all-zero header on an otherwise complete log: exit 0, header reported missing', () => {
    const bytes = fs.readFileSync(HELLO);
    bytes.fill(0, 0, 12);
    const j = dumpJson(put('noheader.replay.bin', bytes));
    assert.deepEqual([j.version, j.headerMissing, j.events.length], [null, true, expected['hello.replay.bin'].events]);
  });

  it('a file that is not a replay log, or empty, or missing: exit 2, one line, nothing on stdout', () => {
    for (const [f, pattern] of [
      [put('notes.txt', 'not a replay log\n'), /^rewind: \S+notes\.txt: not a QEMU replay log \(it starts with 6e 6f 74 20\); dump reads QEMU replay logs/],
      [path.join(REPO_ROOT, 'emulator', 'guest', 'bin', 'hello-O2.elf'), /: not a QEMU replay log \(it starts with 7f 45 4c 46\)/],
      [put('empty.replay.bin', ''), /: not a QEMU replay log \(the file is empty/],
      [path.join(work, 'missing.bin'), /^rewind: cannot read \S+missing\.bin: no such file$/],
    ] as const) {
      const r = dump(f);
      assertOneLineError(r, pattern);
      assert.equal(r.stdout, '');
    }
  });

  it('an unsupported version: exit 2 with the versions Rewind reads', () => {
    const old = Buffer.from(fs.readFileSync(HELLO));
    old.writeUInt32BE(0xe02009, 0);
    const f = put('old.replay.bin', old);
    assertOneLineError(dump(f), new RegExp(`^rewind: ${f.replace(/[.+]/g, '\\$&')}: QEMU replay log version 0xe02009 \\(QEMU 5\\.0\\) is not supported; Rewind reads versions 0xe0200c \\(QEMU 7\\.1–10\\.2\\) and 0xe0200a \\(QEMU 5\\.1–7\\.0\\)$`));
  });

  it('bad options: exit 2 with one usage line', () => {
    assertOneLineError(dump(HELLO, '--layout', '8.0'), /^rewind: --layout must be 7\.2\+, 7\.1, 5\.1-7\.0, not '8\.0'$/, { stdoutAllowed: true });
    assertOneLineError(dump(HELLO, '--kind', 'keyboard'), /^rewind: --kind 'keyboard' is neither an event kind/, { stdoutAllowed: true });
    assertOneLineError(dump(HELLO, '--from', '9', '--to', '3'), /^rewind: --from 9 is after --to 3$/, { stdoutAllowed: true });
    assertOneLineError(dump(HELLO, '--from', 'x'), /^rewind: --from needs an integer/, { stdoutAllowed: true });
    assertOneLineError(dump(), /^rewind: expected one file \(usage: rewind dump FILE/, { stdoutAllowed: true });
    assertOneLineError(dump(HELLO, '--layout', '5.1-7.0'), /: layout 5\.1-7\.0 does not fit a version 0xe0200c log/, { stdoutAllowed: true });
  });

  it('--layout 7.1 on a 7.2 log is honoured and its failure reported like any damage', () => {
    const r = dump(HELLO, '--layout', '7.1', '--json');
    assert.equal(r.code, 2);
    const doc = JSON.parse(r.stdout) as DumpJson;
    assert.equal(doc.layout, '7.1');
    assert.ok(doc.problem);
  });
});
