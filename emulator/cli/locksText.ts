import { Distribution, LockReport, LockSummary } from '../threads/lockStats';

/**
 * The pieces of `rewind locks`' readable report shared by its two sources (QEMU mutex traces and
 * Rewind recordings), so both read alike.
 */

export const pct = (n: number, of: number): string => (of === 0 ? '' : ` (${((100 * n) / of).toFixed(n === 0 || n === of ? 0 : 1)}%)`);

/** A distribution's unit as printed; `steps` for the scheduler's host steps of a recording. */
export type PrintedDistribution = Omit<Distribution, 'unit'> & { unit: Distribution['unit'] | 'steps' };

export const unitName = (d: PrintedDistribution): string => (d.unit === 'us' ? 'µs' : d.unit);
export const fiveNumbers = (d?: PrintedDistribution): string => (d ? `${d.p50} / ${d.p90} / ${d.p99} / ${d.max}` : '-');

export function table(rows: string[][], indent = '  '): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd() + '\n').join('');
}

export function distributionLine(name: string, d: PrintedDistribution): string {
  return `  ${name} ${unitName(d)}: n ${d.count}  min ${d.min}  p50 ${d.p50}  p90 ${d.p90}  p99 ${d.p99}  max ${d.max}  mean ${d.mean.toFixed(1)}  total ${d.total}\n`;
}

/**
 * One lock's details: counts, hold and wait distributions (`extra` adds more, e.g. in host
 * steps), acquisitions by thread (`role` names a thread's role, '' for none), busiest sites, and
 * who holds or waits for it at the end.
 */
export function lockDetails(r: LockReport, l: LockSummary, title: string, role: (t: string) => string, extra: [string, PrintedDistribution | undefined][] = []): string {
  let out = `${title}\n`;
  out += `  ${l.acquisitions} acquisitions, ${l.contended} contended${pct(l.contended, l.acquisitions)}, ${l.waits} waits, ${l.releases} releases`;
  out += l.heldAtStart ? `, ${l.heldAtStart} held since before the trace began\n` : '\n';
  for (const [name, d] of [['hold', l.hold], ['wait', l.wait], ...extra] as const) if (d) out += distributionLine(name, d);
  const threads = Object.entries(l.threads).sort((x, y) => y[1].acquisitions - x[1].acquisitions)
    .map(([t, c]) => `${t}${role(t) ? ` ${role(t)}` : ''} ${c.acquisitions}${c.contended ? ` (${c.contended} contended)` : ''}`);
  out += `  by thread: ${threads.join(' · ')}\n`;
  const sites = Object.entries(l.sites).sort((x, y) => y[1].acquired + y[1].wait + y[1].released - x[1].acquired - x[1].wait - x[1].released);
  const fmt = ([site, c]: [string, { wait: number; acquired: number; released: number }]) =>
    `${site} ${[c.wait && `${c.wait}w`, c.acquired && `${c.acquired}a`, c.released && `${c.released}r`].filter(Boolean).join('/')}`;
  out += `  sites (w wait, a acquired, r released): ${sites.slice(0, 6).map(fmt).join(' · ')}${sites.length > 6 ? ` · ${sites.length - 6} more` : ''}\n`;
  for (const h of r.heldAtEnd.filter((x) => x.lock === l.lock)) out += `  held at the end by ${h.thread} (taken at ${h.site}, op #${h.index})\n`;
  for (const h of r.waitingAtEnd.filter((x) => x.lock === l.lock)) out += `  waited for at the end by ${h.thread} (since ${h.site}, op #${h.index})\n`;
  return out;
}

/** The violations section; `checked` lists the rules, for the "none" line. */
export function violationsText(r: LockReport, checked = 'replay mutex under the BQL, relock, release without holding'): string {
  const total = Object.values(r.violationCounts).reduce((x, y) => x + y, 0);
  if (!r.threadsKnown) return 'violations: not checked (no thread ids)\n';
  if (total === 0) return `violations: no violations (${checked})\n`;
  const counts = Object.entries(r.violationCounts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
  let out = `violations: ${total} (${counts})\n`;
  for (const v of r.violations) out += `  ${v.kind}: ${v.message}\n`;
  if (r.violationsDropped > 0) out += `  ... and ${r.violationsDropped} more (only the first ${r.violations.length} are kept)\n`;
  return out;
}
