#!/usr/bin/env node
// `npm start`: runs the bundled hello guest through the CLI, exactly as a user would.
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');
const elf = path.join(root, 'emulator', 'guest', 'bin', 'hello-O2.elf');
console.log(`$ rewind run ${path.relative(root, elf)}`);
const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'run', elf], { stdio: 'inherit' });
process.exit(r.status ?? 1);
