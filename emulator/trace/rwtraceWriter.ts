import { ByteSink } from './fileAccess';
import { ChunkType, encodeChunk, encodeFileHeader, MAX_CHUNK_PAYLOAD } from './rwtraceFormat';
import { RewindError } from '../errors';

/** Where an appended chunk's items sit: the reader's index is built from these. */
export interface ChunkSpan {
  firstIcount: number;
  lastIcount: number;
  firstItem: number;
  itemCount: number;
}

/**
 * Appends chunks to a `.rwtrace` file. Every chunk goes out in one append, so whatever kills
 * the process, the file holds whole chunks up to the last one written (see rwtraceFormat.ts).
 */
export class RwtraceWriter {
  private sequence = 0;
  private closed = false;

  constructor(private readonly sink: ByteSink, meta: object, createdMs = Date.now()) {
    sink.append(encodeFileHeader(createdMs));
    this.append(ChunkType.META, new TextEncoder().encode(JSON.stringify(meta)), { firstIcount: 0, lastIcount: 0, firstItem: 0, itemCount: 0 });
  }

  append(type: ChunkType, payload: Uint8Array, span: ChunkSpan, flags = 0): void {
    if (this.closed) throw new Error('RwtraceWriter: append after close');
    if (payload.length > MAX_CHUNK_PAYLOAD) throw new RewindError('TRACE_TOO_BIG', `a ${payload.length}-byte chunk exceeds the format's limit`);
    this.sink.append(encodeChunk({ type, flags, sequence: this.sequence++, ...span }, payload));
  }

  /**
   * Ends the file with an END chunk, holding `summary` as JSON (final icount, state hash, exit
   * code): a reader then knows the recording finished cleanly and what it finished with.
   */
  close(finalIcount: number, summary: object = {}): void {
    if (this.closed) return;
    this.append(ChunkType.END, new TextEncoder().encode(JSON.stringify(summary)), { firstIcount: finalIcount, lastIcount: finalIcount, firstItem: 0, itemCount: 0 });
    this.closed = true;
    this.sink.close();
  }
}

/**
 * Collects one stream's encoded items and hands them to the writer as a chunk once enough bytes
 * or enough host time have gathered, so a killed recording loses at most `maxAgeMs` of work.
 */
/**
 * How old an open chunk may get before it is written. With the recorder's steps of ~20 ms
 * (driveMachine) nothing recorded waits more than ~100 ms to reach the disk.
 */
export const CHUNK_MAX_AGE_MS = 80;

export class ChunkBuffer {
  private parts: Uint8Array[] = [];
  private bytes = 0;
  private span: ChunkSpan | undefined;
  private openedAt = 0;

  constructor(
    private readonly writer: RwtraceWriter,
    private readonly type: ChunkType,
    private readonly maxBytes = 64 * 1024,
    private readonly maxAgeMs = CHUNK_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds one encoded item (item number `item`, at `icount`). */
  add(encoded: Uint8Array, item: number, icount: number): void {
    if (!this.span) {
      this.span = { firstIcount: icount, lastIcount: icount, firstItem: item, itemCount: 0 };
      this.openedAt = this.now();
    }
    this.parts.push(encoded);
    this.bytes += encoded.length;
    this.span.lastIcount = icount;
    this.span.itemCount++;
    if (this.bytes >= this.maxBytes || this.now() - this.openedAt >= this.maxAgeMs) this.flush();
  }

  /** Flushes a chunk that has been open longer than the age limit (call it now and then). */
  tick(): void {
    if (this.span && this.now() - this.openedAt >= this.maxAgeMs) this.flush();
  }

  isEmpty(): boolean {
    return this.span === undefined;
  }

  flush(): void {
    if (!this.span) return;
    const payload = new Uint8Array(this.bytes);
    let off = 0;
    for (const p of this.parts) {
      payload.set(p, off);
      off += p.length;
    }
    this.writer.append(this.type, payload, this.span);
    this.parts = [];
    this.bytes = 0;
    this.span = undefined;
  }
}
