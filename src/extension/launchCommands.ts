import * as vscode from 'vscode';
import { activeFileUri, NOTHING_TO_DEBUG } from './activeSession';
import { configFor } from './configurationProvider';
import { Target, targetForFile } from './programFinder';

async function start(target: Target): Promise<void> {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(target.mode === 'record' ? target.program : target.trace));
  await vscode.debug.startDebugging(folder, configFor(target, folder));
}

async function pick(title: string, filters: Record<string, string[]>): Promise<vscode.Uri | undefined> {
  const r = await vscode.window.showOpenDialog({ title, filters, canSelectMany: false, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri });
  return r?.[0];
}

/** Record Program…, Replay Trace…, and Debug with Rewind on the file in the editor or explorer. */
export function registerLaunchCommands(): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('rewind.recordProgram', async (uri?: vscode.Uri) => {
      const file = uri ?? (await pick('Rewind: the RISC-V ELF to record', { 'RISC-V programs': ['elf'], 'All files': ['*'] }));
      if (file) await start({ mode: 'record', program: file.fsPath });
    }),
    vscode.commands.registerCommand('rewind.replayTrace', async (uri?: vscode.Uri) => {
      const file = uri ?? (await pick('Rewind: the recording to replay', { 'Rewind recordings': ['rwtrace'] }));
      if (file) await start({ mode: 'replay', trace: file.fsPath });
    }),
    vscode.commands.registerCommand('rewind.debugFile', async (uri?: vscode.Uri) => {
      const file = uri?.scheme === 'file' ? uri : activeFileUri();
      if (!file) {
        void vscode.window.showErrorMessage(NOTHING_TO_DEBUG);
        return;
      }
      const found = targetForFile(file.fsPath, vscode.workspace.getWorkspaceFolder(file)?.uri.fsPath);
      if ('error' in found) void vscode.window.showErrorMessage(found.error);
      else await start(found.target);
    }),
  ];
}
