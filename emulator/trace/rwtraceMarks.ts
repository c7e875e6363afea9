import { LockViolation } from '../threads/lockStats';
import { ChunkType } from './rwtraceFormat';
import { RwtraceReader } from './rwtraceReader';
import { RwtraceWriter } from './rwtraceWriter';
import { RewindError } from '../errors';

/**
 * Divergences and lock-rule violations found while recording or replaying, kept in MARKS chunks
 * as JSON `{ "marks": [...] }`. They are few (a run stops at its first divergence; violations are
 * capped by the rule checker), so plain JSON costs nothing and stays readable with `strings`.
 */
export interface Mark {
  kind: 'violation' | 'divergence';
  icount: number;
  /** The lock op it happened at (LockOp.index), when it concerns one. */
  lockOp?: number;
  /** The replay event it concerns (ReplayEvent.index), if any. */
  eventIndex?: number;
  violation?: LockViolation;
  message: string;
}

/** Writes `marks` as one MARKS chunk; nothing when there are none. */
export function appendMarks(writer: RwtraceWriter, marks: Mark[]): void {
  if (marks.length === 0) return;
  let first = Infinity, last = -Infinity;
  for (const m of marks) {
    first = Math.min(first, m.icount);
    last = Math.max(last, m.icount);
  }
  writer.append(ChunkType.MARKS, new TextEncoder().encode(JSON.stringify({ marks })), { firstIcount: first, lastIcount: last, firstItem: 0, itemCount: marks.length });
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Why `m` is not a Mark, or undefined if it is one. */
function badMark(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null) return 'not an object';
  const x = m as Record<string, unknown>;
  if (x.kind !== 'violation' && x.kind !== 'divergence') return `kind ${JSON.stringify(x.kind)}`;
  if (!isNum(x.icount)) return 'no icount';
  if (typeof x.message !== 'string') return 'no message';
  if (x.lockOp !== undefined && !isNum(x.lockOp)) return 'lockOp is not a number';
  if (x.eventIndex !== undefined && !isNum(x.eventIndex)) return 'eventIndex is not a number';
  if (x.violation !== undefined) {
    const v = x.violation as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null || typeof v.kind !== 'string' || typeof v.thread !== 'string' || typeof v.message !== 'string') return 'malformed violation';
  }
  return undefined;
}

/** Every mark of the trace, chunk by chunk in file order. */
export function readMarks(r: RwtraceReader, what: string): Mark[] {
  const out: Mark[] = [];
  for (const c of r.stream(ChunkType.MARKS)) {
    const where = `${what}: marks chunk ${c.sequence} at offset 0x${c.offset.toString(16)}`;
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(r.payload(c)));
    } catch (e) {
      if (e instanceof RewindError) throw e;
      throw new RewindError('TRACE_CORRUPT', `${where}: not valid JSON`);
    }
    const marks = (doc as { marks?: unknown } | null)?.marks;
    if (!Array.isArray(marks)) throw new RewindError('TRACE_CORRUPT', `${where}: no "marks" list`);
    marks.forEach((m, i) => {
      const bad = badMark(m);
      if (bad) throw new RewindError('TRACE_CORRUPT', `${where}: mark ${i}: ${bad}`);
      out.push(m as Mark);
    });
  }
  return out;
}
