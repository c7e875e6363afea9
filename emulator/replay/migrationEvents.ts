import type { ReplayController } from './replayController';

/**
 * Migration and run-state events (Rewind's own; QEMU logs the equivalent as run-state
 * transitions and checkpoints). The migration thread writes them — stopping the VM, setup,
 * completion with the hash of the state that went out, failure, starting the VM again — so a
 * replay stops the VM at the same instruction and can check the same state was saved.
 */
export function runState(rc: ReplayController, state: string): boolean {
  const rec = rc.rec;
  if (rec) {
    rec.append('EVENT_RUN_STATE', 'run-state', { state });
    return true;
  }
  return rc.play!.take('EVENT_RUN_STATE', { state }) !== undefined;
}

export function migration(rc: ReplayController, phase: string, target: string, detail = ''): boolean {
  const data = { phase, target, detail };
  const rec = rc.rec;
  if (rec) {
    rec.append('EVENT_MIGRATION', 'migration', data);
    return true;
  }
  return rc.play!.take('EVENT_MIGRATION', data) !== undefined;
}
