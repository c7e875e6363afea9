import type { Machine, RunResult } from '../machine/machine';
import type { Stop } from './stops';

/** A run that the guest ended (exit, a stuck hart, idle for good) as a stop the user can read. */
export function describeStop(m: Machine, r: RunResult): Stop {
  const hart = m.lastHart;
  switch (r.reason) {
    case 'exit':
      return { reason: 'end', hart, description: `exited with code ${r.exitCode}`, text: `the guest exited with code ${r.exitCode} at icount ${m.icount}` };
    case 'stuck': {
      const h = m.harts.find((x) => x.stuck) ?? m.harts[hart];
      return { reason: 'exception', hart: h.hartId, description: 'stuck', text: `hart ${h.hartId} cannot fetch its trap handler at 0x${(h.pc >>> 0).toString(16)} (mtvec points at unmapped memory), so it would trap there forever` };
    }
    case 'aborted':
      return { reason: 'exception', hart, description: 'replay assertion', text: m.aborted ?? 'a replay assertion failed' };
    case 'postmigrate':
      return { reason: 'end', hart, description: 'postmigrate', text: `the VM migrated out at icount ${m.icount} and stays stopped (postmigrate), as QEMU's source does` };
    case 'idle':
      return { reason: 'end', hart, description: 'idle for good', text: 'every hart waits in WFI with no timer armed and no input left' };
    default:
      return { reason: 'end', hart, description: 'end of the recording', text: `the end of the recording, at icount ${m.icount}` };
  }
}
