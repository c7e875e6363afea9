/**
 * Lock sites, named after the QEMU 7.2 files and functions that take the same locks, so a
 * Rewind lock trace reads like `-trace 'qemu_mutex_*'` (where QEMU prints FILE:LINE).
 */
export const RR_START = 'accel/tcg/tcg-accel-ops-rr.c:rr_cpu_thread_fn:start';
export const RR_LOOP = 'accel/tcg/tcg-accel-ops-rr.c:rr_cpu_thread_fn';
export const RR_AFTER_EXEC = 'accel/tcg/tcg-accel-ops-rr.c:rr_cpu_thread_fn:after_exec';
export const ICOUNT_PREPARE = 'accel/tcg/tcg-accel-ops-icount.c:icount_prepare_for_run';
export const ICOUNT_PROCESS = 'accel/tcg/tcg-accel-ops-icount.c:icount_process_data';
export const ICOUNT_DEADLINE = 'accel/tcg/tcg-accel-ops-icount.c:icount_handle_deadline';
export const HANDLE_EXCEPTION = 'accel/tcg/cpu-exec.c:cpu_handle_exception';
export const HANDLE_INTERRUPT = 'accel/tcg/cpu-exec.c:cpu_handle_interrupt';
export const IO_READX = 'accel/tcg/cputlb.c:io_readx';
export const IO_WRITEX = 'accel/tcg/cputlb.c:io_writex';
/** qemu_mutex_unlock_iothread: every BQL release goes through it, as in QEMU's traces. */
export const BQL_UNLOCK = 'softmmu/cpus.c:qemu_mutex_unlock_iothread';
export const COND_WAIT = 'softmmu/cpus.c:qemu_cond_wait_iothread';
export const CPU_WORK = 'cpus-common.c:process_queued_cpu_work';
export const TIMER_DEADLINE = 'util/qemu-timer.c:timerlist_deadline_ns';
export const TIMER_RUN = 'util/qemu-timer.c:timerlist_run_timers';
export const TIMER_MOD = 'util/qemu-timer.c:timer_mod_ns';
export const TB_INSERT = 'tcg/region.c:tcg_tb_insert';
export const TB_LOOKUP = 'tcg/region.c:tcg_tb_lookup';
export const CHR_WRITE = 'chardev/char.c:qemu_chr_write_buffer';
export const MAIN_LOOP_WAIT = 'util/main-loop.c:os_host_main_loop_wait';
export const MAIN_INIT = 'softmmu/vl.c:qemu_init';
export const VMSTOP = 'softmmu/runstate.c:qemu_vmstop_requested';
export const RCU_CALL = 'util/rcu.c:call_rcu_thread';
export const RCU_SYNC = 'util/rcu.c:synchronize_rcu';
export const RCU_REGISTER = 'util/rcu.c:rcu_register_thread';
export const RCU_NOTIFIER = 'util/rcu.c:rcu_add_force_rcu_notifier';
export const LOAD_STATE = 'migration/savevm.c:load_snapshot';
export const MIGRATION_THREAD = 'migration/migration.c:migration_thread';
export const MIGRATION_COMPLETION = 'migration/migration.c:migration_completion';
export const SAVE_SNAPSHOT = 'migration/savevm.c:save_snapshot';
export const PAUSE_ALL_VCPUS = 'softmmu/cpus.c:pause_all_vcpus';
/** QEMU 10.0's rr loop head: rr_cpu_count's QEMU_LOCK_GUARD on qemu_cpu_list_lock. */
export const RR_CPU_COUNT = 'accel/tcg/tcg-accel-ops-rr.c:rr_cpu_count';

/** The other QEMU mutexes Rewind models, by the name its traces give them. */
export const LOCK_TIMERS = 'timer-list';
export const LOCK_CHR = 'chr_write_lock';
export const LOCK_TB = 'tb-region';
export const LOCK_WORK = 'cpu-work';
export const LOCK_VMSTOP = 'vmstop_lock';
export const LOCK_RCU_SYNC = 'rcu_sync_lock';
export const LOCK_RCU_REGISTRY = 'rcu_registry_lock';
export const LOCK_CPU_LIST = 'qemu_cpu_list_lock';
