/**
 * The locks are taken where the emulator really does the work, not drawn afterwards: checked by
 * reading the lock trace of real guest runs against the replay events and instruction counts
 * they happened with.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine } from '../../../emulator/machine/machine';
import { ReplayEvent } from '../../../emulator/replay/replayEvent';
import { LockOp } from '../../../emulator/threads/lockOp';
import { TraceLevel } from '../../../emulator/threads/lockTracer';
import * as S from '../../../emulator/threads/qemuSites';

const guestDir = path.join(__dirname, '../../../emulator/guest');

function run(file: string, opts: { harts?: number; input?: string; record?: boolean; level?: TraceLevel; seed?: number }) {
  const events: ReplayEvent[] = [];
  const ops: LockOp[] = [];
  const m = new Machine({
    ramMiB: 16, harts: opts.harts ?? 1, sched: opts.seed === undefined ? { kind: 'fair' } : { kind: 'random', seed: opts.seed },
    ...(opts.record === false ? {} : { replay: { mode: 'record' as const, sink: (e: ReplayEvent) => events.push(e) } }),
    lockTrace: { level: opts.level ?? 'full', sink: (o) => ops.push(o) },
    // The migration fails (its target is full): the VM runs on, so the whole guest is covered
    // (a completed one leaves the source in postmigrate).
    jobs: opts.record === false ? [] : [{ kind: 'migrate', at: 500, target: 'mem' }], jobHooks: { migrate: () => 'no space left on the target' },
  });
  m.loadElf(fs.readFileSync(path.join(guestDir, 'bin', file)));
  if (opts.input) m.pushInput(fs.readFileSync(path.join(guestDir, opts.input)));
  const result = m.run(50_000_000);
  return { m, result, events, ops };
}

/** Replays the ops, calling `check` with who holds what before each one. */
function walk(ops: LockOp[], check: (op: LockOp, holders: Map<string, string>, prev: LockOp | undefined, prevHolders: Map<string, string>) => void): void {
  const holders = new Map<string, string>(); // lock -> thread
  let prev: LockOp | undefined;
  let prevHolders = new Map<string, string>();
  for (const op of ops) {
    check(op, holders, prev, prevHolders);
    prevHolders = new Map(holders);
    if (op.action === 'acquired') {
      assert.equal(holders.get(op.lock), undefined, `op #${op.index}: ${op.thread} acquires ${op.lock} held by ${holders.get(op.lock)}`);
      holders.set(op.lock, op.thread);
    } else if (op.action === 'released') {
      assert.equal(holders.get(op.lock), op.thread, `op #${op.index}: ${op.thread} releases ${op.lock} it does not hold`);
      holders.delete(op.lock);
    }
    prev = op;
  }
}

describe('locks in the emulator\'s control paths', function () {
  this.timeout(120_000);
  const cases = [
    { file: 'echo-O2.elf', input: 'inputs/echo.txt' },
    { file: 'smp-O2.elf', harts: 2 },
    { file: 'timer-O0.elf' },
    { file: 'rtc-O2.elf' },
  ];
  for (const c of cases) {
    for (const seed of [undefined, 1, 2]) {
      it(`${c.file}${seed === undefined ? '' : ` (random:${seed})`}: replay mutex never taken under the BQL, guest code only under a vCPU's replay mutex, every device access under the BQL at io_readx/io_writex`, () => {
        const { m, result, events, ops } = run(c.file, { ...c, seed });
        assert.equal(result.reason, 'exit');
        assert.deepEqual(m.checker!.violations, []);
        const threads = new Set(ops.map((o) => o.thread));
        assert.ok(threads.has('migration') && [...threads].some((t) => t.startsWith('vcpu')), [...threads].join());
        walk(ops, (op, holders, prev, prevHolders) => {
          if (op.lock === 'replay' && op.action !== 'released') {
            assert.notEqual(holders.get('bql'), op.thread, `op #${op.index}: ${op.thread} takes the replay mutex at ${op.site} holding the BQL`);
          }
          if (op.lock === 'replay' && op.action === 'released' && op.thread.startsWith('vcpu')) {
            // rr_cpu_thread_fn lets it go under the BQL, icount_process_data without it.
            const underBql = holders.get('bql') === op.thread;
            assert.equal(op.site, underBql ? S.RR_LOOP : S.ICOUNT_PROCESS, `op #${op.index}: ${op.thread} releases the replay mutex ${underBql ? 'under' : 'without'} the BQL`);
          }
          if (prev && op.icount! > prev.icount!) {
            // Instructions ran between two ops: some vCPU held the replay mutex meanwhile.
            assert.match(prevHolders.get('replay') ?? holders.get('replay') ?? 'nobody', /^vcpu\d$/, `icount ${prev.icount}..${op.icount} with the replay mutex held by ${prevHolders.get('replay') ?? 'nobody'}`);
          }
        });
        // Each byte the guest wrote went through the UART's MMIO under the BQL and the chardev's
        // write lock, at the same instruction.
        const at = (site: string, lock: string) => new Set(ops.filter((o) => o.site === site && o.lock === lock && o.action === 'acquired').map((o) => o.icount));
        const mmio = at(S.IO_WRITEX, 'bql');
        const chr = at(S.CHR_WRITE, S.LOCK_CHR);
        const writes = events.filter((e) => e.name === 'EVENT_CHAR_WRITE');
        assert.ok(writes.length > 0);
        for (const w of writes) {
          assert.ok(mmio.has(w.icount), `EVENT_CHAR_WRITE at icount ${w.icount} with no BQL taken at io_writex there`);
          assert.ok(chr.has(w.icount), `EVENT_CHAR_WRITE at icount ${w.icount} without chr_write_lock`);
        }
        // Input: the main loop queued it under both locks before the vCPU's loop head delivered it.
        for (const r of events.filter((e) => e.name === 'EVENT_ASYNC_CHAR_READ')) {
          const deliver = ops.findIndex((o) => o.site === S.RR_LOOP && o.lock === 'bql' && o.action === 'acquired' && o.icount === r.icount);
          assert.ok(deliver >= 0, `no vCPU loop head at icount ${r.icount}`);
          const queued = ops.slice(0, deliver).reverse().find((o) => o.thread === 'main-loop' && o.lock === 'bql' && o.action === 'acquired');
          assert.ok(queued, `input delivered at icount ${r.icount} that the main loop never queued`);
        }
        // The main loop's wake-ups: the replay mutex, then the BQL, as main_loop_wait takes them.
        const main = ops.filter((o) => o.thread === 'main-loop' && (o.lock === 'bql' || o.lock === 'replay') && o.action === 'acquired');
        assert.ok(main.length > 0, 'the main loop took no lock');
        for (let k = 0; k + 1 < main.length; k += 2) assert.deepEqual([main[k].lock, main[k + 1].lock], ['replay', 'bql'], `main loop op #${main[k].index}`);
      });
    }
  }

  it('a plain run takes the BQL but not the replay mutex (it is only active in record/replay, as in QEMU)', () => {
    const { result, ops } = run('echo-O2.elf', { input: 'inputs/echo.txt', record: false });
    assert.equal(result.reason, 'exit');
    assert.ok(ops.some((o) => o.lock === 'bql' && o.site === S.IO_WRITEX));
    assert.ok(ops.some((o) => o.lock === 'bql' && o.thread === 'main-loop'));
    assert.equal(ops.filter((o) => o.lock === 'replay').length, 0);
  });

  it('replay-only tracing keeps just the replay mutex, numbered without gaps; the checker still sees every op', () => {
    const full = run('echo-O2.elf', { input: 'inputs/echo.txt' });
    const only = run('echo-O2.elf', { input: 'inputs/echo.txt', level: 'replay-only' });
    assert.deepEqual(only.ops.map((o) => o.lock), only.ops.map(() => 'replay'));
    assert.deepEqual(only.ops.map((o) => o.index), only.ops.map((_, i) => i));
    const strip = (o: LockOp) => `${o.thread} ${o.action} ${o.site} ${o.icount} ${o.step}`;
    assert.deepEqual(only.ops.map(strip), full.ops.filter((o) => o.lock === 'replay').map(strip));
    assert.equal(only.m.locks.tracer.count, full.ops.length);
  });
});
