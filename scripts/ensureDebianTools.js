#!/usr/bin/env node
// Runs before `npm test`: the tests check Rewind against real QEMU and Debian's RISC-V
// toolchain, so those must be present. As root it installs what is missing; otherwise it
// stops at once with the exact apt-get line to run.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const tools = require('./debianTools');

function onPath(bin) {
  return (process.env.PATH || '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, bin)));
}

const backports = require('./qemuBackports');

const missing = tools.filter((t) => (t.bin ? !onPath(t.bin) : !fs.existsSync(t.file))).map((t) => t.pkg);
// QEMU 10.0 (bookworm-backports, unpacked beside 7.2) once the Debian packages are there.
if (missing.length === 0) process.exit(backports.ensure() ? 0 : 1);

const line = `apt-get install -y ${missing.join(' ')}`;
if (typeof process.getuid === 'function' && process.getuid() === 0) {
  console.error(`rewind: installing missing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-q', ...missing], { stdio: 'inherit', env });
  } catch {
    console.error(`rewind: apt-get failed; install them by hand: ${line}`);
    process.exit(1);
  }
  process.exit(backports.ensure() ? 0 : 1);
}
console.error(`rewind: the tests need Debian packages that are missing. Run as root:\n  ${line}`);
process.exit(1);
