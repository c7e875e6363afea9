// QEMU 10.0 beside Debian 12's QEMU 7.2: the tests compare Rewind's --qemu 10.0 behaviour with the
// real thing. Debian ships it in bookworm-backports; installing it would replace 7.2, so its
// packages are downloaded with apt-get and unpacked (dpkg-deb -x) into a cache folder instead.
// `node scripts/qemuBackports.js` makes sure it is there (as root it fetches it; otherwise it
// prints the commands); `qemu10()` is where the tests find it.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const SUITE = 'bookworm-backports';
const SOURCE = `deb http://deb.debian.org/debian ${SUITE} main`;
const LIST = '/etc/apt/sources.list.d/rewind-bookworm-backports.list';
/** The system emulator, and the modules it loads at start-up (a module of another build aborts it). */
const PACKAGES = ['qemu-system-riscv', 'qemu-system-common', 'qemu-system-data', 'qemu-system-gui', 'qemu-system-modules-opengl', 'qemu-system-modules-spice'];

function dir() {
  if (process.env.REWIND_QEMU10_DIR) return process.env.REWIND_QEMU10_DIR;
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'rewind', 'qemu-10.0');
}

/** The unpacked QEMU 10.0: its binary and the environment it needs (its own modules). */
function qemu10() {
  const root = dir();
  return {
    bin: path.join(root, 'usr', 'bin', 'qemu-system-riscv32'),
    env: { ...process.env, QEMU_MODULE_DIR: path.join(root, 'usr', 'lib', 'x86_64-linux-gnu', 'qemu') },
  };
}

function installed() {
  return fs.existsSync(qemu10().bin);
}

function commands() {
  const root = dir();
  return [
    `echo '${SOURCE}' > ${LIST} && apt-get update`,
    `cd "$(mktemp -d)" && apt-get download ${PACKAGES.map((p) => `${p}/${SUITE}`).join(' ')} && for f in *.deb; do dpkg-deb -x "$f" ${root}; done`,
  ];
}

function hasBackports() {
  const files = ['/etc/apt/sources.list', ...(fs.existsSync('/etc/apt/sources.list.d') ? fs.readdirSync('/etc/apt/sources.list.d').map((f) => path.join('/etc/apt/sources.list.d', f)) : [])];
  return files.some((f) => {
    try {
      return fs.readFileSync(f, 'utf8').split('\n').some((l) => !l.trim().startsWith('#') && l.includes(SUITE));
    } catch {
      return false;
    }
  });
}

function fetch() {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!hasBackports()) fs.writeFileSync(LIST, `${SOURCE}\n`);
  execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-qemu10-'));
  const root = dir();
  const tmp = `${root}.partial`;
  try {
    // _apt cannot write into a private temporary folder; the download itself is the same.
    fs.chmodSync(work, 0o777);
    execFileSync('apt-get', ['download', '-q', ...PACKAGES.map((p) => `${p}/${SUITE}`)], { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], env });
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    for (const f of fs.readdirSync(work).filter((x) => x.endsWith('.deb'))) execFileSync('dpkg-deb', ['-x', path.join(work, f), tmp]);
    fs.rmSync(root, { recursive: true, force: true });
    fs.renameSync(tmp, root);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Fetches QEMU 10.0 as root when missing; otherwise says how. Returns false when it is not there. */
function ensure() {
  if (installed()) return true;
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    console.error(`rewind: fetching QEMU 10.0 from Debian ${SUITE} into ${dir()} (unpacked beside Debian 12's QEMU 7.2)`);
    try {
      fetch();
    } catch (e) {
      console.error(`rewind: fetching QEMU 10.0 failed (${String(e.message).split('\n')[0]}); do it by hand:\n  ${commands().join('\n  ')}`);
      return false;
    }
    return installed();
  }
  console.error(`rewind: the tests need QEMU 10.0 from Debian ${SUITE}, unpacked into ${dir()}. Run as root:\n  ${commands().join('\n  ')}`);
  return false;
}

module.exports = { qemu10, ensure, commands };

if (require.main === module) process.exit(ensure() ? 0 : 1);
