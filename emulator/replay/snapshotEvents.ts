import type { ReplayController } from './replayController';

/**
 * Snapshot events (QEMU's replay-snapshot.c): saving the VM state is logged at the instruction
 * where it happened, so a replay passes the same point and can check it holds the same state,
 * or start from the snapshot instead of from reset.
 */
export function snapshotSaved(rc: ReplayController, id: number): boolean {
  const rec = rc.rec;
  if (rec) {
    rec.append('EVENT_SNAPSHOT', 'snapshot', { action: 'save', id });
    return true;
  }
  return rc.play!.take('EVENT_SNAPSHOT', { action: 'save', id }) !== undefined;
}
