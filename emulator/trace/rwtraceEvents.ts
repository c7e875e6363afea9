import { ReplayEvent } from '../replay/replayEvent';
import { decodeEvents, encodeEvent } from '../replay/eventCodec';
import { ChunkType } from './rwtraceFormat';
import { RwtraceReader } from './rwtraceReader';
import { ChunkBuffer, RwtraceWriter } from './rwtraceWriter';
import { RewindError } from '../errors';

/** Streams Rewind's replay events into a .rwtrace's EVENTS chunks. */
export class EventStreamWriter {
  private readonly buf: ChunkBuffer;
  private prevIcount = 0;

  constructor(writer: RwtraceWriter) {
    this.buf = new ChunkBuffer(writer, ChunkType.EVENTS);
  }

  readonly append = (e: ReplayEvent): void => {
    // Each chunk's events are delta-coded from its own first icount, so chunks decode alone.
    this.buf.add(encodeEvent(e, this.buf.isEmpty() ? e.icount : this.prevIcount), e.index, e.icount);
    this.prevIcount = e.icount;
  };

  flush(): void {
    this.buf.flush();
  }

  tick(): void {
    this.buf.tick();
  }
}

/** The EVENTS stream one chunk at a time, so a walk over a big recording holds one chunk's events. */
export function* eventChunks(r: RwtraceReader, what: string): Generator<ReplayEvent[]> {
  for (const c of r.stream(ChunkType.EVENTS)) {
    let events: ReplayEvent[];
    try {
      events = decodeEvents(r.payload(c), c.firstItem, c.firstIcount, c.offset + 48);
    } catch (e) {
      if (e instanceof RewindError) throw e;
      throw new RewindError('TRACE_CORRUPT', `${what}: events chunk ${c.sequence} at offset 0x${c.offset.toString(16)}: ${(e as Error).message}`);
    }
    yield events;
  }
}

/** Every event of a trace's EVENTS stream, in order. */
export function readEvents(r: RwtraceReader, what: string): ReplayEvent[] {
  const out: ReplayEvent[] = [];
  for (const events of eventChunks(r, what)) for (const e of events) out.push(e);
  return out;
}
