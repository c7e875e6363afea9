import { Machine } from '../machine/machine';
import { checkGuest, openRecording, readSummary } from '../session/openRecording';
import { stateHash } from '../machine/stateHash';
import { RewindError } from '../errors';
import { ChunkType } from '../trace/rwtraceFormat';
import { readEvents } from '../trace/rwtraceEvents';
import { parse } from './args';
import { OutputSink } from './hostIo';
import { EXIT_USAGE, reportRun } from './driveMachine';
import { readElfFile, readUserFile, schedOption } from './machineOptions';
import { decodeMigration } from '../snapshot/migrationStream';
import { intOption } from './args';
import { decodeSnapshot, encodeSnapshot } from '../snapshot/snapshotCodec';
import { DELTA_SNAPSHOT } from '../timetravel/snapshotSpill';

/** How many instructions past its last event's icount the replay of a cut-off recording may go. */
const CUT_STEPS = 10_000;

export const REPLAY_USAGE = 'rewind replay T.rwtrace [--verify] [--from-snapshot ID | --incoming FILE] [--sched fair|random:SEED] [--elf PROG.elf] [--no-jit]';

export async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    verify: { type: 'boolean' }, elf: { type: 'string' }, 'no-jit': { type: 'boolean' }, 'from-snapshot': { type: 'string' },
    incoming: { type: 'string' }, sched: { type: 'string' },
  }, REPLAY_USAGE);
  if (values['from-snapshot'] !== undefined && values.incoming !== undefined) throw new RewindError('USAGE', '--from-snapshot and --incoming both say where to start: give one');
  if (positionals.length !== 1) throw new RewindError('USAGE', `expected one .rwtrace file (usage: ${REPLAY_USAGE})`);
  const file = positionals[0];
  const { reader, meta } = openRecording(file);
  const elfPath = (values.elf as string | undefined) ?? meta.guest.path;
  const elf = readElfFile(elfPath);
  checkGuest(meta, elf, elfPath, file);
  // Every chunk's checksum, also those replay does not read (locks, marks): a damaged file is
  // reported as damaged, never replayed as if it were whole.
  for (const c of reader.chunks) reader.payload(c);
  const events = readEvents(reader, file);
  const summary = readSummary(reader, file);
  if (reader.problem) {
    process.stderr.write(`rewind: warning: ${file}: ${reader.problem.message} (offset 0x${reader.problem.offset.toString(16)}); replaying the ${events.length} events recorded before it\n`);
  }
  const endIcount = summary ? summary.icount : events.length ? events[events.length - 1].icount : 0;

  const out = new OutputSink(1);
  // savevm snapshots (--snapshot-at); time-travel ones (DELTA_SNAPSHOT) are not for loadvm.
  const snapshots = reader.stream(ChunkType.SNAPSHOT).filter((c) => !(c.flags & DELTA_SNAPSHOT));
  let mismatch: string | undefined;
  let violations = 0;
  // A recording cut off (killed) has no END: replayed live, the machine may go past the last
  // event's icount without diverging, as far as it must to consume the events at the cut.
  const incomplete = !summary;
  const machine = new Machine({
    ...meta.machine, jit: !values['no-jit'], sched: schedOption(values), onOutput: out.put, replay: incomplete ? { mode: 'live', events } : { mode: 'replay', events },
    jobHooks: {
      // With --verify, every snapshot the replay passes must equal the recorded one, byte for byte.
      snapshot: (id, state) => {
        const chunk = snapshots.find((c) => c.firstItem === id);
        if (values.verify && chunk && !sameBytes(encodeSnapshot(state), reader.payload(chunk))) {
          mismatch = `the machine at snapshot ${id} (icount ${state.icount}) is not in the recorded state`;
        }
      },
    },
  });
  machine.checker!.onViolation((v) => {
    if (++violations <= 5) process.stderr.write(`rewind: lock rule violated (${v.kind}): ${v.message}\n`);
  });
  machine.loadElf(elf, elfPath);
  if (values['from-snapshot'] !== undefined) {
    // loadvm: start from the recorded state instead of from reset.
    const id = intOption(values['from-snapshot'], 'from-snapshot', 0);
    const chunk = snapshots.find((c) => c.firstItem === id);
    const ev = events.find((e) => e.name === 'EVENT_SNAPSHOT' && e.data?.id === id);
    if (!chunk || !ev) throw new RewindError('NO_SNAPSHOT', `${file} has no snapshot ${id} (it has ${snapshots.length ? snapshots.map((c) => c.firstItem).join(', ') : 'none'})`);
    machine.loadState(decodeSnapshot(reader.payload(chunk), `${file} snapshot ${id}`));
    // The VM it restores runs: savevm's restart behind the snapshot is passed over as well.
    const after = events[ev.index + 1];
    const restart = after?.name === 'EVENT_RUN_STATE' && after.data?.state === 'running' && after.icount === ev.icount;
    machine.replay!.player!.skipTo(ev.index + (restart ? 2 : 1));
  } else if (meta.incoming) {
    // A migration's destination: it starts from the migrated state, as it was recorded.
    const src = values.incoming !== undefined ? String(values.incoming) : meta.incoming.file;
    const { header, state } = decodeMigration(readUserFile(src, 'MIGRATION_MISSING'), src);
    if (header.guestSha256 !== meta.guest.sha256 || header.hash !== meta.incoming.hash || header.icount !== meta.incoming.icount) {
      throw new RewindError('MIGRATION_MISMATCH', `${src} is not the migration ${file} was recorded from (it holds icount ${header.icount}, state ${header.hash}; the recording started at icount ${meta.incoming.icount} from state ${meta.incoming.hash})`);
    }
    machine.loadState(state);
  } else if (values.incoming !== undefined) {
    // Incoming migration on the source's recording: start from the state it migrated out; the
    // log's completion event then checks it is that state.
    const src = String(values.incoming);
    const { header, state } = decodeMigration(readUserFile(src, 'MIGRATION_MISSING'), src);
    if (header.guestSha256 !== meta.guest.sha256) throw new RewindError('MIGRATION_MISMATCH', `${src} was migrated from another guest than ${file} recorded`);
    const ev = events[header.eventIndex];
    if (!ev || ev.name !== 'EVENT_MIGRATION' || ev.icount !== header.icount) throw new RewindError('MIGRATION_MISMATCH', `${src} does not belong to ${file}: the recording has no migration at icount ${header.icount} (event #${header.eventIndex})`);
    machine.loadState(state);
    machine.replay!.player!.skipTo(header.eventIndex);
  }
  const t0 = process.hrtime.bigint();
  let result = machine.run(endIcount);
  const player = machine.replay!.player!;
  for (let extra = 0; incomplete && result.reason === 'limit' && !player.atEnd && extra < CUT_STEPS; extra++) result = machine.run(machine.icount + 1);
  out.flush();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (mismatch) {
    process.stderr.write(`rewind: replay verification failed: ${mismatch}\n`);
    return EXIT_USAGE;
  }
  if (result.reason === 'diverged') return reportRun(machine, result, seconds, endIcount);
  const unconsumed = events.length - player.consumed - (events[events.length - 1]?.name === 'EVENT_END' ? 1 : 0);
  if (values.verify) {
    const problems: string[] = [];
    if (unconsumed > 0) problems.push(`${unconsumed} recorded events were never reached (next: ${player.peek()?.name} at icount ${player.peek()?.icount})`);
    if (incomplete ? machine.icount < endIcount : machine.icount !== endIcount) problems.push(`stopped at icount ${machine.icount}, the recording at ${endIcount}`);
    const hash = stateHash(machine);
    if (summary && hash !== summary.stateHash) problems.push(`final state hash ${hash.slice(0, 16)}... differs from the recorded ${summary.stateHash.slice(0, 16)}...`);
    if (problems.length) {
      process.stderr.write(`rewind: replay verification failed: ${problems.join('; ')}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`rewind: replay verified: ${player.consumed} events, icount ${machine.icount}, state ${summary ? 'hash ' + hash.slice(0, 16) + '... as recorded' : 'not recorded (incomplete recording)'}\n`);
  }
  if ((summary?.reason === 'interrupted' || summary?.reason === 'aborted') && result.reason === 'limit' && machine.icount === endIcount) {
    const how = summary.reason === 'aborted' ? 'stopped by a replay-mutex assertion' : 'interrupted';
    process.stderr.write(`rewind: ${machine.icount} instructions in ${seconds.toFixed(3)} s\nrewind: reached the end of the recording, which was ${how} at icount ${endIcount}\n`);
    return 0;
  }
  if (incomplete && result.reason === 'limit' && player.atEnd) {
    process.stderr.write(`rewind: ${machine.icount} instructions in ${seconds.toFixed(3)} s\nrewind: reached the end of the incomplete recording at icount ${machine.icount}: all ${player.consumed} events it kept were replayed\n`);
    return 0;
  }
  // The replayed guest ends as the recorded one did: same exit code, or the same limit.
  return reportRun(machine, result, seconds, endIcount);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}
