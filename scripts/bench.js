#!/usr/bin/env node
// Benchmarks Rewind (dist/cli.js) against QEMU 7.2 (`-icount shift=0,sleep=off`) on the benchmark
// guests at -O2. Run by `npm run bench` after the build.
//
// Per program: the instruction count (QEMU's exact count from an rr=record log must equal
// Rewind's; a mismatch is printed loudly and makes the exit code 1), Rewind's MIPS as its stderr
// line reports it (run loop only, no process start-up) and as wall-clock MIPS, QEMU's wall-clock
// MIPS and the same with QEMU's start-up (measured once on the hello guest) subtracted, and
// Rewind/QEMU ratios. Each time is the best of RUNS runs. When the CLI has --no-jit, the
// pure interpreter is measured as well; the 150 MIPS target line reports both engines.
//
//   node scripts/bench.js [--runs N] [PROGRAM...]
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
// The QEMU and Rewind runners and the replay-log decoder are the tests' (TypeScript) helpers.
require(path.join(ROOT, 'node_modules', 'ts-node')).register({ transpileOnly: true, project: path.join(ROOT, 'tsconfig.json') });
const { runQemu, qemuRecord, QEMU } = require(path.join(ROOT, 'test', 'support', 'qemu.ts'));
const { runRewind, REWIND_CLI } = require(path.join(ROOT, 'test', 'support', 'rewindCli.ts'));
const { benchReplay } = require('./benchReplay');
const { benchLocks } = require('./benchLocks');
const { benchAdapter } = require('./benchAdapter');
const { benchVscode } = require('./benchVscode');

const GUEST_DIR = path.join(ROOT, 'emulator', 'guest');
const BENCH_NAMES = ['crc32', 'sieve', 'matmul', 'qsort', 'strsearch'];
const TARGET_MIPS = 150;

function parseArgs(argv) {
  let runs = 3;
  const names = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = Number(argv[++i]);
    else if (argv[i].startsWith('--runs=')) runs = Number(argv[i].slice(7));
    else names.push(argv[i]);
  }
  if (!Number.isInteger(runs) || runs < 1) { console.error('bench: --runs needs a positive integer'); process.exit(2); }
  return { runs, names };
}

function benchmarkPrograms(only) {
  const file = path.join(GUEST_DIR, 'guests.json');
  let list;
  if (fs.existsSync(file)) {
    const guests = JSON.parse(fs.readFileSync(file, 'utf8'));
    const anyBench = guests.some((g) => g.bench !== undefined);
    list = guests.filter((g) => (anyBench ? g.bench === true : BENCH_NAMES.includes(g.name)));
  } else {
    list = BENCH_NAMES.map((name) => ({ name, input: null, harts: 1 }));
  }
  if (only.length) list = list.filter((g) => only.includes(g.name));
  if (!list.length) { console.error('bench: no benchmark programs found'); process.exit(2); }
  return list;
}

function best(runs, fn, better) {
  let b;
  for (let i = 0; i < runs; i++) {
    const r = fn();
    if (b === undefined || better(r, b)) b = r;
  }
  return b;
}

/** `runs` Rewind runs: the one with the fastest run loop, plus the best whole-process wall time. */
function benchRewind(elf, g, runs, extraArgs) {
  const inputFile = g.input ? path.join(GUEST_DIR, g.input) : undefined;
  let bestRun;
  let bestWall = Infinity;
  for (let i = 0; i < runs; i++) {
    const r = runRewind(elf, { inputFile, harts: g.harts || 1, extraArgs, timeoutMs: 600_000 });
    if (r.exitCode !== 0 || r.instructions === undefined) {
      throw new Error(`Rewind failed on ${path.basename(elf)} (exit ${r.exitCode}): ${r.command}\n${r.stderr}`);
    }
    if (bestRun === undefined || r.runSeconds < bestRun.runSeconds) bestRun = r;
    bestWall = Math.min(bestWall, r.seconds);
  }
  return { ...bestRun, bestWall };
}

function fmt(n, digits = 1) {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function table(header, rows) {
  const cols = header.length;
  const width = Array.from({ length: cols }, (_, c) => Math.max(...[header, ...rows].map((r) => String(r[c]).length)));
  const line = (r) => r.map((v, c) => (c === 0 ? String(v).padEnd(width[c]) : String(v).padStart(width[c]))).join('  ');
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main() {
  const { runs, names } = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(REWIND_CLI)) { console.error(`bench: ${REWIND_CLI} is missing; run npm run build`); process.exit(2); }
  const help = spawnSync(process.execPath, [REWIND_CLI, '--help'], { encoding: 'utf8' }).stdout || '';
  const hasNoJit = help.includes('--no-jit');
  const programs = benchmarkPrograms(names);

  // QEMU's start-up (process, machine, ELF load, teardown): hello runs ~0.24 M instructions,
  // well under a millisecond of guest time, so its wall time is start-up.
  const helloElf = path.join(GUEST_DIR, 'bin', 'hello-O2.elf');
  const qemuStartup = best(Math.max(runs, 3), () => runQemu(helloElf, { icount: true }), (a, b) => a.seconds < b.seconds).seconds;

  const results = [];
  const mismatches = [];
  for (const g of programs) {
    const elf = path.join(GUEST_DIR, 'bin', `${g.name}-O2.elf`);
    const input = g.input ? fs.readFileSync(path.join(GUEST_DIR, g.input)) : undefined;
    process.stderr.write(`bench: ${g.name}-O2 ...`);
    const rec = qemuRecord(elf, { input, harts: g.harts || 1, timeoutMs: 600_000 });
    const qemu = best(runs, () => runQemu(elf, { input, harts: g.harts || 1, icount: true, timeoutMs: 600_000 }), (a, b) => a.seconds < b.seconds);
    const rw = benchRewind(elf, g, runs, []);
    const interp = hasNoJit ? benchRewind(elf, g, runs, ['--no-jit']) : undefined;
    process.stderr.write(' done\n');

    const insns = rec.instructions;
    for (const [who, r] of [['Rewind', rw], ['Rewind --no-jit', interp]]) {
      if (r && r.instructions !== insns) mismatches.push(`${g.name}-O2: ${who} executed ${r.instructions} instructions, QEMU ${insns} (difference ${r.instructions - insns})`);
      if (r && !r.stdout.equals(qemu.stdout)) mismatches.push(`${g.name}-O2: ${who}'s output differs from QEMU's`);
    }
    if (qemu.exitCode !== 0) mismatches.push(`${g.name}-O2: QEMU exited ${qemu.exitCode}`);
    results.push({
      name: `${g.name}-O2`, insns,
      rwRun: rw.runSeconds, rwWall: rw.bestWall, interpRun: interp && interp.runSeconds,
      qemuWall: qemu.seconds,
    });
  }

  const total = results.reduce((t, r) => ({
    name: 'total', insns: t.insns + r.insns, rwRun: t.rwRun + r.rwRun, rwWall: t.rwWall + r.rwWall,
    interpRun: hasNoJit ? t.interpRun + r.interpRun : undefined, qemuWall: t.qemuWall + r.qemuWall,
  }), { name: 'total', insns: 0, rwRun: 0, rwWall: 0, interpRun: 0, qemuWall: 0 });

  const header = ['program', 'instructions', 'Rewind MIPS', 'Rewind wall MIPS'];
  if (hasNoJit) header.push('interp MIPS');
  header.push('QEMU wall MIPS', 'QEMU MIPS -startup', 'Rewind/QEMU', 'wall Rewind/QEMU');
  const rows = [...results, total].map((r, i, all) => {
    const n = i === all.length - 1 ? results.length : 1;   // the total subtracts start-up once per program
    const mips = r.insns / r.rwRun / 1e6;
    const qNet = r.insns / Math.max(r.qemuWall - n * qemuStartup, 1e-6) / 1e6;
    const row = [r.name, r.insns.toLocaleString('en-US'), fmt(mips), fmt(r.insns / r.rwWall / 1e6)];
    if (hasNoJit) row.push(fmt(r.insns / r.interpRun / 1e6));
    row.push(fmt(r.insns / r.qemuWall / 1e6), fmt(qNet), fmt(mips / qNet, 3), fmt(r.qemuWall / r.rwWall, 3));
    return row;
  });

  console.log(`Rewind (${path.relative(ROOT, REWIND_CLI)}) vs QEMU 7.2 -icount shift=0,sleep=off; best of ${runs} runs each; benchmark guests at -O2`);
  console.log(table(header, rows));
  console.log('');
  console.log(`Rewind MIPS: instructions / run time from Rewind's stderr line (no process start-up)${hasNoJit ? '; interp: the same with --no-jit' : ''}.`);
  console.log(`QEMU start-up (hello-O2, best of ${Math.max(runs, 3)}): ${(qemuStartup * 1000).toFixed(1)} ms, subtracted in "QEMU MIPS -startup".`);
  console.log('Rewind/QEMU: Rewind MIPS / QEMU MIPS -startup; wall Rewind/QEMU: the same for whole-process wall times.');
  const interpTotal = hasNoJit ? total.insns / total.interpRun / 1e6 : total.insns / total.rwRun / 1e6;
  const defaultTotal = total.insns / total.rwRun / 1e6;
  const verdict = (m) => `${m >= TARGET_MIPS ? 'PASS' : 'BELOW'} (${m.toFixed(1)} MIPS)`;
  console.log(`target: ≥ ${TARGET_MIPS} MIPS on the benchmark set: default engine (interpreter + trace compiler) ${verdict(defaultTotal)}`);
  if (hasNoJit) console.log(`        pure interpreter (--no-jit) ${verdict(interpTotal)}`);

  benchReplay({
    cli: REWIND_CLI, runs, table, fmt,
    programs: results.map((r) => ({ name: r.name, elf: path.join(GUEST_DIR, 'bin', `${r.name}.elf`), insns: r.insns })),
  });

  benchLocks({ cli: REWIND_CLI, elf: path.join(GUEST_DIR, 'bin', 'poll-O2.elf'), qemu: QEMU, qemuStartup, runs, table, fmt });

  // Time travel runs in-process (the engine has no CLI of its own yet), through ts-node.
  const tt = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, '..', 'emulator', 'timetravel', 'benchTimeTravel.ts'), GUEST_DIR], { stdio: 'inherit' });
  if (tt.status !== 0) process.exitCode = 1;

  await benchAdapter({ table, fmt }).catch((e) => {
    console.log(`bench: the debug adapter part failed: ${e && e.stack ? e.stack : e}`);
    process.exitCode = 1;
  });

  await benchVscode({ table, fmt }).catch((e) => {
    console.log(`bench: the VS Code part failed: ${e && e.message ? e.message : e}`);
    process.exitCode = 1;
  });

  if (mismatches.length) {
    const bar = '!'.repeat(78);
    console.log(`\n${bar}\nMISMATCH between Rewind and QEMU:\n  ${mismatches.join('\n  ')}\n${bar}`);
    process.exitCode = 1;
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
