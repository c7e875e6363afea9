import { LockAction, LockOp } from '../threads/lockOp';
import { ChunkInfo, ChunkType, CHUNK_HEADER_SIZE } from './rwtraceFormat';
import { RwtraceReader } from './rwtraceReader';
import { RewindError } from '../errors';
import { F_EXT, F_VIOLATION, X_GAP, X_GROUP, X_GROUP_DEF, X_ICOUNT_DOWN, X_NO_ICOUNT, X_NO_STEP, X_STEP_DOWN, X_TIME } from './lockStreamWriter';

export { LockStreamWriter, type LockStreamOptions } from './lockStreamWriter';

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
 *                  16 icount went down, 32 step went down (the deltas below are then magnitudes),
 *                  64 this op begins a group template (its op count follows), 128 a group record
 *   [gap]  LEB128
 *   [n]    LEB128  with 64: this op and the next n - 1 are the chunk's next group template
 *   icount LEB128  delta from the previous op's (the first op's from the chunk's first icount)
 *   step   LEB128  delta from the previous op's (the first op's from 0)
 *   [time] f64
 *   [violation]    string ref
 * A string ref is LEB128: 0 = a new string, LEB128 byte length then UTF-8; n = the chunk's n-th.
 *
 * A group record (ext 128, the head's key field naming the chunk's group template, no other
 * flag but 1, 16 and 32) stands for the template's ops again: consecutive indexes from the
 * record's, each op's icount and step the record's plus the op's offset within the template.
 * Sections a thread always makes together (a vCPU's device read: io_readx's BQL, the TB lookup,
 * cpu_handle_interrupt's BQL) are written so: three numbers for six ops.
 *
 * Rewind's threads take few distinct (thread, lock, action, site) combinations, so after the
 * first few ops of a chunk an op is one head byte plus its two deltas: 3-5 bytes; a group
 * record is 4 bytes for all its ops.
 */

const ACTIONS: readonly LockAction[] = ['wait', 'acquired', 'released'];

const unzigzag = (v: number): number => (v % 2 === 0 ? v / 2 : -(v + 1) / 2);

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
  /** Group templates: per op, its key and its icount and step offsets from the first op. */
  const groups: { key: (typeof keys)[number]; dIcount: number | undefined; dStep: number | undefined }[][] = [];
  let capture: { left: number; first: LockOp; ops: (typeof groups)[number] } | undefined;
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
    // A group record names a group where an op names its key: its ext byte says which it is.
    const groupRecord = keyRef > 0 && (flags & F_EXT) !== 0 && o < p.length && (p[o] & X_GROUP) !== 0;
    let key = keys[keyRef - 1];
    if (keyRef === 0) {
      const a = byte();
      if (a >= ACTIONS.length) fail(`unknown lock action ${a}`);
      key = { action: ACTIONS[a], thread: str(), lock: str(), site: str() };
      keys.push(key);
    } else if (!key && !groupRecord) {
      fail(`op key ${keyRef} used before it is defined`);
    }
    const ext = flags & F_EXT ? byte() : 0;
    if (flags & F_EXT && ext === 0) fail('bad op flags 0x0');
    if (ext & X_GROUP && !groupRecord) fail(`bad op flags 0x${ext.toString(16)}`);
    if (groupRecord) {
      if (ext & ~(X_GROUP | X_GAP | X_ICOUNT_DOWN | X_STEP_DOWN) || flags & F_VIOLATION) fail(`bad group record flags 0x${ext.toString(16)}`);
      if (capture) fail('a group record inside a group template');
      const g = groups[keyRef - 1];
      if (!g) fail(`group ${keyRef} used before it is defined`);
      if (ops.length + g.length > c.itemCount) fail(`more ops than the ${c.itemCount} the chunk header says`);
      index += 1 + (ext & X_GAP ? unzigzag(leb()) : 0);
      icount += ext & X_ICOUNT_DOWN ? -leb() : leb();
      step += ext & X_STEP_DOWN ? -leb() : leb();
      for (const t of g) {
        const op: LockOp = { index, thread: t.key.thread, lock: t.key.lock, action: t.key.action, site: t.key.site };
        if (t.dIcount !== undefined) op.icount = icount + t.dIcount;
        if (t.dStep !== undefined) op.step = step + t.dStep;
        ops.push(op);
        index++;
      }
      // The group's last op is where the next record's deltas start.
      index--;
      const last = g[g.length - 1];
      if (last.dIcount !== undefined) icount += last.dIcount;
      if (last.dStep !== undefined) step += last.dStep;
      continue;
    }
    if (ext & X_GROUP_DEF && capture) fail('a group template inside another');
    index += 1 + (ext & X_GAP ? unzigzag(leb()) : 0);
    const groupOps = ext & X_GROUP_DEF ? leb() : 0;
    if (ext & X_GROUP_DEF && groupOps < 1) fail('an empty group template');
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
    if (groupOps > 0) capture = { left: groupOps, first: op, ops: [] };
    if (capture) {
      const f = capture.first;
      capture.ops.push({ key, dIcount: op.icount === undefined || f.icount === undefined ? undefined : op.icount - f.icount, dStep: op.step === undefined || f.step === undefined ? undefined : op.step - f.step });
      if (--capture.left === 0) {
        groups.push(capture.ops);
        capture = undefined;
      }
    }
  }
  at = o;
  if (capture) fail('a group template cut short');
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
