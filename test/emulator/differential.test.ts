/**
 * Differential tests: every guest program (emulator/guest/guests.json) at -O0 and -O2 runs on
 * Rewind's built CLI and on real QEMU 7.2 (`-icount shift=0,sleep=off`) with the same input and
 * hart count. The UART output must be byte-identical and the exit codes equal; where the
 * program's instruction count is deterministic in QEMU (qemuIcount: true), Rewind's count must
 * equal the sum of the INSTRUCTION deltas of a QEMU `rr=record` log.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { qemuRecord, runQemu } from '../support/qemu';
import { describeDifference, ensureCliBuilt, REPO_ROOT, REWIND_CLI, runRewind } from '../support/rewindCli';

const GUEST_DIR = path.join(REPO_ROOT, 'emulator', 'guest');
const GUESTS_JSON = path.join(GUEST_DIR, 'guests.json');

interface Guest {
  name: string;
  /** Input file relative to emulator/guest, or null. */
  input: string | null;
  harts: number;
  exitCode: number;
  /** Whether QEMU's instruction count is reproducible, so Rewind's must equal it. */
  qemuIcount: boolean;
  why: string;
  bench?: boolean;
  /** Billions of instructions: the interpreter-only pass is left out (blockCompiler.test.ts compares the engines on its first 100 M). */
  long?: boolean;
}

// Used only until guests.json exists: the first three programs, described by hand.
const FALLBACK_GUESTS: Guest[] = [
  { name: 'hello', input: null, harts: 1, exitCode: 0, qemuIcount: true, why: 'no input, no clock reads' },
  { name: 'timer', input: null, harts: 1, exitCode: 0, qemuIcount: true, why: 'timer interrupts under icount are deterministic' },
  { name: 'echo', input: 'inputs/echo.txt', harts: 1, exitCode: 0, qemuIcount: false, why: 'when QEMU delivers each input byte depends on its I/O thread' },
];

function loadGuests(): { guests: Guest[]; fromFile: boolean } {
  if (!fs.existsSync(GUESTS_JSON)) return { guests: FALLBACK_GUESTS, fromFile: false };
  const raw = JSON.parse(fs.readFileSync(GUESTS_JSON, 'utf8')) as unknown;
  const list = (Array.isArray(raw) ? raw : (raw as { programs?: unknown; guests?: unknown }).programs ?? (raw as { guests?: unknown }).guests) as Guest[];
  if (!Array.isArray(list)) throw new Error(`${GUESTS_JSON}: expected an array of programs`);
  return { guests: list, fromFile: true };
}

const { guests, fromFile } = loadGuests();

let noJit: boolean | undefined;
/** Whether the built CLI has --no-jit (then the interpreter is compared on its own too). */
function cliHasNoJit(): boolean {
  if (noJit === undefined) {
    const r = spawnSync(process.execPath, [REWIND_CLI, '--help'], { encoding: 'utf8' });
    noJit = (r.stdout ?? '').includes('--no-jit');
  }
  return noJit;
}

// Root hook: the tests run dist/cli.js, so build it when it is missing or stale.
before(function () {
  this.timeout(300_000);
  ensureCliBuilt();
});

describe('Rewind vs QEMU 7.2 (differential)', function () {
  this.timeout(600_000);

  if (!fromFile) {
    it('guests.json is missing: only hello, timer and echo are compared (described by hand)');
  }

  for (const g of guests) {
    for (const opt of ['O0', 'O2']) {
      const elf = path.join(GUEST_DIR, 'bin', `${g.name}-${opt}.elf`);
      const harts = g.harts ?? 1;
      const what = `${g.name} -${opt}${harts > 1 ? ` (${harts} harts)` : ''}${g.input ? ` < ${g.input}` : ''}`;
      const title = g.qemuIcount
        ? `${what}: output, exit code and instruction count match QEMU`
        : `${what}: output and exit code match QEMU (count not compared: ${g.why})`;
      it(title, () => {
        assert.ok(fs.existsSync(elf), `missing ${elf} (run npm run guests)`);
        const inputFile = g.input ? path.join(GUEST_DIR, g.input) : undefined;
        const input = inputFile ? fs.readFileSync(inputFile) : undefined;

        const qemu = runQemu(elf, { input, harts, icount: true });
        const rec = g.qemuIcount ? qemuRecord(elf, { input, harts }) : undefined;
        // Collect every disagreement, so one run shows all of them.
        const problems: string[] = [];
        if (qemu.exitCode !== g.exitCode) problems.push(`QEMU exited ${qemu.exitCode}, guests.json says ${g.exitCode}`);
        if (rec && !rec.stdout.equals(qemu.stdout)) problems.push(`QEMU's recorded run printed something else than its plain run: ${describeDifference(rec.stdout, qemu.stdout, 'QEMU rr=record', 'QEMU')}`);
        // Rewind's default engine, and its interpreter alone when the CLI has --no-jit.
        for (const extraArgs of cliHasNoJit() && !g.long ? [[], ['--no-jit']] : [[]]) {
          const who = ['Rewind', ...extraArgs].join(' ');
          const rw = runRewind(elf, { inputFile, harts, extraArgs });
          const before = problems.length;
          const diff = describeDifference(rw.stdout, qemu.stdout, who);
          if (diff) problems.push(diff);
          if (rw.exitCode !== qemu.exitCode) problems.push(`exit codes differ: ${who} ${rw.exitCode}, QEMU ${qemu.exitCode}`);
          if (rw.instructions === undefined) problems.push(`no instruction count line on ${who}'s stderr`);
          if (rec && rw.instructions !== rec.instructions) {
            problems.push(`instruction counts differ: ${who} ${rw.instructions}, QEMU ${rec.instructions} (Rewind - QEMU = ${(rw.instructions ?? NaN) - rec.instructions})`);
          }
          if (problems.length > before) problems.push(`${who}: ${rw.command}\n    stderr: ${rw.stderr.trim().replace(/\n/g, '\n    ')}`);
        }
        assert.ok(problems.length === 0, `${what}:\n  ${problems.join('\n  ')}\n  qemu: ${qemu.command}`);
      });
    }
  }

  describe('a hand-made loop with a known instruction count', () => {
    const ITERATIONS = 1_000_000;
    // QEMU's reset vector (6) + lui/addi (2) + 2 per iteration + lui, lui, addi, sw (4).
    const EXPECTED = 6 + 2 + 2 * ITERATIONS + 4;
    let work: string;
    let elf: string;

    before(() => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-diff-'));
      const src = path.join(work, 'loop.s');
      const obj = path.join(work, 'loop.o');
      elf = path.join(work, 'loop.elf');
      fs.writeFileSync(src, `
        .option norvc
        .text
        .globl _start
_start:
        lui   t0, %hi(${ITERATIONS})
        addi  t0, t0, %lo(${ITERATIONS})
1:      addi  t0, t0, -1
        bnez  t0, 1b
        lui   t1, 0x100          # SiFive test finisher at 0x100000
        lui   t2, 0x5
        addi  t2, t2, 0x555      # 0x5555: PASS
        sw    t2, 0(t1)
2:      j     2b
`);
      // Two links: -n packs the segment at 0x80000000; ld's default pads it down to a page
      // boundary, so it starts at 0x7ffff000 with the ELF headers below RAM (QEMU drops them).
      for (const [tool, args] of [
        ['riscv64-unknown-elf-as', ['-march=rv32i', '-mabi=ilp32', '-o', obj, src]],
        ['riscv64-unknown-elf-ld', ['-m', 'elf32lriscv', '-n', '-Ttext=0x80000000', '-e', '_start', '-o', elf, obj]],
        ['riscv64-unknown-elf-ld', ['-m', 'elf32lriscv', '-Ttext=0x80000000', '-e', '_start', '-o', paddedElf(), obj]],
      ] as const) {
        const r = spawnSync(tool, args, { encoding: 'utf8' });
        if (r.error || r.status !== 0) throw new Error(`${tool} failed: ${r.error?.message ?? r.stderr}`);
      }
    });

    after(() => { if (work) fs.rmSync(work, { recursive: true, force: true }); });
    const paddedElf = () => path.join(work, 'loop-padded.elf');

    it('loads an ELF whose first segment starts below RAM (ld default layout) as QEMU does, with a warning', () => {
      const rw = runRewind(paddedElf());
      assert.equal(rw.exitCode, 0, `stderr: ${rw.stderr}`);
      assert.equal(rw.instructions, EXPECTED);
      assert.match(rw.stderr, /^rewind: warning: .*segment at 0x7ffff000\.\.0x8[0-9a-f]+ extends outside RAM; only 0x80000000\.\./m);
      assert.equal(qemuRecord(paddedElf()).instructions, EXPECTED);
    });

    it(`executes exactly 6 + 2 + 2×${ITERATIONS} + 4 = ${EXPECTED} instructions on Rewind and on QEMU, and exits 0`, () => {
      const rec = qemuRecord(elf);
      assert.equal(rec.exitCode, 0, `QEMU exit code: ${rec.stderr}`);
      assert.equal(rec.instructions, EXPECTED, 'QEMU count vs. hand count');
      for (const extraArgs of cliHasNoJit() ? [[], ['--no-jit']] : [[]]) {
        const rw = runRewind(elf, { extraArgs });
        const who = ['Rewind', ...extraArgs].join(' ');
        assert.equal(rw.exitCode, 0, `${who} exit code; stderr: ${rw.stderr}`);
        assert.equal(rw.stdout.length, 0);
        assert.equal(rw.instructions, EXPECTED, `${who} count vs. hand count`);
      }
    });
  });
});
