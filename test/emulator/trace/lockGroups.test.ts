/**
 * Section groups in the LOCKS stream: the sections a vCPU makes at every device read (io_readx's
 * BQL, the TB lookup, cpu_handle_interrupt's BQL) are written as one record once a chunk has
 * the group's template. Nothing is lost: a recording decodes to exactly the ops the machine
 * makes when every op is handed over one by one (the path with no groups at all).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Machine } from '../../../emulator/machine/machine';
import type { LockOp } from '../../../emulator/threads/lockOp';
import { LockTracer, SectionGroup } from '../../../emulator/threads/lockTracer';
import { FileSource, MemorySource } from '../../../emulator/trace/fileAccess';
import { ChunkInfo, ChunkType } from '../../../emulator/trace/rwtraceFormat';
import { decodeLockChunk, LockStreamWriter, readLockOps } from '../../../emulator/trace/rwtraceLocks';
import { RwtraceReader } from '../../../emulator/trace/rwtraceReader';
import { RwtraceWriter } from '../../../emulator/trace/rwtraceWriter';
import { ensureCliBuilt, REPO_ROOT, REWIND_CLI } from '../../support/rewindCli';

const bin = (name: string) => path.join(REPO_ROOT, 'emulator', 'guest', 'bin', name);
const fields = (o: LockOp) => `${o.index} ${o.thread} ${o.lock} ${o.action} ${o.site} ${o.icount} ${o.step}${o.violation ? ` ${o.violation}` : ''}`;
/** Without the host step: the CLI drives the scheduler in host-time steps, a plain run() does not. */
const noStep = (o: LockOp) => `${o.index} ${o.thread} ${o.lock} ${o.action} ${o.site} ${o.icount}${o.violation ? ` ${o.violation}` : ''}`;

class Sink {
  parts: Uint8Array[] = [];
  append(b: Uint8Array): void { this.parts.push(b.slice()); }
  close(): void {}
  bytes(): Uint8Array { return Buffer.concat(this.parts); }
}

describe('.rwtrace LOCKS: section groups', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => {
    ensureCliBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-groups-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [guest, qemu] of [['poll-O2', '7.2'], ['poll-O2', '10.0'], ['timer-O2', '7.2'], ['traps-O2', '7.2']] as const) {
    it(`${guest} (--qemu ${qemu}): the recording decodes to the ops the machine makes one by one, in far fewer bytes`, () => {
      const file = path.join(dir, `${guest}-${qemu}.rwtrace`);
      const r = spawnSync(process.execPath, [REWIND_CLI, 'record', bin(`${guest}.elf`), '-o', file, '--qemu', qemu], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const ops: LockOp[] = [];
      const m = new Machine({ qemu, replay: { mode: 'record', sink: () => undefined }, lockTrace: { level: 'full', sink: (o) => ops.push({ ...o }) } });
      m.loadElf(fs.readFileSync(bin(`${guest}.elf`)));
      assert.equal(m.run().reason, 'exit');
      m.replay!.end();
      const reader = new RwtraceReader(new FileSource(file), file);
      const decoded = readLockOps(reader, file);
      assert.equal(decoded.length, ops.length, 'op count');
      for (let i = 0; i < ops.length; i++) if (noStep(decoded[i]) !== noStep(ops[i])) assert.fail(`op ${i}: file ${noStep(decoded[i])}, machine ${noStep(ops[i])}`);
      if (guest === 'poll-O2') {
        const bytes = reader.stream(ChunkType.LOCKS).reduce((n, c) => n + c.length, 0);
        assert.ok(bytes / ops.length <= 1.01, `${(bytes / ops.length).toFixed(2)} bytes per op`);
      }
    });
  }

  it('groups mixed with single ops, across many small chunks, round-trip', () => {
    const sink = new Sink();
    const w = new RwtraceWriter(sink, {}, 0);
    let now = 0;
    const locks = new LockStreamWriter(w, { maxBytes: 40, now: () => now });
    let icount = 0, step = 0;
    const tracer = new LockTracer('full', { icount: () => icount, hostStep: () => step });
    tracer.onBatch((b) => { locks.appendBatch(b); });
    const ids = (s: string) => tracer.id(s);
    const g = new SectionGroup([{ lock: ids('bql'), siteIn: ids('io'), siteOut: ids('unlock') }, { lock: ids('tb'), siteIn: ids('lookup'), siteOut: ids('lookup') }]);
    const expected: string[] = [];
    const exp = (thread: string, lock: string, action: string, site: string) => expected.push(`${expected.length} ${thread} ${lock} ${action} ${site} ${icount} ${step}`);
    for (let k = 0; k < 300; k++) {
      icount += k % 7;
      step += k % 3;
      const t = k % 5 === 0 ? 'vcpu1' : 'vcpu0';
      if (k % 4 === 3) {
        tracer.record(t, 'replay', 'acquired', 'rr');
        exp(t, 'replay', 'acquired', 'rr');
      } else {
        assert.equal(tracer.recordGroup(ids(t), g), true);
        exp(t, 'bql', 'acquired', 'io'); exp(t, 'bql', 'released', 'unlock'); exp(t, 'tb', 'acquired', 'lookup'); exp(t, 'tb', 'released', 'lookup');
      }
      if (k % 50 === 0) now += 1000; // age out a chunk now and then
    }
    tracer.flush();
    locks.flush();
    w.close(icount);
    const r = new RwtraceReader(new MemorySource(sink.bytes()));
    assert.ok(r.stream(ChunkType.LOCKS).length > 10, 'many chunks');
    assert.deepEqual(readLockOps(r, 'mem').map(fields), expected);
  });

  it('a group record before its template, or a template cut short, is a clear error', () => {
    const chunk = (itemCount: number): Pick<ChunkInfo, 'firstItem' | 'firstIcount' | 'itemCount' | 'offset'> => ({ firstItem: 0, firstIcount: 0, itemCount, offset: 0x100 - 48 });
    // head: group ref 1, ext byte follows; ext: a group record; icount and step deltas 0.
    assert.throws(() => decodeLockChunk(Uint8Array.from([1 * 4 + 2, 128, 0, 0]), chunk(2)), /group 1 used before it is defined at offset 0x100$/);
    // A new key (acquired; thread, lock, site defined inline) marked as the start of a 4-op template, alone.
    const str = (s: string) => [0, s.length, ...Buffer.from(s)];
    const op = [0 + 2, 1, ...str('vcpu0'), ...str('bql'), ...str('io'), 64, 4, 0, 0];
    assert.throws(() => decodeLockChunk(Uint8Array.from(op), chunk(4)), /a group template cut short/);
    // The same op as a template of one, then two records of it: three ops.
    const ok = decodeLockChunk(Uint8Array.from([...op.slice(0, -4), 64, 1, 0, 0, 1 * 4 + 2, 128, 5, 1, 1 * 4 + 2, 128, 2, 0]), chunk(3));
    assert.deepEqual(ok.map((o) => `${o.index} ${o.icount} ${o.step}`), ['0 0 0', '1 5 1', '2 7 1']);
  });
});
