/**
 * Test support: real gdb (Debian's gdb-multiarch) driving real QEMU (qemu-system-riscv32 -S -gdb)
 * on the same ELF, as the oracle for everything source-level a debugger shows: stop lines,
 * backtraces, locals, arguments, printed expressions.
 *
 * gdb runs with the MI interpreter on a pipe (`--interpreter=mi3`), so every command gets its
 * own result record and a failing command (an unknown symbol, say) is just an error result, not
 * the end of a batch script. CLI commands go through `-interpreter-exec console`, whose text comes
 * back in `~"..."` stream records.
 *
 * QEMU runs with `-icount shift=0,sleep=off`: the guest's time is its instruction count, as in
 * Rewind, so a guest that reads the clock behaves the same under both.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { freePort } from './freePort';
import * as os from 'node:os';
import * as path from 'node:path';

export const GDB = 'gdb-multiarch';
export const GDB_INSTALL = 'apt-get install -y gdb-multiarch';

/** A parsed MI value: a string (c-string), a tuple ({}) or a list ([]). */
export type MiValue = string | MiTuple | MiValue[];
export interface MiTuple { [k: string]: MiValue }

/** One command's outcome: MI result class and payload, and the console text it printed. */
export interface GdbReply {
  cls: 'done' | 'running' | 'connected' | 'error' | 'exit';
  payload: MiTuple;
  console: string;
  /** For `error`: gdb's message. */
  message?: string;
}

/** A `*stopped` async record: why and where. */
export type GdbStopped = MiTuple;

export interface GdbFrame {
  level: number;
  addr: number;
  func?: string;
  file?: string;
  line?: number;
}

export interface GdbVariable {
  name: string;
  value: string;
}

// ---- MI parsing (GDB manual, "GDB/MI Output Syntax") ----

function parseCString(s: string, i: number): [string, number] {
  // s[i] === '"'
  let out = '';
  i++;
  while (i < s.length && s[i] !== '"') {
    if (s[i] === '\\') {
      const c = s[++i];
      if (c === 'n') out += '\n';
      else if (c === 't') out += '\t';
      else if (c === 'r') out += '\r';
      else if (c >= '0' && c <= '7') {
        let oct = c;
        while (oct.length < 3 && s[i + 1] >= '0' && s[i + 1] <= '7') oct += s[++i];
        out += String.fromCharCode(parseInt(oct, 8));
      } else out += c;
      i++;
    } else out += s[i++];
  }
  return [out, i + 1];
}

function parseValue(s: string, i: number): [MiValue, number] {
  if (s[i] === '"') return parseCString(s, i);
  if (s[i] === '{') {
    const t: MiTuple = {};
    i++;
    while (s[i] !== '}') {
      const [k, v, j] = parseResult(s, i);
      t[k] = v;
      i = s[j] === ',' ? j + 1 : j;
    }
    return [t, i + 1];
  }
  if (s[i] === '[') {
    const list: MiValue[] = [];
    i++;
    while (s[i] !== ']') {
      // A list holds either values or results (name=value); results keep only their value.
      if (s[i] === '"' || s[i] === '{' || s[i] === '[') {
        const [v, j] = parseValue(s, i);
        list.push(v);
        i = j;
      } else {
        const [k, v, j] = parseResult(s, i);
        list.push({ [k]: v });
        i = j;
      }
      if (s[i] === ',') i++;
    }
    return [list, i + 1];
  }
  throw new Error(`MI parse error at ${i}: ${s.slice(i, i + 40)}`);
}

function parseResult(s: string, i: number): [string, MiValue, number] {
  const eq = s.indexOf('=', i);
  const key = s.slice(i, eq);
  const [v, j] = parseValue(s, eq + 1);
  return [key, v, j];
}

/** The results after a record's class: `,a="1",b={...}`. */
export function parseMiResults(s: string): MiTuple {
  const t: MiTuple = {};
  let i = 0;
  while (i < s.length) {
    if (s[i] === ',') i++;
    const [k, v, j] = parseResult(s, i);
    t[k] = v;
    i = j;
  }
  return t;
}

/**
 * One gdb attached to one QEMU. Commands run one at a time, in order; `resume` commands
 * (-exec-continue, -exec-next, ...) wait for the `*stopped` record that ends them.
 */
export class GdbQemu {
  private gdb!: ChildProcess;
  private qemu!: ChildProcess;
  private buf = '';
  private token = 1;
  private consoleText = '';
  private pending?: { token: number; resolve: (r: GdbReply) => void };
  private queue: Promise<unknown> = Promise.resolve();
  private stopWaiters: ((s: GdbStopped) => void)[] = [];
  private stops: GdbStopped[] = [];
  private work!: string;
  /** The guest's UART output so far (QEMU's serial goes to a file). */
  uartFile = '';
  private exited = false;

  static async start(elf: string, opts: { harts?: number; input?: Buffer; extraQemu?: string[] } = {}): Promise<GdbQemu> {
    const g = new GdbQemu();
    await g.boot(elf, opts);
    return g;
  }

  private async boot(elf: string, opts: { harts?: number; input?: Buffer; extraQemu?: string[] }): Promise<void> {
    if (!fs.existsSync(elf)) throw new Error(`GdbQemu: no such ELF: ${elf}`);
    this.work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-gdb-'));
    this.uartFile = path.join(this.work, 'uart.out');
    const port = await freePort();
    const args = ['-machine', 'virt', '-bios', 'none', '-display', 'none', '-monitor', 'none', '-net', 'none',
      '-icount', 'shift=0,sleep=off', '-S', '-gdb', `tcp:127.0.0.1:${port}`, '-kernel', elf];
    if (opts.harts && opts.harts > 1) args.push('-smp', String(opts.harts));
    let stdin: number | 'ignore' = 'ignore';
    if (opts.input) {
      const f = path.join(this.work, 'input');
      fs.writeFileSync(f, opts.input);
      stdin = fs.openSync(f, 'r');
      args.push('-serial', 'stdio');
    } else {
      args.push('-serial', `file:${this.uartFile}`);
    }
    const out = opts.input ? fs.openSync(this.uartFile, 'w') : 'ignore';
    this.qemu = spawn('qemu-system-riscv32', [...args, ...(opts.extraQemu ?? [])], { stdio: [stdin, out, 'pipe'] });
    this.qemu.on('error', (e) => { throw new Error(`qemu-system-riscv32 could not start (${(e as Error).message}): apt-get install -y qemu-system-misc`); });
    if (typeof stdin === 'number') fs.closeSync(stdin);
    if (typeof out === 'number') fs.closeSync(out);
    // QEMU listens once it has set up the machine; retry the connection briefly.
    this.gdb = spawn(GDB, ['-q', '-nx', '--interpreter=mi3', elf], { stdio: ['pipe', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      this.gdb.once('spawn', () => resolve());
      this.gdb.once('error', (e) => reject(new Error(`${GDB} could not start (${(e as Error).message}): ${GDB_INSTALL}`)));
    });
    this.gdb.stdout!.setEncoding('utf8');
    this.gdb.stdout!.on('data', (d: string) => this.onData(d));
    this.gdb.on('exit', () => { this.exited = true; });
    await this.cli('set pagination off');
    await this.cli('set confirm off');
    await this.cli('set architecture riscv:rv32');
    await this.cli('set width 0');
    // Plain current values (`lo = 0`, not `lo=lo@entry=0`): what a variables view shows.
    await this.cli('set print entry-values no');
    for (let attempt = 0; ; attempt++) {
      const r = await this.mi(`-target-select remote 127.0.0.1:${port}`);
      if (r.cls === 'connected' || r.cls === 'done') break;
      if (attempt > 50) throw new Error(`gdb could not connect to QEMU: ${r.message}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    // Connecting reports where the halted guest is (the reset vector): not a stop of ours.
    await this.nextStop(10_000);
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    if (line.startsWith('~')) {
      this.consoleText += parseCString(line, 1)[0];
      return;
    }
    if (line.startsWith('*stopped')) {
      const s = parseMiResults(line.slice('*stopped'.length + 1)) as GdbStopped;
      const w = this.stopWaiters.shift();
      if (w) w(s);
      else this.stops.push(s);
      return;
    }
    const m = /^(\d+)\^(done|running|connected|error|exit)(,(.*))?$/.exec(line);
    if (m && this.pending && Number(m[1]) === this.pending.token) {
      const payload = m[4] ? parseMiResults(m[4]) : {};
      const p = this.pending;
      this.pending = undefined;
      const text = this.consoleText;
      this.consoleText = '';
      p.resolve({ cls: m[2] as GdbReply['cls'], payload, console: text, message: m[2] === 'error' ? String(payload.msg ?? '') : undefined });
    }
  }

  /** Runs one MI command and returns its result record (not waiting for a stop). */
  mi(command: string): Promise<GdbReply> {
    // gdb answers one command at a time; callers that overlap are queued, not interleaved.
    const run = this.queue.then(() => this.send(command));
    this.queue = run.then(() => undefined, () => undefined);
    return run;
  }

  private send(command: string): Promise<GdbReply> {
    if (this.exited) return Promise.reject(new Error('gdb has exited'));
    const token = this.token++;
    return new Promise((resolve) => {
      this.pending = { token, resolve };
      this.gdb.stdin!.write(`${token}${command}\n`);
    });
  }

  /** A CLI command; returns the text it printed (errors come back as the reply's message). */
  async cli(command: string): Promise<GdbReply> {
    return this.mi(`-interpreter-exec console ${JSON.stringify(command)}`);
  }

  /** The next `*stopped` record. */
  nextStop(timeoutMs = 60_000): Promise<GdbStopped> {
    const queued = this.stops.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('gdb: no stop within the time limit')), timeoutMs);
      this.stopWaiters.push((s) => { clearTimeout(t); resolve(s); });
    });
  }

  /** A resuming command (`-exec-continue`, `-exec-next`, `-exec-finish`, ...) and the stop it ends in. */
  async resume(command: string, timeoutMs?: number): Promise<GdbStopped> {
    const r = await this.mi(command);
    if (r.cls === 'error') throw new Error(`gdb ${command}: ${r.message}`);
    return this.nextStop(timeoutMs);
  }

  /** The backtrace, innermost first (inline frames included, as gdb shows them). */
  async frames(): Promise<GdbFrame[]> {
    const r = await this.mi('-stack-list-frames');
    const list = (r.payload.stack as MiValue[] | undefined) ?? [];
    return list.map((f) => {
      const fr = (f as MiTuple).frame as MiTuple;
      return {
        level: Number(fr.level), addr: parseInt(String(fr.addr), 16),
        func: fr.func === undefined || fr.func === '??' ? undefined : String(fr.func),
        file: fr.file === undefined ? undefined : String(fr.file),
        line: fr.line === undefined ? undefined : Number(fr.line),
      };
    });
  }

  /** `info locals` of the selected frame, as MI gives them (name, value string). */
  async locals(): Promise<GdbVariable[]> {
    const r = await this.mi('-stack-list-locals --all-values');
    return ((r.payload.locals as MiValue[] | undefined) ?? []).map((v) => ({ name: String((v as MiTuple).name), value: String((v as MiTuple).value) }));
  }

  /** `info args` of frame `level`. */
  async args(level = 0): Promise<GdbVariable[]> {
    const r = await this.mi(`-stack-list-arguments --all-values ${level} ${level}`);
    const frames = (r.payload['stack-args'] as MiValue[] | undefined) ?? [];
    const fr = frames[0] ? (frames[0] as MiTuple).frame as MiTuple : undefined;
    return ((fr?.args as MiValue[] | undefined) ?? []).map((v) => ({ name: String((v as MiTuple).name), value: String((v as MiTuple).value) }));
  }

  /** gdb's `print EXPR` value string, or its error message as `<error: ...>`. */
  async print(expr: string): Promise<string> {
    const r = await this.mi(`-data-evaluate-expression ${JSON.stringify(expr)}`);
    return r.cls === 'error' ? `<error: ${r.message}>` : String(r.payload.value);
  }

  async selectFrame(level: number): Promise<void> {
    await this.mi(`-stack-select-frame ${level}`);
  }

  /** Register values by name (pc, ra, sp, ...), from `-data-list-register-values x`. */
  async registers(): Promise<Map<string, number>> {
    const names = await this.mi('-data-list-register-names');
    const vals = await this.mi('-data-list-register-values x');
    const nameList = (names.payload['register-names'] as MiValue[]).map(String);
    const out = new Map<string, number>();
    for (const v of vals.payload['register-values'] as MiValue[]) {
      const t = v as MiTuple;
      const n = nameList[Number(t.number)];
      if (n && /^0x[0-9a-f]+$/i.test(String(t.value))) out.set(n, parseInt(String(t.value), 16));
    }
    return out;
  }

  async close(): Promise<void> {
    if (!this.exited) {
      try {
        this.gdb.stdin!.write('-gdb-exit\n');
      } catch { /* already gone */ }
    }
    await new Promise((r) => setTimeout(r, 50));
    this.gdb.kill('SIGKILL');
    this.qemu.kill('SIGKILL');
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}

/** Where a stop record says the program is: file and line of frame 0, and the pc. */
export function stopLocation(s: GdbStopped): { reason?: string; addr: number; func?: string; file?: string; line?: number } {
  const f = s.frame as MiTuple | undefined;
  return {
    reason: s.reason === undefined ? undefined : String(s.reason),
    addr: f ? parseInt(String(f.addr), 16) : 0,
    func: f?.func === undefined ? undefined : String(f.func),
    file: f?.file === undefined ? undefined : String(f.file),
    line: f?.line === undefined ? undefined : Number(f.line),
  };
}
