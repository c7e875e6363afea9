import * as vscode from 'vscode';
import { messageOf, rewindRequest } from './activeSession';

/**
 * A terminal per session on the guest's UART: what the guest writes appears in it, and what
 * the user types goes to the guest, recorded — or, behind the end of the recording or in a
 * replay, is refused with the adapter's reason shown in the terminal.
 */
export class UartTerminal implements vscode.Pseudoterminal {
  private readonly writer = new vscode.EventEmitter<string>();
  readonly onDidWrite = this.writer.event;
  private opened = false;
  private pending = '';
  private ended = false;
  get isEnded(): boolean {
    return this.ended;
  }
  readonly terminal: vscode.Terminal;

  constructor(private readonly session: vscode.DebugSession) {
    this.terminal = vscode.window.createTerminal({ name: `UART · ${session.name}`, pty: this, iconPath: new vscode.ThemeIcon('terminal') });
  }

  open(): void {
    this.opened = true;
    if (this.pending) this.writer.fire(this.pending);
    this.pending = '';
  }

  close(): void {
    this.opened = false;
  }

  /** The guest's bytes, as text: a bare LF moves to the start of the next line as a tty would. */
  output(text: string): void {
    this.emit(text.replace(/\r?\n/g, '\r\n'));
  }

  note(text: string): void {
    this.emit(`\r\n\x1b[33m[${text}]\x1b[0m\r\n`);
  }

  sessionEnded(): void {
    // Both the adapter's exit and VS Code's session end report it; the user needs it once.
    if (this.ended) return;
    this.ended = true;
    this.note('the debug session ended');
  }

  handleInput(data: string): void {
    if (this.ended) {
      this.note('the debug session has ended: nothing was sent');
      return;
    }
    // Enter sends CR; the guests read lines ending in LF, as a tty with ICRNL delivers them.
    const text = data.replace(/\r\n?/g, '\n');
    rewindRequest(this.session, 'rewind/sendInput', { text }).then(undefined, (e) => {
      this.note(`input not sent: ${messageOf(e)}`);
      void vscode.window.showWarningMessage(`Rewind: input not sent: ${messageOf(e)}`);
    });
  }

  private emit(s: string): void {
    if (this.opened) this.writer.fire(s);
    else this.pending += s;
  }

  dispose(): void {
    this.terminal.dispose();
    this.writer.dispose();
  }
}
