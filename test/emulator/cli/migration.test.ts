/**
 * Snapshots and migration while recording, run as a user runs them (node dist/cli.js): the
 * migration file, incoming migration in replay, the failure path, the injected seed bug seen by
 * the checker, `rewind locks`, export and replay, and one-line usage errors.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSource } from '../../../emulator/trace/fileAccess';
import { readEvents } from '../../../emulator/trace/rwtraceEvents';
import { RwtraceReader } from '../../../emulator/trace/rwtraceReader';
import { readLockOps } from '../../../emulator/trace/rwtraceLocks';
import { assertOneLineError, CliRun, ensureCliBuilt, REPO_ROOT, runCli } from '../../support/rewindCli';

const cli = (...args: string[]): CliRun => runCli(args);
const bin = (name: string) => path.join(REPO_ROOT, 'emulator', 'guest', 'bin', name);
const events = (trace: string) => readEvents(new RwtraceReader(new FileSource(trace)), trace);

describe('rewind record --snapshot-at / --migrate-at, replay --incoming', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => {
    ensureCliBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-migr-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('migrates the VM state to a file while recording: the source stops in postmigrate, the destination records on from the file, and both replay', () => {
    const trace = path.join(dir, 'hello.rwtrace');
    const state = path.join(dir, 'hello.migration');
    const rec = cli('record', bin('hello-O2.elf'), '-o', trace, '--snapshot-at', '20000', '--migrate-at', `60000:${state}`, '--sched', 'random:5');
    assert.equal(rec.code, 0, rec.stderr);
    assert.match(rec.stderr, /^rewind: snapshot 0 taken at icount 20000$/m);
    const migrated = /^rewind: migrated the VM state to .* at icount (\d+)$/m.exec(rec.stderr);
    assert.ok(migrated, rec.stderr);
    const at = Number(migrated[1]);
    assert.match(rec.stderr, new RegExp(`^rewind: the VM migrated out at icount ${at}: the source stays in postmigrate`, 'm'));
    const ev = events(trace);
    const mine = ev.filter((e) => ['run-state', 'migration', 'snapshot'].includes(e.kind)).map((e) => `${e.name}:${e.data?.state ?? e.data?.phase ?? e.data?.action}@${e.icount}`);
    assert.deepEqual(mine, [
      'EVENT_RUN_STATE:save-vm@20000', 'EVENT_SNAPSHOT:save@20000', 'EVENT_RUN_STATE:running@20000',
      'EVENT_MIGRATION:setup@60000', `EVENT_RUN_STATE:finish-migrate@${at}`, `EVENT_MIGRATION:completed@${at}`, `EVENT_RUN_STATE:postmigrate@${at}`,
    ]);
    assert.ok(at >= 60000);
    // Nothing runs after the migration on the source: its last event is the END at that icount.
    assert.deepEqual([ev.at(-1)!.name, ev.at(-1)!.icount], ['EVENT_END', at]);
    // savevm is the main loop's (a monitor command), the migration the migration thread's.
    const ops = readLockOps(new RwtraceReader(new FileSource(trace)), trace);
    assert.ok(ops.some((o) => o.thread === 'main-loop' && o.site.endsWith('pause_all_vcpus')), 'the main loop\'s savevm waits for the vCPUs in pause_all_vcpus');
    assert.ok(!ops.some((o) => o.thread === 'migration' && o.site.includes('save_snapshot')), 'the migration thread takes no part in savevm');

    for (const sched of ['fair', 'random:9']) {
      const rep = cli('replay', trace, '--verify', '--sched', sched);
      assert.equal(rep.code, 0, rep.stderr);
      assert.equal(rep.stdout, rec.stdout);
    }
    const fromSnapshot = cli('replay', trace, '--verify', '--from-snapshot', '0');
    assert.equal(fromSnapshot.code, 0, fromSnapshot.stderr);

    // The destination: recorded from the migrated state; source and destination print together
    // what a plain run prints.
    const dest = path.join(dir, 'hello-incoming.rwtrace');
    const run = cli('run', bin('hello-O2.elf'));
    const drec = cli('record', bin('hello-O2.elf'), '-o', dest, '--incoming', state);
    assert.equal(drec.code, 0, drec.stderr);
    assert.match(drec.stderr, new RegExp(`^rewind: incoming migration from .*: recording from icount ${at}$`, 'm'));
    assert.equal(rec.stdout + drec.stdout, run.stdout);
    const dev = events(dest);
    assert.ok(dev.length > 0 && dev.every((e) => e.icount >= at), 'the destination\'s events start at the migration');
    const drep = cli('replay', dest, '--verify');
    assert.equal(drep.code, 0, drep.stderr);
    assert.equal(drep.stdout, drec.stdout);
    assert.match(drep.stderr, /replay verified: .* as recorded/);
    // Another migration file than the one it was recorded from is refused.
    const other = path.join(dir, 'other.migration');
    assert.equal(cli('record', bin('hello-O2.elf'), '-o', path.join(dir, 'o.rwtrace'), '--migrate-at', `30000:${other}`).code, 0);
    assertOneLineError(cli('replay', dest, '--incoming', other), /^rewind: .*other\.migration is not the migration .* was recorded from/);
    // On the source's recording, --incoming starts at the migration and checks its completion.
    const inc = cli('replay', trace, '--verify', '--incoming', state);
    assert.equal(inc.code, 0, inc.stderr);
    assert.equal(inc.stdout, '');
  });

  it('a migration file from another recording, or a damaged one, is refused with one line', () => {
    const a = path.join(dir, 'a.rwtrace'), b = path.join(dir, 'b.rwtrace'), ma = path.join(dir, 'a.mig'), mb = path.join(dir, 'b.mig');
    assert.equal(cli('record', bin('hello-O2.elf'), '-o', a, '--migrate-at', `30000:${ma}`).code, 0);
    assert.equal(cli('record', bin('hello-O2.elf'), '-o', b, '--migrate-at', `90000:${mb}`).code, 0);
    assertOneLineError(cli('replay', a, '--incoming', mb), /^rewind: .*b\.mig does not belong to .*a\.rwtrace: the recording has no migration at icount \d+ \(event #\d+\)$/);
    const bytes = fs.readFileSync(ma);
    bytes[bytes.length - 100] ^= 0xff;
    fs.writeFileSync(ma, bytes);
    assertOneLineError(cli('replay', a, '--incoming', ma), /^rewind: .*a\.mig: checksum mismatch/);
    assertOneLineError(cli('replay', a, '--incoming', path.join(dir, 'missing.mig')), /^rewind: cannot read .*missing\.mig: no such file$/);
  });

  it('a migration that cannot write its file fails cleanly: logged as failed, the VM runs on, and the replay agrees', () => {
    const trace = path.join(dir, 'fail.rwtrace');
    const rec = cli('record', bin('hello-O2.elf'), '-o', trace, '--migrate-at', `40000:${path.join(dir, 'no', 'such', 'dir', 'm.bin')}`);
    assert.equal(rec.code, 0, rec.stderr);
    assert.match(rec.stderr, /^rewind: migration to .*m\.bin failed at icount \d+: ENOENT; recording goes on$/m);
    const ev = events(trace).filter((e) => e.kind === 'migration' || e.kind === 'run-state');
    assert.deepEqual(ev.map((e) => e.data?.phase ?? e.data?.state), ['setup', 'finish-migrate', 'failed', 'running']);
    assert.match(String(ev[2].data!.detail), /ENOENT/);
    const run = cli('run', bin('hello-O2.elf'));
    assert.equal(rec.stdout, run.stdout);
    const rep = cli('replay', trace, '--verify');
    assert.equal(rep.code, 0, rep.stderr);
  });

  it('--inject migration-without-replay-lock: every recording aborts at the first unlocked access as QEMU does, with its assertion and both sites; the file keeps what came before', () => {
    for (let seed = 0; seed < 6; seed++) {
      const trace = path.join(dir, `abort-${seed}.rwtrace`);
      const rec = cli('record', bin('hello-O2.elf'), '-o', trace, '--migrate-at', `50000:${path.join(dir, 'inj.mig')}`, '--sched', `random:${seed}`, '--inject', 'migration-without-replay-lock');
      assert.equal(rec.code, 134, rec.stderr);
      assert.match(rec.stderr, /^rewind: replay_save_clock: assertion failed: \(replay_mutex_locked\(\)\): thread migration writes EVENT_CLOCK_HOST to the replay log at migration\/migration\.c:migration_thread \(icount 50000, op #\d+\) without holding the replay mutex; (nobody holds it|thread vcpu0 holds it \(taken at \S+, op #\d+\)) \(the recording stops here, as QEMU aborts; --assert off goes on\)$/m);
      assert.ok(!fs.existsSync(path.join(dir, 'inj.mig')), 'the migration never got as far as writing its file');
      const rep = cli('replay', trace, '--verify');
      assert.equal(rep.code, 0, rep.stderr);
      assert.match(rep.stderr, /reached the end of the recording, which was stopped by a replay-mutex assertion at icount 50000/);
    }
  });

  it('--inject migration-without-replay-lock --assert off: the checker reports it on every run, rewind locks lists it, and replay diverges for some seed with one line', () => {
    let diverged = 0;
    for (let seed = 0; seed < 12; seed++) {
      const trace = path.join(dir, `inject-${seed}.rwtrace`);
      const rec = cli('record', bin('hello-O2.elf'), '-o', trace, '--migrate-at', `50000:${path.join(dir, 'inj.mig')}`, '--sched', `random:${seed}`, '--inject', 'migration-without-replay-lock', '--assert', 'off');
      assert.equal(rec.code, 0, rec.stderr);
      assert.match(rec.stderr, /^rewind: lock rule violated \(append-unlocked\): thread migration writes EVENT_CLOCK_HOST to the replay log at migration\/migration\.c:migration_thread \(icount 50000, op #\d+\) without holding the replay mutex/m);
      if (seed === 0) {
        const locks = cli('locks', trace);
        assert.equal(locks.code, 0, locks.stderr);
        assert.match(locks.stdout, /violations: \d+ \(\d+ append-unlocked\)/);
        // The ops carry the violations too, so the timeline can mark them without the marks.
        const ops = readLockOps(new RwtraceReader(new FileSource(trace)), trace);
        assert.ok(ops.some((o) => o.thread === 'migration') && ops.some((o) => o.thread === 'vcpu0'));
      }
      const rep = cli('replay', trace, '--sched', `random:${seed + 100}`);
      if (rep.code !== 0) {
        diverged++;
        assertOneLineError(rep, /^rewind: replay diverged at event #\d+, icount \d+, pc 0x[0-9a-f]+: the log expected (EVENT_MIGRATION phase=completed target=\S+ detail=[0-9a-f]{16} at icount \d+, the machine did nothing: the VM was stopped at icount \d+ by the migration thread|EVENT_RUN_STATE state=finish-migrate at icount \d+, the machine did )/, { stdoutAllowed: true });
      }
    }
    assert.ok(diverged > 0, 'no seed of 12 diverged');
  });

  it('--lock-trace off records no lock stream, and rewind locks says so', () => {
    const trace = path.join(dir, 'nolocks.rwtrace');
    assert.equal(cli('record', bin('hello-O2.elf'), '-o', trace, '--lock-trace', 'off').code, 0);
    const r = cli('locks', trace);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /lock tracing off/);
  });

  it('bad options are one-line usage errors', () => {
    const t = path.join(dir, 'x.rwtrace');
    assertOneLineError(cli('record', bin('hello-O2.elf'), '-o', t, '--migrate-at', '5000'), /^rewind: --migrate-at takes ICOUNT:FILE, not '5000'/);
    assertOneLineError(cli('record', bin('hello-O2.elf'), '-o', t, '--migrate-at', 'x:f'), /^rewind: --migrate-at needs an integer/);
    assertOneLineError(cli('record', bin('hello-O2.elf'), '-o', t, '--inject', 'everything'), /^rewind: --inject takes migration-without-replay-lock, not 'everything'/);
    assertOneLineError(cli('record', bin('hello-O2.elf'), '-o', t, '--assert', 'maybe'), /^rewind: --assert takes on or off, not 'maybe'/);
    assertOneLineError(cli('record', bin('hello-O2.elf'), '-o', t, '--lock-trace', 'some'), /^rewind: --lock-trace: lock trace level must be full, replay-only or off, not 'some'/);
    assertOneLineError(cli('record', bin('hello-O2.elf'), '-o', t, '--sched', 'random:x'), /^rewind: --sched takes 'fair' or 'random:SEED'/);
    assertOneLineError(cli('record', bin('hello-O2.elf'), '-o', t, '--snapshot-at', '100', '--migrate-at', '100:m'), /^rewind: two snapshots or migrations at icount 100/);
    assertOneLineError(cli('replay', t, '--from-snapshot', '0', '--incoming', 'm'), /^rewind: --from-snapshot and --incoming both say where to start: give one/);
  });
});
