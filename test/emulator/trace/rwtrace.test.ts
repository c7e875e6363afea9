import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ByteSink, FileSource, MemorySource } from '../../../emulator/trace/fileAccess';
import { ChunkType } from '../../../emulator/trace/rwtraceFormat';
import { RwtraceReader } from '../../../emulator/trace/rwtraceReader';
import { ChunkBuffer, RwtraceWriter } from '../../../emulator/trace/rwtraceWriter';
import { RewindError } from '../../../emulator/errors';

class MemorySink implements ByteSink {
  parts: Uint8Array[] = [];
  append(b: Uint8Array): void { this.parts.push(b.slice()); }
  close(): void {}
  bytes(): Uint8Array { return Buffer.concat(this.parts); }
}

/** A finished trace of `n` 8-byte items (item i = i, icount 3·i) in chunks of `per` items. */
function sampleTrace(n: number, per: number): Uint8Array {
  const sink = new MemorySink();
  let t = 0;
  const w = new RwtraceWriter(sink, { guest: 'sample.elf', harts: 1 }, 1_700_000_000_000);
  const buf = new ChunkBuffer(w, ChunkType.EVENTS, per * 8, 1e9, () => t++);
  for (let i = 0; i < n; i++) {
    const item = new Uint8Array(8);
    new DataView(item.buffer).setUint32(0, i, true);
    buf.add(item, i, 3 * i);
  }
  buf.flush();
  w.close(3 * n);
  return sink.bytes();
}

function itemsOf(r: RwtraceReader): number[] {
  const out: number[] = [];
  for (const c of r.stream(ChunkType.EVENTS)) {
    const p = r.payload(c);
    for (let o = 0; o < p.length; o += 8) out.push(new DataView(p.buffer, p.byteOffset + o, 8).getUint32(0, true));
  }
  return out;
}

describe('.rwtrace container', () => {
  it('round-trips metadata and items, and says a closed recording finished', () => {
    const r = new RwtraceReader(new MemorySource(sampleTrace(1000, 64)));
    assert.deepEqual(r.meta, { guest: 'sample.elf', harts: 1 });
    assert.equal(r.createdMs, 1_700_000_000_000);
    assert.equal(r.finished, true);
    assert.equal(r.problem, undefined);
    assert.deepEqual(itemsOf(r), Array.from({ length: 1000 }, (_, i) => i));
    assert.equal(r.stream(ChunkType.EVENTS).length, Math.ceil(1000 / 64));
  });

  it('answers window queries from the headers: items N..M and icount ranges pick exactly the chunks holding them', () => {
    const r = new RwtraceReader(new MemorySource(sampleTrace(1000, 64)));
    const byItem = r.chunksForItems(ChunkType.EVENTS, 100, 200);
    assert.deepEqual(byItem.map((c) => c.firstItem), [64, 128, 192]);
    const byIcount = r.chunksForIcount(ChunkType.EVENTS, 3 * 640, 3 * 700);
    assert.deepEqual(byIcount.map((c) => c.firstItem), [640]);
  });

  it('opens a file cut at any byte: the complete chunks read back intact and the cut is reported', () => {
    const full = sampleTrace(200, 16);
    let opened = 0;
    for (let cut = 0; cut < full.length; cut++) {
      let r: RwtraceReader;
      try {
        r = new RwtraceReader(new MemorySource(full.subarray(0, cut)));
      } catch (e) {
        // Only a cut inside the file header or the metadata chunk makes the file unreadable.
        assert.ok(e instanceof RewindError, `cut ${cut}: ${e}`);
        assert.ok(cut < 32 + 48 + 64, `cut ${cut} refused: ${(e as Error).message}`);
        continue;
      }
      opened++;
      assert.equal(r.finished, false, `cut ${cut}`);
      assert.ok(r.problem, `cut ${cut} has no problem report`);
      const items = itemsOf(r);
      assert.deepEqual(items, Array.from({ length: items.length }, (_, i) => i), `cut ${cut}`);
    }
    assert.ok(opened > full.length - 200);
  });

  it('reports a damaged payload as a checksum error naming the chunk, and a damaged header as where reading stopped', () => {
    const bytes = sampleTrace(200, 16).slice();
    const r0 = new RwtraceReader(new MemorySource(bytes));
    const third = r0.stream(ChunkType.EVENTS)[2];
    const payloadDamaged = bytes.slice();
    payloadDamaged[third.offset + 48 + 5] ^= 0x40;
    const r1 = new RwtraceReader(new MemorySource(payloadDamaged));
    assert.throws(() => r1.payload(r1.stream(ChunkType.EVENTS)[2]), (e: unknown) => e instanceof RewindError && /chunk 3 at offset 0x[0-9a-f]+: checksum mismatch/.test(e.message));
    const headerDamaged = bytes.slice();
    headerDamaged[third.offset + 20] ^= 0x01;
    const r2 = new RwtraceReader(new MemorySource(headerDamaged));
    assert.equal(r2.problem?.offset, third.offset);
    assert.equal(r2.problem?.chunks, 3);
    assert.deepEqual(itemsOf(r2), Array.from({ length: 32 }, (_, i) => i));
  });

  it('refuses a file that is not a .rwtrace with one line', () => {
    assert.throws(() => new RwtraceReader(new MemorySource(new TextEncoder().encode('hello world, this is not a trace at all')), 'x.rwtrace'),
      (e: unknown) => e instanceof RewindError && e.message === 'x.rwtrace: not a .rwtrace file (bad magic)');
  });

  it('closes a chunk after the age limit even when it is small, so a crash loses at most that much', () => {
    const sink = new MemorySink();
    let now = 0;
    const w = new RwtraceWriter(sink, {}, 0);
    const buf = new ChunkBuffer(w, ChunkType.EVENTS, 1 << 20, 100, () => now);
    buf.add(new Uint8Array(8), 0, 0);
    now = 99;
    buf.add(new Uint8Array(8), 1, 1);
    assert.equal(sink.parts.length, 2); // header + meta: nothing flushed yet
    now = 100;
    buf.add(new Uint8Array(8), 2, 2);
    assert.equal(sink.parts.length, 3);
    const r = new RwtraceReader(new MemorySource(sink.bytes()));
    assert.equal(r.stream(ChunkType.EVENTS)[0].itemCount, 3);
  });

  describe('kill -9 while recording', () => {
    let dir = '';
    before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rwtrace-kill-')); });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    // Deterministic "random" kill points, so a failure can be reproduced. The later runs kill only
    // once several chunks are on disk (whatever the machine's speed), so they also check that
    // whole chunks of items survive.
    const runs: [delay: number, waitForChunks: boolean][] = [[0, false], [3, false], [17, false], [40, false], [75, false], [120, true], [200, true], [333, true]];
    for (const [n, [delay, waitForChunks]] of runs.entries()) {
      it(`a writer killed ${delay} ms after it started${waitForChunks ? ' (and after its first chunks)' : ''} leaves a file that opens with every complete chunk intact (run ${n})`, async function () {
        this.timeout(60_000);
        const file = path.join(dir, `kill${n}.rwtrace`);
        const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, '../../support/rwtraceCrashWriter.ts'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
        await new Promise((r) => setTimeout(r, delay));
        if (waitForChunks) while (fs.statSync(file).size < 16_384) await new Promise((r) => setTimeout(r, 5));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        const r = new RwtraceReader(new FileSource(file), file);
        assert.equal(r.finished, false);
        assert.ok(r.problem);
        let expect = 0;
        for (const c of r.stream(ChunkType.EVENTS)) {
          const p = r.payload(c);
          assert.equal(c.firstItem, expect);
          for (let o = 0; o < p.length; o += 16) {
            const dv = new DataView(p.buffer, p.byteOffset + o, 16);
            assert.equal(dv.getUint32(0, true), expect);
            assert.equal(dv.getFloat64(4, true), expect * 10);
            assert.equal(dv.getUint32(12, true), (expect ^ 0x5a5a5a5a) >>> 0);
            expect++;
          }
        }
        if (waitForChunks) assert.ok(expect > 0, 'no complete chunk of items survived');
        r.close();
      });
    }
  });
});
