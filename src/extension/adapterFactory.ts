import * as vscode from 'vscode';

/**
 * Runs the debug adapter as its own process on the extension host's Node, so a guest spinning
 * in a loop can never freeze the editor, and any DAP client can run the same file.
 */
export class RewindAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly adapterPath: string) {}

  createDebugAdapterDescriptor(): vscode.DebugAdapterDescriptor {
    return new vscode.DebugAdapterExecutable(process.execPath, [this.adapterPath]);
  }
}
