import * as vscode from 'vscode';
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
      const file = uri ?? vscode.window.activeTextEditor?.document.uri ?? (vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: vscode.Uri } | undefined)?.uri;
      if (!file || file.scheme !== 'file') {
        void vscode.window.showErrorMessage('Rewind: open a RISC-V ELF, a .rwtrace recording, or the source of a built program first.');
        return;
      }
      const found = targetForFile(file.fsPath, vscode.workspace.getWorkspaceFolder(file)?.uri.fsPath);
      if ('error' in found) void vscode.window.showErrorMessage(found.error);
      else await start(found.target);
    }),
  ];
}
