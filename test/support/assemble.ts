/**
 * Test support: assembles RISC-V source with Debian's bare-metal binutils and runs it on a fresh
 * Machine. Results are cached by source hash under os.tmpdir(), so reruns do not spawn the
 * toolchain again.
 *
 * Every source is assembled as RV32IMAC + Zicsr + Zifencei (ilp32), linked at RAM_BASE
 * (0x80000000) with relaxation off, so the code is exactly what was written (compressed forms are
 * chosen by as where possible; `.option norvc` / `.option rvc` work as usual). A small prelude of
 * macros is prepended (it emits no code):
 *
 *   EXIT              exit through the SiFive test device (clobbers t5, t6)
 *   SET_MTVEC label   mtvec = label (clobbers t6). The label must be 4-byte aligned (put
 *                     `.balign 4` before it): with compressed code a label can land on 2 mod 4,
 *                     which mtvec reads as reserved MODE 2, and the hart ignores the write.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine, MachineConfig } from '../../emulator/machine/machine';
import { Hart } from '../../emulator/cpu/hart';

export const TEXT_BASE = 0x80000000;

/** The error message when the toolchain is missing: the exact line that installs it. */
export const TOOLCHAIN_INSTALL = 'apt-get install -y gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf picolibc-riscv64-unknown-elf';

const TOOL_PREFIX = 'riscv64-unknown-elf-';
const DEFAULT_MARCH = 'rv32imac_zicsr_zifencei';

export interface AsmOptions {
  /** -march for as; default rv32imac_zicsr_zifencei. */
  march?: string;
  /** Prepend the EXIT / SET_MTVEC macros (default true). */
  prelude?: boolean;
}

export interface AsmProgram {
  /** The raw image, to be placed at 0x80000000. */
  bytes: Uint8Array;
  /** Every symbol the linked ELF defines (labels included), by name: absolute address. */
  sym: Record<string, number>;
}

const PRELUDE = `
.macro EXIT
  li t6, 0x100000
  li t5, 0x5555
  sw t5, 0(t6)
.endm
.macro SET_MTVEC label
  la t6, \\label
  csrw mtvec, t6
.endm
.text
`;

let toolchainChecked = false;

function checkToolchain(): void {
  if (toolchainChecked) return;
  for (const tool of ['as', 'ld', 'objcopy', 'nm']) {
    const r = spawnSync(TOOL_PREFIX + tool, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(TOOLCHAIN_INSTALL);
  }
  toolchainChecked = true;
}

function run(tool: string, args: string[], what: string, source?: string): void {
  const r = spawnSync(TOOL_PREFIX + tool, args, { encoding: 'utf8' });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(TOOLCHAIN_INSTALL);
    throw r.error;
  }
  if (r.status !== 0) {
    const listing = source === undefined ? '' : '\n' + source.split('\n').map((l, i) => `${String(i + 1).padStart(4)}| ${l}`).join('\n');
    throw new Error(`${what} failed:\n${r.stderr}${listing}`);
  }
}

function cacheDir(): string {
  const dir = path.join(os.tmpdir(), 'rewind-asm-cache');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Writes a file so that a concurrent reader never sees it half written. */
function writeAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** Assembles and links `source` at 0x80000000; returns the image and its symbols. */
export function assembleProgram(source: string, opts: AsmOptions = {}): AsmProgram {
  const march = opts.march ?? DEFAULT_MARCH;
  const full = (opts.prelude ?? true) ? PRELUDE + source + '\n' : source + '\n';
  const key = createHash('sha256').update(JSON.stringify({ v: 1, march, full })).digest('hex').slice(0, 32);
  const dir = cacheDir();
  const binFile = path.join(dir, `${key}.bin`);
  const symFile = path.join(dir, `${key}.json`);
  if (fs.existsSync(binFile) && fs.existsSync(symFile)) {
    return { bytes: new Uint8Array(fs.readFileSync(binFile)), sym: JSON.parse(fs.readFileSync(symFile, 'utf8')) as Record<string, number> };
  }
  checkToolchain();
  const work = fs.mkdtempSync(path.join(dir, 'work-'));
  try {
    const src = path.join(work, 'prog.s');
    const obj = path.join(work, 'prog.o');
    const elf = path.join(work, 'prog.elf');
    const bin = path.join(work, 'prog.bin');
    fs.writeFileSync(src, full);
    run('as', [`-march=${march}`, '-mabi=ilp32', '-mno-relax', '-o', obj, src], 'riscv64-unknown-elf-as', full);
    run('ld', ['-m', 'elf32lriscv', '--no-relax', `-Ttext=0x${TEXT_BASE.toString(16)}`, '-e', `0x${TEXT_BASE.toString(16)}`, '-o', elf, obj], 'riscv64-unknown-elf-ld');
    run('objcopy', ['-O', 'binary', elf, bin], 'riscv64-unknown-elf-objcopy');
    const nm = spawnSync(TOOL_PREFIX + 'nm', [elf], { encoding: 'utf8' });
    if (nm.error || nm.status !== 0) throw new Error(`riscv64-unknown-elf-nm failed: ${nm.stderr}`);
    const sym: Record<string, number> = {};
    for (const line of nm.stdout.split('\n')) {
      const m = /^([0-9a-f]+) \w (\S+)$/.exec(line.trim());
      if (m) sym[m[2]] = parseInt(m[1], 16);
    }
    const bytes = new Uint8Array(fs.readFileSync(bin));
    writeAtomic(binFile, bytes);
    writeAtomic(symFile, JSON.stringify(sym));
    return { bytes, sym };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Assembles and links `source` at 0x80000000 into an ELF file (with line info for the source,
 * `as -g`), cached like the images; returns its path. For tests that hand a program to the
 * debugger, which loads ELF files.
 */
export function assembleElf(source: string, opts: AsmOptions = {}): string {
  const march = opts.march ?? DEFAULT_MARCH;
  const full = (opts.prelude ?? true) ? PRELUDE + source + '\n' : source + '\n';
  const key = createHash('sha256').update(JSON.stringify({ v: 1, elf: true, march, full })).digest('hex').slice(0, 32);
  const out = path.join(cacheDir(), `${key}.elf`);
  if (fs.existsSync(out)) return out;
  checkToolchain();
  const work = fs.mkdtempSync(path.join(cacheDir(), 'work-'));
  try {
    const src = path.join(work, 'prog.S');
    const obj = path.join(work, 'prog.o');
    const elf = path.join(work, 'prog.elf');
    fs.writeFileSync(src, full);
    run('as', [`-march=${march}`, '-mabi=ilp32', '-mno-relax', '-g', '-o', obj, src], 'riscv64-unknown-elf-as', full);
    run('ld', ['-m', 'elf32lriscv', '--no-relax', `-Ttext=0x${TEXT_BASE.toString(16)}`, '-e', `0x${TEXT_BASE.toString(16)}`, '-o', elf, obj], 'riscv64-unknown-elf-ld');
    writeAtomic(out, fs.readFileSync(elf));
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Assembles and links `source` at 0x80000000; returns the raw bytes. */
export function assemble(source: string, opts: AsmOptions = {}): Uint8Array {
  return assembleProgram(source, opts).bytes;
}

export interface RunOptions extends AsmOptions {
  machine?: MachineConfig;
  /** Instruction budget when running until exit (default 1,000,000). */
  maxInstructions?: number;
}

export interface Loaded {
  m: Machine;
  h: Hart;
  sym: Record<string, number>;
}

/** A fresh 1 MiB machine with the program at 0x80000000 and hart 0's pc on it; nothing run. */
export function loadAsm(source: string, opts: RunOptions = {}): Loaded {
  const { bytes, sym } = assembleProgram(source, opts);
  const m = new Machine({ ramMiB: 1, ...opts.machine });
  m.bus.writeRam(TEXT_BASE, bytes);
  const h = m.harts[0];
  h.pc = TEXT_BASE;
  return { m, h, sym };
}

/**
 * Runs `steps` more instructions on a loaded program, or with 'exit' until the guest exits
 * (throwing if it does not within the budget).
 */
export function step(l: Loaded, steps: number | 'exit', budget = 1_000_000): void {
  if (steps === 'exit') {
    const r = l.m.run(l.m.icount + budget);
    if (r.reason !== 'exit') {
      const hex = (n: number) => '0x' + (n >>> 0).toString(16);
      throw new Error(`guest did not exit (${r.reason}) after ${l.m.icount} instructions; pc=${hex(l.h.pc)} mcause=${hex(l.h.mcause)} mepc=${hex(l.h.mepc)}`);
    }
  } else {
    l.m.run(l.m.icount + steps);
  }
}

/** Loads the program and runs it; returns the machine, hart 0 and the symbols. */
export function runProgram(source: string, steps: number | 'exit', opts: RunOptions = {}): Loaded {
  const l = loadAsm(source, opts);
  step(l, steps, opts.maxInstructions);
  return l;
}

/** Loads the program at 0x80000000 on a fresh machine, runs it, and returns the machine. */
export function runAsm(source: string, steps: number | 'exit', opts: RunOptions = {}): Machine {
  return runProgram(source, steps, opts).m;
}

/** x[i] as an unsigned 32-bit number. */
export function ux(h: Hart, i: number): number {
  return h.x[i] >>> 0;
}

/** ABI register numbers, so tests can say h.x[R.a0]. */
export const R = {
  zero: 0, ra: 1, sp: 2, gp: 3, tp: 4, t0: 5, t1: 6, t2: 7, s0: 8, s1: 9,
  a0: 10, a1: 11, a2: 12, a3: 13, a4: 14, a5: 15, a6: 16, a7: 17,
  s2: 18, s3: 19, s4: 20, s5: 21, s6: 22, s7: 23, s8: 24, s9: 25, s10: 26, s11: 27,
  t3: 28, t4: 29, t5: 30, t6: 31,
} as const;

/** Reads a CSR through the debugger interface, failing the test if it does not exist. */
export function csr(h: Hart, n: number): number {
  const v = h.readCsr(n);
  if (v === undefined) throw new Error(`CSR 0x${n.toString(16)} does not exist`);
  return v >>> 0;
}

/** A trap handler (mtvec target) that records mcause/mepc/mtval in s9/s10/s11 and exits. */
export const TRAP_RECORDER = `
  .balign 4
trap:
  csrr s9, mcause
  csrr s10, mepc
  csrr s11, mtval
  EXIT`;

/**
 * Runs `body` to exit with TRAP_RECORDER installed; s9 = -1 afterwards means no trap was taken.
 * `mark` says where the `li s9, -1` goes: 'before' the body, or 'after' it (then a trapping
 * body never reaches it); tests that count instructions depend on which.
 */
export function runWithTrapRecorder(body: string, data: string, mark: 'before' | 'after'): Loaded {
  const pre = mark === 'before' ? '  li s9, -1\n' : '';
  const post = mark === 'after' ? '  li s9, -1\n' : '';
  return runProgram(`  SET_MTVEC trap\n${pre}${body}\n${post}  EXIT\n${TRAP_RECORDER}\n  .balign 16\n${data}\n`, 'exit');
}
