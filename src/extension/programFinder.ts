import * as fs from 'fs';
import * as path from 'path';

/**
 * Finds what F5 should debug for a file in the editor: an ELF records it, a `.rwtrace` replays
 * it, and a C or assembly source records the ELF built from it. Plain `fs` and no `vscode`, so
 * the rules are tested on their own.
 */

export type Target = { mode: 'record'; program: string } | { mode: 'replay'; trace: string };

export type FindResult = { target: Target } | { error: string };

const SOURCE_EXT = /\.(c|h|s|S|cc|cpp|cxx|hpp|inc)$/;
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
/** How far up from the source's folder the bin/ and build/ folders and Makefiles are looked for. */
const LEVELS = 3;

export function isElf(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const b = Buffer.alloc(4);
    return fs.readSync(fd, b, 0, 4, 0) === 4 && ELF_MAGIC.every((m, i) => b[i] === m);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

export function isTrace(file: string): boolean {
  return /\.rwtrace$/i.test(file);
}

export function isSource(file: string): boolean {
  return SOURCE_EXT.test(file);
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** ELF files named by a Makefile: literal targets (`bin/prog.elf:`, `prog:`) and `-o` outputs. */
export function makefileTargets(makefile: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(makefile, 'utf8');
  } catch {
    return [];
  }
  const dir = path.dirname(makefile);
  const out = new Set<string>();
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    if (/^\s*#/.test(line) || line.includes('$(') || line.includes('${')) continue;
    const rule = /^([^\s:=#][^:=#]*?)\s*::?(?!=)/.exec(line);
    if (rule) for (const t of rule[1].split(/\s+/)) if (t && !t.startsWith('.') && !t.includes('%')) out.add(path.resolve(dir, t));
    for (const m of line.matchAll(/-o\s+(\S+)/g)) out.add(path.resolve(dir, m[1]));
  }
  return [...out];
}

/** Does the ELF's debug information name this source file (its base name appears in it)? */
function mentions(elf: string, baseName: string): boolean {
  try {
    return fs.readFileSync(elf).includes(Buffer.from(baseName));
  } catch {
    return false;
  }
}

/**
 * Ranks candidate ELFs for a source `stem`: the exact name first, then a debug build (`-O0`,
 * `-Og`, `debug`) over an optimised one, then the nearest folder, then the newest.
 */
function rank(stem: string, file: string, level: number): number[] {
  const name = path.basename(file).replace(/\.elf$/i, '');
  const exact = name === stem ? 0 : 1;
  const debug = /(^|[-_.])(o0|og|debug|dbg)($|[-_.])/i.test(name.slice(stem.length)) ? 0 : 1;
  let mtime = 0;
  try {
    mtime = fs.statSync(file).mtimeMs;
  } catch {
    // ranked last
  }
  return [exact, debug, level, -mtime];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** The folders an ELF built from a source in `dir` is looked for in, nearest first. */
export function searchFolders(dir: string, stopAt?: string): string[] {
  const folders: string[] = [];
  let d = dir;
  for (let level = 0; level <= LEVELS; level++) {
    folders.push(d, path.join(d, 'bin'), path.join(d, 'build'));
    if (stopAt && path.resolve(d) === path.resolve(stopAt)) break;
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  return folders;
}

/**
 * The ELF built from `source`: beside it, in a `bin/` or `build/` folder next to it or above it
 * (up to `root`), or named by a Makefile target there; its name starts with the source's stem
 * (`bugdemo.c` → `bugdemo.elf`, `bugdemo-O0.elf`, `bin/bugdemo`) and, when several do, those
 * whose debug information names the source win.
 */
export function findElfForSource(source: string, root?: string): FindResult {
  const stem = path.basename(source).replace(/\.[^.]+$/, '');
  const folders = searchFolders(path.dirname(source), root);
  // Each candidate with how many folders up from the source it was found.
  const candidates = new Map<string, number>();
  const add = (f: string, level: number) => {
    if (!candidates.has(f)) candidates.set(f, level);
  };
  const named = (f: string) => {
    const n = path.basename(f);
    return n === stem || n.toLowerCase() === `${stem.toLowerCase()}.elf` || (n.startsWith(stem) && /^[-_.]/.test(n.slice(stem.length)) && !isSource(n));
  };
  folders.forEach((folder, i) => {
    const level = Math.floor(i / 3);
    for (const f of listDir(folder)) if (named(f) && isFile(f) && isElf(f)) add(f, level);
    for (const mk of ['Makefile', 'makefile', 'GNUmakefile']) {
      const mf = path.join(folder, mk);
      if (isFile(mf)) for (const t of makefileTargets(mf)) if (named(t) && isFile(t) && isElf(t)) add(t, level);
    }
  });
  const all = [...candidates.keys()];
  const naming = all.filter((f) => mentions(f, path.basename(source)));
  const pool = naming.length ? naming : all;
  const ranked = pool.map((f) => ({ f, r: rank(stem, f, candidates.get(f)!) })).sort((a, b) => compare(a.r, b.r));
  if (ranked.length) return { target: { mode: 'record', program: ranked[0].f } };
  const shown = [...new Set(folders.map((f) => path.relative(path.dirname(source), f) || '.'))].join(', ');
  return {
    error: `Rewind found no ELF built from ${path.basename(source)}: it looked for ${stem}, ${stem}.elf or ${stem}-*.elf ` +
      `in ${shown} (relative to the source) and for Makefile targets of those names. Build it, or open the ELF and press F5.`,
  };
}

/** What F5 on `file` debugs, or why nothing. */
export function targetForFile(file: string, root?: string): FindResult {
  if (isTrace(file)) return { target: { mode: 'replay', trace: file } };
  if (isElf(file)) return { target: { mode: 'record', program: file } };
  if (isSource(file)) return findElfForSource(file, root);
  return { error: `Rewind debugs a RISC-V ELF, a .rwtrace recording, or a C or assembly source built into an ELF; ${path.basename(file)} is none of these.` };
}
