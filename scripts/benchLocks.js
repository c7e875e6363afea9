// The lock-tracing part of `npm run bench`, on the device-polling guest (poll-O2: nearly every
// iteration is an MMIO access, each taking the BQL): what the full lock trace costs over a plain
// run, lock operations per second, bytes per operation, and Rewind's recording against QEMU's
// rr=record of the same ELF (without and with QEMU's own `-trace 'qemu_mutex_*'`).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

/** record (full lock trace) / run on the polling guest. */
const RECORD_TARGET = 1.10;
/** Rewind record against QEMU rr=record on the same guest (QEMU's time / Rewind's). */
const VS_QEMU_TARGET = 1.0;

const STATS = /rewind: (\d+) instructions in ([\d.]+) s/;
const RECORDED = /recorded (\d+) events(?: and (\d+) lock operations)?/;

function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', opts.stdout ?? 'ignore', 'pipe'], timeout: 600_000, killSignal: 'SIGKILL' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-400)}`);
  return { wall, stderr: r.stderr };
}

/** Best of `runs` by run-loop time (Rewind's stderr line), with that run's wall time and stderr. */
function bestRewind(runs, args) {
  let best;
  for (let i = 0; i < runs; i++) {
    const r = timed(process.execPath, args);
    const m = STATS.exec(r.stderr);
    if (!m) throw new Error(`no statistics line from ${args.join(' ')}: ${r.stderr.slice(-400)}`);
    const run = { ...r, loop: Number(m[2]), insns: Number(m[1]) };
    if (!best || run.loop < best.loop) best = run;
  }
  return best;
}

function bestWall(runs, f) {
  let best;
  for (let i = 0; i < runs; i++) {
    const r = f();
    if (!best || r.wall < best.wall) best = r;
  }
  return best;
}

function benchLocks({ cli, elf, qemu, qemuStartup, runs, table, fmt }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-bench-locks-'));
  try {
    const full = path.join(dir, 'full.rwtrace');
    const off = path.join(dir, 'off.rwtrace');
    const run = bestRewind(runs, [cli, 'run', elf]);
    const rec = bestRewind(runs, [cli, 'record', elf, '-o', full]);
    const recOff = bestRewind(runs, [cli, 'record', elf, '-o', off, '--lock-trace', 'off']);
    const ops = Number((RECORDED.exec(rec.stderr) || [])[2]);
    const bytesPerOp = (fs.statSync(full).size - fs.statSync(off).size) / ops;

    const base = ['-machine', 'virt', '-bios', 'none', '-display', 'none', '-monitor', 'none', '-serial', 'file:/dev/null', '-net', 'none', '-kernel', elf];
    const qrec = bestWall(runs, () => timed(qemu, [...base, '-icount', `shift=0,sleep=off,rr=record,rrfile=${path.join(dir, 'q.bin')}`]));
    const qlog = path.join(dir, 'q.trace');
    const qtrace = bestWall(runs, () => timed(qemu, [...base, '-icount', `shift=0,sleep=off,rr=record,rrfile=${path.join(dir, 'qt.bin')}`, '-trace', 'qemu_mutex_*', '-D', qlog]));
    const qtext = fs.readFileSync(qlog, 'utf8');
    const qops = (qtext.match(/qemu_mutex_(?:lock|unlock|locked)\b/g) || []).length;
    const net = (w) => Math.max(w - qemuStartup, 1e-6);

    const rows = [
      ['Rewind run', fmt(run.wall, 3), fmt(run.loop, 3), '-', '-', '1.000'],
      ['Rewind record, full lock trace', fmt(rec.wall, 3), fmt(rec.loop, 3), ops.toLocaleString('en-US'), fmt(ops / rec.loop / 1e6, 2), fmt(rec.loop / run.loop, 3)],
      ['Rewind record --lock-trace off', fmt(recOff.wall, 3), fmt(recOff.loop, 3), '-', '-', fmt(recOff.loop / run.loop, 3)],
      ['QEMU rr=record', fmt(qrec.wall, 3), fmt(net(qrec.wall), 3), '-', '-', '-'],
      ["QEMU rr=record -trace 'qemu_mutex_*'", fmt(qtrace.wall, 3), fmt(net(qtrace.wall), 3), qops.toLocaleString('en-US'), fmt(qops / net(qtrace.wall) / 1e6, 2), '-'],
    ];
    console.log(`\nLock tracing on ${path.basename(elf)} (${run.insns.toLocaleString('en-US')} instructions, device polling; best of ${runs})`);
    console.log(table(['', 'wall s', 'run s', 'lock ops', 'M ops/s', '/ Rewind run'], rows));
    console.log(`run s: Rewind's run loop (its stderr line); QEMU: wall minus its start-up (${fmt(qemuStartup * 1000, 1)} ms).`);
    console.log(`bytes per lock operation: ${fmt(bytesPerOp, 2)} (full trace minus --lock-trace off, ${ops.toLocaleString('en-US')} ops); QEMU's text trace: ${fmt(Buffer.byteLength(qtext) / Math.max(qops, 1), 1)}`);
    const ratio = rec.loop / run.loop;
    console.log(`target: record (full lock trace) ≤ ${RECORD_TARGET.toFixed(2)}× run on the polling guest: ${ratio <= RECORD_TARGET ? 'PASS' : 'BELOW'} (${fmt(ratio, 3)}×)`);
    const vs = net(qrec.wall) / rec.loop;
    console.log(`target: Rewind record ≥ ${VS_QEMU_TARGET.toFixed(1)}× QEMU rr=record's speed on the same guest: ${vs >= VS_QEMU_TARGET ? 'PASS' : 'BELOW'} (${fmt(vs, 3)}×; wall ${fmt(qrec.wall / rec.wall, 3)}×)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { benchLocks };
