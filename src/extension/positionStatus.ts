import * as vscode from 'vscode';
import type { PositionEvent } from '../protocol/rewindProtocol';

const fmt = (n: number) => n.toLocaleString('en-US');

/** The status-bar item: where the focused Rewind session is in its recording. */
export class PositionStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('rewind.position', vscode.StatusBarAlignment.Left, 50);
  private readonly last = new Map<string, PositionEvent>();

  constructor() {
    this.item.name = 'Rewind position';
    this.item.command = 'rewind.goToIcount';
  }

  update(session: vscode.DebugSession, pos: PositionEvent): void {
    this.last.set(session.id, pos);
    if (vscode.debug.activeDebugSession?.id === session.id) this.show(pos, false);
  }

  running(session: vscode.DebugSession): void {
    const pos = this.last.get(session.id);
    if (pos && vscode.debug.activeDebugSession?.id === session.id) this.show(pos, true);
  }

  focus(session: vscode.DebugSession | undefined): void {
    const pos = session && this.last.get(session.id);
    if (pos) this.show(pos, false);
    else this.item.hide();
  }

  ended(session: vscode.DebugSession): void {
    this.last.delete(session.id);
    if (!vscode.debug.activeDebugSession || vscode.debug.activeDebugSession.id === session.id) this.item.hide();
  }

  private show(pos: PositionEvent, running: boolean): void {
    const where = pos.atEnd ? (pos.live ? 'recording' : 'end') : 'past';
    const icon = running ? '$(sync~spin)' : pos.atEnd && pos.live ? '$(record)' : '$(history)';
    this.item.text = `${icon} icount ${fmt(pos.icount)} · event ${fmt(pos.eventIndex)} · hart ${pos.hart}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = false;
    md.appendMarkdown(`**Rewind** — ${pos.live ? 'live recording' : 'replay'}, ${where === 'past' ? 'in the past' : where === 'recording' ? 'at the end of the recording (new input is recorded here)' : 'at the end'}\n\n`);
    md.appendMarkdown(`instruction ${fmt(pos.icount)} of ${fmt(pos.endIcount)} · next event ${fmt(pos.eventIndex)} · hart ${pos.hart} · pc 0x${pos.pc.toString(16).padStart(8, '0')}\n\n`);
    for (const t of pos.threads) md.appendText(`${t.name}: ${t.holds.length ? `holds ${t.holds.join(', ')}` : 'holds no lock'}\n`);
    md.appendMarkdown('\n\nClick to go to an instruction count.');
    this.item.tooltip = md;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
