import type { LockAction, LockOp } from '../threads/lockOp';
import { ACTION_ACQUIRED, ACTION_RELEASED, type LockBatch, type SectionGroup } from '../threads/lockTracer';
import { CHUNK_MAX_AGE_MS, ChunkSpan, RwtraceWriter } from './rwtraceWriter';
import { ChunkType } from './rwtraceFormat';

// The LOCKS encoding (documented in rwtraceLocks.ts, which decodes it).
const ACTIONS: readonly LockAction[] = ['wait', 'acquired', 'released'];
export const F_VIOLATION = 1, F_EXT = 2;
export const X_GAP = 1, X_NO_ICOUNT = 2, X_NO_STEP = 4, X_TIME = 8, X_ICOUNT_DOWN = 16, X_STEP_DOWN = 32, X_GROUP_DEF = 64, X_GROUP = 128;

export const zigzag = (v: number): number => (v >= 0 ? 2 * v : -2 * v - 1);

/** (site, action) slots of the key cache: sites beyond 1024 go through the Map alone. */
const KEY_SLOTS = 4096;

/** Unsigned LEB128 of a safe integer at buf[o] (room checked by the caller); the new offset. */
function lebAt(buf: Uint8Array, o: number, v: number): number {
  while (v >= 0x80) {
    buf[o++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[o++] = v;
  return o;
}

/** A chunk payload being built: one growable buffer, written in place. */
class Bytes {
  buf: Uint8Array;
  length = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  private grow(need: number): void {
    const n = new Uint8Array(Math.max(this.buf.length * 2, this.length + need));
    n.set(this.buf.subarray(0, this.length));
    this.buf = n;
  }

  byte(b: number): void {
    if (this.length === this.buf.length) this.grow(1);
    this.buf[this.length++] = b;
  }

  /** Unsigned LEB128 over a safe integer (icounts may exceed 2^32, so no 32-bit shifts). */
  leb(v: number): void {
    if (this.length + 8 > this.buf.length) this.grow(8);
    const b = this.buf;
    let o = this.length;
    if (v < 0x80) {
      b[o++] = v;
    } else {
      while (v >= 0x80) {
        b[o++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      b[o++] = v;
    }
    this.length = o;
  }

  raw(u: Uint8Array): void {
    if (this.length + u.length > this.buf.length) this.grow(u.length);
    this.buf.set(u, this.length);
    this.length += u.length;
  }
}

function checkInt(v: number | undefined, what: string, op: LockOp): void {
  if (v !== undefined && !Number.isSafeInteger(v)) throw new Error(`LockStreamWriter: op #${op.index} has ${what} ${v}, not an integer`);
}

export interface LockStreamOptions {
  /** Chunk size and age limits: tests make them small to get many chunks. */
  maxBytes?: number;
  maxAgeMs?: number;
  now?: () => number;
  /**
   * Called before each LOCKS chunk is written: the recorder flushes the events there, so the
   * event stream on disk is never behind the lock stream.
   */
  beforeChunk?: () => void;
}

/**
 * Streams the emulator's lock operations into a .rwtrace's LOCKS chunks, encoding each op
 * straight into the chunk's payload. `appendBatch` takes the tracer's typed columns (no object
 * per op, keys looked up by their interned ids, the host clock read once per batch); `append`
 * takes LockOp objects (tests, readers re-encoding, the live recorder).
 */
export class LockStreamWriter {
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly enc = new TextEncoder();
  private readonly out: Bytes;
  private span: ChunkSpan | undefined;
  private openedAt = 0;
  // Per-chunk state, reset whenever a new chunk begins.
  private strings = new Map<string, number>();
  private keysByText = new Map<string, number>();
  private keysById = new Map<number, number>();
  private readonly slotThread = new Uint32Array(KEY_SLOTS);
  private readonly slotLock = new Uint32Array(KEY_SLOTS);
  private readonly slotKey = new Uint32Array(KEY_SLOTS);
  private keyCount = 0;
  /** (tracer group id, thread) -> the chunk's number for that group instance's template. */
  private groupRefs = new Map<number, number>();
  private prevIndex = 0;
  private prevIcount = 0;
  private prevStep = 0;

  constructor(private readonly writer: RwtraceWriter, private readonly opts: LockStreamOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 64 * 1024;
    this.maxAgeMs = opts.maxAgeMs ?? CHUNK_MAX_AGE_MS;
    this.now = opts.now ?? Date.now;
    this.out = new Bytes(this.maxBytes + 1024);
  }

  readonly append = (op: LockOp): void => {
    checkInt(op.index, 'index', op);
    checkInt(op.icount, 'icount', op);
    checkInt(op.step, 'step', op);
    const action = ACTIONS.indexOf(op.action);
    if (action < 0) throw new Error(`LockStreamWriter: op #${op.index} has action ${String(op.action)}`);
    // An op without an icount stays in its neighbours' icount range in the chunk index.
    const icount = op.icount ?? this.prevIcount;
    if (this.span === undefined) this.open(op.index, icount);
    const keyText = `${action}\0${op.thread}\0${op.lock}\0${op.site}`;
    let key = this.keysByText.get(keyText);
    const fresh = key === undefined;
    if (key === undefined) {
      key = ++this.keyCount;
      this.keysByText.set(keyText, key);
    }
    this.encode(key, fresh, action, op.thread, op.lock, op.site, op.index, op.icount, op.step, op.time, op.violation);
    this.span!.lastIcount = icount;
    this.span!.itemCount++;
    if (this.out.length >= this.maxBytes || this.now() - this.openedAt >= this.maxAgeMs) this.flush();
  };

  /**
   * Ops [start, end) of a tracer batch. `firstIndex`: number them from here (a recorder that
   * keeps only some ops keeps its file's numbers dense); otherwise the batch's own numbers.
   * Returns how many ops the entries stood for (a group instance is one entry).
   */
  appendBatch(b: LockBatch, firstIndex?: number): number {
    const names = b.names;
    const anyViolation = b.violations > 0;
    let next = firstIndex;
    let count = 0;
    for (let i = b.start; i < b.end; i++) {
      const index = next === undefined ? b.index[i] : next;
      const icount = b.icount[i];
      if (this.span === undefined) this.open(index, icount);
      const g = b.group[i];
      if (g !== 0) {
        const n = this.appendGroup(b, i, b.groups[g - 1], index, icount);
        count += n;
        if (next !== undefined) next += n;
        continue;
      }
      count++;
      if (next !== undefined) next++;
      const t = b.thread[i], l = b.lock[i], a = b.action[i], s = b.site[i];
      const key = this.cachedKey(t, l, a, s);
      const step = b.step[i];
      const violation = anyViolation ? b.violation(i) : undefined;
      const out = this.out;
      if (key > 0 && violation === undefined && index === this.prevIndex + 1 && icount >= this.prevIcount && step >= this.prevStep && out.length + 24 <= out.buf.length) {
        // The common op: a key seen in this chunk, in order, no violation — three LEB128s.
        const buf = out.buf;
        let o = out.length;
        o = lebAt(buf, o, key * 4);
        o = lebAt(buf, o, icount - this.prevIcount);
        o = lebAt(buf, o, step - this.prevStep);
        out.length = o;
        this.prevIndex = index;
        this.prevIcount = icount;
        this.prevStep = step;
      } else {
        const fresh = key < 0;
        this.encode(fresh ? -key : key, fresh, a, names[t], names[l], names[s], index, icount, step, undefined, violation);
      }
      this.span!.lastIcount = icount;
      this.span!.itemCount++;
      if (out.length >= this.maxBytes) this.flush();
    }
    this.tick();
    return count;
  }

  /**
   * A group instance (entry i): one record of three numbers once the chunk has its template;
   * else its ops one by one, the first marked as the template's start.
   */
  private appendGroup(b: LockBatch, i: number, g: SectionGroup, index: number, icount: number): number {
    const n = g.locks.length * 2;
    const t = b.thread[i];
    const step = b.step[i];
    const out = this.out;
    const refKey = g.id * 0x10000 + t;
    const ref = this.groupRefs.get(refKey);
    if (ref !== undefined && index === this.prevIndex + 1 && icount >= this.prevIcount && step >= this.prevStep && out.length + 24 <= out.buf.length) {
      const buf = out.buf;
      let o = out.length;
      o = lebAt(buf, o, ref * 4 + F_EXT);
      buf[o++] = X_GROUP;
      o = lebAt(buf, o, icount - this.prevIcount);
      o = lebAt(buf, o, step - this.prevStep);
      out.length = o;
      this.prevIndex = index + n - 1;
      this.prevIcount = icount;
      this.prevStep = step;
    } else {
      const names = b.names;
      for (let k = 0; k < n; k++) {
        const s = k >> 1;
        const l = g.locks[s], a = (k & 1) === 0 ? ACTION_ACQUIRED : ACTION_RELEASED, site = (k & 1) === 0 ? g.sitesIn[s] : g.sitesOut[s];
        const key = this.cachedKey(t, l, a, site);
        const fresh = key < 0;
        this.encode(fresh ? -key : key, fresh, a, names[t], names[l], names[site], index + k, icount, step, undefined, undefined, k === 0 ? n : 0);
      }
      this.groupRefs.set(refKey, this.groupRefs.size + 1);
    }
    this.span!.lastIcount = icount;
    this.span!.itemCount += n;
    if (out.length >= this.maxBytes) this.flush();
    return n;
  }

  /**
   * The chunk's key for (thread, lock, action, site): positive when the chunk has it already,
   * negative (the new key) when this op introduces it. A slot per (site, action) remembers the
   * last thread and lock seen there (nearly always the only ones), before the Map is asked.
   */
  private cachedKey(t: number, l: number, a: number, s: number): number {
    const slot = s * 4 + a;
    if (slot < KEY_SLOTS && this.slotThread[slot] === t + 1 && this.slotLock[slot] === l + 1) return this.slotKey[slot];
    // Interned ids are small (a few hundred names): the packed key stays a safe integer.
    const packed = ((s * 0x10000 + t) * 0x400 + l) * 4 + a;
    let key = this.keysById.get(packed);
    let result: number;
    if (key === undefined) {
      key = ++this.keyCount;
      this.keysById.set(packed, key);
      result = -key;
    } else {
      result = key;
    }
    if (slot < KEY_SLOTS) {
      this.slotThread[slot] = t + 1;
      this.slotLock[slot] = l + 1;
      this.slotKey[slot] = key;
    }
    return result;
  }

  /** Writes the open chunk once it is older than the age limit (call it now and then). */
  tick(): void {
    if (this.span !== undefined && this.now() - this.openedAt >= this.maxAgeMs) this.flush();
  }

  flush(): void {
    if (this.span === undefined) return;
    this.opts.beforeChunk?.();
    this.writer.append(ChunkType.LOCKS, this.out.buf.subarray(0, this.out.length), this.span);
    this.out.length = 0;
    this.span = undefined;
  }

  private open(index: number, icount: number): void {
    this.span = { firstIcount: icount, lastIcount: icount, firstItem: index, itemCount: 0 };
    this.openedAt = this.now();
    this.strings = new Map();
    this.keysByText = new Map();
    this.keysById = new Map();
    this.groupRefs = new Map();
    this.slotThread.fill(0);
    this.keyCount = 0;
    this.prevIndex = index - 1;
    this.prevIcount = icount;
    this.prevStep = 0;
  }

  /** `groupOps` > 0: this op begins the chunk's next group template, of that many ops. */
  private encode(key: number, fresh: boolean, action: number, thread: string, lock: string, site: string, index: number, icount: number | undefined, step: number | undefined, time: number | undefined, violation: string | undefined, groupOps = 0): void {
    const b = this.out;
    let ext = groupOps > 0 ? X_GROUP_DEF : 0;
    if (index !== this.prevIndex + 1) ext |= X_GAP;
    if (icount === undefined) ext |= X_NO_ICOUNT;
    else if (icount < this.prevIcount) ext |= X_ICOUNT_DOWN;
    if (step === undefined) ext |= X_NO_STEP;
    else if (step < this.prevStep) ext |= X_STEP_DOWN;
    if (time !== undefined) ext |= X_TIME;
    b.leb((fresh ? 0 : key) * 4 + (violation !== undefined ? F_VIOLATION : 0) + (ext ? F_EXT : 0));
    if (fresh) {
      b.byte(action);
      this.str(thread);
      this.str(lock);
      this.str(site);
    }
    if (ext) b.byte(ext);
    if (ext & X_GAP) b.leb(zigzag(index - this.prevIndex - 1));
    if (groupOps > 0) b.leb(groupOps);
    if (icount !== undefined) {
      b.leb(Math.abs(icount - this.prevIcount));
      this.prevIcount = icount;
    }
    if (step !== undefined) {
      b.leb(Math.abs(step - this.prevStep));
      this.prevStep = step;
    }
    if (time !== undefined) {
      const t = new Uint8Array(8);
      new DataView(t.buffer).setFloat64(0, time, true);
      b.raw(t);
    }
    if (violation !== undefined) this.str(violation);
    this.prevIndex = index;
  }

  private str(s: string): void {
    const b = this.out;
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
