// The record/replay part of `npm run bench`: what recording and replaying cost on top of a plain
// run, how big recordings are, and how fast `rewind dump` reads a large QEMU replay log.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
// The recording target of the record/replay issue: recording costs at most 10 % over a plain run.
const RECORD_TARGET = 1.10;

function wall(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 124) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return { s, stderr: r.stderr };
}

function bestOf(runs, f) {
  let b = Infinity;
  for (let i = 0; i < runs; i++) b = Math.min(b, f());
  return b;
}

/** A QEMU 0xe0200c replay log of n output bytes (INSTRUCTION + CHAR_WRITE pairs), then END. */
function syntheticQemuLog(file, n) {
  const buf = Buffer.alloc(12 + n * 14 + 1);
  buf.writeUInt32BE(0xe0200c, 0);
  let o = 12;
  for (let i = 0; i < n; i++) {
    buf[o++] = 0; buf.writeUInt32BE(100 + (i % 50), o); o += 4;
    buf[o++] = 22; buf.writeUInt32BE(1, o); o += 4; buf.writeUInt32BE(1, o); o += 4;
  }
  buf[o] = 39;
  fs.writeFileSync(file, buf);
  return 2 * n + 1;
}

function benchReplay({ cli, programs, runs, table, fmt }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-bench-rr-'));
  const rows = [];
  const ratios = [];
  try {
    for (const { name, elf, insns } of programs) {
      const trace = path.join(dir, `${name}.rwtrace`);
      const plain = bestOf(runs, () => wall([cli, 'run', elf]).s);
      const rec = bestOf(runs, () => wall([cli, 'record', elf, '-o', trace]).s);
      const rep = bestOf(runs, () => wall([cli, 'replay', trace]).s);
      const bytes = fs.statSync(trace).size;
      ratios.push(rec / plain);
      rows.push([name, fmt(plain, 3), fmt(rec, 3), fmt(rep, 3), fmt(rec / plain, 3), fmt(rep / plain, 3), fmt(bytes / (insns / 1e6), 1)]);
    }
    console.log('\nRecord/replay (wall seconds, best of ' + runs + '; target record ≤ ' + RECORD_TARGET.toFixed(2) + '× plain)');
    console.log(table(['program', 'run s', 'record s', 'replay s', 'record/run', 'replay/run', 'trace bytes/M insns'], rows));
    const worst = Math.max(...ratios);
    console.log(`target: record ≤ ${RECORD_TARGET.toFixed(2)}× plain run on every program: ${worst <= RECORD_TARGET ? 'PASS' : 'BELOW'} (worst ${fmt(worst, 3)}×)`);
    const log = path.join(dir, 'big.replay.bin');
    const events = syntheticQemuLog(log, 500_000);
    const dumpS = bestOf(runs, () => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [cli, 'dump', log], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
      if (r.status !== 0) throw new Error(`dump failed: ${r.stderr}`);
      return Number(process.hrtime.bigint() - t0) / 1e9;
    });
    console.log(`dump throughput: ${fmt(events / dumpS / 1e6, 2)} M events/s (${events.toLocaleString('en-US')}-event QEMU log, text output, ${fmt(dumpS, 2)} s)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { benchReplay };
