/**
 * The built CLI's behaviour on bad input: every user error exits 2 with exactly one
 * `rewind: ...` line on stderr, nothing on stdout and no stack trace; an instruction limit exits
 * 124 and a guest idle for good exits 3, each with a message.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureCliBuilt, REPO_ROOT, REWIND_CLI } from '../support/rewindCli';

const HELLO = path.join(REPO_ROOT, 'emulator', 'guest', 'bin', 'hello-O2.elf');
const HELLO_O0 = path.join(REPO_ROOT, 'emulator', 'guest', 'bin', 'hello-O0.elf');

interface CliRun { code: number | null; stdout: string; stderr: string }

function cli(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [REWIND_CLI, ...args], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tool(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
}

/** Exit 2, one `rewind: ` line on stderr, empty stdout, no stack trace. */
function assertUsageError(r: CliRun, pattern?: RegExp): void {
  const show = `exit ${r.code}\nstdout: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}`;
  assert.equal(r.code, 2, show);
  assert.equal(r.stdout, '', show);
  assert.ok(!r.stderr.includes('    at '), `stack trace on stderr:\n${show}`);
  assert.ok(r.stderr.endsWith('\n'), show);
  const lines = r.stderr.slice(0, -1).split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr:\n${show}`);
  assert.match(lines[0], /^rewind: \S/, show);
  if (pattern) assert.match(lines[0], pattern, show);
}

describe('rewind CLI: bad input', function () {
  this.timeout(120_000);
  let work: string;
  const f: Record<string, string> = {};

  before(function () {
    this.timeout(300_000);
    ensureCliBuilt();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-cli-'));
    const hello = fs.readFileSync(HELLO);
    const put = (name: string, data: string | Uint8Array) => { f[name] = path.join(work, name); fs.writeFileSync(f[name], data); };

    put('text.txt', 'this is not an ELF file\njust text\n');
    const elf64 = Buffer.from(hello); elf64[4] = 2;            // EI_CLASS = ELFCLASS64
    put('patched64.elf', elf64);
    const x86 = Buffer.from(hello); x86[18] = 3; x86[19] = 0;  // e_machine = EM_386
    put('x86.elf', x86);
    put('truncated.elf', hello.subarray(0, 100));
    put('empty.elf', new Uint8Array(0));

    // Tiny guests from assembly: an idle one (WFI forever, nothing armed) in RAM, and the same
    // code linked at 0x20000000 (the flash window, outside RAM). -n keeps the ELF headers out of
    // the loaded segment.
    const src = path.join(work, 'wfi.s');
    fs.writeFileSync(src, '.text\n.globl _start\n_start:\n  wfi\n  j _start\n');
    tool('riscv64-unknown-elf-as', ['-march=rv32imac_zicsr', '-mabi=ilp32', '-o', path.join(work, 'wfi.o'), src]);
    f['wfi.elf'] = path.join(work, 'wfi.elf');
    tool('riscv64-unknown-elf-ld', ['-m', 'elf32lriscv', '-n', '-Ttext=0x80000000', '-e', '_start', '-o', f['wfi.elf'], path.join(work, 'wfi.o')]);
    f['flash.elf'] = path.join(work, 'flash.elf');
    tool('riscv64-unknown-elf-ld', ['-m', 'elf32lriscv', '-n', '-Ttext=0x20000000', '-e', '_start', '-o', f['flash.elf'], path.join(work, 'wfi.o')]);
    // A genuine RV64 ELF.
    f['rv64.elf'] = path.join(work, 'rv64.elf');
    tool('riscv64-unknown-elf-gcc', ['-march=rv64imac', '-mabi=lp64', '-nostdlib', '-nostartfiles', '-static', '-Wl,-Ttext=0x80000000', '-o', f['rv64.elf'], src]);
    f.dir = work;
  });

  after(() => { if (work) fs.rmSync(work, { recursive: true, force: true }); });

  it('a missing file', () => assertUsageError(cli('run', path.join(os.tmpdir(), 'rewind-no-such-dir', 'nope.elf')), /no such file/));
  it('a directory', () => assertUsageError(cli('run', f.dir), /directory/));
  it('a text file', () => assertUsageError(cli('run', f['text.txt'])));
  it('an empty file', () => assertUsageError(cli('run', f['empty.elf'])));
  it('an ELF32 RISC-V file with EI_CLASS patched to ELF64', () => assertUsageError(cli('run', f['patched64.elf'])));
  it('a real RV64 ELF (riscv64-unknown-elf-gcc -march=rv64imac -mabi=lp64)', () => assertUsageError(cli('run', f['rv64.elf'])));
  it('an ELF32 for x86 (e_machine 3)', () => assertUsageError(cli('run', f['x86.elf'])));
  it('an ELF truncated to its first 100 bytes', () => assertUsageError(cli('run', f['truncated.elf'])));
  it('an ELF whose segment lies outside RAM (linked at 0x20000000)', () => assertUsageError(cli('run', f['flash.elf']), /outside RAM/));
  it('an unknown option', () => assertUsageError(cli('run', HELLO, '--bogus')));
  it('an unknown command', () => assertUsageError(cli('fly', HELLO)));
  it('no ELF file, and two ELF files', () => {
    assertUsageError(cli('run'));
    assertUsageError(cli('run', HELLO, HELLO));
  });
  for (const bad of ['0', '9', 'abc', '2.5', '', '-1']) {
    it(`--harts ${JSON.stringify(bad)}`, () => assertUsageError(cli('run', HELLO, `--harts=${bad}`)));
  }
  it('--harts without a value', () => assertUsageError(cli('run', HELLO, '--harts')));
  it('--max-insns 0 and --max-insns x', () => {
    assertUsageError(cli('run', HELLO, '--max-insns', '0'));
    assertUsageError(cli('run', HELLO, '--max-insns', 'x'));
  });
  it('a missing --input file', () => assertUsageError(cli('run', HELLO, '--input', path.join(work, 'no-input.txt'))));

  it('--max-insns 1000 on a long program exits 124 with a message', () => {
    const r = cli('run', HELLO_O0, '--max-insns', '1000');
    const show = `exit ${r.code}\nstderr: ${r.stderr}`;
    assert.equal(r.code, 124, show);
    assert.ok(!r.stderr.includes('    at '), show);
    assert.match(r.stderr, /^rewind: 1000 instructions in /m, show);
    assert.match(r.stderr, /^rewind: .*instruction limit.*1000/m, show);
  });

  it('a guest asleep in WFI with no timer and no input exits 3 with a message', () => {
    const r = cli('run', f['wfi.elf']);
    const show = `exit ${r.code}\nstdout: ${JSON.stringify(r.stdout)}\nstderr: ${r.stderr}`;
    assert.equal(r.code, 3, show);
    assert.equal(r.stdout, '', show);
    assert.ok(!r.stderr.includes('    at '), show);
    assert.match(r.stderr, /^rewind: .*idle/m, show);
  });
});
