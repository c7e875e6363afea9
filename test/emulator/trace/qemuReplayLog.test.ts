/**
 * The QEMU replay-log reader: real QEMU 7.2 logs (fixtures and fresh recordings), a hand-built
 * log with every event id of every layout, and damaged logs (cut, flipped, killed, unknown).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RewindError } from '../../../emulator/errors';
import { ReplayEvent } from '../../../emulator/replay/replayEvent';
import { decodeQemuReplayLog, isQemuReplayLog, QemuReplayLayout } from '../../../emulator/trace/qemuReplayLog';
import { assembleProgram } from '../../support/assemble';
import { QEMU, QEMU_INSTALL } from '../../support/qemu';
import { ensureCliBuilt, REPO_ROOT, runRewind } from '../../support/rewindCli';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
const LOGS = ['hello', 'serial-input', 'bench-shift0'].map((n) => `${n}.replay.bin`);

interface Expected {
  bytes: number; version: string | null; events: number; instructions: number;
  byType: Record<string, number>; decodedBytes: number; headerMissing?: boolean; problemOffset?: number;
}
function expectedOf(dir: string): Record<string, Expected> {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, dir, 'expected.json'), 'utf8')) as Record<string, Expected>;
}
const fixture = (dir: string, name: string) => new Uint8Array(fs.readFileSync(path.join(FIXTURES, dir, name)));

function countByName(events: ReplayEvent[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const e of events) by[e.name] = (by[e.name] ?? 0) + 1;
  return Object.fromEntries(Object.entries(by).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The same decoding a reader must give whatever the file: consistent numbering, offsets and icounts. */
function assertConsistent(events: ReplayEvent[], instructions: number): void {
  let sum = 0;
  events.forEach((e, i) => {
    assert.equal(e.index, i);
    if (e.kind === 'instruction') sum += e.data!.instructions as number;
    assert.equal(e.icount, sum);
    if (i > 0) assert.ok(e.offset > events[i - 1].offset);
  });
  assert.equal(instructions, sum);
}

// ---- a tiny log builder: big-endian, as replay/replay-internal.c writes -----------------------
class Log {
  readonly b: number[] = [];
  constructor(version = 0xe0200c) { this.u32(version).u32(0).u32(0); }
  u8(...v: number[]): this { this.b.push(...v.map((x) => x & 0xff)); return this; }
  u32(v: number): this { return this.u8(v >>> 24, v >>> 16, v >>> 8, v); }
  u64(v: bigint | number): this { const x = BigInt.asUintN(64, BigInt(v)); return this.u32(Number(x >> 32n)).u32(Number(x & 0xffffffffn)); }
  arr(bytes: number[]): this { return this.u32(bytes.length).u8(...bytes); }
  get bytes(): Uint8Array { return Uint8Array.from(this.b); }
}

type Data = NonNullable<ReplayEvent['data']>;
interface Case { name: string; write: (l: Log) => void; data?: Data }

/** Payload cases for the seven async kinds (ReplayAsyncEventKind order), with the values they decode to. */
const ASYNC_CASES: Case[][] = [
  [{ name: 'BH', write: (l) => l.u64(123456789), data: { id: 123456789 } }],
  [{ name: 'BH_ONESHOT', write: (l) => l.u64(2n ** 60n), data: { id: String(2n ** 60n) } }],
  [
    { name: 'INPUT', write: (l) => l.u32(0).u32(0).u64(0x1e).u8(1), data: { input: 'key', keyKind: 'number', key: 0x1e, down: 1 } },
    { name: 'INPUT', write: (l) => l.u32(0).u32(1).u32(42).u8(0), data: { input: 'key', keyKind: 'qcode', key: 42, down: 0 } },
    { name: 'INPUT', write: (l) => l.u32(1).u32(2).u8(1), data: { input: 'btn', button: 2, buttonName: 'right', down: 1 } },
    { name: 'INPUT', write: (l) => l.u32(2).u32(1).u64(-5), data: { input: 'rel', axis: 1, axisName: 'y', value: -5 } },
    { name: 'INPUT', write: (l) => l.u32(3).u32(0).u64(0x7fff), data: { input: 'abs', axis: 0, axisName: 'x', value: 0x7fff } },
    {
      name: 'INPUT', write: (l) => l.u32(4).u32(4).u64(3).u64(-1).u32(1).u64(900),
      data: { input: 'mtt', type: 4, typeName: 'data', slot: 3, trackingId: -1, axis: 1, axisName: 'y', value: 900 },
    },
  ],
  [{ name: 'INPUT_SYNC', write: () => undefined }],
  [{ name: 'CHAR_READ', write: (l) => l.u8(2).arr([0x68, 0x69]), data: { device: 2, bytes: [0x68, 0x69] } }],
  [{ name: 'BLOCK', write: (l) => l.u64(77), data: { id: 77 } }],
  [{ name: 'NET', write: (l) => l.u8(1).u32(1).arr([1, 2, 3]), data: { filter: 1, flags: 1, bytes: [1, 2, 3] } }],
];
const CAUSES = ['NONE', 'HOST_ERROR', 'HOST_QMP_QUIT', 'HOST_QMP_SYSTEM_RESET', 'HOST_SIGNAL', 'HOST_UI',
  'GUEST_SHUTDOWN', 'GUEST_RESET', 'GUEST_PANIC', 'SUBSYSTEM_RESET', 'SNAPSHOT_LOAD'];
const CPS = ['CLOCK_WARP_START', 'CLOCK_WARP_ACCOUNT', 'RESET_REQUESTED', 'SUSPEND_REQUESTED', 'CLOCK_VIRTUAL',
  'CLOCK_HOST', 'CLOCK_VIRTUAL_RT', 'INIT', 'RESET'];
/** From EVENT_CHAR_WRITE on, every layout has the same run of events. */
const TAIL: Case[] = [
  { name: 'CHAR_WRITE', write: (l) => l.u32(1).u32(1), data: { result: 1, offset: 1 } },
  { name: 'CHAR_READ_ALL', write: (l) => l.arr([0x6f, 0x6b]), data: { bytes: [0x6f, 0x6b] } },
  { name: 'CHAR_READ_ALL_ERROR', write: (l) => l.u32(-11), data: { error: -11 } },
  { name: 'AUDIO_OUT', write: (l) => l.u64(4096), data: { played: 4096 } },
  { name: 'AUDIO_IN', write: (l) => l.u64(2).u64(7).u64(1).u64(3).u64(-2).u64(4), data: { recorded: 2, wpos: 7, left: [1, -2], right: [3, 4] } },
  { name: 'RANDOM', write: (l) => l.u32(0).arr([9, 8, 7, 6]), data: { result: 0, bytes: [9, 8, 7, 6] } },
  { name: 'CLOCK_HOST', write: (l) => l.u64(1795640154054204000n), data: { value: '1795640154054204000' } },
  { name: 'CLOCK_VIRTUAL_RT', write: (l) => l.u64(558781), data: { value: 558781 } },
];

interface LayoutIds { layout: QemuReplayLayout; version: number; asyncIds: boolean; shutdown: number; causes: number; charWrite: number; end: number }
// Ids as shared/reference/qemu-replay.md lists them.
const LAYOUT_IDS: LayoutIds[] = [
  { layout: '7.2+', version: 0xe0200c, asyncIds: true, shutdown: 10, causes: 11, charWrite: 22, end: 39 },
  { layout: '7.1', version: 0xe0200c, asyncIds: true, shutdown: 10, causes: 10, charWrite: 21, end: 38 },
  { layout: '5.1-7.0', version: 0xe0200a, asyncIds: false, shutdown: 4, causes: 10, charWrite: 15, end: 32 },
];

/** Every event id of a layout once (input kinds and async kinds in every variant), with what each must decode to. */
function everyEvent(ids: LayoutIds): { log: Log; want: { id: number; name: string; data?: Data; icount: number }[] } {
  const log = new Log(ids.version);
  const want: { id: number; name: string; data?: Data; icount: number }[] = [];
  let icount = 0;
  const add = (id: number, name: string, c?: Case, extra?: Data) => {
    log.u8(id);
    c?.write(log);
    want.push({ id, name: `EVENT_${name}`, data: c?.data || extra ? { ...extra, ...c?.data } : undefined, icount });
  };
  icount += 0xffffffff;
  add(0, 'INSTRUCTION', { name: '', write: (l) => l.u32(0xffffffff), data: { instructions: 0xffffffff } });
  add(1, 'INTERRUPT');
  add(2, 'EXCEPTION');
  ASYNC_CASES.forEach((cases, kind) => cases.forEach((c) => {
    if (ids.asyncIds) return add(3 + kind, `ASYNC_${c.name}`, c);
    // 5.1–7.0: one EVENT_ASYNC id, then the checkpoint byte and the kind byte.
    add(3, `ASYNC_${c.name}`, { name: c.name, write: (l) => { l.u8(1, kind); c.write(l); }, data: c.data }, { checkpoint: 'CLOCK_WARP_ACCOUNT' });
  }));
  for (let i = 0; i < ids.causes; i++) add(ids.shutdown + i, `SHUTDOWN_${CAUSES[i]}`, undefined, { cause: CAUSES[i].toLowerCase().replace(/_/g, '-') });
  TAIL.forEach((c, i) => add(ids.charWrite + i, c.name, c));
  CPS.forEach((cp, i) => add(ids.charWrite + TAIL.length + i, `CP_${cp}`));
  add(ids.end, 'END');
  return { log, want };
}

describe('QEMU replay log reader', () => {
  const expected = expectedOf('qemu-7.2');

  describe('real QEMU 7.2 logs', () => {
    for (const file of LOGS) {
      it(`${file}: decodes every byte with the expected event counts and instruction total`, () => {
        const exp = expected[file];
        const bytes = fixture('qemu-7.2', file);
        assert.equal(bytes.length, exp.bytes);
        assert.ok(isQemuReplayLog(bytes));
        const log = decodeQemuReplayLog(bytes);
        assert.equal(log.problem, undefined);
        assert.equal('0x' + log.version.toString(16), exp.version);
        assert.deepEqual([log.layout, log.layoutSource, log.headerMissing], ['7.2+', 'default', false]);
        assert.equal(log.events.length, exp.events);
        assert.deepEqual(countByName(log.events), countByName(Object.entries(exp.byType).flatMap(([name, n]) => Array.from({ length: n }, () => ({ name }) as ReplayEvent))));
        assert.equal(log.instructions, exp.instructions);
        assert.equal(log.decodedBytes, exp.decodedBytes);
        assertConsistent(log.events, log.instructions);
      });
    }

    it('decodes the serial input bytes QEMU delivered as ASYNC_CHAR_READ events', () => {
      const log = decodeQemuReplayLog(fixture('qemu-7.2', 'serial-input.replay.bin'));
      const reads = log.events.filter((e) => e.name === 'EVENT_ASYNC_CHAR_READ');
      assert.deepEqual(reads.map((e) => e.data), ['a', 'b', 'c'].map((ch) => ({ device: 0, bytes: [ch.charCodeAt(0)] })));
      assert.ok(reads.every((e) => e.kind === 'async'));
    });

    it('decodes a recording QEMU was killed in: all-zero header, events up to the last flush', () => {
      const exp = expectedOf('qemu-7.2-killed')['spin-killed.replay.bin'];
      const bytes = fixture('qemu-7.2-killed', 'spin-killed.replay.bin');
      assert.ok(isQemuReplayLog(bytes));
      const log = decodeQemuReplayLog(bytes);
      assert.deepEqual([log.version, log.headerMissing, log.layout, log.layoutSource], [0, true, '7.2+', 'default']);
      assert.equal(log.events.length, exp.events);
      assert.equal(log.instructions, exp.instructions);
      assert.deepEqual(countByName(log.events), exp.byType);
      assert.equal(log.problem?.offset, exp.problemOffset);
      assert.equal(log.problem?.events, exp.events);
      assert.match(log.problem!.message, /the file ends inside EVENT_\w+ at offset \d+/);
    });
  });

  describe('every event id of every layout', () => {
    for (const ids of LAYOUT_IDS) {
      it(`layout ${ids.layout}: decodes each id with its payload values, including those replay-dump.py cannot`, () => {
        const { log, want } = everyEvent(ids);
        const r = decodeQemuReplayLog(log.bytes, ids.layout === '7.1' ? { layout: '7.1' } : {});
        assert.equal(r.problem, undefined, r.problem?.message);
        assert.equal(r.layout, ids.layout);
        assert.equal(r.layoutSource, ids.layout === '7.1' ? 'option' : ids.layout === '5.1-7.0' ? 'header' : 'default');
        assert.equal(r.decodedBytes, log.b.length);
        assert.deepEqual(r.events.map((e) => ({ id: log.b[e.offset], name: e.name, data: e.data, icount: e.icount })), want);
        assert.equal(r.instructions, 0xffffffff);
        const idCount = new Set(want.map((w) => w.id)).size;
        assert.equal(idCount, ids.end, 'every id but the reserved EVENT_SHUTDOWN_LAST');
      });
    }

    it('places RANDOM, the clocks and the checkpoints where each release puts them', () => {
      const idOf = (ids: LayoutIds, name: string) => everyEvent(ids).want.find((w) => w.name === name)!.id;
      assert.deepEqual(LAYOUT_IDS.map((ids) => idOf(ids, 'EVENT_RANDOM')), [27, 26, 20]);
      assert.deepEqual(LAYOUT_IDS.map((ids) => idOf(ids, 'EVENT_CLOCK_HOST')), [28, 27, 21]);
      assert.deepEqual(LAYOUT_IDS.map((ids) => idOf(ids, 'EVENT_CP_CLOCK_WARP_START')), [30, 29, 23]);
      assert.deepEqual(LAYOUT_IDS.map((ids) => idOf(ids, 'EVENT_SHUTDOWN_HOST_SIGNAL')), [14, 14, 8]);
    });

    it('suggests layout 7.1 for a 7.1 log read with the default 7.2+ ids, and decodes it when asked', () => {
      const { log } = everyEvent(LAYOUT_IDS[1]);
      const r = decodeQemuReplayLog(log.bytes);
      assert.match(r.problem!.message, /^event id 21 at offset \d+ is reserved in layout 7\.2\+/);
      assert.equal(r.betterLayout, '7.1');
      assert.equal(decodeQemuReplayLog(log.bytes, { layout: '7.1' }).problem, undefined);
    });
  });

  describe('damaged and foreign files', () => {
    it('decodes a log whose header is all zero with the 7.2+ ids, or the layout the caller picks', () => {
      const bytes = fixture('qemu-7.2', 'hello.replay.bin').slice();
      bytes.fill(0, 0, 12);
      assert.ok(isQemuReplayLog(bytes));
      const log = decodeQemuReplayLog(bytes);
      assert.deepEqual([log.version, log.headerMissing, log.layoutSource, log.problem], [0, true, 'default', undefined]);
      assert.equal(log.events.length, expected['hello.replay.bin'].events);
      const old = everyEvent(LAYOUT_IDS[2]).log.bytes;
      old.fill(0, 0, 4);
      const r = decodeQemuReplayLog(old, { layout: '5.1-7.0' });
      assert.deepEqual([r.headerMissing, r.layout, r.layoutSource, r.problem], [true, '5.1-7.0', 'option', undefined]);
      assert.equal(decodeQemuReplayLog(old).betterLayout, '5.1-7.0');
    });

    for (const file of LOGS) {
      it(`${file} cut at every byte offset: the prefix decodes and the problem is at the cut event`, () => {
        const bytes = fixture('qemu-7.2', file);
        const full = decodeQemuReplayLog(bytes).events;
        const ends = full.map((e, i) => (i + 1 < full.length ? full[i + 1].offset : bytes.length));
        for (let len = 0; len < bytes.length; len++) {
          const r = decodeQemuReplayLog(bytes.subarray(0, len));
          const n = len < 12 ? 0 : ends.filter((end) => end <= len).length;
          const at = len < 12 ? 0 : n < full.length && full[n].offset < len ? full[n].offset : len;
          assert.ok(r.problem, `cut at ${len}: no problem reported`);
          assert.deepEqual([r.problem.offset, r.problem.events, r.events.length, r.decodedBytes], [at, n, n, at], `cut at ${len}: ${r.problem.message}`);
          if (n > 0) assert.deepEqual(r.events[n - 1], full[n - 1]);
          assert.equal(r.instructions, n > 0 ? full[n - 1].icount : 0);
        }
      });
    }

    it('survives bytes flipped at random (seeded): no exception but RewindError, no hang, consistent prefix', () => {
      let seed = 0x5eed1234;
      const rand = () => { // mulberry32
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
      };
      const sources = [...LOGS.map((f) => fixture('qemu-7.2', f)), ...LAYOUT_IDS.map((ids) => everyEvent(ids).log.bytes)];
      let reported = 0;
      for (let i = 0; i < 3000; i++) {
        const bytes = sources[i % sources.length].slice();
        for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) bytes[Math.floor(rand() * bytes.length)] ^= 1 + Math.floor(rand() * 255);
        try {
          const r = decodeQemuReplayLog(bytes);
          assertConsistent(r.events, r.instructions);
          if (r.problem) {
            reported++;
            assert.equal(r.problem.events, r.events.length);
            assert.ok(r.problem.offset >= (r.events.at(-1)?.offset ?? 0) && r.problem.offset <= bytes.length);
          }
        } catch (e) {
          if (!(e instanceof RewindError)) throw e;
        }
      }
      assert.ok(reported > 1000, `only ${reported} of 3000 damaged logs reported a problem`);
    });

    it('stops at absurd lengths and unknown values without reading or allocating past the end', () => {
      const stop = (l: Log) => decodeQemuReplayLog(l.bytes).problem!;
      assert.match(stop(new Log().u8(27).u32(0).u32(0xffffffff)).message, /^EVENT_RANDOM at offset 12 has an array of 4294967295 bytes at offset 17, but only 0 bytes are left/);
      assert.match(stop(new Log().u8(26).u64(2n ** 62n).u64(0)).message, /^EVENT_AUDIO_IN at offset 12 claims 4611686018427387904 recorded samples/);
      assert.match(stop(new Log().u8(5).u32(9)).message, /^EVENT_ASYNC_INPUT at offset 12 has unknown input event kind 9/);
      assert.match(stop(new Log().u8(5).u32(0).u32(2)).message, /unknown KeyValue kind 2/);
      assert.match(stop(new Log(0xe0200a).u8(3, 0, 7)).message, /^EVENT_ASYNC at offset 12 has unknown async event kind 7/);
      assert.deepEqual(stop(new Log().u8(1, 40)), { offset: 13, events: 1, message: 'unknown event id 40 at offset 13 (layout 7.2+ has ids 0–39)' });
      assert.deepEqual(stop(new Log().u8(39, 0, 0)), { offset: 13, events: 1, message: '2 unexpected bytes after EVENT_END at offset 12' });
      assert.match(stop(new Log()).message, /^the log ends at offset 12 after 0 events without EVENT_END/);
      assert.deepEqual(decodeQemuReplayLog(new Uint8Array(0)).problem, { offset: 0, events: 0, message: 'the file is empty' });
    });

    it('refuses an unknown version, a foreign file and a layout that contradicts the header, in one line', () => {
      const err = (bytes: Uint8Array, layout?: QemuReplayLayout) => {
        try { decodeQemuReplayLog(bytes, { layout }); } catch (e) { assert.ok(e instanceof RewindError); return e.message; }
        assert.fail('no error');
      };
      assert.equal(err(new Log(0xe02009).u8(32).bytes), 'QEMU replay log version 0xe02009 (QEMU 5.0) is not supported; Rewind reads versions 0xe0200c (QEMU 7.1–10.2) and 0xe0200a (QEMU 5.1–7.0)');
      assert.equal(err(new Log(0xe020ff).bytes), 'QEMU replay log version 0xe020ff is not supported; Rewind reads versions 0xe0200c (QEMU 7.1–10.2) and 0xe0200a (QEMU 5.1–7.0)');
      const elf = fs.readFileSync(path.join(REPO_ROOT, 'emulator', 'guest', 'bin', 'hello-O2.elf'));
      assert.equal(err(elf), 'not a QEMU replay log: it starts with 7f 45 4c 46, not a REPLAY_VERSION (00 e0 20 xx) or an all-zero header');
      assert.equal(err(new Log(0xe0200a).u8(32).bytes, '7.2+'), 'layout 7.2+ does not fit a version 0xe0200a log (QEMU 5.1–7.0); it has layout 5.1-7.0');
      assert.equal(isQemuReplayLog(elf), false);
      assert.equal(isQemuReplayLog(new Uint8Array(4096)), false, 'all zero: no plausible first event');
      assert.equal(isQemuReplayLog(new Uint8Array(0)), false);
    });
  });

  describe('fresh recordings with Debian QEMU', function () {
    this.timeout(300_000);
    let work: string;
    before(function () {
      if (spawnSync(QEMU, ['--version']).error) throw new Error(`${QEMU} is not installed; run: ${QEMU_INSTALL}`);
      ensureCliBuilt();
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-rr-'));
    });
    after(() => fs.rmSync(work, { recursive: true, force: true }));

    /** Records `image` as the brief says: output to files (pipes can deadlock rr=record), SIGKILL on timeout. */
    function record(image: string, name: string, timeoutMs = 60_000): { log: Uint8Array; out: Buffer; killed: boolean } {
      const rr = path.join(work, `${name}.replay.bin`);
      const outFile = path.join(work, `${name}.out`);
      const outFd = fs.openSync(outFile, 'w');
      const errFd = fs.openSync(path.join(work, `${name}.err`), 'w');
      const r = spawnSync(QEMU, ['-machine', 'virt', '-bios', 'none', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-net', 'none',
        '-icount', `shift=0,sleep=off,rr=record,rrfile=${rr}`, '-kernel', image], { stdio: ['ignore', outFd, errFd], timeout: timeoutMs, killSignal: 'SIGKILL' });
      fs.closeSync(outFd);
      fs.closeSync(errFd);
      const killed = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
      if (r.error && !killed) throw r.error;
      return { log: new Uint8Array(fs.readFileSync(rr)), out: fs.readFileSync(outFile), killed };
    }

    for (const guest of ['hello', 'timer', 'traps']) {
      it(`${guest}-O2: instruction total equals Rewind's count, one CHAR_WRITE per byte printed`, () => {
        const elf = path.join(REPO_ROOT, 'emulator', 'guest', 'bin', `${guest}-O2.elf`);
        const rec = record(elf, guest);
        assert.equal(rec.killed, false);
        const log = decodeQemuReplayLog(rec.log);
        assert.equal(log.problem, undefined, log.problem?.message);
        assert.equal(log.decodedBytes, rec.log.length);
        assert.deepEqual(log.events.slice(-2).map((e) => e.name), ['EVENT_SHUTDOWN_HOST_SIGNAL', 'EVENT_END']);
        const rewind = runRewind(elf);
        assert.equal(rewind.exitCode, 0, rewind.stderr);
        assert.equal(log.instructions, rewind.instructions);
        assert.equal(log.events.filter((e) => e.kind === 'char-write').length, rec.out.length);
        if (guest === 'timer') assert.ok(log.events.some((e) => e.name === 'EVENT_INTERRUPT'));
        if (guest === 'traps') assert.ok(log.events.some((e) => e.name === 'EVENT_EXCEPTION'));
      });
    }

    it('a recording killed mid-run: header missing, every flushed event decoded, stops inside the last one', () => {
      const image = path.join(work, 'spin.bin');
      fs.writeFileSync(image, assembleProgram(fs.readFileSync(path.join(FIXTURES, 'qemu-7.2-killed', 'spin.s'), 'utf8'), { prelude: false }).bytes);
      const rec = record(image, 'spin', 2000);
      assert.equal(rec.killed, true);
      assert.equal(rec.out.length, 600);
      const log = decodeQemuReplayLog(rec.log);
      assert.equal(log.headerMissing, true);
      assert.ok(log.problem && log.problem.offset >= rec.log.length - 12, log.problem?.message);
      const writes = log.events.filter((e) => e.kind === 'char-write').length;
      assert.ok(writes > 0 && writes <= 600, `${writes} CHAR_WRITE events`);
    });
  });
});
