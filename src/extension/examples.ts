import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

/**
 * Puts the bundled guest programs (sources, prebuilt ELFs, the Makefile, a README) into a folder
 * of the user's choice, so F5 on `programs/bugdemo.c` works with no RISC-V toolchain installed.
 */
export async function getExamples(extensionPath: string, target?: vscode.Uri): Promise<string | undefined> {
  let parent = target?.fsPath;
  if (!parent) {
    const picked = await vscode.window.showOpenDialog({
      title: 'Rewind: where should the example programs go?',
      canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Put the Examples Here',
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    if (!picked?.length) return undefined;
    parent = picked[0].fsPath;
  }
  const source = path.join(extensionPath, 'dist', 'examples');
  let dest = path.join(parent, 'rewind-examples');
  for (let n = 2; fs.existsSync(dest); n++) dest = path.join(parent, `rewind-examples-${n}`);
  try {
    fs.cpSync(source, dest, { recursive: true, errorOnExist: true });
  } catch (e) {
    void vscode.window.showErrorMessage(`Rewind: could not copy the examples to ${dest}: ${(e as Error).message}`);
    return undefined;
  }
  const uri = vscode.Uri.file(dest);
  if (!vscode.workspace.workspaceFolders?.length) {
    await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: false });
    return dest;
  }
  const choice = await vscode.window.showInformationMessage(`Rewind: the examples are in ${dest}. Open programs/bugdemo.c and press F5.`, 'Open Folder', 'Open in New Window');
  if (choice) await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: choice === 'Open in New Window' });
  return dest;
}
