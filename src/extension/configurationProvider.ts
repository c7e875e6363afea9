import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { activeFileUri, DEBUG_TYPE, NOTHING_TO_DEBUG } from './activeSession';
import { isSource, isTrace, Target, targetForFile } from './programFinder';

/** A launch configuration for a target (what F5 on a file starts). */
export function configFor(target: Target, folder?: vscode.WorkspaceFolder): vscode.DebugConfiguration {
  const rel = (p: string) => (folder ? path.relative(folder.uri.fsPath, p) : path.basename(p));
  const name = target.mode === 'record' ? `Record ${rel(target.program)}` : `Replay ${rel(target.trace)}`;
  return { type: DEBUG_TYPE, request: 'launch', name, ...targetFields(target) };
}

/**
 * F5 with no launch.json (or a configuration without a program) debugs the file in the editor;
 * a `program` that names a source or a trace (say `${file}`) is turned into the ELF or a replay.
 * When nothing fits, the user is told what was looked for and nothing starts.
 */
export class RewindConfigurationProvider implements vscode.DebugConfigurationProvider {
  resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    const empty = !config.type && !config.request && !config.name;
    if (!empty && (config.program || config.trace)) return config;
    const file = activeFileUri()?.fsPath;
    if (!file) {
      void vscode.window.showErrorMessage(NOTHING_TO_DEBUG);
      return undefined;
    }
    const found = targetForFile(file, folder?.uri.fsPath ?? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))?.uri.fsPath);
    if ('error' in found) {
      void vscode.window.showErrorMessage(found.error);
      return undefined;
    }
    return { ...configFor(found.target, folder), ...(empty ? {} : config), ...targetFields(found.target) };
  }

  resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): vscode.DebugConfiguration | undefined {
    const base = folder?.uri.fsPath;
    const abs = (p: string) => (path.isAbsolute(p) || !base ? p : path.resolve(base, p));
    const c = { ...config };
    if (typeof c.program === 'string' && c.mode !== 'replay') {
      const program = abs(c.program);
      if (isTrace(program)) {
        delete c.program;
        Object.assign(c, { mode: 'replay', trace: program });
      } else if (isSource(program) && fs.existsSync(program)) {
        const found = targetForFile(program, base);
        if ('error' in found) {
          void vscode.window.showErrorMessage(found.error);
          return undefined;
        }
        Object.assign(c, targetFields(found.target));
      }
    }
    // Say which file is missing before a session starts, rather than in a failed launch.
    for (const [key, what] of [['program', 'program'], ['trace', 'recording']] as const) {
      if (typeof c[key] !== 'string' || (key === 'trace' && c.mode !== 'replay')) continue;
      const p = abs(c[key]);
      if (!fs.existsSync(p)) {
        void vscode.window.showErrorMessage(`Rewind: the ${what} ${p} does not exist.`);
        return undefined;
      }
    }
    return c;
  }
}

function targetFields(t: Target): Record<string, string> {
  return t.mode === 'record' ? { mode: 'record', program: t.program } : { mode: 'replay', trace: t.trace };
}

/** The Run and Debug view's list: every ELF and recording in the workspace. */
export class RewindDynamicConfigurations implements vscode.DebugConfigurationProvider {
  async provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined, token?: vscode.CancellationToken): Promise<vscode.DebugConfiguration[]> {
    const pattern = folder ? new vscode.RelativePattern(folder, '**/*.{elf,rwtrace}') : '**/*.{elf,rwtrace}';
    const files = await vscode.workspace.findFiles(pattern, '**/node_modules/**', 500, token);
    return files
      .map((f) => f.fsPath)
      .sort()
      .map((f) => configFor(isTrace(f) ? { mode: 'replay', trace: f } : { mode: 'record', program: f }, folder));
  }
}
