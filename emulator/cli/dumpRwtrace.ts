import { ReplayEvent } from '../replay/replayEvent';
import { FILE_MAGIC } from '../trace/rwtraceFormat';
import { readEvents } from '../trace/rwtraceEvents';
import { Out, writeText } from './dumpCommand';
import { EXIT_USAGE } from './driveMachine';
import { openRecording } from '../session/openRecording';

export function isRwtrace(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Array.from(bytes.subarray(0, 8)).every((b, i) => b === FILE_MAGIC.charCodeAt(i));
}

/** `rewind dump` of a Rewind recording: the same lines and JSON shape as for a QEMU log. */
export function dumpRwtrace(file: string, opts: { from: number; to: number; keep?: (e: ReplayEvent) => boolean; json: boolean }): number {
  const { reader, meta } = openRecording(file);
  const events = readEvents(reader, file);
  const shown = events.filter((e) => e.index >= opts.from && e.index <= opts.to && (!opts.keep || opts.keep(e)));
  const instructions = events.length ? events[events.length - 1].icount : 0;
  const out = new Out();
  if (opts.json) {
    const head = { file, format: 'rwtrace', guest: meta.guest, machine: meta.machine, instructions, totalEvents: events.length, finished: reader.finished, ...(reader.problem ? { problem: reader.problem } : {}) };
    out.line(JSON.stringify(head).slice(0, -1) + ',"events":[');
    shown.forEach((e, i) => out.line(JSON.stringify(e) + (i + 1 < shown.length ? ',' : '')));
    out.line(']}');
  } else {
    const count = shown.length === events.length ? `${events.length} events` : `${shown.length} of ${events.length} events shown`;
    const end = reader.finished ? 'recording finished' : `recording incomplete: ${reader.problem?.message}`;
    writeText(out, shown, `${count}; ${instructions} instructions; Rewind recording of ${meta.guest.path}; ${end}`);
  }
  out.flush();
  if (reader.problem && !reader.finished) {
    process.stderr.write(`rewind: ${file}: ${reader.problem.message} (offset 0x${reader.problem.offset.toString(16)}); showed the ${events.length} events before it\n`);
    return EXIT_USAGE;
  }
  return 0;
}
