import { LockAction, LockOp } from '../threads/lockOp';
import { ChunkInfo, ChunkType, CHUNK_HEADER_SIZE } from './rwtraceFormat';
import { RwtraceReader } from './rwtraceReader';
import { ChunkBuffer, RwtraceWriter } from './rwtraceWriter';
import { RewindError } from '../errors';

/**
 * The LOCKS stream of a `.rwtrace`: the emulator threads' lock operations, a few bytes each.
 *
 * A chunk decodes on its own: everything an op refers to (thread, lock and site names, and the
 * (action, thread, lock, site) "keys" built from them) is defined inline at its first use in the
 * chunk, and numbers are deltas from the chunk's own first values. So the webview can fetch any
 * window of ops by reading only the chunks that hold it, and a damaged chunk loses only its ops.
 *
 * One op:
 *   head   LEB128  key * 4 + flags (flags: 1 violation text follows, 2 an ext byte follows)
 *                  key 0 = a new key, defined here: u8 action (0 wait, 1 acquired, 2 released),
 *                  then thread, lock, site as string refs; key n = the chunk's n-th key
 *   [ext]  u8      1 index is not previous + 1 (zigzag LEB128 of the difference follows),
 *                  2 no icount, 4 no step, 8 host time (f64) follows,
 *                  16 icount went down, 32 step went down (the deltas below are then magnitudes)
 *   [gap]  LEB128
 *   icount LEB128  delta from the previous op's (the first op's from the chunk's first icount)
 *   step   LEB128  delta from the previous op's (the first op's from 0)
 *   [time] f64
 *   [violation]    string ref
 * A string ref is LEB128: 0 = a new string, LEB128 byte length then UTF-8; n = the chunk's n-th.
 *
 * Rewind's threads take few distinct (thread, lock, action, site) combinations, so after the
 * first few ops of a chunk an op is one head byte plus its two deltas: 3-5 bytes.
 */

const ACTIONS: LockAction[] = ['wait', 'acquired', 'released'];
const F_VIOLATION = 1, F_EXT = 2;
const X_GAP = 1, X_NO_ICOUNT = 2, X_NO_STEP = 4, X_TIME = 8, X_ICOUNT_DOWN = 16, X_STEP_DOWN = 32;

class Bytes {
  private buf = new Uint8Array(32);
  length = 0;

  byte(b: number): void {
    if (this.length === this.buf.length) {
      const n = new Uint8Array(this.buf.length * 2);
      n.set(this.buf);
      this.buf = n;
    }
    this.buf[this.length++] = b;
  }

  /** Unsigned LEB128 over a safe integer (icounts may exceed 2^32, so no 32-bit shifts). */
  leb(v: number): void {
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }

  raw(b: Uint8Array): void {
    for (const x of b) this.byte(x);
  }

  take(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const zigzag = (v: number): number => (v >= 0 ? 2 * v : -2 * v - 1);
const unzigzag = (v: number): number => (v % 2 === 0 ? v / 2 : -(v + 1) / 2);

function checkInt(v: number | undefined, what: string, op: LockOp): void {
  if (v !== undefined && !Number.isSafeInteger(v)) throw new Error(`LockStreamWriter: op #${op.index} has ${what} ${v}, not an integer`);
}

export interface LockStreamOptions {
  /** Chunk size and age limits (ChunkBuffer's): tests make them small to get many chunks. */
  maxBytes?: number;
  maxAgeMs?: number;
  now?: () => number;
}

/** Streams the emulator's lock operations into a .rwtrace's LOCKS chunks. */
export class LockStreamWriter {
  private readonly buf: ChunkBuffer;
  private readonly enc = new TextEncoder();
  // Per-chunk state, reset whenever a new chunk begins.
  private strings = new Map<string, number>();
  private keys = new Map<string, number>();
  private prevIndex = 0;
  private prevIcount = 0;
  private prevStep = 0;

  constructor(writer: RwtraceWriter, opts: LockStreamOptions = {}) {
    this.buf = new ChunkBuffer(writer, ChunkType.LOCKS, opts.maxBytes, opts.maxAgeMs, opts.now);
  }

  readonly append = (op: LockOp): void => {
    checkInt(op.index, 'index', op);
    checkInt(op.icount, 'icount', op);
    checkInt(op.step, 'step', op);
    const action = ACTIONS.indexOf(op.action);
    if (action < 0) throw new Error(`LockStreamWriter: op #${op.index} has action ${String(op.action)}`);
    // An op without an icount stays in its neighbours' icount range in the chunk index.
    const icount = op.icount ?? this.prevIcount;
    if (this.buf.isEmpty()) {
      this.strings = new Map();
      this.keys = new Map();
      this.prevIndex = op.index - 1;
      this.prevIcount = icount;
      this.prevStep = 0;
    }
    const b = new Bytes();
    const keyText = `${action}\0${op.thread}\0${op.lock}\0${op.site}`;
    const key = this.keys.get(keyText);
    let ext = 0;
    if (op.index !== this.prevIndex + 1) ext |= X_GAP;
    if (op.icount === undefined) ext |= X_NO_ICOUNT;
    if (op.step === undefined) ext |= X_NO_STEP;
    if (op.time !== undefined) ext |= X_TIME;
    if (op.icount !== undefined && op.icount < this.prevIcount) ext |= X_ICOUNT_DOWN;
    if (op.step !== undefined && op.step < this.prevStep) ext |= X_STEP_DOWN;
    b.leb((key ?? 0) * 4 + (op.violation !== undefined ? F_VIOLATION : 0) + (ext ? F_EXT : 0));
    if (key === undefined) {
      this.keys.set(keyText, this.keys.size + 1);
      b.byte(action);
      this.str(b, op.thread);
      this.str(b, op.lock);
      this.str(b, op.site);
    }
    if (ext) b.byte(ext);
    if (ext & X_GAP) b.leb(zigzag(op.index - this.prevIndex - 1));
    if (op.icount !== undefined) b.leb(Math.abs(op.icount - this.prevIcount));
    if (op.step !== undefined) b.leb(Math.abs(op.step - this.prevStep));
    if (op.time !== undefined) {
      const t = new Uint8Array(8);
      new DataView(t.buffer).setFloat64(0, op.time, true);
      b.raw(t);
    }
    if (op.violation !== undefined) this.str(b, op.violation);
    this.prevIndex = op.index;
    this.prevIcount = icount;
    if (op.step !== undefined) this.prevStep = op.step;
    this.buf.add(b.take(), op.index, icount);
  };

  flush(): void {
    this.buf.flush();
  }

  tick(): void {
    this.buf.tick();
  }

  private str(b: Bytes, s: string): void {
    const ref = this.strings.get(s);
    if (ref !== undefined) {
      b.leb(ref);
      return;
    }
    this.strings.set(s, this.strings.size + 1);
    const u = this.enc.encode(s);
    b.leb(0);
    b.leb(u.length);
    b.raw(u);
  }
}

/**
 * Decodes one LOCKS chunk's payload. Throws a plain Error naming the file offset of the bad byte;
 * callers add which chunk it was.
 */
export function decodeLockChunk(p: Uint8Array, c: Pick<ChunkInfo, 'firstItem' | 'firstIcount' | 'itemCount' | 'offset'>): LockOp[] {
  const base = c.offset + CHUNK_HEADER_SIZE;
  const dec = new TextDecoder('utf-8', { fatal: true });
  const strings: string[] = [];
  const keys: { action: LockAction; thread: string; lock: string; site: string }[] = [];
  const ops: LockOp[] = [];
  let o = 0;
  let at = 0;
  const fail = (why: string): never => { throw new Error(`${why} at offset 0x${(base + at).toString(16)}`); };
  const byte = (): number => (o < p.length ? p[o++] : fail('op cut short'));
  const leb = (): number => {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = byte();
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return v;
      scale *= 0x80;
    }
    return fail('over-long number');
  };
  const str = (): string => {
    const ref = leb();
    if (ref > 0) return ref <= strings.length ? strings[ref - 1] : fail(`string ${ref} used before it is defined`);
    const n = leb();
    if (o + n > p.length) fail('string cut short');
    let s: string;
    try {
      s = dec.decode(p.subarray(o, o + n));
    } catch {
      return fail('string is not UTF-8');
    }
    o += n;
    strings.push(s);
    return s;
  };
  let index = c.firstItem - 1, icount = c.firstIcount, step = 0;
  while (o < p.length) {
    at = o;
    if (ops.length >= c.itemCount) fail(`more ops than the ${c.itemCount} the chunk header says`);
    const head = leb();
    const flags = head % 4;
    const keyRef = Math.floor(head / 4);
    let key = keys[keyRef - 1];
    if (keyRef === 0) {
      const a = byte();
      if (a >= ACTIONS.length) fail(`unknown lock action ${a}`);
      key = { action: ACTIONS[a], thread: str(), lock: str(), site: str() };
      keys.push(key);
    } else if (!key) {
      fail(`op key ${keyRef} used before it is defined`);
    }
    const ext = flags & F_EXT ? byte() : 0;
    if (ext & ~63 || (flags & F_EXT && ext === 0)) fail(`bad op flags 0x${ext.toString(16)}`);
    index += 1 + (ext & X_GAP ? unzigzag(leb()) : 0);
    const op: LockOp = { index, thread: key.thread, lock: key.lock, action: key.action, site: key.site };
    if (!(ext & X_NO_ICOUNT)) {
      icount += ext & X_ICOUNT_DOWN ? -leb() : leb();
      op.icount = icount;
    }
    if (!(ext & X_NO_STEP)) {
      step += ext & X_STEP_DOWN ? -leb() : leb();
      op.step = step;
    }
    if (ext & X_TIME) {
      if (o + 8 > p.length) fail('op cut short');
      op.time = new DataView(p.buffer, p.byteOffset + o, 8).getFloat64(0, true);
      o += 8;
    }
    if (flags & F_VIOLATION) op.violation = str();
    ops.push(op);
  }
  at = o;
  if (ops.length !== c.itemCount) fail(`${ops.length} ops where the chunk header says ${c.itemCount}`);
  return ops;
}

/** A window of the LOCKS stream; bounds are inclusive, and both kinds may be given. */
export interface LockWindow {
  fromIcount?: number;
  toIcount?: number;
  fromIndex?: number;
  toIndex?: number;
}

function inWindow(op: LockOp, w: LockWindow): boolean {
  if (w.fromIndex !== undefined && op.index < w.fromIndex) return false;
  if (w.toIndex !== undefined && op.index > w.toIndex) return false;
  if (w.fromIcount === undefined && w.toIcount === undefined) return true;
  if (op.icount === undefined) return false;
  return (w.fromIcount === undefined || op.icount >= w.fromIcount) && (w.toIcount === undefined || op.icount <= w.toIcount);
}

/**
 * The chunks a window needs, from the headers alone. The icount test relies on a chunk's ops
 * having non-decreasing icounts (the scheduler's order), as the chunk index does.
 */
export function lockChunksFor(r: RwtraceReader, w: LockWindow = {}): ChunkInfo[] {
  let chunks = r.stream(ChunkType.LOCKS);
  if (w.fromIndex !== undefined || w.toIndex !== undefined) {
    const want = new Set(r.chunksForItems(ChunkType.LOCKS, w.fromIndex ?? 0, w.toIndex ?? Infinity));
    chunks = chunks.filter((c) => want.has(c));
  }
  if (w.fromIcount !== undefined || w.toIcount !== undefined) {
    const want = new Set(r.chunksForIcount(ChunkType.LOCKS, w.fromIcount ?? -Infinity, w.toIcount ?? Infinity));
    chunks = chunks.filter((c) => want.has(c));
  }
  return chunks;
}

/** Decodes one LOCKS chunk read from `r`, with a one-line TRACE_CORRUPT error when it is malformed. */
export function readLockChunk(r: RwtraceReader, c: ChunkInfo, what: string): LockOp[] {
  const p = r.payload(c);
  try {
    return decodeLockChunk(p, c);
  } catch (e) {
    throw new RewindError('TRACE_CORRUPT', `${what}: locks chunk ${c.sequence} at offset 0x${c.offset.toString(16)}: ${(e as Error).message}`);
  }
}

/**
 * The window's ops one chunk at a time, so a caller walking a big trace holds one chunk's ops at
 * once (export).
 */
export function* lockOpChunks(r: RwtraceReader, what: string, w: LockWindow = {}): Generator<LockOp[]> {
  for (const c of lockChunksFor(r, w)) yield readLockChunk(r, c, what).filter((op) => inWindow(op, w));
}

/** The ops of a window of the LOCKS stream (all of it by default), in order. */
export function readLockOps(r: RwtraceReader, what: string, w: LockWindow = {}): LockOp[] {
  const out: LockOp[] = [];
  for (const ops of lockOpChunks(r, what, w)) for (const op of ops) out.push(op);
  return out;
}
