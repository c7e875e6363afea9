import type { LockOp } from '../threads/lockOp';
import { ChunkType } from '../trace/rwtraceFormat';
import { lockOpChunks, LockWindow } from '../trace/rwtraceLocks';
import { openRecording } from './openRecording';

export interface LockOpsWindow {
  /** Operations in the whole LOCKS stream on disk. */
  total: number;
  ops: LockOp[];
}

/**
 * A window of a recording's lock operations, read from the file (only the chunks it touches), so
 * a front end never holds a whole stream: operations `from`..`to` (exclusive) by index, or
 * those with `from` <= icount < `to`; at most `limit` of them.
 */
export function lockOpsWindow(tracePath: string, w: { by?: 'index' | 'icount'; from?: number; to?: number; limit: number }): LockOpsWindow {
  const { reader } = openRecording(tracePath);
  try {
    const total = reader.stream(ChunkType.LOCKS).reduce((n, c) => n + c.itemCount, 0);
    const lw: LockWindow = w.by === 'icount'
      ? { fromIcount: w.from, toIcount: w.to === undefined ? undefined : w.to - 1 }
      : { fromIndex: w.from ?? 0, toIndex: Math.min(w.to ?? Infinity, (w.from ?? 0) + w.limit) - 1 };
    const out: LockOp[] = [];
    for (const ops of lockOpChunks(reader, tracePath, lw)) {
      for (const op of ops) if (out.length < w.limit) out.push(op);
      if (out.length >= w.limit) break;
    }
    return { total, ops: out };
  } finally {
    reader.close();
  }
}
