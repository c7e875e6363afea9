/**
 * Test support: QEMU 10.0, unpacked from Debian's bookworm-backports beside 7.2 by
 * scripts/qemuBackports.js (run by `npm test`'s pretest and .ci/run). Missing, it is an error
 * that says how to get it, never a skipped test.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { QemuUnderTest } from './qemuLockParity';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const backports = require('../../scripts/qemuBackports') as { qemu10(): { bin: string; env: NodeJS.ProcessEnv }; commands(): string[] };

export function qemu10(): QemuUnderTest {
  const { bin, env } = backports.qemu10();
  if (!fs.existsSync(bin)) throw new Error(`QEMU 10.0 is not unpacked at ${bin}; run as root: node scripts/qemuBackports.js (or: ${backports.commands().join(' ; ')})`);
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8', env });
  const m = /QEMU emulator version (\d+\.\d+)\.\d+/.exec(v.stdout ?? '');
  if (!m || m[1] !== '10.0') throw new Error(`${bin} is not QEMU 10.0: ${(v.stdout || v.stderr || String(v.error)).split('\n')[0]}`);
  return { bin, env, version: '10.0' };
}
