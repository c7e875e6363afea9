import * as vscode from 'vscode';
import type { RewindRequestArgs, RewindRequestName, RewindResponseBody } from '../protocol/rewindProtocol';
import { DEBUG_TYPE } from './configurationProvider';

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

/** The adapter's one-line refusal (VS Code wraps it in an Error). */
export function messageOf(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^Rewind:\s*/, '');
}
