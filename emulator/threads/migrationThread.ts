import type { Machine } from '../machine/machine';
import type { MachineSnapshot } from '../snapshot/machineSnapshot';
import type { ReplayEvent } from '../replay/replayEvent';
import { stateHash } from '../machine/stateHash';
import { EmuThread, StepResult } from './scheduler';
import * as S from './qemuSites';
import { savevmEvent } from './savevm';

/** Work for the migration thread while recording: a savevm-style snapshot, or a migration to a file. */
export type Job =
  | { kind: 'snapshot'; at: number; id: number }
  | { kind: 'migrate'; at: number; target: string };

export interface JobHooks {
  /** A snapshot was taken (record: store it; replay: compare it — a string is a mismatch). */
  snapshot?(id: number, state: MachineSnapshot): string | void;
  /** Record: write the VM state to `target`; a string is why it failed. */
  migrate?(target: string, state: MachineSnapshot, hash: string, eventIndex: number): string | void;
}

/** Pre-copy passes a migration makes while the VM keeps running, one per scheduler step. */
const PRECOPY_STEPS = 8;

const SITE_SETUP = S.MIGRATION_THREAD;
const SITE_COMPLETE = S.MIGRATION_COMPLETION;
const SITE_PAUSE = S.PAUSE_ALL_VCPUS;

type Phase = 'pending' | 'precopy' | 'stopping' | 'pausing';

/** The state hash recorded with a completed migration: enough to tell two states apart in a log line. */
export const migrationHash = (m: Machine): string => stateHash(m).slice(0, 16);

/**
 * The migration thread (snapshots are the main loop's: savevm.ts; their jobs wait in this
 * thread's queue, where the vCPUs look for the next stop). Every step that writes replay events
 * (setup, stopping the VM, completion or failure, starting the VM again) runs with the replay mutex and then
 * the BQL held, as QEMU's migration code does with the fix from "replay: Fixes and avocado test
 * updates" (qemu-replay.md). `injectUnlocked` restores the pre-fix code, which takes only the
 * BQL: the events then race the vCPU's own, and are stamped with the icount the vCPU last
 * published — not the one it stops at.
 *
 * In replay the thread is driven by the log instead of by jobs: when the next event is one of
 * its own and the machine is where the log says, it takes the locks and replays it.
 */
export class MigrationThread implements EmuThread {
  readonly name = 'migration';
  private readonly jobs: Job[];
  private phase: Phase = 'pending';
  private precopyLeft = 0;
  private holding = false;
  private why = 'nothing to do';
  /** Where the thread last took its locks: the site its events are written from. */
  site = SITE_SETUP;

  constructor(private readonly m: Machine, jobs: Job[], private readonly hooks: JobHooks, private readonly injectUnlocked: boolean) {
    this.jobs = [...jobs].sort((a, b) => a.at - b.at);
  }

  waitingFor(): string {
    return this.why;
  }

  /** Record: icount of the next job not yet started at or after `icount` (vCPU iterations end there). */
  /** A migration or savevm in progress: it acts between the vCPU's steps (pre-copy while the guest runs). */
  get active(): boolean {
    return this.phase !== 'pending';
  }

  nextJobAt(icount: number): number {
    const j = this.jobs[0];
    return j && this.phase === 'pending' && j.at >= icount ? j.at : Infinity;
  }

  /** Record: the id of a snapshot job due at `icount` (the main loop carries it out: savevm). */
  snapshotDue(icount: number): number | undefined {
    const j = this.jobs[0];
    return j !== undefined && j.kind === 'snapshot' && this.phase === 'pending' && j.at === icount ? j.id : undefined;
  }

  /** The main loop saved the snapshot due now. */
  snapshotDone(): void {
    if (this.jobs[0]?.kind === 'snapshot') this.jobs.shift();
  }

  /** Record: a job starts at `icount` and has not yet (the vCPUs wait for it). */
  jobDueAt(icount: number): boolean {
    const j = this.jobs[0];
    return j !== undefined && this.phase === 'pending' && j.at === icount;
  }

  step(): StepResult {
    return this.m.replay?.play ? this.replayStep() : this.recordStep();
  }

  /** Takes the replay mutex (unless the fault is injected), then the BQL. */
  private lock(site: string): boolean {
    const m = this.m;
    this.site = site;
    if (m.replay && !this.injectUnlocked && !m.locks.replay.acquire(this.name, site)) {
      // A vCPU holds it across its execution run: qemu_cpu_kick ends the run at its next exit.
      if (m.locks.replay.holder?.startsWith('vcpu')) m.exitRequested = true;
      this.why = `the replay mutex (held by ${m.locks.replay.holder ?? 'nobody'})`;
      return false;
    }
    if (!m.locks.bql.acquire(this.name, site)) {
      // Held across a step only by the main loop's dispatch (or, with the fault, while this thread waits).
      this.why = `the BQL (held by ${m.locks.bql.holder ?? 'nobody'})`;
      if (m.replay && !this.injectUnlocked) m.locks.replay.release(this.name, site);
      return false;
    }
    this.holding = true;
    return true;
  }

  private unlock(site: string): void {
    const m = this.m;
    m.locks.bql.release(this.name, site);
    if (m.replay && !this.injectUnlocked) m.locks.replay.release(this.name, site);
    this.holding = false;
  }

  /** vm_stop: ask the vCPUs to park, then wait for them with both locks dropped (pause_all_vcpus). */
  private stopVm(state: string, site: string): void {
    const m = this.m;
    this.site = site;
    m.replay?.runState(state);
    m.vm = 'stopping';
    m.vcpusPaused = false;
    this.unlock(site);
    this.phase = 'pausing';
  }

  /** After a completed migration the source stays stopped, in RUN_STATE_POSTMIGRATE: it runs no more. */
  private postmigrate(): void {
    const m = this.m;
    m.vm = 'postmigrate';
    m.replay?.runState('postmigrate');
    m.stopWith('postmigrate');
  }

  private startVm(): void {
    const m = this.m;
    m.vm = 'running';
    m.replay?.runState('running');
  }

  private recordStep(): StepResult {
    const m = this.m;
    const job = this.jobs[0];
    if (!job) return 'done';
    const icount = m.clock.icount;
    switch (this.phase) {
      case 'pending':
        if (job.at > icount) return this.wait(`the machine to reach icount ${job.at} (at ${icount})`);
        if (job.at < icount) {
          // A machine restored past the job's point: that job belongs to the past.
          this.jobs.shift();
          return 'ran';
        }
        // savevm is a monitor command: the main loop runs it (savevm.ts).
        if (job.kind === 'snapshot') return this.wait(`the main loop to save snapshot ${job.id} (savevm)`);
        if (!this.lock(SITE_SETUP)) return 'blocked';
        // migration_thread reads QEMU_CLOCK_HOST (setup_start) first: QEMU's own event, and the
        // first log access a migration makes — where QEMU without the fix aborts.
        m.readHostClock();
        m.replay?.migration('setup', job.target);
        this.unlock(SITE_SETUP);
        this.phase = 'precopy';
        this.precopyLeft = PRECOPY_STEPS;
        return 'ran';
      case 'precopy':
        // RAM goes out while the guest runs; how far the guest gets meanwhile is up to the scheduler.
        if (--this.precopyLeft > 0) return 'ran';
        this.phase = 'stopping';
        return 'ran';
      case 'stopping':
        if (!this.lock(SITE_COMPLETE)) return 'blocked';
        this.stopVm('finish-migrate', SITE_COMPLETE);
        return 'ran';
      case 'pausing': {
        if (!m.vcpusPaused) return this.wait('the vCPUs to park (vm_stop)');
        if (job.kind !== 'migrate') return 'ran';
        if (!this.holding && !this.lock(SITE_PAUSE)) return 'blocked';
        this.site = SITE_COMPLETE; // what follows is the completion's, not the pause's
        const state = m.saveState();
        const hash = migrationHash(m);
        const failed = this.hooks.migrate?.(job.target, state, hash, m.replay?.recorder?.count ?? 0);
        if (typeof failed === 'string') {
          // migration_iteration_finish: a failed migration starts the VM again.
          m.replay?.migration('failed', job.target, failed);
          this.startVm();
        } else {
          m.replay?.migration('completed', job.target, hash);
          this.postmigrate();
        }
        this.unlock(SITE_COMPLETE);
        this.jobs.shift();
        this.phase = 'pending';
        return this.jobs.length ? 'ran' : 'done';
      }
    }
  }

  /** Replay: the log says what happens and where; the thread checks the machine agrees. */
  private replayStep(): StepResult {
    const m = this.m;
    const player = m.replay!.play!;
    const icount = m.clock.icount;
    const stopped = m.vm !== 'running';
    if (m.vm === 'saving') return this.wait('the main loop to finish savevm');
    if (stopped && !m.vcpusPaused) return this.wait('the vCPUs to park (vm_stop)');
    const e = player.peek();
    if (!stopped) {
      if (!e || !ownEvent(e, player.all)) return this.wait(e ? `the vCPUs to replay ${e.name} (event #${e.index})` : 'nothing: the log has no more events');
      if (savevmEvent(e, player.all)) return this.wait(`the main loop to replay savevm (event #${e.index})`);
      if (e.icount > icount) return this.wait(`the machine to reach icount ${e.icount} for ${e.name} (at ${icount})`);
    }
    if (!this.holding && !this.lock(stopped ? SITE_PAUSE : SITE_COMPLETE)) return 'blocked';
    // Replay this thread's run of events here; while the VM is stopped the icount cannot move,
    // so anything else next in the log is a divergence, not something to wait for.
    for (let ev = player.peek(); ; ev = player.peek()) {
      if (!ev || !ownEvent(ev, player.all) || savevmEvent(ev, player.all) || ev.icount !== icount) {
        if (m.vm !== 'running') {
          player.diverge(`nothing: the VM was stopped at icount ${icount} by the migration thread, so it cannot get to what the log has next`);
          m.stopWith('diverged');
        }
        break;
      }
      const d = ev.data ?? {};
      if (ev.name === 'EVENT_CLOCK_HOST') {
        m.readHostClock(); // the setup's clock read, replayed from the log
        continue;
      }
      if (ev.name === 'EVENT_RUN_STATE') {
        if (d.state === 'running') {
          this.startVm();
          continue;
        }
        if (d.state === 'postmigrate') {
          this.postmigrate();
          break;
        }
        this.stopVm(String(d.state), SITE_COMPLETE);
        return 'ran';
      }
      // EVENT_MIGRATION: a completion is checked against the state the VM is in now.
      const detail = d.phase === 'completed' ? migrationHash(m) : String(d.detail ?? '');
      if (!m.replay!.migration(String(d.phase), String(d.target), detail)) {
        m.stopWith('diverged');
        break;
      }
    }
    if (this.holding) this.unlock(SITE_COMPLETE);
    return 'ran';
  }

  private wait(why: string): StepResult {
    this.why = why;
    return 'blocked';
  }
}

/**
 * The events this thread writes (and replays); the vCPUs never consume them. Its own are
 * Rewind's (QEMU logs nothing for a migration), and the QEMU_CLOCK_HOST read the setup makes,
 * told from a guest's by the setup event right behind it in `all` (the log in order).
 */
export function ownEvent(e: ReplayEvent, all: readonly ReplayEvent[]): boolean {
  if (e.kind === 'snapshot' || e.kind === 'migration' || e.kind === 'run-state') return true;
  if (e.name !== 'EVENT_CLOCK_HOST') return false;
  const n = all[e.index + 1];
  return n !== undefined && n.name === 'EVENT_MIGRATION' && n.icount === e.icount && n.data?.phase === 'setup';
}
