/**
 * Source breakpoints land where gdb's `break FILE:LINE` lands, on every line of every guest:
 * the same set of locations, the same line reported, lines without code moved the same way,
 * prologues skipped the same way.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDebugInfo } from '../../../emulator/debuginfo/debugInfo';
import { parseElf } from '../../../emulator/debuginfo/elf';
import type { ScopeNode } from '../../../emulator/debuginfo/dwarfScopes';
import { functionLocations, lineLocations } from '../../../emulator/debugger/lineLocations';
import { gdbPrologues } from '../../../emulator/debugger/prologue';
import { gdbBreakLocations } from '../../support/gdbBreak';
import { guestElfs } from '../../support/riscvTools';

const hex = (n: number) => `0x${n.toString(16)}`;

describe('source breakpoint locations against gdb', function () {
  this.timeout(300_000);
  for (const elf of guestElfs()) {
    it(`${path.basename(elf)}: every line of every C file`, () => {
      const di = loadDebugInfo(parseElf(new Uint8Array(fs.readFileSync(elf))));
      const prologue = gdbPrologues(di);
      const files = (di.lines?.files() ?? []).filter((f) => f.endsWith('.c')).map((f) => f.replace(/^\.\//, ''));
      const queries = files.flatMap((file) => Array.from({ length: 200 }, (_, i) => ({ file, line: i + 1 })));
      const gdb = gdbBreakLocations(elf, queries.map((q) => `${q.file}:${q.line}`));
      const wrong: string[] = [];
      let placed = 0;
      queries.forEach((q, i) => {
        const want = gdb[i].map((l) => `${hex(l.addr)}:${l.line}`).join(' ');
        const got = lineLocations(di, prologue, q.file, q.line).locations.map((l) => `${hex(l.address)}:${l.line}`).join(' ');
        if (want) placed++;
        if (want !== got) wrong.push(`${q.file}:${q.line}: gdb [${want}] rewind [${got}]`);
      });
      assert.ok(placed > 20, `gdb placed only ${placed} breakpoints`);
      assert.deepEqual(wrong, [], `${wrong.length} of ${queries.length} lines differ`);
    });
  }
});

describe('function breakpoint locations against gdb', function () {
  this.timeout(300_000);
  for (const elf of guestElfs()) {
    it(`${path.basename(elf)}: every function, out-of-line and inlined copies`, () => {
      const di = loadDebugInfo(parseElf(new Uint8Array(fs.readFileSync(elf))));
      const prologue = gdbPrologues(di);
      const names = new Set(di.elf.symbols.filter((s) => s.type === 2 && s.name && !s.name.includes('.')).map((s) => s.name));
      const walk = (nodes: ScopeNode[]) => nodes.forEach((n) => { if (n.kind === 'inline' && n.name) names.add(n.name); walk(n.children); });
      for (const u of di.source.program?.allUnits() ?? []) walk(di.source.program!.scopes(u));
      const list = [...names].sort();
      const gdb = gdbBreakLocations(elf, list);
      const wrong: string[] = [];
      let inlined = 0;
      list.forEach((name, i) => {
        // gdb names no source line for assembly without line info; those are not compared.
        if (!gdb[i].length && di.addressOf(name) !== undefined && !di.sourceLineAt(di.addressOf(name)!)) return;
        const want = gdb[i].map((l) => hex(l.addr)).join(' ');
        const got = functionLocations(di, prologue, name).map((l) => hex(l.address)).join(' ');
        if (gdb[i].length > 1 || di.addressOf(name) === undefined) inlined++;
        if (want !== got) wrong.push(`${name}: gdb [${want}] rewind [${got}]`);
      });
      assert.deepEqual(wrong, [], `${wrong.length} of ${list.length} functions differ`);
      if (elf.includes('-O2')) assert.ok(inlined > 0, 'an -O2 guest has inlined functions');
    });
  }
});
