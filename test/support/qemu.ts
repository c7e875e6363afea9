/**
 * Test support: runs real QEMU 7.2 (Debian's qemu-system-riscv32) on a bare-metal ELF the way
 * Rewind's differential tests compare against it:
 *
 *   qemu-system-riscv32 -machine virt -bios none -display none -monitor none -serial stdio
 *     -net none [-smp N] [-icount shift=0,sleep=off[,rr=record,rrfile=F]] -kernel ELF
 *
 * Input: the bytes are written to a temporary file that becomes QEMU's stdin, so all of them are
 * available from the first instruction on, as with `qemu ... < file` (and as Rewind's --input FILE
 * models it); a pipe would let the guest run before the bytes arrive. Without input stdin is
 * /dev/null: QEMU reads EOF once and carries on (it does not exit on EOF; a guest waiting for input
 * then waits forever, which the timeout turns into an error).
 *
 * Output: the guest's UART bytes are QEMU's stdout, captured through a file (see spawnQemu for why
 * not a pipe); QEMU's warnings (e.g. "icount sleep disabled and no active timers") are on stderr.
 *
 * Exit code: QEMU 7.2 exits with the SiFive test finisher's code (0 for PASS); its own failures
 * (a bad ELF, say) exit 1 with a message on stderr.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeReplayLog, ReplaySummary } from './qemuReplayIcount';

export const QEMU = 'qemu-system-riscv32';
export const QEMU_INSTALL = 'apt-get install -y qemu-system-misc';
const BASE_ARGS = ['-machine', 'virt', '-bios', 'none', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-net', 'none'];
/** Default time limit for one QEMU run. */
export const QEMU_TIMEOUT_MS = 60_000;

export interface QemuOptions {
  /** Bytes for the guest's UART (fed through stdin). */
  input?: Buffer;
  /** -smp N (default: QEMU's 1). */
  harts?: number;
  /** Add `-icount shift=0,sleep=off`: deterministic time, one virtual ns per instruction. */
  icount?: boolean;
  /** Kill QEMU and throw after this long (default QEMU_TIMEOUT_MS). */
  timeoutMs?: number;
}

export interface QemuResult {
  stdout: Buffer;
  exitCode: number;
  stderr: string;
  /** Wall-clock time of the whole QEMU process, start-up included. */
  seconds: number;
  /** The command line, for messages. */
  command: string;
}

export interface QemuRecording extends QemuResult {
  /** Guest instructions executed: the sum of the replay log's INSTRUCTION deltas. */
  instructions: number;
  replay: ReplaySummary;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-qemu-'));
}

/** Quotes one word for a shell command line shown in error messages. */
export function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function spawnQemu(elf: string, icountArg: string | null, opts: QemuOptions, work: string): QemuResult {
  if (!fs.existsSync(elf)) throw new Error(`runQemu: no such ELF: ${elf}`);
  const args = [...BASE_ARGS];
  if (opts.harts !== undefined && opts.harts !== 1) args.push('-smp', String(opts.harts));
  if (icountArg !== null) args.push('-icount', icountArg);
  args.push('-kernel', elf);
  let stdinFd: number | 'ignore' = 'ignore';
  let inputFile: string | undefined;
  if (opts.input !== undefined) {
    inputFile = path.join(work, 'input');
    fs.writeFileSync(inputFile, opts.input);
    stdinFd = fs.openSync(inputFile, 'r');
  }
  const command = [QEMU, ...args].map(shellQuote).join(' ') + (inputFile ? ` < ${shellQuote(inputFile)}` : ' < /dev/null');
  const timeoutMs = opts.timeoutMs ?? QEMU_TIMEOUT_MS;
  // stdout and stderr go to files, not pipes: Node's child 'pipe's are Unix socketpairs, and the
  // UART writes one byte per send(), so a few hundred bytes can fill the socket before Node reads
  // it; QEMU then gets EAGAIN and waits for the main loop to retry, which under rr=record
  // deadlocks (the vCPU thread holds the replay mutex while the guest spins on LSR.THRE).
  const outFile = path.join(work, 'stdout');
  const errFile = path.join(work, 'stderr');
  const outFd = fs.openSync(outFile, 'w');
  const errFd = fs.openSync(errFile, 'w');
  const t0 = process.hrtime.bigint();
  let r;
  try {
    // SIGKILL: a QEMU stuck in record mode does not act on SIGTERM.
    r = spawnSync(QEMU, args, { stdio: [stdinFd, outFd, errFd], timeout: timeoutMs, killSignal: 'SIGKILL' });
  } finally {
    if (typeof stdinFd === 'number') fs.closeSync(stdinFd);
    fs.closeSync(outFd);
    fs.closeSync(errFd);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const stdout = fs.readFileSync(outFile);
  const stderr = fs.readFileSync(errFile, 'utf8');
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${QEMU} is not installed; run: ${QEMU_INSTALL}`);
    if (code === 'ETIMEDOUT') {
      const out = stdout.toString('utf8');
      throw new Error(`QEMU did not finish within ${timeoutMs / 1000} s (killed): ${command}\n`
        + `guest output so far (${out.length} bytes): ${JSON.stringify(out.slice(-400))}\nstderr: ${stderr.trim()}`);
    }
    throw r.error;
  }
  if (r.status === null) throw new Error(`QEMU died on signal ${r.signal}: ${command}\nstderr: ${stderr.trim()}`);
  return { stdout, exitCode: r.status, stderr, seconds, command };
}

/** Runs QEMU on `elf` and returns the guest's UART output and QEMU's exit code. */
export function runQemu(elf: string, opts: QemuOptions = {}): QemuResult {
  const work = tempDir();
  try {
    return spawnQemu(elf, opts.icount ? 'shift=0,sleep=off' : null, opts, work);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Runs QEMU with `-icount shift=0,sleep=off,rr=record,rrfile=TMP` and decodes the log: the exact
 * number of guest instructions QEMU executed (its 6-instruction reset vector included), plus the
 * run's output. `opts.icount` is ignored (always on).
 *
 * Caveat (QEMU 7.2): recording a guest that sleeps in WFI with no timer armed until UART input
 * arrives hangs — with sleep=off no checkpoint is reached, so the queued character-read event is
 * never delivered. The timeout turns that into an error.
 */
export function qemuRecord(elf: string, opts: QemuOptions = {}): QemuRecording {
  const work = tempDir();
  try {
    const rrfile = path.join(work, 'rec.replay.bin');
    const res = spawnQemu(elf, `shift=0,sleep=off,rr=record,rrfile=${rrfile}`, opts, work);
    if (!fs.existsSync(rrfile)) throw new Error(`QEMU wrote no replay log (exit ${res.exitCode}): ${res.command}\nstderr: ${res.stderr.trim()}`);
    const replay = decodeReplayLog(fs.readFileSync(rrfile));
    return { ...res, instructions: replay.instructions, replay };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The exact number of guest instructions QEMU executes on `elf` (see qemuRecord). */
export function qemuIcount(elf: string, opts: QemuOptions = {}): number {
  return qemuRecord(elf, opts).instructions;
}

// ---------------------------------------------------------------------------------------------
