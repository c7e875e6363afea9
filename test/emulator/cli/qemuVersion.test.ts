/**
 * `--qemu 10.0`: Rewind follows QEMU 10.0 where it differs from 7.2, checked against QEMU 10.0
 * itself (bookworm-backports, test/support/qemu10.ts) on the same ELF; the version is kept in the
 * recording, so replay and time travel rebuild the same machine.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RwtraceReader } from '../../../emulator/trace/rwtraceReader';
import { FileSink, FileSource } from '../../../emulator/trace/fileAccess';
import { RECORDING_FORMAT } from '../../../emulator/session/recordingFile';
import { RwtraceWriter } from '../../../emulator/trace/rwtraceWriter';
import { qemu10 } from '../../support/qemu10';
import { assertOneLineError, ensureCliBuilt, REPO_ROOT, runCli } from '../../support/rewindCli';

const bin = (name: string) => path.join(REPO_ROOT, 'emulator', 'guest', 'bin', name);

/** QEMU 10.0's UART output for `elf` under -icount shift=0,sleep=off (no record/replay). */
function qemu10Output(elf: string): string {
  const q = qemu10();
  const r = spawnSync(q.bin, ['-machine', 'virt', '-bios', 'none', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-net', 'none', '-audio', 'none',
    '-icount', 'shift=0,sleep=off', '-kernel', elf], { encoding: 'utf8', env: q.env, timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('--qemu 10.0: QEMU 10.0\'s behaviour where it differs from 7.2', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => {
    ensureCliBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-qemu10-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('run: the traps guest prints what QEMU 10.0 prints (mtval is the pc on ebreak), not what 7.2 prints', () => {
    const expected = qemu10Output(bin('traps-O2.elf'));
    const r10 = runCli(['run', bin('traps-O2.elf'), '--qemu', '10.0']);
    const r72 = runCli(['run', bin('traps-O2.elf')]);
    assert.equal(r10.code, 0, r10.stderr);
    assert.equal(r10.stdout, expected);
    assert.notEqual(r72.stdout, expected, 'the guest shows the difference');
    assert.match(r72.stdout, /ebreak: .*mtval=0x00000000/);
  });

  it('record: the finisher\'s shutdown cause is logged, lock sites carry 10.0\'s names, and replay --verify rebuilds the same machine from the recording', () => {
    const trace = path.join(dir, 'bugdemo.rwtrace');
    const rec = runCli(['record', bin('bugdemo-O2.elf'), '-o', trace, '--qemu', '10.0']);
    assert.equal(rec.code, 1, rec.stderr); // bugdemo fails by design: the finisher's FAIL
    const meta = new RwtraceReader(new FileSource(trace), trace).meta as { machine: { qemu?: string } };
    assert.equal(meta.machine.qemu, '10.0');
    const dump = runCli(['dump', trace, '--kind', 'shutdown']);
    assert.equal(dump.code, 0, dump.stderr);
    assert.match(dump.stdout, /EVENT_SHUTDOWN_GUEST_PANIC\s+code=1\n.*EVENT_SHUTDOWN_HOST_SIGNAL/);
    const locks = runCli(['locks', trace]);
    assert.match(locks.stdout, /system\/cpus\.c:bql_unlock/);
    assert.doesNotMatch(locks.stdout, /softmmu\/|iothread/);
    const rep = runCli(['replay', '--verify', trace]);
    assert.equal(rep.code, 1, rep.stderr);
    assert.equal(rep.stdout, rec.stdout);
    assert.match(rep.stderr, /replay verified/);
    // The same guest recorded as 7.2 has neither.
    const t72 = path.join(dir, 'bugdemo72.rwtrace');
    assert.equal(runCli(['record', bin('bugdemo-O2.elf'), '-o', t72]).code, 1);
    assert.doesNotMatch(runCli(['dump', t72, '--kind', 'shutdown']).stdout, /GUEST_PANIC/);
    assert.match(runCli(['locks', t72]).stdout, /softmmu\/cpus\.c:qemu_mutex_unlock_iothread/);
  });

  it('an unknown version is a one-line error, on the command line and in a recording', () => {
    assertOneLineError(runCli(['run', bin('hello-O2.elf'), '--qemu', '9.2']), /--qemu takes 7\.2 or 10\.0 .*not '9\.2'/);
    const trace = path.join(dir, 'future.rwtrace');
    const w = new RwtraceWriter(new FileSink(trace), { format: RECORDING_FORMAT, guest: { path: bin('hello-O2.elf'), sha256: '0'.repeat(64) }, machine: { ramMiB: 128, harts: 1, shift: 0, qemu: '11.0' } });
    w.close(0, { icount: 0, reason: 'exit', exitCode: 0, stateHash: '0' });
    assertOneLineError(runCli(['replay', trace]), /recorded with the behaviour of QEMU "11\.0", which this Rewind does not know/);
  });
});
