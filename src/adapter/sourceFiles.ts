import * as fs from 'fs';
import * as path from 'path';
import type { DebugInfo } from '../../emulator/debuginfo/debugInfo';
import { sameSourceFile } from '../../emulator/debuginfo/dwarfLine';

/**
 * The program's source files as the editor knows them. DWARF names them relative to the
 * compilation directory (which GCC's prefix maps make `.`), so each is looked for beside the ELF
 * and in the folders above it, then under the working directory. A file found nowhere keeps its
 * DWARF name and a source reference: the `source` request then shows what is known of it.
 */
export class SourceFiles {
  private readonly byDwarf = new Map<string, string | undefined>();
  private readonly refs: string[] = [];

  constructor(private readonly info: DebugInfo, private readonly roots: string[]) {}

  /** Every file the line table names, as DWARF spells it. */
  dwarfFiles(): string[] {
    return this.info.lines?.files() ?? [];
  }

  /** The absolute path of a DWARF file name, if the file exists. */
  pathOf(dwarfName: string): string | undefined {
    if (this.byDwarf.has(dwarfName)) return this.byDwarf.get(dwarfName);
    let found: string | undefined;
    const rel = dwarfName.replace(/^(\.\/)+/, '');
    const candidates = path.isAbsolute(dwarfName) ? [dwarfName] : this.roots.map((r) => path.resolve(r, rel));
    for (const c of candidates) {
      try {
        if (fs.statSync(c).isFile()) {
          found = c;
          break;
        }
      } catch {
        // not there
      }
    }
    this.byDwarf.set(dwarfName, found);
    return found;
  }

  /** The DWARF name of an editor path (what the line table calls that file), if it has one. */
  dwarfNameOf(editorPath: string): string | undefined {
    const norm = path.resolve(editorPath);
    const files = this.dwarfFiles();
    // An exact match of the resolved path first, then DWARF's own suffix match.
    return files.find((f) => this.pathOf(f) === norm) ?? files.find((f) => sameSourceFile(f, editorPath));
  }

  /** A DAP Source for a DWARF file name. */
  source(dwarfName: string): { name: string; path?: string; sourceReference?: number; presentationHint?: 'deemphasize' } {
    const p = this.pathOf(dwarfName);
    const name = dwarfName.split('/').pop() ?? dwarfName;
    if (p) return { name, path: p };
    let ref = this.refs.indexOf(dwarfName);
    if (ref < 0) ref = this.refs.push(dwarfName) - 1;
    return { name, path: dwarfName, sourceReference: ref + 1, presentationHint: 'deemphasize' };
  }

  /** The DWARF file behind a source reference. */
  byReference(ref: number): string | undefined {
    return this.refs[ref - 1];
  }
}

/** Where to look for sources: beside the ELF and up to three folders above it, then `cwd`. */
export function sourceRoots(elfPath: string, cwd: string): string[] {
  const roots: string[] = [];
  let d = path.dirname(path.resolve(elfPath));
  for (let i = 0; i < 4; i++) {
    roots.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  roots.push(cwd);
  return [...new Set(roots)];
}
