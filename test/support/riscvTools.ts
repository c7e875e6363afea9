/**
 * Test support for the debug-info tests: Debian's riscv64-unknown-elf binutils and GCC as
 * oracles (addr2line, objdump, readelf, strip, objcopy), and guest builds with other flags than
 * the Makefile's (DWARF 4, .eh_frame), cached by their inputs under os.tmpdir().
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TOOLCHAIN_INSTALL } from './assemble';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

export const GUEST_DIR = path.join(REPO_ROOT, 'emulator', 'guest');
export const GUEST_BIN = path.join(GUEST_DIR, 'bin');

/** Runs riscv64-unknown-elf-`tool`; returns stdout. */
export function tool(name: string, args: string[], input?: string, cwd?: string): string {
  const r = spawnSync(`riscv64-unknown-elf-${name}`, args, { input, cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`riscv64-unknown-elf-${name} is missing: ${TOOLCHAIN_INSTALL}`);
    throw r.error;
  }
  if (r.status !== 0) throw new Error(`riscv64-unknown-elf-${name} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Every committed guest ELF (bin/NAME-O0.elf and -O2.elf). */
export function guestElfs(): string[] {
  return fs.readdirSync(GUEST_BIN).filter((f) => f.endsWith('.elf')).sort().map((f) => path.join(GUEST_BIN, f));
}

/** The address of every instruction in the code sections, from `objdump -d`. */
export function instructionAddresses(elf: string): number[] {
  return [...tool('objdump', ['-d', elf]).matchAll(/^ *([0-9a-f]+):\t/gm)].map((m) => parseInt(m[1], 16));
}

function cacheDir(): string {
  const dir = path.join(os.tmpdir(), 'rewind-debuginfo-cache');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function cached(key: unknown, make: (out: string) => void): string {
  const hash = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 24);
  const out = path.join(cacheDir(), `${hash}.elf`);
  if (fs.existsSync(out)) return out;
  const tmp = `${out}.${process.pid}.tmp`;
  make(tmp);
  fs.renameSync(tmp, out);
  return out;
}

export interface GuestBuild {
  program: string;
  opt: 'O0' | 'O2';
  /** Added to the Makefile's CFLAGS, e.g. ['-gdwarf-4']. */
  cflags?: string[];
  /** Keep .eh_frame (link.ld discards it) by linking with an edited copy of the script. */
  keepEhFrame?: boolean;
}

/**
 * Builds a guest as the Makefile does (same flags, same prefix maps, so paths in the DWARF are
 * the committed ELFs' paths), plus `cflags`.
 */
export function buildGuest(b: GuestBuild): string {
  const read = (p: string) => fs.readFileSync(path.join(GUEST_DIR, p), 'utf8');
  const sources = ['common/start.S', 'common/lib.c', `programs/${b.program}.c`];
  if (fs.existsSync(path.join(GUEST_DIR, `programs/${b.program}_asm.S`))) sources.push(`programs/${b.program}_asm.S`);
  const headers = fs.readdirSync(path.join(GUEST_DIR, 'common')).filter((f) => f.endsWith('.h')).map((f) => `common/${f}`);
  let script = read('common/link.ld');
  if (b.keepEhFrame) script = script.replace('*(.eh_frame .eh_frame_hdr)', '*(.eh_frame_hdr)').replace('    _end = .;', '    .eh_frame : { KEEP(*(.eh_frame)) } > RAM\n\n    _end = .;');
  const key = { v: 1, b, files: [...sources, ...headers].map((f) => [f, read(f)]), script };
  return cached(key, (out) => {
    const ld = path.join(cacheDir(), `link-${process.pid}.ld`);
    fs.writeFileSync(ld, script);
    try {
      const arch = ['-march=rv32imac', '-mabi=ilp32', '-misa-spec=2.2', '-mcmodel=medany'];
      const cflags = [...arch, '-g', `-ffile-prefix-map=${GUEST_DIR}=.`, `-Wa,--debug-prefix-map=${GUEST_DIR}=.`, '-ffreestanding', '-fno-builtin', '-fno-common', '-Icommon', `-${b.opt}`, ...(b.cflags ?? [])];
      tool('gcc', [...cflags, ...sources, '-nostdlib', '-nostartfiles', '-static', '-T', ld, '-Wl,--no-warn-rwx-segments', '-lgcc', '-o', out], undefined, GUEST_DIR);
    } finally {
      fs.rmSync(ld, { force: true });
    }
  });
}

/** A copy of `elf` passed through `riscv64-unknown-elf-<strip|objcopy> args`. */
export function transformElf(elf: string, program: 'strip' | 'objcopy', args: string[]): string {
  return cached({ v: 1, elf: fs.readFileSync(elf).toString('base64'), program, args }, (out) => tool(program, program === 'strip' ? [...args, '-o', out, elf] : [...args, elf, out]));
}

/** Assembles and links a hand-written fixture at 0x80000000 (see test/fixtures/debuginfo). */
export function assembleFixture(file: string, defsyms: Record<string, number> = {}): string {
  const src = fs.readFileSync(file, 'utf8');
  return cached({ v: 1, src, defsyms }, (out) => {
    const obj = `${out}.o`;
    const defs = Object.entries(defsyms).flatMap(([k, v]) => ['--defsym', `${k}=${v}`]);
    try {
      tool('as', ['-march=rv32imac', '-mabi=ilp32', '-mno-relax', ...defs, file, '-o', obj]);
      tool('ld', ['-m', 'elf32lriscv', '--no-relax', '-Ttext=0x80000000', obj, '-o', out]);
    } finally {
      fs.rmSync(obj, { force: true });
    }
  });
}
