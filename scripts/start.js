#!/usr/bin/env node
// `npm start`: the main job on the bundled example, exactly as a user would type it — run the
// hello guest, record it (with a snapshot and a migration while recording: the source stops in
// postmigrate, as QEMU's), record the migration's destination on from the migrated state, replay
// both with verification, and summarise the source's events and lock operations.
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
const elf = path.relative(process.cwd(), path.join(root, 'emulator', 'guest', 'bin', 'hello-O2.elf'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-start-'));
const trace = path.join(work, 'hello.rwtrace');
const migration = path.join(work, 'hello.migration');
const destination = path.join(work, 'hello-incoming.rwtrace');

function rewind(args, opts = {}) {
  console.log(`\n$ rewind ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  return r.stdout;
}

rewind(['run', elf]);
rewind(['record', elf, '-o', trace, '--snapshot-at', '20000', '--migrate-at', `60000:${migration}`]);
rewind(['record', elf, '-o', destination, '--incoming', migration]);
rewind(['replay', '--verify', trace]);
rewind(['replay', '--verify', destination]);
const dump = JSON.parse(rewind(['dump', '--json', trace], { capture: true }));
const byName = {};
for (const e of dump.events) byName[e.name] = (byName[e.name] || 0) + 1;
console.log(`${dump.totalEvents} events over ${dump.instructions} instructions:`);
for (const [name, n] of Object.entries(byName)) console.log(`  ${name.padEnd(24)} ${n}`);
rewind(['locks', trace]);
fs.rmSync(work, { recursive: true, force: true });
