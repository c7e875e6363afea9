/**
 * Test support: where gdb-multiarch puts `break FILE:LINE` in an ELF (no target needed), every
 * location of every query, read from `info breakpoints`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface GdbLocation {
  addr: number;
  line: number;
}

/** For each query (`file:line`), gdb's locations sorted by address; [] where gdb set none. */
export function gdbBreakLocations(elf: string, queries: string[]): GdbLocation[][] {
  // A missing tool fails the test with the line that installs it (npm test's pretest installs it as root).
  assert.equal(spawnSync('gdb-multiarch', ['--version']).status, 0, 'gdb-multiarch is missing: apt-get install -y gdb-multiarch');
  const script = path.join(os.tmpdir(), `rewind-gdb-${process.pid}.cmd`);
  // A line past the end of a file creates no breakpoint, so the echoed markers, not gdb's
  // numbering, say which query a breakpoint answers.
  fs.writeFileSync(script, queries.map((q, i) => `echo @${i}\\n\nbreak ${q}`).join('\n') + '\ninfo breakpoints\n');
  const out = spawnSync('gdb-multiarch', ['-batch', '-nx', elf, '-x', script], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;
  fs.rmSync(script, { force: true });
  const queryOf = new Map<number, number>();
  let current = -1;
  for (const l of out.split('\n')) {
    const marker = /^@(\d+)$/.exec(l);
    if (marker) current = Number(marker[1]);
    const bp = /^Breakpoint (\d+) at /.exec(l);
    if (bp) queryOf.set(Number(bp[1]), current);
  }
  const result: GdbLocation[][] = queries.map(() => []);
  for (const m of out.matchAll(/^(\d+)(?:\.\d+)?\s+(?:breakpoint\s+keep\s+)?y\s+0x([0-9a-f]+) in \S+ at \S+:(\d+)$/gm)) {
    const q = queryOf.get(Number(m[1]));
    if (q !== undefined) result[q].push({ addr: parseInt(m[2], 16), line: Number(m[3]) });
  }
  for (const r of result) r.sort((a, b) => a.addr - b.addr);
  return result;
}
