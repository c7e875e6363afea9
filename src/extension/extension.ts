import * as vscode from 'vscode';
import { RewindAdapterFactory } from './adapterFactory';
import { DEBUG_TYPE } from './activeSession';
import { RewindConfigurationProvider, RewindDynamicConfigurations } from './configurationProvider';
import { getExamples } from './examples';
import { registerLaunchCommands } from './launchCommands';
import { PositionStatus } from './positionStatus';
import { registerReverseCommands } from './reverseCommands';
import { SessionTracker } from './sessionTracker';

/** Wires the parts together; each lives in its own file and knows nothing of the others. */
export function activate(context: vscode.ExtensionContext): void {
  const status = new PositionStatus();
  const tracker = new SessionTracker(status);
  context.subscriptions.push(
    status,
    tracker,
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, new RewindAdapterFactory(context.asAbsolutePath('dist/adapter.js'))),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new RewindConfigurationProvider()),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new RewindDynamicConfigurations(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, tracker),
    vscode.debug.onDidChangeActiveDebugSession((s) => status.focus(s?.type === DEBUG_TYPE ? s : undefined)),
    vscode.debug.onDidTerminateDebugSession((s) => {
      if (s.type !== DEBUG_TYPE) return;
      status.ended(s);
      tracker.ended(s);
    }),
    ...registerReverseCommands(),
    ...registerLaunchCommands(),
    vscode.commands.registerCommand('rewind.getExamples', (target?: vscode.Uri) => getExamples(context.extensionPath, target)),
  );
}

export function deactivate(): void {
  // Sessions end with the debug service; their adapters close their recordings on disconnect.
}
