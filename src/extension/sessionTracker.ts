import * as vscode from 'vscode';
import { POSITION_EVENT, type PositionEvent } from '../protocol/rewindProtocol';
import { PositionStatus } from './positionStatus';
import { UartTerminal } from './uartTerminal';

/** Requests after which the machine runs until the next `stopped`. */
const RUNNING = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto',
  'rewind/reverseStepIn', 'rewind/reverseStepOut', 'rewind/goToStart', 'rewind/goToEnd', 'rewind/goToIcount', 'rewind/goToEvent']);

interface DapMessage {
  type: string;
  event?: string;
  command?: string;
  success?: boolean;
  message?: string;
  body?: Record<string, unknown>;
}

/**
 * Watches each Rewind session's DAP traffic: the guest's output to its UART terminal, the
 * position to the status bar, and what went wrong — a replay divergence, an adapter that died —
 * to a notification the user can read.
 */
export class SessionTracker implements vscode.DebugAdapterTrackerFactory, vscode.Disposable {
  private readonly terminals = new Map<string, UartTerminal>();

  constructor(private readonly status: PositionStatus) {}

  createDebugAdapterTracker(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    let ending = false;
    let lastError: string | undefined;
    let brokenPipe: ReturnType<typeof setTimeout> | undefined;
    let uart: UartTerminal | undefined;
    const terminal = () => {
      if (!uart) {
        uart = new UartTerminal(session);
        this.terminals.set(session.id, uart);
        uart.terminal.show(true);
      }
      return uart;
    };
    return {
      onWillStartSession: () => {
        // Terminals of sessions that have ended make room for this one's.
        for (const [id, t] of this.terminals) if (t.isEnded) this.drop(id);
        terminal();
      },
      onWillReceiveMessage: (m: DapMessage) => {
        if (m.command === 'disconnect' || m.command === 'terminate') ending = true;
        if (m.command && RUNNING.has(m.command)) this.status.running(session);
      },
      onDidSendMessage: (m: DapMessage) => {
        if (m.type === 'event') {
          if (m.event === 'output') {
            const text = String(m.body?.output ?? '');
            if (m.body?.category === 'stdout') terminal().output(text);
            else if (m.body?.category === 'stderr') lastError = text.trim().replace(/^Rewind:\s*/, '');
          } else if (m.event === POSITION_EVENT) this.status.update(session, m.body as unknown as PositionEvent);
          else if (m.event === 'stopped' && m.body?.reason === 'exception' && m.body?.description === 'replay diverged') {
            void vscode.window.showErrorMessage(`Rewind: the replay diverged: ${String(m.body?.text ?? '')}`);
          } else if (m.event === 'terminated' || m.event === 'exited') ending = true;
        }
      },
      // A dying adapter also breaks its pipe; then onExit follows and says it once, in its words.
      onError: (e: Error) => {
        if (ending || brokenPipe) return;
        brokenPipe = setTimeout(() => void vscode.window.showErrorMessage(`Rewind: the connection to the debug adapter failed: ${e.message}`), 1000);
      },
      onExit: (code: number | undefined, signal: string | undefined) => {
        clearTimeout(brokenPipe);
        uart?.sessionEnded();
        if (ending || (code === 0 && !signal)) return;
        // VS Code passes no signal, and no code for a process a signal ended.
        const how = signal ? `was killed (${signal})` : typeof code === 'number' ? `exited with code ${code}` : 'was killed';
        void vscode.window.showErrorMessage(`Rewind: the debug adapter ${how}${lastError ? `: ${lastError}` : ''}. The recording keeps what was flushed; start the session again to go on.`);
      },
    };
  }

  ended(session: vscode.DebugSession): void {
    this.terminals.get(session.id)?.sessionEnded();
  }

  private drop(id: string): void {
    this.terminals.get(id)?.dispose();
    this.terminals.delete(id);
  }

  dispose(): void {
    for (const id of [...this.terminals.keys()]) this.drop(id);
  }
}
