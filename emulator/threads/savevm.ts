import type { Machine } from '../machine/machine';
import type { ReplayEvent } from '../replay/replayEvent';
import type { JobHooks, MigrationThread } from './migrationThread';
import * as S from './qemuSites';

/**
 * savevm as QEMU runs it: an HMP/QMP command, so on the main loop, inside its dispatch — holding
 * the replay mutex and the BQL it took when it woke. save_snapshot stops the VM (vm_stop:
 * RUN_STATE_SAVE_VM), and pause_all_vcpus lets the replay mutex go and waits for the vCPUs with
 * the BQL dropped (qemu_cond_wait), then takes the replay mutex and the BQL again; the state is
 * saved and the VM started again before the main loop polls on.
 *
 * The jobs themselves (--snapshot-at) stay in the migration thread's queue, which is where the
 * vCPUs look for the next point to stop at; this is only who carries a snapshot job out.
 */
export class Savevm {
  private id = 0;

  constructor(private readonly m: Machine, private readonly jobs: Pick<MigrationThread, 'snapshotDue' | 'snapshotDone'>, private readonly hooks: JobHooks) {}

  /** A savevm is due now: a snapshot job at this icount (record) or its stop next in the log (replay). */
  due(): boolean {
    const m = this.m;
    const player = m.replay?.play;
    if (!player) return this.jobs.snapshotDue(m.clock.icount) !== undefined;
    const e = player.peek();
    return e !== undefined && isSavevmStop(e) && e.icount === m.clock.icount;
  }

  /** In the main loop's dispatch, both locks held: vm_stop, then pause_all_vcpus drops them. */
  start(thread: string): boolean {
    const m = this.m;
    const player = m.replay?.play;
    const id = player ? undefined : this.jobs.snapshotDue(m.clock.icount);
    if (!player && id === undefined) return false;
    if (!m.replay?.runState('save-vm') && m.replay) {
      m.stopWith('diverged');
      return false;
    }
    this.id = id ?? 0;
    m.vm = 'saving';
    m.vcpusPaused = false;
    if (m.replay) m.locks.replay.release(thread, S.PAUSE_ALL_VCPUS);
    m.locks.bql.release(thread, S.COND_WAIT);
    return true;
  }

  /**
   * The vCPUs parked: the replay mutex and then the BQL again, the state saved, the VM started.
   * False while it must wait (for the vCPUs or a lock); the locks stay held for the caller to
   * drop as its dispatch ends.
   */
  resume(thread: string): boolean {
    const m = this.m;
    if (!m.vcpusPaused) return false;
    if (m.replay && !m.locks.replay.heldBy(thread) && !m.locks.replay.acquire(thread, S.PAUSE_ALL_VCPUS)) return false;
    if (!m.locks.bql.acquire(thread, S.PAUSE_ALL_VCPUS)) return false;
    const player = m.replay?.play;
    let id = this.id;
    if (player) {
      const e = player.peek();
      id = Number(e?.data?.id ?? -1);
    }
    const state = m.saveState();
    if (m.replay && !m.replay.snapshot(id)) {
      m.stopWith('diverged');
      return true;
    }
    const problem = this.hooks.snapshot?.(id, state);
    if (typeof problem === 'string' && player) {
      player.diverge(problem);
      m.stopWith('diverged');
      return true;
    }
    if (!player) this.jobs.snapshotDone();
    m.vm = 'running';
    if (m.replay && !m.replay.runState('running')) m.stopWith('diverged');
    return true;
  }
}

/** The events a savevm writes: its stop, the snapshot, and the restart right behind it. */
export function savevmEvent(e: ReplayEvent, all: readonly ReplayEvent[]): boolean {
  if (isSavevmStop(e) || e.kind === 'snapshot') return true;
  if (e.name !== 'EVENT_RUN_STATE' || e.data?.state !== 'running') return false;
  const prev = all[e.index - 1];
  return prev !== undefined && prev.kind === 'snapshot';
}

function isSavevmStop(e: ReplayEvent): boolean {
  return e.name === 'EVENT_RUN_STATE' && e.data?.state === 'save-vm';
}
