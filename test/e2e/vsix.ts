import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

/** Builds the .vsix as `npm run package` does (the same script), into `dir`. */
export function buildVsix(dir: string): string {
  const out = path.join(dir, 'rewind.vsix');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'package.js')], { cwd: ROOT, env: { ...process.env, REWIND_VSIX_OUT: out }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run package failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return out;
}
