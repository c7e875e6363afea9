/**
 * Test support: the other side of the differential tests, Rewind's built CLI (dist/cli.js), run
 * as a child process exactly as a user runs it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { shellQuote } from './qemu';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const REWIND_CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
export const REWIND_ADAPTER = path.join(REPO_ROOT, 'dist', 'adapter.js');

function newestMtime(p: string, skip: (p: string) => boolean): number {
  if (skip(p)) return 0;
  const st = fs.statSync(p);
  if (!st.isDirectory()) return /\.(ts|js|json)$/.test(p) ? st.mtimeMs : 0;
  let newest = 0;
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e), skip));
  return newest;
}

/** Runs `npm run build` when dist/cli.js is missing or older than the sources it is built from. */
export function ensureCliBuilt(): void {
  const config = Math.max(...['webpack.config.js', 'tsconfig.json', 'package.json'].map((f) => fs.statSync(path.join(REPO_ROOT, f)).mtimeMs));
  const engine = Math.max(config, newestMtime(path.join(REPO_ROOT, 'emulator'), (p) => p === path.join(REPO_ROOT, 'emulator', 'guest')));
  const adapter = Math.max(engine, newestMtime(path.join(REPO_ROOT, 'src'), () => false));
  // webpack leaves an output it did not change alone, so each bundle is judged by its own inputs.
  const fresh = (f: string, sources: number) => fs.existsSync(f) && fs.statSync(f).mtimeMs >= sources;
  if (fresh(REWIND_CLI, engine) && fresh(REWIND_ADAPTER, adapter)) return;
  const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
  if (r.error || r.status !== 0 || !fs.existsSync(REWIND_CLI) || !fs.existsSync(REWIND_ADAPTER)) {
    throw new Error(`npm run build failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
  }
  const now = new Date();
  for (const f of [REWIND_CLI, REWIND_ADAPTER]) fs.utimesSync(f, now, now);
}

export interface RewindOptions {
  /** Path of the input file (--input FILE). */
  inputFile?: string;
  harts?: number;
  maxInsns?: number;
  timeoutMs?: number;
  /** Extra arguments after the ELF. */
  extraArgs?: string[];
}

export interface RewindResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
  /** From the stderr line `rewind: N instructions in S s (M MIPS)`; undefined if it is missing. */
  instructions?: number;
  runSeconds?: number;
  mips?: number;
  /** Wall-clock time of the whole process, Node start-up included. */
  seconds: number;
  command: string;
}

const STATS_LINE = /^rewind: (\d+) instructions in ([\d.]+) s \(([\d.]+) MIPS\)$/m;

/** Parses Rewind's closing stderr line. */
export function parseRewindStats(stderr: string): { instructions: number; runSeconds: number; mips: number } | undefined {
  const m = STATS_LINE.exec(stderr);
  return m ? { instructions: Number(m[1]), runSeconds: Number(m[2]), mips: Number(m[3]) } : undefined;
}

/** Runs `node dist/cli.js run ELF ...` (build it first with ensureCliBuilt). */
export function runRewind(elf: string, opts: RewindOptions = {}): RewindResult {
  const args = [REWIND_CLI, 'run', elf];
  if (opts.inputFile !== undefined) args.push('--input', opts.inputFile);
  if (opts.harts !== undefined) args.push('--harts', String(opts.harts));
  if (opts.maxInsns !== undefined) args.push('--max-insns', String(opts.maxInsns));
  args.push(...(opts.extraArgs ?? []));
  const command = ['node', ...args].map(shellQuote).join(' ');
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const stderr = r.stderr ? r.stderr.toString('utf8') : '';
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') throw new Error(`Rewind did not finish within ${timeoutMs / 1000} s (killed): ${command}\nstderr: ${stderr.trim()}`);
    throw r.error;
  }
  if (r.status === null) throw new Error(`Rewind died on signal ${r.signal}: ${command}\nstderr: ${stderr.trim()}`);
  return { stdout: r.stdout, stderr, exitCode: r.status, seconds, command, ...parseRewindStats(stderr) };
}

/** Where two outputs first differ, with some context, for assertion messages; '' if equal. */
export function describeDifference(a: Buffer, b: Buffer, aName = 'Rewind', bName = 'QEMU'): string {
  if (a.equals(b)) return '';
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const show = (buf: Buffer) => JSON.stringify(buf.subarray(Math.max(0, i - 40), i + 40).toString('latin1'));
  return `outputs differ at byte ${i} (${aName} ${a.length} bytes, ${bName} ${b.length} bytes):\n`
    + `  ${aName}: byte ${i < a.length ? '0x' + a[i].toString(16).padStart(2, '0') : 'EOF'}, around it ${show(a)}\n`
    + `  ${bName}: byte ${i < b.length ? '0x' + b[i].toString(16).padStart(2, '0') : 'EOF'}, around it ${show(b)}`;
}

/** What a CLI child process did. */
export interface CliRun { code: number | null; stdout: string; stderr: string }

/** Runs `node dist/cli.js ARGS...` and captures everything (text decoded as UTF-8). */
export function runCli(args: string[], timeoutMs = 120_000): CliRun {
  const r = spawnSync(process.execPath, [REWIND_CLI, ...args], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The user-error contract: exit 2, exactly one `rewind: ...` line on stderr matching `pattern`,
 * no stack trace, and (unless the command streams partial results first) nothing on stdout.
 * Returns the line.
 */
export function assertOneLineError(r: CliRun, pattern: RegExp, opts: { stdoutAllowed?: boolean } = {}): string {
  const show = `exit ${r.code}\nstdout: ${JSON.stringify(r.stdout.slice(-500))}\nstderr: ${JSON.stringify(r.stderr)}`;
  assert.equal(r.code, 2, show);
  if (!opts.stdoutAllowed) assert.equal(r.stdout, '', show);
  assert.ok(!r.stderr.includes('    at '), `stack trace:\n${show}`);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  assert.equal(lines.length, 1, show);
  assert.match(lines[0], /^rewind: /, show);
  assert.match(lines[0], pattern, show);
  return lines[0];
}
