import * as fs from 'fs';
import { StringDecoder } from 'string_decoder';
import { RewindError } from '../errors';
import { LockAction, LockName, LockOp } from '../threads/lockOp';
import { FILE_MAGIC } from './rwtraceFormat';

/**
 * Streaming reader of QEMU's mutex trace (`-trace 'qemu_mutex_*' -D FILE`, log backend) into
 * Rewind's LockOp model. The three trace points (util/trace-events) print
 *
 *   qemu_mutex_lock   waiting on mutex ADDR (FILE:LINE)   before pthread_mutex_lock
 *   qemu_mutex_locked taken mutex ADDR (FILE:LINE)        after it, also after a cond-wait wake-up
 *                                                          and a successful trylock (no "waiting")
 *   qemu_mutex_unlock released mutex ADDR (FILE:LINE)     before the unlock, also before a cond wait
 *
 * behind a prefix that depends on the QEMU version and on `-msg timestamp=on`:
 *
 *   TID@SECONDS.MICROS:EVENT ...    up to 10.1 with timestamp=on (scripts/tracetool/backend/log.py)
 *   EVENT ...                       without timestamp=on, any version: no thread id at all
 *   2025-07-21T18:43:28.089797Z EVENT ...   with timestamp=on after the July 2025 tracing pull
 *                                   (10.2): log.py's TID@time gave way to qemu_log's ISO time,
 *                                   so no thread id either
 *   [ISO ][[GUEST] ]PROG(TID:THREADNAME): EVENT ...   util/message.c thread-info context, posted
 *                                   to qemu-devel in January 2026 (not released as of writing)
 *
 * Without thread ids the ops carry thread '?' and per-thread rules cannot be checked.
 *
 * Lock identity is by site, never by address (addresses change between runs):
 * - BQL: the mutex with any operation in cpus.c (softmmu/cpus.c, system/cpus.c since the 8.2
 *   rename, top-level cpus.c in old releases). Every BQL release goes through
 *   qemu_mutex_unlock_iothread/bql_unlock there, and cpus.c has no other mutex. The lock sites
 *   are the callers (util/main-loop.c, accel/tcg/*, util/rcu.c, hw/...), but those files take
 *   other mutexes too (util/rcu.c:359/373 is rcu_registry_lock), so they are only used for roles.
 *   An address is named 'bql' from its first cpus.c op on; its earlier ops went out under the
 *   address, and the sink's rename() hook relabels them (LockStats merges them).
 * - Replay mutex: the static `lock` of replay/replay-internal.c. See REPLAY_LAYOUTS for how its
 *   internal operations become logical ones.
 */

export interface QemuLockOp extends LockOp {
  /** 1-based line in the trace file. */
  line: number;
  /** The QemuMutex's address in this run (for the replay mutex: its internal mutex). */
  address: string;
}

export interface MutexTraceSink {
  op(op: QemuLockOp): void;
  /** `address` turned out to be `name`: ops already delivered under the address are it too. */
  rename?(address: string, name: LockName): void;
}

/**
 * replay_mutex_lock()/unlock() (replay/replay-internal.c since "replay: implement fair mutex",
 * 2020) build a FIFO ticket lock from a QemuMutex `lock` and a QemuCond:
 *
 *   replay_mutex_lock:   qemu_mutex_lock(&lock)            base       -> logical 'wait'
 *                        while (id != mutex_head)
 *                            qemu_cond_wait(&mutex_cond)   base + 3   (unlock + locked, ignored)
 *                        replay_locked = true;
 *                        qemu_mutex_unlock(&lock)          base + 6   -> logical 'acquired'
 *   replay_mutex_unlock: qemu_mutex_lock(&lock)            base + 14  (ignored)
 *                        ++mutex_head; broadcast
 *                        qemu_mutex_unlock(&lock)          base + 18  -> logical 'released'
 *
 * A thread holds the replay mutex from its ticket being served (the unlock at base + 6) until
 * replay_mutex_unlock hands on the ticket (its unlock at base + 18 is traced just after
 * ++mutex_head). The internal mutex itself is only held for a few instructions and its ops are not
 * emitted. The main thread owns the replay mutex from replay_mutex_init() without any traced op
 * (10.0+: ownership passes to the main loop), so a trace starts with a 'released' nobody took.
 * Lines checked: 221.. in the 2020 patch and in real 7.2 traces, 257.. in a current
 * replay-internal.c (qemu/qemu, 10.2-era); 222.. (9.0–10.1) is from Rewind's reference notes, not
 * seen in a source here. The offsets are the same in all of them.
 */
export interface ReplayLayout { versions: string; base: number }
export const REPLAY_LAYOUTS: readonly ReplayLayout[] = [
  { versions: '5.1–8.2', base: 221 },
  { versions: '9.0–10.1', base: 222 },
  { versions: '10.2+', base: 257 },
];
const COND_WAIT = 3, ACQUIRED = 6, UNLOCK_LOCK = 14, RELEASED = 18;
const REPLAY_FILE = 'replay/replay-internal.c';
const BQL_FILES = ['cpus.c', 'softmmu/cpus.c', 'system/cpus.c'];

export interface MutexTraceSummary {
  lines: number;
  /** LockOps delivered. */
  ops: number;
  /** Parsed qemu_mutex_* lines by event (what `grep -c` on the file would count). */
  events: { lock: number; locked: number; unlock: number };
  /** Ops on the replay mutex's internal QemuMutex with no logical meaning (not delivered). */
  replayInternal: number;
  /** Lines that are not mutex events: other trace events, QEMU messages, blank lines. */
  skipped: number;
  /** Lines that look damaged (a qemu_mutex_ line that does not parse, control characters). */
  bad: { count: number; firstLine?: number; firstText?: string };
  /** The file does not end with a newline and its last line did not parse. */
  truncatedLastLine: boolean;
  threadIds: boolean;
  timestamps: boolean;
  /** Line prefix formats seen (see the module comment). */
  formats: string[];
  /** Address -> 'bql' / 'replay'. */
  aliases: Record<string, LockName>;
  replayLayout?: string;
  /** Thread names, when the trace carries them (thread-info prefix). */
  threadNames: Record<string, string>;
  warnings: string[];
}

// Matched from the event name on (found with indexOf, the fast path for millions of lines). The
// address and file classes leave out control characters, so a damaged line fails the match.
const EVENT = /qemu_mutex_(lock|locked|unlock) (waiting on|taken|released) mutex (0x[0-9a-fA-F]+|\(nil\)) \(([^\x00-\x1f]+):(\d+)\)$/y;
const VERB: Record<string, string> = { lock: 'waiting on', locked: 'taken', unlock: 'released' };
const ACTION: Record<string, LockAction> = { lock: 'wait', locked: 'acquired', unlock: 'released' };
const TID_TIME = /^(\d+)@(\d+)\.(\d{1,6}):$/;
const CONTEXT = /^(?:(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z )?(?:\[.*\] )?(?:\S+\((\d+):(.*)\): |\S+: )?$/;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

/** `../../util/rcu.c` and `./include/qemu/thread.h` -> `util/rcu.c`, `include/qemu/thread.h`. */
export function normaliseSite(file: string): string {
  return file.replace(/^(?:\.\.?\/)+/, '');
}

/** Whether a normalised (possibly absolute) source path is `rel` inside QEMU's tree. */
export function fileIs(file: string, rel: string): boolean {
  return file === rel || file.endsWith('/' + rel);
}

/** Line-at-a-time parser; the file reader below feeds it. Usable on its own for in-memory text. */
export class QemuMutexTraceParser {
  private readonly s: MutexTraceSummary = {
    lines: 0, ops: 0, events: { lock: 0, locked: 0, unlock: 0 }, replayInternal: 0, skipped: 0,
    bad: { count: 0 }, truncatedLastLine: false, threadIds: false, timestamps: false, formats: [],
    aliases: {}, threadNames: {}, warnings: [],
  };
  /** Address -> its alias, or null while ops go out under the address (a later alias renames). */
  private readonly addresses = new Map<string, LockName | null>();
  private bqlAddress: string | undefined;
  private replayAddress: string | undefined;
  private replayBase: number | undefined;
  /** Per thread: holds the replay mutex logically (only for inferring an unknown layout). */
  private readonly replayHolders = new Set<string>();
  private readonly files = new Map<string, { name: string; kind?: 'replay' | 'bql' }>();

  constructor(private readonly sink: MutexTraceSink) {}

  /** One line without its newline. `last` marks a final line that had no newline. */
  line(text: string, last = false): void {
    const n = ++this.s.lines;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const at = text.indexOf('qemu_mutex_');
    EVENT.lastIndex = at;
    const m = at < 0 ? null : EVENT.exec(text);
    if (!m) {
      if (at >= 0 || CONTROL.test(text)) this.badLine(n, text, last);
      else this.s.skipped++;
      return;
    }
    const [, event, verb, address, rawFile, lineNo] = m;
    const before = at === 0 ? '' : text[at - 1];
    const who = verb === VERB[event] && (before === '' || before === ':' || before === ' ') ? this.parsePrefix(text.slice(0, at)) : undefined;
    if (!who) { this.badLine(n, text, last); return; }
    this.s.events[event as 'lock' | 'locked' | 'unlock']++;
    const f = this.file(rawFile);
    const site = f.name + ':' + lineNo;
    const action = ACTION[event];
    const op: QemuLockOp = { index: 0, thread: who.thread, lock: address, action, site, line: n, address };
    if (who.time !== undefined) op.time = who.time;

    if (f.kind === 'replay') {
      this.identify(address, 'replay');
      const logical = this.replayAction(who.thread, action, Number(lineNo));
      if (logical === undefined) { this.s.replayInternal++; return; }
      op.action = logical;
    } else if (address === this.replayAddress) {
      // The replay mutex is static in replay-internal.c; anything else is not understood.
      this.warn(`line ${n}: the replay mutex ${address} used outside replay-internal.c (${site}); ignored`);
      this.s.replayInternal++;
      return;
    } else if (f.kind === 'bql') {
      this.identify(address, 'bql');
    }
    const alias = this.addresses.get(address);
    if (alias === undefined) this.addresses.set(address, null);
    else if (alias !== null) op.lock = alias;
    op.index = this.s.ops++;
    this.sink.op(op);
  }

  /** Normalised name and meaning of a source file, cached: a trace names few files many times. */
  private file(raw: string): { name: string; kind?: 'replay' | 'bql' } {
    let f = this.files.get(raw);
    if (!f) {
      const name = normaliseSite(raw);
      f = { name, kind: fileIs(name, REPLAY_FILE) ? 'replay' : BQL_FILES.some((b) => fileIs(name, b)) ? 'bql' : undefined };
      if (this.files.size < 10_000) this.files.set(raw, f);
    }
    return f;
  }

  /** Call once after the last line. */
  end(): MutexTraceSummary {
    return this.s;
  }

  private badLine(n: number, text: string, last: boolean): void {
    const b = this.s.bad;
    if (b.count++ === 0) { b.firstLine = n; b.firstText = text.length > 200 ? text.slice(0, 200) + '…' : text; }
    if (last) this.s.truncatedLastLine = true;
  }

  private warn(w: string): void {
    if (this.s.warnings.length < 20 && !this.s.warnings.includes(w)) this.s.warnings.push(w);
  }

  private parsePrefix(prefix: string): { thread: string; time?: number } | undefined {
    let m = TID_TIME.exec(prefix);
    if (m) {
      if (!this.s.threadIds || !this.s.timestamps) this.format('TID@time');
      this.s.threadIds = this.s.timestamps = true;
      // Integer microseconds first: the float seconds then round back to the exact microsecond.
      return { thread: m[1], time: (Number(m[2]) * 1e6 + Number(m[3].length === 6 ? m[3] : m[3].padEnd(6, '0'))) / 1e6 };
    }
    m = CONTEXT.exec(prefix);
    if (!m) return undefined;
    const r: { thread: string; time?: number } = { thread: '?' };
    if (m[1] !== undefined) {
      const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
      r.time = (ms * 1000 + Number((m[7] ?? '').padEnd(6, '0'))) / 1e6;
      this.s.timestamps = true;
    }
    if (m[8] !== undefined) {
      r.thread = m[8];
      this.s.threadIds = true;
      this.s.threadNames[m[8]] ??= m[9];
    }
    this.format(prefix === '' ? 'plain' : m[8] !== undefined ? 'thread-context' : m[1] !== undefined ? 'ISO time' : 'program name');
    return r;
  }

  private format(f: string): void {
    if (!this.s.formats.includes(f)) this.s.formats.push(f);
  }

  private identify(address: string, name: 'bql' | 'replay'): void {
    const key = name === 'bql' ? 'bqlAddress' : 'replayAddress';
    const known = this[key];
    if (known === address) return;
    if (known !== undefined) {
      this.warn(`two mutexes look like the ${name === 'bql' ? 'BQL' : 'replay mutex'}: ${known} and ${address}; keeping ${known}`);
      return;
    }
    const before = this.addresses.get(address);
    if (before) return;
    this[key] = address;
    this.s.aliases[address] = name;
    this.addresses.set(address, name);
    if (before === null) this.sink.rename?.(address, name);
  }

  /** The logical replay-mutex action of an internal op, or undefined for internal-only ones. */
  private replayAction(thread: string, action: LockAction, line: number): LockAction | undefined {
    if (this.replayBase === undefined) {
      const known = REPLAY_LAYOUTS.find((l) => [0, COND_WAIT, ACQUIRED, UNLOCK_LOCK, RELEASED].includes(line - l.base));
      if (known) {
        this.replayBase = known.base;
        this.s.replayLayout = `replay-internal.c lines ${this.layoutLines(known.base)} (QEMU ${known.versions})`;
      } else if (action === 'wait') {
        // Unknown version: assume the 5.1+ shape, anchored on this wait's role.
        this.replayBase = this.replayHolders.has(thread) ? line - UNLOCK_LOCK : line;
        this.s.replayLayout = `replay-internal.c lines ${this.layoutLines(this.replayBase)} (inferred: not a known QEMU version)`;
        this.warn(`replay-internal.c line ${line} is not in any known QEMU layout; inferred ${this.s.replayLayout}`);
      } else {
        return undefined;
      }
    }
    const off = line - this.replayBase;
    if (off === 0 && action === 'wait') return 'wait';
    if (off === ACQUIRED && action === 'released') { this.replayHolders.add(thread); return 'acquired'; }
    if (off === RELEASED && action === 'released') { this.replayHolders.delete(thread); return 'released'; }
    return undefined;
  }

  private layoutLines(base: number): string {
    return [0, ACQUIRED, UNLOCK_LOCK, RELEASED].map((o) => base + o).join('/');
  }
}

/** Longest line kept whole; longer ones (binary junk without newlines) are cut and counted bad. */
const MAX_LINE = 64 * 1024;
const CHUNK = 1 << 20;

/**
 * Reads `path` line by line through a file descriptor in 1 MiB chunks: memory stays constant
 * whatever the trace size. Throws RewindError for a missing file or one that is not a mutex trace.
 */
export function readQemuMutexTrace(path: string, sink: MutexTraceSink): MutexTraceSummary {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
    if (fs.fstatSync(fd).isDirectory()) { fs.closeSync(fd); throw Object.assign(new Error(), { code: 'EISDIR' }); }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RewindError('TRACE_MISSING', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
  const parser = new QemuMutexTraceParser(sink);
  const decoder = new StringDecoder('utf8');
  const buf = Buffer.alloc(CHUNK);
  let carry = '';
  let first = true;
  let overlong = false;
  try {
    for (;;) {
      const got = fs.readSync(fd, buf, 0, CHUNK, null);
      if (got === 0) break;
      if (first) { checkNotBinary(path, buf.subarray(0, got)); first = false; }
      const text = carry + decoder.write(buf.subarray(0, got));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        if (overlong) { overlong = false; start = nl + 1; continue; }
        parser.line(text.slice(start, nl));
        start = nl + 1;
      }
      carry = text.slice(start);
      if (carry.length > MAX_LINE) {
        if (!overlong) parser.line(carry.slice(0, 200) + '\x00');
        overlong = true;
        carry = '';
      }
    }
    carry += decoder.end();
    if (carry !== '' && !overlong) parser.line(carry, true);
  } finally {
    fs.closeSync(fd);
  }
  const s = parser.end();
  if (s.ops === 0 && s.events.lock + s.events.locked + s.events.unlock === 0) {
    throw new RewindError('NOT_MUTEX_TRACE', `${path} is not a QEMU mutex trace: no qemu_mutex_* events in ${s.lines} line${s.lines === 1 ? '' : 's'} (record one with -msg timestamp=on -trace 'qemu_mutex_*' -D FILE)`);
  }
  return s;
}

function checkNotBinary(path: string, head: Buffer): void {
  if (head.subarray(0, FILE_MAGIC.length).toString('latin1') === FILE_MAGIC) {
    throw new RewindError('NOT_MUTEX_TRACE', `${path} is a Rewind .rwtrace recording, not a QEMU mutex trace`);
  }
  // Text with a stray NUL in some later line is a damaged trace, not a binary file.
  const sample = head.subarray(0, 4096);
  const firstLine = sample.subarray(0, sample.includes(10) ? sample.indexOf(10) : sample.length);
  if (firstLine.includes(0) || sample.filter((b) => b === 0).length > sample.length / 64) {
    throw new RewindError('NOT_MUTEX_TRACE', `${path} is not a QEMU mutex trace: it is binary (a replay log?), not text`);
  }
}

/**
 * QEMU thread roles, from where a thread takes the BQL: util/main-loop.c (main loop), the TCG
 * accelerator loop (vCPU), util/rcu.c (call_rcu thread), migration/ (migration thread).
 * QEMU runs its main loop on the main thread, which holds the BQL and the replay mutex from
 * qemu_init/replay_mutex_init on, before tracing starts. In a short recording the vCPU can hold
 * the replay mutex for the whole guest run, so the main loop never gets as far as its BQL site
 * and is blocked in replay_mutex_lock instead; then a thread that released either lock without
 * having taken it in the trace, and has no other role, is the main thread: 'main-loop' plus
 * 'start-up' to say how it was found. (A trace cut from the middle of a run can start with
 * another thread holding a lock, hence "no other role".)
 */
export type QemuThreadRole = 'main-loop' | 'vcpu' | 'rcu' | 'migration' | 'start-up';
const ROLE_SITES: [QemuThreadRole, (file: string) => boolean][] = [
  ['main-loop', (f) => fileIs(f, 'util/main-loop.c')],
  ['vcpu', (f) => fileIs(f, 'accel/tcg/tcg-accel-ops-rr.c') || fileIs(f, 'accel/tcg/tcg-accel-ops-mttcg.c')],
  ['rcu', (f) => fileIs(f, 'util/rcu.c')],
  ['migration', (f) => /(^|\/)migration\/[^/]+\.c$/.test(f)],
];

/** Per-lock, per-thread acquisition sites and held-at-start counts: what the roles are read from. */
export interface ThreadSiteCounts { threads: Record<string, { sites: Record<string, number>; heldAtStart: number }> }

export function qemuThreadRoles(bql: ThreadSiteCounts | undefined, replay: ThreadSiteCounts | undefined): Record<string, QemuThreadRole[]> {
  const roles: Record<string, QemuThreadRole[]> = {};
  const add = (t: string, r: QemuThreadRole) => { if (t !== '?' && !(roles[t] ??= []).includes(r)) roles[t].push(r); };
  for (const [t, c] of Object.entries(bql?.threads ?? {})) {
    for (const site of Object.keys(c.sites)) {
      const file = site.replace(/:\d+$/, '');
      for (const [role, match] of ROLE_SITES) if (match(file)) add(t, role);
    }
  }
  const hasMainLoop = Object.values(roles).some((r) => r.includes('main-loop'));
  for (const l of [bql, replay]) {
    for (const [t, c] of Object.entries(l?.threads ?? {})) {
      if (c.heldAtStart > 0 && !hasMainLoop && !(roles[t]?.some((r) => r !== 'main-loop' && r !== 'start-up'))) { add(t, 'main-loop'); add(t, 'start-up'); }
    }
  }
  return roles;
}
