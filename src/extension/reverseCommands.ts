import * as vscode from 'vscode';
import { focusedThread, messageOf, rewindRequest, rewindSession } from './activeSession';

/**
 * The time-travel commands behind the toolbar buttons and key bindings. Reverse step over and
 * reverse continue are DAP's own stepBack/reverseContinue (VS Code's commands send them); the
 * rest are Rewind's custom requests.
 */
export function registerReverseCommands(): vscode.Disposable[] {
  const withSession = (run: (s: vscode.DebugSession) => Thenable<unknown>) => async () => {
    const s = rewindSession();
    if (!s) {
      void vscode.window.showWarningMessage('Rewind: no Rewind debug session is focused.');
      return;
    }
    try {
      await run(s);
    } catch (e) {
      void vscode.window.showWarningMessage(`Rewind: ${messageOf(e)}`);
    }
  };
  return [
    vscode.commands.registerCommand('rewind.reverseStepOver', withSession(() => vscode.commands.executeCommand('workbench.action.debug.stepBack'))),
    vscode.commands.registerCommand('rewind.reverseContinue', withSession(() => vscode.commands.executeCommand('workbench.action.debug.reverseContinue'))),
    vscode.commands.registerCommand('rewind.reverseStepInto', withSession((s) => rewindRequest(s, 'rewind/reverseStepIn', { threadId: focusedThread(s) }))),
    vscode.commands.registerCommand('rewind.reverseStepOut', withSession((s) => rewindRequest(s, 'rewind/reverseStepOut', { threadId: focusedThread(s) }))),
    vscode.commands.registerCommand('rewind.goToStart', withSession((s) => rewindRequest(s, 'rewind/goToStart', {}))),
    vscode.commands.registerCommand('rewind.goToEnd', withSession((s) => rewindRequest(s, 'rewind/goToEnd', {}))),
    vscode.commands.registerCommand('rewind.goToIcount', withSession(goToIcount)),
    vscode.commands.registerCommand('rewind.goToEvent', withSession(goToEvent)),
  ];
}

/** "12345", "12,345", "12_345", "0x3039", "1.5M", "20k". */
export function parseCount(text: string): number | undefined {
  const t = text.trim().replace(/[,_\s]/g, '');
  let m = /^0x([0-9a-f]+)$/i.exec(t);
  if (m) return parseInt(m[1], 16);
  m = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]) * { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number.isSafeInteger(Math.round(n)) ? Math.round(n) : undefined;
}

async function goToIcount(s: vscode.DebugSession): Promise<void> {
  const pos = await rewindRequest(s, 'rewind/position', {});
  const text = await vscode.window.showInputBox({
    title: 'Rewind: Go to Instruction Count',
    prompt: `An instruction count from 0 to ${pos.endIcount.toLocaleString('en-US')}${pos.live ? ' (a live recording: a larger one records on to it)' : ''}`,
    value: String(pos.icount),
    validateInput: (v) => (parseCount(v) === undefined ? 'a whole number: 12345, 12,345, 0x3039 or 1.5M' : undefined),
  });
  if (text === undefined) return;
  await rewindRequest(s, 'rewind/goToIcount', { icount: parseCount(text)! });
}

async function goToEvent(s: vscode.DebugSession): Promise<void> {
  const [pos, log] = await Promise.all([rewindRequest(s, 'rewind/position', {}), rewindRequest(s, 'rewind/events', { limit: 0 })]);
  if (log.total === 0) {
    void vscode.window.showInformationMessage('Rewind: this recording has no replay events yet.');
    return;
  }
  const text = await vscode.window.showInputBox({
    title: 'Rewind: Go to Event',
    prompt: `A replay event index from 0 to ${log.total - 1} (the next one here is ${pos.eventIndex})`,
    value: String(Math.min(pos.eventIndex, log.total - 1)),
    validateInput: (v) => {
      const n = parseCount(v);
      return n === undefined || n >= log.total ? `an event index from 0 to ${log.total - 1}` : undefined;
    },
  });
  if (text === undefined) return;
  await rewindRequest(s, 'rewind/goToEvent', { index: parseCount(text)! });
}
