/**
 * Test support: a synthetic but realistic Rewind recording with a LOCKS stream, written the way the
 * recorder writes one (RwtraceWriter + EventStreamWriter + LockStreamWriter + appendMarks).
 *
 * Each round, as under Rewind's scheduler: vcpu0 takes the replay mutex and runs guest code,
 * sometimes taking the BQL around an MMIO access (a CHAR_WRITE event); now and then the main
 * loop starts waiting for the replay mutex while vcpu0 still holds it (a contended wait); then
 * the main loop takes the replay mutex, then the BQL, reads the host clock, and lets both go.
 * Once, the migration thread takes the BQL and then the replay mutex (the order QEMU asserts
 * against: replay-under-bql, on the op and as a mark), and once it appends EVENT_MIGRATION while
 * vcpu0 holds the replay mutex (append-unlocked: a mark only, there is no lock op for it).
 */
import { createHash } from 'node:crypto';
import type { ReplayEvent } from '../../emulator/replay/replayEvent';
import type { LockOp } from '../../emulator/threads/lockOp';
import { FileSink } from '../../emulator/trace/fileAccess';
import { EventStreamWriter } from '../../emulator/trace/rwtraceEvents';
import { LockStreamWriter } from '../../emulator/trace/rwtraceLocks';
import { appendMarks, Mark } from '../../emulator/trace/rwtraceMarks';
import { RwtraceWriter } from '../../emulator/trace/rwtraceWriter';

export const GUEST_PATH = '/work/guests/uart-echo.elf';

export interface LockRecording { ops: LockOp[]; events: ReplayEvent[]; marks: Mark[]; finalIcount: number }

export interface LockRecordingOptions {
  rounds?: number;
  /** LOCKS chunk size limit; small values give many chunks. */
  lockChunkBytes?: number;
  /** False: a recording made with lock tracing off (no LOCKS chunks, marks still written). */
  withLocks?: boolean;
  /** meta.lockTrace; omitted from the metadata when undefined. */
  lockTrace?: string;
  migrateAt?: number;
  appendAt?: number;
  /** Also a divergence mark (as a replay that went off the log would leave). */
  divergence?: boolean;
}

const KINDS: Record<string, ReplayEvent['kind']> = {
  EVENT_CHAR_WRITE: 'char-write', EVENT_CLOCK_HOST: 'clock', EVENT_INTERRUPT: 'interrupt', EVENT_MIGRATION: 'migration', EVENT_END: 'end',
};

/** Simulates the run, without writing anything. */
export function simulateLockRecording(opts: LockRecordingOptions = {}): LockRecording {
  const rounds = opts.rounds ?? 60;
  const migrateAt = opts.migrateAt ?? 17;
  const appendAt = opts.appendAt ?? 29;
  const ops: LockOp[] = [];
  const events: ReplayEvent[] = [];
  const marks: Mark[] = [];
  let step = 0, ic = 1000;
  const op = (thread: string, lock: string, action: LockOp['action'], site: string): LockOp => {
    const o: LockOp = { index: ops.length, thread, lock, action, site, icount: ic, step };
    ops.push(o);
    return o;
  };
  const ev = (name: string, data: Record<string, number | string> = {}): ReplayEvent => {
    const e: ReplayEvent = { index: events.length, icount: ic, kind: KINDS[name], name, offset: 0, data };
    events.push(e);
    return e;
  };
  const VCPU = 'cpus:rrCpuThread', MMIO = 'memory:mmioDispatch', MAIN = 'mainLoop:mainLoopWait';
  for (let r = 0; r < rounds; r++) {
    step++;
    op('vcpu0', 'replay', 'wait', VCPU);
    const held = op('vcpu0', 'replay', 'acquired', VCPU);
    step++;
    ic += 400 + ((r * 37) % 300);
    if (r % 3 === 0) {
      step++;
      op('vcpu0', 'bql', 'wait', MMIO);
      op('vcpu0', 'bql', 'acquired', MMIO);
      ev('EVENT_CHAR_WRITE', { device: 0, byte: 65 + (r % 26) });
      step += 2;
      ic += 20;
      op('vcpu0', 'bql', 'released', MMIO);
    }
    if (r === appendAt) {
      step++;
      const e = ev('EVENT_MIGRATION', { phase: 'setup', target: 'file:/tmp/vm.snap' });
      const message = `thread migration writes EVENT_MIGRATION to the replay log at migration:saveSetup (icount ${ic}, op #${ops.length}) without holding the replay mutex; thread vcpu0 holds it (taken at ${VCPU}, op #${held.index})`;
      marks.push({
        kind: 'violation', icount: ic, lockOp: ops.length, eventIndex: e.index, message,
        violation: { kind: 'append-unlocked', index: ops.length, thread: 'migration', lock: 'replay', site: 'migration:saveSetup', event: 'EVENT_MIGRATION', icount: ic, holder: 'vcpu0', heldSite: VCPU, heldIndex: held.index, message },
      });
    }
    const contended = r % 4 === 1;
    if (contended) {
      step++;
      op('main-loop', 'replay', 'wait', MAIN);
    }
    ic += 100 + (r % 7) * 11;
    if (r % 5 === 2) ev('EVENT_INTERRUPT', { hart: 0, cause: 0x80000007 });
    step++;
    op('vcpu0', 'replay', 'released', VCPU);
    step++;
    if (!contended) op('main-loop', 'replay', 'wait', MAIN);
    op('main-loop', 'replay', 'acquired', MAIN);
    step++;
    op('main-loop', 'bql', 'wait', MAIN);
    op('main-loop', 'bql', 'acquired', MAIN);
    if (r % 2 === 0) ev('EVENT_CLOCK_HOST', { hi: 0, lo: 5000 + r });
    step += 1 + (r % 3);
    op('main-loop', 'bql', 'released', MAIN);
    op('main-loop', 'replay', 'released', MAIN);
    if (r === migrateAt) {
      step++;
      op('migration', 'bql', 'wait', 'migration:saveSetup');
      const bqlHeld = op('migration', 'bql', 'acquired', 'migration:saveSetup');
      step++;
      const bad = op('migration', 'replay', 'wait', 'migration:saveSetup');
      const message = `thread migration takes the replay mutex at migration:saveSetup (op #${bad.index}) while holding the BQL (taken at migration:saveSetup, op #${bqlHeld.index}): QEMU asserts the replay mutex is taken before the BQL`;
      bad.violation = message;
      marks.push({
        kind: 'violation', icount: ic, lockOp: bad.index, message,
        violation: { kind: 'replay-under-bql', index: bad.index, thread: 'migration', lock: 'replay', site: 'migration:saveSetup', heldLock: 'bql', heldSite: 'migration:saveSetup', heldIndex: bqlHeld.index, message },
      });
      op('migration', 'replay', 'acquired', 'migration:saveSetup');
      step += 3;
      op('migration', 'replay', 'released', 'migration:saveState');
      op('migration', 'bql', 'released', 'migration:saveState');
    }
  }
  ic += 250;
  ev('EVENT_END');
  if (opts.divergence) marks.push({ kind: 'divergence', icount: 2000, eventIndex: 1, message: 'replay diverged at icount 2000: expected EVENT_CHAR_WRITE, the guest did an EVENT_INTERRUPT' });
  return { ops, events, marks, finalIcount: ic };
}

/** Writes the simulated run to `file`, interleaving the streams as a recorder does. */
export function writeLockRecording(file: string, opts: LockRecordingOptions = {}): LockRecording {
  const rec = simulateLockRecording(opts);
  const meta: Record<string, unknown> = {
    format: 'rewind-recording',
    guest: { path: GUEST_PATH, sha256: createHash('sha256').update('uart-echo').digest('hex'), bytes: 4096 },
    machine: { ramMiB: 128, harts: 1, shift: 0 },
    rewindVersion: 'test',
  };
  if (opts.lockTrace !== undefined) meta.lockTrace = opts.lockTrace;
  const w = new RwtraceWriter(new FileSink(file), meta, 1_700_000_000_000);
  const events = new EventStreamWriter(w);
  const locks = new LockStreamWriter(w, { maxBytes: opts.lockChunkBytes, maxAgeMs: 1e9 });
  let e = 0;
  for (const op of rec.ops) {
    // Events land in the log when they happen: before the first op past their icount.
    while (e < rec.events.length && rec.events[e].icount < op.icount!) events.append(rec.events[e++]);
    if (opts.withLocks !== false) locks.append(op);
  }
  while (e < rec.events.length) events.append(rec.events[e++]);
  locks.flush();
  events.flush();
  appendMarks(w, rec.marks);
  w.close(rec.finalIcount, { icount: rec.finalIcount, reason: 'shutdown', exitCode: 0 });
  return rec;
}
