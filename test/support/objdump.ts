/**
 * Test support for the disassembler's differential tests: builds small RV32 ELFs with Debian's
 * binutils (the same `as`/`ld` flags as test/support/assemble.ts, but keeping the linked ELF
 * with its symbols, mapping symbols and attributes) and runs the real
 * `riscv64-unknown-elf-objdump` on them. ELFs are cached by source hash under os.tmpdir().
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TOOLCHAIN_INSTALL } from './assemble';

const TOOL_PREFIX = 'riscv64-unknown-elf-';
export const OBJDUMP = `${TOOL_PREFIX}objdump`;

function tool(name: string, args: string[], what: string): string {
  const r = spawnSync(TOOL_PREFIX + name, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(TOOLCHAIN_INSTALL);
    throw r.error;
  }
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr.slice(0, 4000)}`);
  return r.stdout;
}

export interface ElfBuild {
  /** -march for as (default rv32imac_zicsr_zifencei). */
  march?: string;
  /** Extra `as` options, e.g. -mpriv-spec=1.12. */
  asFlags?: string[];
}

/** Assembles and links `source` at 0x80000000 (no relaxation); returns the ELF's path. */
export function buildElf(source: string, opts: ElfBuild = {}): string {
  const march = opts.march ?? 'rv32imac_zicsr_zifencei';
  const flags = opts.asFlags ?? [];
  const key = createHash('sha256').update(JSON.stringify({ v: 1, march, flags, source })).digest('hex').slice(0, 32);
  const dir = path.join(os.tmpdir(), 'rewind-disasm-elf');
  fs.mkdirSync(dir, { recursive: true });
  const elf = path.join(dir, `${key}.elf`);
  if (fs.existsSync(elf)) return elf;
  const work = fs.mkdtempSync(path.join(dir, 'work-'));
  try {
    const src = path.join(work, 'prog.s');
    const obj = path.join(work, 'prog.o');
    const out = path.join(work, 'prog.elf');
    fs.writeFileSync(src, source);
    tool('as', [`-march=${march}`, '-mabi=ilp32', '-mno-relax', ...flags, '-o', obj, src], 'riscv64-unknown-elf-as');
    tool('ld', ['-m', 'elf32lriscv', '--no-relax', '-Ttext=0x80000000', '-e', '0x80000000', '-o', out, obj], 'riscv64-unknown-elf-ld');
    // Rename into place so a concurrent reader never sees a half-written file.
    fs.renameSync(out, elf);
    return elf;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** `riscv64-unknown-elf-objdump ARGS FILE`'s standard output. */
export function objdump(file: string, args: string[] = ['-d']): string {
  return tool('objdump', [...args, file], 'riscv64-unknown-elf-objdump');
}

/** One instruction (or data) line of a listing, split at objdump's tabs. */
export interface ListedInsn {
  addr: number;
  /** The encoding column without spaces (only when parsed with rawBytes). */
  raw?: string;
  mnemonic: string;
  operands: string;
  /** The text after ` # `, if any. */
  comment?: string;
}

/**
 * The instruction lines of an `objdump -d` (or `rewind disasm`) listing, with or without the
 * raw-bytes column: `ADDR:\t[RAW\t]MNEMONIC[\tOPERANDS[ # COMMENT]]`. Headers, `...` and
 * continuation lines are not instructions and are skipped.
 */
export function parseListing(text: string, rawBytes: boolean): ListedInsn[] {
  const out: ListedInsn[] = [];
  for (const line of text.split('\n')) {
    const m = /^ *([0-9a-f]+):\t(.*)$/.exec(line);
    if (!m) continue;
    const fields = m[2].split('\t');
    const raw = rawBytes ? fields.shift()!.replace(/ /g, '') : undefined;
    if (fields.length === 0 || fields[0] === '') continue;
    const [mnemonic, rest = ''] = fields;
    const hash = rest.indexOf(' # ');
    out.push({
      addr: parseInt(m[1], 16),
      ...(raw === undefined ? {} : { raw }),
      mnemonic,
      operands: hash < 0 ? rest : rest.slice(0, hash),
      ...(hash < 0 ? {} : { comment: rest.slice(hash + 3) }),
    });
  }
  return out;
}

/** Is Debian's RISC-V binutils installed? */
export function haveObjdump(): boolean {
  const r = spawnSync(OBJDUMP, ['--version'], { encoding: 'utf8' });
  return !r.error && r.status === 0;
}
