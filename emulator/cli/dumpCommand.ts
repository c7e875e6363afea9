import * as fs from 'fs';
import { RewindError } from '../errors';
import { EventKind, ReplayEvent } from '../replay/replayEvent';
import { ALL_EVENT_NAMES, REPLAY_VERSION_RELEASES } from '../trace/qemuReplayLayouts';
import { EVENT_IDS } from '../replay/eventCodec';
import { decodeQemuReplayLog, isQemuReplayLog, QEMU_REPLAY_LAYOUTS, QemuReplayLayout, QemuReplayLog } from '../trace/qemuReplayLog';
import { intOption, parse } from './args';
import { EXIT_USAGE } from './runCommand';
import { dumpRwtrace, isRwtrace } from './dumpRwtrace';
import { readUserFile } from './machineOptions';

export const DUMP_USAGE = `rewind dump FILE [--kind K[,K...]] [--from N] [--to M] [--json] [--layout ${QEMU_REPLAY_LAYOUTS.join('|')}]`;

const EVENT_KINDS: readonly EventKind[] = [
  'instruction', 'interrupt', 'exception', 'async', 'shutdown', 'char-write', 'char-read-all', 'audio',
  'random', 'clock', 'checkpoint', 'end', 'snapshot', 'migration', 'run-state', 'debug',
];

/** Kinds and QEMU names compare without case, `-`/`_` or the EVENT_ prefix: char-write, CHAR_WRITE, EVENT_CP_INIT, cp-init. */
function norm(s: string): string {
  return s.trim().toLowerCase().replace(/-/g, '_').replace(/^event_/, '');
}

function kindFilter(spec: string | undefined): ((e: ReplayEvent) => boolean) | undefined {
  if (spec === undefined) return undefined;
  const wanted = new Set(spec.split(',').map(norm).filter((s) => s !== ''));
  const known = new Set([...EVENT_KINDS, ...ALL_EVENT_NAMES, ...Object.values(EVENT_IDS).map((i) => i.name)].map(norm));
  for (const w of wanted) {
    if (!known.has(w)) {
      throw new RewindError('USAGE', `--kind '${w}' is neither an event kind (${EVENT_KINDS.join(', ')}) nor a QEMU event name such as EVENT_CHAR_WRITE`);
    }
  }
  if (wanted.size === 0) throw new RewindError('USAGE', `--kind needs a kind or a QEMU event name (usage: ${DUMP_USAGE})`);
  return (e) => wanted.has(norm(e.kind)) || wanted.has(norm(e.name));
}

/**
 * Writes to stdout synchronously in large pieces (a dump can be millions of lines); a reader that
 * went away (`rewind dump F | head`) ends the output quietly instead of crashing on EPIPE.
 */
export class Out {
  private parts: string[] = [];
  private size = 0;
  private closed = false;
  line(s: string): void {
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size >= 1 << 16) this.flush();
  }
  flush(): void {
    if (this.closed || this.size === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < buf.length) {
      try {
        off += fs.writeSync(1, buf, off, buf.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue; // a full non-blocking pipe: wait for the reader
        if (code === 'EPIPE') { this.closed = true; return; }
        throw e;
      }
    }
  }
}

export async function dumpCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    kind: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
    json: { type: 'boolean' }, layout: { type: 'string' },
  }, DUMP_USAGE);
  if (positionals.length !== 1) throw new RewindError('USAGE', `expected one file (usage: ${DUMP_USAGE})`);
  const file = positionals[0];
  const layout = values.layout as string | undefined;
  if (layout !== undefined && !(QEMU_REPLAY_LAYOUTS as readonly string[]).includes(layout)) {
    throw new RewindError('USAGE', `--layout must be ${QEMU_REPLAY_LAYOUTS.join(', ')}, not '${layout}'`);
  }
  const from = intOption(values.from, 'from', 0);
  const to = intOption(values.to, 'to', Number.MAX_SAFE_INTEGER);
  if (from > to) throw new RewindError('USAGE', `--from ${from} is after --to ${to}`);
  const keep = kindFilter(values.kind as string | undefined);

  const bytes = readUserFile(file);
  if (isRwtrace(bytes)) return dumpRwtrace(file, { from, to, keep, json: values.json === true });
  if (!isQemuReplayLog(bytes)) {
    const what = bytes.length === 0 ? 'the file is empty (a QEMU recording killed before its first flush is)' : `it starts with ${hexBytes(bytes.subarray(0, 4))}`;
    throw new RewindError('UNKNOWN_TRACE', `${file}: not a QEMU replay log (${what}); dump reads QEMU replay logs and Rewind's .rwtrace recordings`);
  }
  let log: QemuReplayLog;
  try {
    log = decodeQemuReplayLog(bytes, { layout: layout as QemuReplayLayout | undefined });
  } catch (e) {
    if (e instanceof RewindError) throw new RewindError(e.code, `${file}: ${e.message}`);
    throw e;
  }
  const shown = log.events.filter((e) => e.index >= from && e.index <= to && (!keep || keep(e)));

  const out = new Out();
  if (values.json) writeJson(out, file, bytes.length, log, shown);
  else writeText(out, shown, summary(log, shown.length, bytes.length));
  out.flush();

  if (log.problem) {
    const p = log.problem;
    const hint = log.betterLayout ? ` (it decodes with --layout ${log.betterLayout})` : '';
    process.stderr.write(`rewind: ${file}: decoded ${p.events} events (${log.decodedBytes} bytes) then stopped at offset ${p.offset}: ${p.message}${hint}\n`);
    return EXIT_USAGE;
  }
  return 0;
}

function hexBytes(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

function versionText(log: QemuReplayLog): string | null {
  return log.headerMissing ? null : `0x${log.version.toString(16)}`;
}

function writeJson(out: Out, file: string, size: number, log: QemuReplayLog, shown: ReplayEvent[]): void {
  const head = {
    file, format: 'qemu-replay-log', version: versionText(log), layout: log.layout, layoutSource: log.layoutSource,
    headerMissing: log.headerMissing, bytes: size, decodedBytes: log.decodedBytes, instructions: log.instructions,
    totalEvents: log.events.length, ...(log.problem ? { problem: log.problem } : {}),
    ...(log.betterLayout ? { betterLayout: log.betterLayout } : {}),
  };
  // One JSON document, one event per line: still greppable, and never one giant string in memory.
  out.line(JSON.stringify(head).slice(0, -1) + ',"events":[');
  shown.forEach((e, i) => out.line(JSON.stringify(e) + (i + 1 < shown.length ? ',' : '')));
  out.line(']}');
}

export function writeText(out: Out, shown: ReplayEvent[], last: string): void {
  // Loops, not Math.max(...spread): a dump can have more events than a call has arguments.
  let wIndex = 0, wIcount = 0, wName = 0;
  for (const e of shown) {
    wIndex = Math.max(wIndex, String(e.index).length + 1);
    wIcount = Math.max(wIcount, String(e.icount).length);
    wName = Math.max(wName, e.name.length);
  }
  for (const e of shown) {
    const payload = formatData(e);
    out.line(`${`#${e.index}`.padEnd(wIndex)}  ${String(e.icount).padStart(wIcount)}  ${payload ? `${e.name.padEnd(wName)}  ${payload}` : e.name}`);
  }
  out.line(last);
}

function summary(log: QemuReplayLog, shown: number, size: number): string {
  const parts = [shown === log.events.length ? `${log.events.length} events` : `${shown} of ${log.events.length} events shown`];
  parts.push(`${log.instructions} instructions`);
  const release = REPLAY_VERSION_RELEASES[log.version];
  if (log.headerMissing) parts.push(`header missing (QEMU writes it when recording finishes), layout ${log.layout} ${log.layoutSource === 'option' ? 'as asked' : 'assumed'}`);
  else if (log.layoutSource === 'default') parts.push(`version 0x${log.version.toString(16)}, layout ${log.layout} assumed (QEMU 7.1 writes the same version with other ids: --layout 7.1)`);
  else parts.push(`version 0x${log.version.toString(16)} (${release}), layout ${log.layout}`);
  if (log.problem) parts.push(`decoded ${log.decodedBytes} of ${size} bytes, stopped at offset ${log.problem.offset}: ${log.problem.message}`);
  if (log.betterLayout) parts.push(`it decodes with --layout ${log.betterLayout}`);
  return parts.join('; ');
}

/** `key=value` pairs; byte arrays as text when they are text, else hex (shortened). */
function formatData(e: ReplayEvent): string {
  if (!e.data) return '';
  if (e.kind === 'instruction') return `+${e.data.instructions}`;
  return Object.entries(e.data).map(([k, v]) => `${k}=${Array.isArray(v) ? formatBytes(v, k) : v}`).join(' ');
}

const MAX_SHOWN = 32;

function formatBytes(v: number[], key: string): string {
  if (key !== 'bytes') return `[${v.slice(0, MAX_SHOWN).join(',')}${v.length > MAX_SHOWN ? `,…+${v.length - MAX_SHOWN}` : ''}]`;
  const printable = v.length > 0 && v.length <= 4 * MAX_SHOWN && v.every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09);
  if (printable) return JSON.stringify(String.fromCharCode(...v));
  const shownHex = hexBytes(Uint8Array.from(v.slice(0, MAX_SHOWN))).replace(/ /g, '');
  return `${v.length}:${shownHex}${v.length > MAX_SHOWN ? '…' : ''}`;
}
