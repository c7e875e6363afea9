import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RewindError } from '../../../emulator/errors';
import type { LockOp } from '../../../emulator/threads/lockOp';
import { ByteSink, ByteSource, FileSink, FileSource, MemorySource } from '../../../emulator/trace/fileAccess';
import { CHUNK_HEADER_SIZE, ChunkInfo, ChunkType, encodeChunk, FILE_HEADER_SIZE } from '../../../emulator/trace/rwtraceFormat';
import { lockChunksFor, LockStreamWriter, LockWindow, readLockOps } from '../../../emulator/trace/rwtraceLocks';
import { appendMarks, Mark, readMarks } from '../../../emulator/trace/rwtraceMarks';
import { RwtraceReader } from '../../../emulator/trace/rwtraceReader';
import { RwtraceWriter } from '../../../emulator/trace/rwtraceWriter';
import { writeLockRecording, LockRecording } from '../../support/lockRecording';

/** Counts the reads that go past a chunk header: payload reads. */
class CountingSource implements ByteSource {
  payloadReads: number[] = [];
  constructor(private readonly inner: ByteSource) {}
  get size(): number { return this.inner.size; }
  read(offset: number, length: number): Uint8Array {
    if (length !== CHUNK_HEADER_SIZE && length !== FILE_HEADER_SIZE) this.payloadReads.push(offset);
    return this.inner.read(offset, length);
  }
  close(): void { this.inner.close(); }
}

class MemorySink implements ByteSink {
  parts: Uint8Array[] = [];
  append(b: Uint8Array): void { this.parts.push(b.slice()); }
  close(): void {}
  bytes(): Uint8Array { return Buffer.concat(this.parts); }
}

/** The file rebuilt chunk by chunk, renumbered; `edit` may drop a chunk (null) or change its payload. */
function rebuild(bytes: Uint8Array, edit: (c: ChunkInfo, payload: Uint8Array) => Uint8Array | null): Uint8Array {
  const r = new RwtraceReader(new MemorySource(bytes));
  const parts: Uint8Array[] = [bytes.subarray(0, FILE_HEADER_SIZE)];
  let seq = 0;
  for (const c of r.chunks) {
    const p = edit(c, r.payload(c));
    if (p) parts.push(encodeChunk({ type: c.type, flags: c.flags, sequence: seq++, firstIcount: c.firstIcount, lastIcount: c.lastIcount, firstItem: c.firstItem, itemCount: c.itemCount }, p));
  }
  return Buffer.concat(parts);
}

function corruptionMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RewindError, String(e));
    assert.equal(e.code, 'TRACE_CORRUPT');
    assert.ok(!e.message.includes('\n'), e.message);
    return e.message;
  }
  assert.fail('no error');
}

describe('.rwtrace LOCKS and MARKS streams', () => {
  let dir: string;
  let file: string;
  let rec: LockRecording;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-rwlocks-'));
    file = path.join(dir, 'run.rwtrace');
    rec = writeLockRecording(file, { lockChunkBytes: 200, lockTrace: 'full', divergence: true });
  });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  it('round-trips every op exactly (index, thread, lock, action, site, icount, step, violation) across many chunks', () => {
    const r = new RwtraceReader(new FileSource(file));
    assert.ok(r.stream(ChunkType.LOCKS).length >= 10, `${r.stream(ChunkType.LOCKS).length} chunks`);
    assert.deepEqual(readLockOps(r, file), rec.ops);
    assert.equal(rec.ops.filter((o) => o.violation !== undefined).length, 1);
    r.close();
  });

  it('round-trips the edge cases: index gaps, icount and step going down, no icount/step, host time, big icounts, UTF-8 names', () => {
    const ops: LockOp[] = [
      { index: 5, thread: 'vcpu0', lock: 'replay', action: 'wait', site: 'cpus:rr', icount: 2 ** 40 + 3, step: 9 },
      { index: 6, thread: 'vcpu0', lock: 'replay', action: 'acquired', site: 'cpus:rr', icount: 2 ** 40 + 3, step: 9 },
      { index: 9, thread: 'main-loop', lock: '0x5600000013e0', action: 'wait', site: 'main-loop.c:311', time: 1795600000.123456 },
      { index: 10, thread: 'vcpu0', lock: 'replay', action: 'released', site: 'cpus:rr', icount: 2 ** 40 + 1, step: 4, violation: 'icount went backwards — ärger' },
      { index: 8, thread: 'tråd', lock: 'bql', action: 'acquired', site: 'ünï:cödé', icount: 0, step: 0 },
      { index: 11, thread: 'tråd', lock: 'bql', action: 'released', site: 'ünï:cödé', step: 2 ** 33 },
    ];
    const sink = new MemorySink();
    const w = new RwtraceWriter(sink, { format: 'test' });
    const s = new LockStreamWriter(w, { maxBytes: 1 << 20, maxAgeMs: 1e9 });
    ops.forEach((op) => s.append({ ...op }));
    s.flush();
    w.close(0);
    assert.deepEqual(readLockOps(new RwtraceReader(new MemorySource(sink.bytes())), 'edge'), ops);
  });

  it('takes a few bytes per op', () => {
    const f = path.join(dir, 'big-chunks.rwtrace');
    const big = writeLockRecording(f, { rounds: 400 });
    const r = new RwtraceReader(new FileSource(f));
    const bytes = r.stream(ChunkType.LOCKS).reduce((n, c) => n + c.length, 0);
    const perOp = bytes / big.ops.length;
    assert.ok(perOp < 4.5, `${perOp.toFixed(2)} bytes per op`);
    assert.deepEqual(readLockOps(r, f), big.ops);
    r.close();
  });

  describe('window queries read only the chunks they need and return exactly the ops in the window', () => {
    const windows: [string, (ops: LockOp[]) => LockWindow][] = [
      ['an index range in the middle', (ops) => ({ fromIndex: Math.floor(ops.length / 3), toIndex: Math.floor(ops.length / 3) + 25 })],
      ['from an index to the end', (ops) => ({ fromIndex: ops.length - 10 })],
      ['an icount range', (ops) => ({ fromIcount: ops[100].icount! + 1, toIcount: ops[160].icount! })],
      ['an icount range and an index range together', (ops) => ({ fromIcount: ops[50].icount, toIcount: ops[300].icount, fromIndex: 120, toIndex: 140 })],
      ['an icount range holding no op', (ops) => ({ fromIcount: ops[ops.length - 1].icount! + 1 })],
    ];
    for (const [name, make] of windows) {
      it(name, () => {
        const src = new CountingSource(new FileSource(file));
        const r = new RwtraceReader(src);
        const metaReads = src.payloadReads.length;
        const w = make(rec.ops);
        const want = rec.ops.filter((o) => (w.fromIndex === undefined || o.index >= w.fromIndex) && (w.toIndex === undefined || o.index <= w.toIndex)
          && (w.fromIcount === undefined || o.icount! >= w.fromIcount) && (w.toIcount === undefined || o.icount! <= w.toIcount));
        assert.deepEqual(readLockOps(r, file, w), want);
        const reads = src.payloadReads.length - metaReads;
        const all = r.stream(ChunkType.LOCKS);
        const holding = all.filter((c) => want.some((o) => o.index >= c.firstItem && o.index < c.firstItem + c.itemCount));
        assert.ok(reads < all.length, `${reads} of ${all.length} chunks read`);
        assert.ok(reads >= holding.length && reads <= holding.length + 2, `${reads} chunks read for ${holding.length} holding the window`);
        assert.equal(reads, lockChunksFor(r, w).length);
        r.close();
      });
    }
  });

  it('decodes each chunk on its own: with the first LOCKS chunk dropped, the others still read back', () => {
    let first: ChunkInfo | undefined;
    const cut = rebuild(fs.readFileSync(file), (c, p) => {
      if (c.type === ChunkType.LOCKS && !first) {
        first = c;
        return null;
      }
      return p;
    });
    const r = new RwtraceReader(new MemorySource(cut));
    assert.ok(first && first.itemCount > 0);
    assert.deepEqual(readLockOps(r, 'cut'), rec.ops.slice(first.itemCount));
  });

  it('says in one line which chunk is malformed and where', () => {
    let target: ChunkInfo | undefined;
    const bytes = fs.readFileSync(file);
    const nth = (n: number) => (c: ChunkInfo, p: Uint8Array, change: (p: Uint8Array) => Uint8Array) => {
      if (c.type !== ChunkType.LOCKS || c.sequence !== n) return p;
      target = c;
      return change(Uint8Array.from(p)); // a copy: p may be a view of the file bytes (Buffer.slice does not copy)
    };
    const locks = new RwtraceReader(new MemorySource(bytes)).stream(ChunkType.LOCKS);
    const third = locks[2].sequence;

    const cutShort = new RwtraceReader(new MemorySource(rebuild(bytes, (c, p) => nth(third)(c, p, (q) => q.subarray(0, q.length - 1)))));
    assert.match(corruptionMessage(() => readLockOps(cutShort, 'run.rwtrace')), new RegExp(`^run\\.rwtrace: locks chunk ${target!.sequence} at offset 0x${target!.offset.toString(16)}: (op cut short|\\d+ ops where the chunk header says \\d+) at offset 0x[0-9a-f]+$`));

    const badKey = new RwtraceReader(new MemorySource(rebuild(bytes, (c, p) => nth(third)(c, p, (q) => { q[0] = 9 * 4; return q; }))));
    const msg = corruptionMessage(() => readLockOps(badKey, 'run.rwtrace'));
    assert.match(msg, /: locks chunk \d+ at offset 0x[0-9a-f]+: op key 9 used before it is defined at offset 0x[0-9a-f]+$/);
    // The bad byte is the chunk's first payload byte.
    assert.ok(msg.endsWith(`at offset 0x${(target!.offset + CHUNK_HEADER_SIZE).toString(16)}`), msg);

    const tooMany = new RwtraceReader(new MemorySource(rebuild(bytes, (c, p) => nth(third)(c, p, (q) => Buffer.concat([q, q.subarray(0, 1)])))));
    assert.match(corruptionMessage(() => readLockOps(tooMany, 'run.rwtrace')), /more ops than the \d+ the chunk header says|cut short/);

    // A window that avoids the damaged chunk still reads.
    assert.deepEqual(readLockOps(badKey, 'run.rwtrace', { toIndex: 3 }), rec.ops.slice(0, 4));

    const flipped = Buffer.from(bytes);
    flipped[locks[1].offset + CHUNK_HEADER_SIZE + 3] ^= 0x40;
    assert.match(corruptionMessage(() => readLockOps(new RwtraceReader(new MemorySource(flipped)), 'run.rwtrace')), new RegExp(`chunk ${locks[1].sequence} at offset 0x${locks[1].offset.toString(16)}: checksum mismatch`));
  });

  it('round-trips marks, and indexes their chunk by icount and count', () => {
    const r = new RwtraceReader(new FileSource(file));
    assert.deepEqual(readMarks(r, file), rec.marks);
    const [c] = r.stream(ChunkType.MARKS);
    assert.equal(c.itemCount, rec.marks.length);
    assert.equal(c.firstIcount, Math.min(...rec.marks.map((m) => m.icount)));
    assert.equal(c.lastIcount, Math.max(...rec.marks.map((m) => m.icount)));
    r.close();
  });

  it('reads marks from several MARKS chunks in order, writes none for no marks, and reports a malformed one', () => {
    const sink = new MemorySink();
    const w = new RwtraceWriter(sink, { format: 'test' });
    const a: Mark[] = [{ kind: 'divergence', icount: 90, message: 'first' }];
    const b: Mark[] = [{ kind: 'violation', icount: 10, lockOp: 3, message: 'second' }, { kind: 'divergence', icount: 20, eventIndex: 2, message: 'third' }];
    appendMarks(w, a);
    appendMarks(w, []);
    appendMarks(w, b);
    w.append(ChunkType.MARKS, new TextEncoder().encode('{"marks":[{"kind":"violation","icount":"soon","message":"x"}]}'), { firstIcount: 0, lastIcount: 0, firstItem: 0, itemCount: 1 });
    w.close(100);
    const r = new RwtraceReader(new MemorySource(sink.bytes()));
    assert.equal(r.stream(ChunkType.MARKS).length, 3);
    const bad = r.stream(ChunkType.MARKS)[2];
    assert.equal(corruptionMessage(() => readMarks(r, 't.rwtrace')), `t.rwtrace: marks chunk ${bad.sequence} at offset 0x${bad.offset.toString(16)}: mark 0: no icount`);
    const good = new RwtraceReader(new MemorySource(rebuild(sink.bytes(), (c, p) => (c.sequence === bad.sequence ? null : p))));
    assert.deepEqual(readMarks(good, 't'), [...a, ...b]);
  });

  it('writes a file a writer without locks reads as having no LOCKS stream', () => {
    const f = path.join(dir, 'off.rwtrace');
    const off = writeLockRecording(f, { withLocks: false, lockTrace: 'off' });
    const r = new RwtraceReader(new FileSource(f));
    assert.equal(r.stream(ChunkType.LOCKS).length, 0);
    assert.deepEqual(readLockOps(r, f), []);
    assert.deepEqual(readMarks(r, f), off.marks);
    r.close();
  });

  it('refuses ops the format cannot hold, as a bug in the caller', () => {
    const w = new RwtraceWriter(new FileSink(path.join(dir, 'refused.rwtrace')), { format: 'test' });
    const s = new LockStreamWriter(w);
    assert.throws(() => s.append({ index: 0, thread: 't', lock: 'bql', action: 'acquired', site: 's', icount: 1.5 }), /icount 1\.5, not an integer/);
    w.close(0);
  });
});
