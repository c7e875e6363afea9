import { ByteSource } from './fileAccess';
import { crc32 } from './crc32';
import { CHUNK_HEADER_SIZE, CHUNK_TYPE_NAMES, ChunkInfo, ChunkType, decodeChunkHeader, decodeFileHeader, FILE_HEADER_SIZE } from './rwtraceFormat';
import { RewindError } from '../errors';

/** Why the chunk sequence stopped before the end of the file. */
export interface TraceProblem {
  offset: number;
  /** Complete, valid chunks before it. */
  chunks: number;
  message: string;
}

/**
 * Opens a `.rwtrace` file by reading only its chunk headers, and answers window queries (items
 * N..M of a stream, an icount range) by reading just the chunks that hold them.
 */
export class RwtraceReader {
  readonly chunks: ChunkInfo[] = [];
  readonly meta: Record<string, unknown>;
  readonly createdMs: number;
  /** Set when the file does not end with a clean END chunk, or a chunk is damaged. */
  readonly problem?: TraceProblem;
  readonly finished: boolean;

  constructor(private readonly src: ByteSource, what = 'trace') {
    const h = decodeFileHeader(src.read(0, FILE_HEADER_SIZE));
    if (typeof h === 'string') throw new RewindError('TRACE_INVALID', `${what}: ${h}`);
    this.createdMs = h.createdMs;
    let offset = FILE_HEADER_SIZE;
    let problem: TraceProblem | undefined;
    let finished = false;
    while (offset < src.size) {
      const c = decodeChunkHeader(src.read(offset, CHUNK_HEADER_SIZE), offset);
      if (typeof c === 'string') {
        problem = { offset, chunks: this.chunks.length, message: c };
        break;
      }
      if (c.sequence !== this.chunks.length) {
        problem = { offset, chunks: this.chunks.length, message: `chunk ${c.sequence} where chunk ${this.chunks.length} belongs` };
        break;
      }
      if (offset + CHUNK_HEADER_SIZE + c.length > src.size) {
        problem = { offset, chunks: this.chunks.length, message: `chunk ${c.sequence} (${CHUNK_TYPE_NAMES[c.type] ?? c.type}) is incomplete: the recording was cut short` };
        break;
      }
      this.chunks.push(c);
      offset += CHUNK_HEADER_SIZE + c.length;
      if (c.type === ChunkType.END) {
        finished = true;
        break;
      }
    }
    if (!problem && !finished) problem = { offset, chunks: this.chunks.length, message: 'no END chunk: the recording did not finish cleanly' };
    this.problem = problem;
    this.finished = finished;
    const first = this.chunks[0];
    if (!first || first.type !== ChunkType.META) throw new RewindError('TRACE_INVALID', `${what}: no metadata chunk at the start`);
    try {
      this.meta = JSON.parse(new TextDecoder().decode(this.payload(first)));
    } catch (e) {
      if (e instanceof RewindError) throw e;
      throw new RewindError('TRACE_CORRUPT', `${what}: the metadata chunk is not valid JSON`);
    }
  }

  /** A chunk's payload, checked against its CRC. */
  payload(c: ChunkInfo): Uint8Array {
    const p = this.src.read(c.offset + CHUNK_HEADER_SIZE, c.length);
    if (p.length !== c.length || crc32(p) !== c.payloadCrc) {
      throw new RewindError('TRACE_CORRUPT', `chunk ${c.sequence} at offset 0x${c.offset.toString(16)}: checksum mismatch`);
    }
    return p;
  }

  /** Chunks of one stream, in order. */
  stream(type: ChunkType): ChunkInfo[] {
    return this.chunks.filter((c) => c.type === type);
  }

  /** The chunks of a stream that hold items first..last (inclusive). */
  chunksForItems(type: ChunkType, first: number, last: number): ChunkInfo[] {
    return this.stream(type).filter((c) => c.itemCount > 0 && c.firstItem <= last && c.firstItem + c.itemCount - 1 >= first);
  }

  /** The chunks of a stream whose items fall in the icount range [from, to]. */
  chunksForIcount(type: ChunkType, from: number, to: number): ChunkInfo[] {
    return this.stream(type).filter((c) => c.itemCount > 0 && c.firstIcount <= to && c.lastIcount >= from);
  }

  close(): void {
    this.src.close();
  }
}
