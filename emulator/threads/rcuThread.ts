import type { Machine } from '../machine/machine';
import { EmuThread, StepResult } from './scheduler';
import * as S from './qemuSites';

type Phase = 'idle' | 'bql' | 'done';

/**
 * QEMU's RCU thread (util/rcu.c, call_rcu_thread), as a QEMU 7.2 rr recording's mutex trace
 * shows it: woken by the first call_rcu of start-up, it waits for a grace period
 * (synchronize_rcu: rcu_sync_lock, then rcu_registry_lock) and then runs the callbacks under the
 * BQL. Nothing more is queued for it in a bare-metal run, so that is all it does.
 *
 * It never queues for the BQL: a vCPU takes the BQL inside guest code and cannot wait there, so
 * the RCU thread only takes it when it is free (a wait, if it finds it held, is traced once).
 */
export class RcuThread implements EmuThread {
  readonly name = 'rcu';
  site = S.RCU_CALL;
  private phase: Phase = 'idle';
  private waited = false;

  constructor(private readonly m: Machine) {}

  waitingFor(): string {
    return this.phase === 'bql' ? `the BQL (held by ${this.m.locks.bql.holder ?? 'nobody'})` : 'call_rcu work';
  }

  /** Back from a machine restore: a started machine's RCU thread has done its start-up work. */
  restore(started: boolean): void {
    this.phase = started ? 'done' : 'idle';
    this.waited = false;
  }

  step(): StepResult {
    const m = this.m;
    switch (this.phase) {
      case 'idle':
        if (!m.started) return 'blocked';
        this.site = S.RCU_SYNC;
        m.locks.touchNested(S.LOCK_RCU_SYNC, S.LOCK_RCU_REGISTRY, this.name, S.RCU_SYNC);
        this.phase = 'bql';
        this.site = S.RCU_CALL;
      // falls through
      case 'bql': {
        const bql = m.locks.bql;
        if (!bql.tryAcquire(this.name, S.RCU_CALL, !this.waited)) {
          this.waited = true;
          return 'blocked';
        }
        bql.release(this.name, S.BQL_UNLOCK);
        this.phase = 'done';
        return 'ran';
      }
      case 'done':
        // Not 'done': a restore to before start-up wakes it again.
        return 'blocked';
    }
  }
}
