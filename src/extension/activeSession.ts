import * as vscode from 'vscode';
import type { RewindRequestArgs, RewindRequestName, RewindResponseBody } from '../protocol/rewindProtocol';

/** The `type` of Rewind's debugger in package.json's `contributes.debuggers`. */
export const DEBUG_TYPE = 'rewind';

/** The focused Rewind session, if the focused session is one. */
export function rewindSession(): vscode.DebugSession | undefined {
  const s = vscode.debug.activeDebugSession;
  return s?.type === DEBUG_TYPE ? s : undefined;
}

/** The thread the user has focused in the Call Stack view (a hart), else the first. */
export function focusedThread(session: vscode.DebugSession): number {
  const item = vscode.debug.activeStackItem;
  return item && item.session.id === session.id ? item.threadId : 1;
}

/** A typed custom request (the protocol module defines each one once). */
export async function rewindRequest<K extends RewindRequestName>(session: vscode.DebugSession, command: K, args: RewindRequestArgs<K>): Promise<RewindResponseBody<K>> {
  return (await session.customRequest(command, args)) as RewindResponseBody<K>;
}

/** The file in the focused editor, or in the active tab when it has no text editor (a binary ELF or trace). */
export function activeFileUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input as { uri?: unknown } | undefined;
  const uri = vscode.window.activeTextEditor?.document.uri ?? (input?.uri instanceof vscode.Uri ? input.uri : undefined);
  return uri?.scheme === 'file' ? uri : undefined;
}

/** What to say when F5 or Debug with Rewind finds no file to debug. */
export const NOTHING_TO_DEBUG = 'Rewind: open a RISC-V ELF, a .rwtrace recording, or the C or assembly source of a built program, then press F5.';

/** The adapter's one-line refusal (VS Code wraps it in an Error). */
export function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^Rewind:\s*/, '');
}
