import * as fs from 'fs';
import * as path from 'path';
import { Browser, chromium, Locator, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTEFACTS = path.join(__dirname, '..', '..', 'test-artefacts', 'e2e');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something truthy; the error names what was awaited and what was last seen. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, seen?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${seen ? ` (saw: ${await seen().catch(() => '?')})` : ''}`);
    await sleep(250);
  }
}

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * The VS Code workbench in a browser page, driven as a user drives it: the keyboard, the
 * command palette, clicks on buttons, the gutter and the debug views.
 */
export class Workbench {
  constructor(readonly page: Page) {}

  static async open(browser: Browser, url: string): Promise<Workbench> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const wb = new Workbench(page);
    await page.goto(url);
    await wb.ready();
    return wb;
  }

  /** The workbench has restored its parts and the explorer or welcome is drawn. */
  async ready(): Promise<void> {
    await this.page.waitForSelector('.monaco-workbench .part.statusbar', { timeout: 90_000 });
    await this.page.waitForSelector('.monaco-workbench .part.editor', { timeout: 90_000 });
    await sleep(2000);
  }

  async screenshot(name: string): Promise<void> {
    fs.mkdirSync(ARTEFACTS, { recursive: true });
    await this.page.screenshot({ path: path.join(ARTEFACTS, `${name}.png`) });
  }

  async command(title: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(`>${title}`);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ timeout: 10_000 });
    await row.click();
  }

  async openFile(relative: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill(relative);
    const name = path.basename(relative);
    await this.page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 10_000 });
    await this.page.keyboard.press('Enter');
    await this.page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 10_000 });
  }

  /** The Explorer in the side bar, as Ctrl+Shift+E shows it. */
  async showExplorer(): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('Control+Shift+E');
    await this.page.locator('.explorer-folders-view').waitFor({ timeout: 10_000 });
  }

  /**
   * Opens a file by clicking it in the explorer, as a user opens a binary file (Quick Open would
   * do too, but F5 on a tab is what is tested); `relative` is under the root or one folder down,
   * which is expanded first when its row is hidden.
   */
  async openFromExplorer(relative: string): Promise<void> {
    await this.showExplorer();
    const name = path.basename(relative);
    const rows = this.page.locator('.explorer-folders-view .monaco-list-row');
    const row = rows.filter({ hasText: name }).first();
    const folder = path.dirname(relative);
    if (folder !== '.' && (await row.count()) === 0) await rows.filter({ hasText: new RegExp(`^${folder}$`) }).first().click();
    await row.click();
    await this.page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 10_000 });
  }

  /** Reveals `line` in the active editor, then clicks the gutter beside it as a user sets a breakpoint. */
  async clickGutter(line: number): Promise<void> {
    await this.page.keyboard.press('Control+G');
    await this.page.keyboard.type(String(line));
    await this.page.keyboard.press('Enter');
    const num = this.page.locator('.editor-instance .margin .line-numbers', { hasText: new RegExp(`^${line}$`) }).first();
    await num.waitFor();
    const box = (await num.boundingBox())!;
    await this.page.mouse.click(box.x - 12, box.y + box.height / 2);
  }

  /** Lines with a breakpoint glyph in the active editor. */
  async breakpointLines(): Promise<number[]> {
    return this.page.evaluate(() => {
      const ed = document.querySelector('.editor-instance .monaco-editor');
      if (!ed) return [];
      const lines: number[] = [];
      for (const g of ed.querySelectorAll('.codicon-debug-breakpoint')) {
        const top = (g.closest('.margin-view-overlays > div') as HTMLElement | null)?.style.top ?? (g as HTMLElement).style.top;
        for (const d of ed.querySelectorAll('.margin-view-overlays > div')) {
          if ((d as HTMLElement).style.top === top) {
            const n = Number(d.querySelector('.line-numbers')?.textContent);
            if (n) lines.push(n);
          }
        }
      }
      return lines;
    });
  }

  /** The line the editor highlights as the current statement, if it shows one. */
  async currentLine(): Promise<number | undefined> {
    return this.page.evaluate(currentLineInPage);
  }

  /**
   * Clicks `target` and measures, on the page's own clock, from the mouse press to the first
   * animation frame that draws the current line on `line` (Playwright's actionability checks
   * before the press are not part of what a user waits for).
   */
  async clickUntilLine(target: Locator, line: number, timeoutMs = 30_000): Promise<number> {
    await this.page.evaluate(() => {
      const w = window as unknown as { rewindPressedAt?: number };
      w.rewindPressedAt = undefined;
      document.addEventListener('mousedown', () => (w.rewindPressedAt = performance.now()), { capture: true, once: true });
    });
    await target.click();
    const shown = await this.page.waitForFunction(`(${currentLineInPage.toString()})() === ${line} && performance.now() - window.rewindPressedAt`, undefined, { polling: 'raf', timeout: timeoutMs });
    return Number(await shown.jsonValue());
  }

  /** Resolves on the first animation frame that draws the current-line highlight on `line`. */
  async waitForLine(line: number, timeoutMs = 30_000): Promise<void> {
    await this.page.waitForFunction(`(${currentLineInPage.toString()})() === ${line}`, undefined, { polling: 'raf', timeout: timeoutMs });
  }


  async activeEditorName(): Promise<string> {
    return (await this.page.locator('.tabs-container .tab.active').first().innerText()).trim();
  }

  toolbarButton(label: string): Locator {
    return this.page.locator(`.debug-toolbar .action-item a[aria-label="${label}"], .debug-toolbar .action-item a[aria-label^="${label} ("]`).first();
  }

  async toolbarLabels(): Promise<string[]> {
    return (await this.page.locator('.debug-toolbar .action-item a').evaluateAll((as) => as.map((a) => a.getAttribute('aria-label') ?? ''))).map((l) => l.replace(/ \(.*\)$/, ''));
  }

  async editorTitleLabels(): Promise<string[]> {
    return (await this.page.locator('.editor-group-container.active .editor-actions .action-item a').evaluateAll((as) => as.map((a) => a.getAttribute('aria-label') ?? ''))).map((l) => l.replace(/ \(.*\)$/s, ''));
  }

  /** The Call Stack view's rows; opens Run and Debug first, as a user looking for them would. */
  async callStack(): Promise<string[]> {
    if (!(await this.page.locator('.debug-call-stack').isVisible().catch(() => false))) {
      await this.page.keyboard.press('Control+Shift+D');
      await this.page.locator('.debug-call-stack').waitFor({ timeout: 5_000 }).catch(() => undefined);
    }
    return (await this.page.locator('.debug-call-stack .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s*\n\s*/g, ' ').trim());
  }

  /** Waits for a stop whose top frame matches `frame` (say /^load_offsets bugdemo.c 51:/). */
  async waitForStop(frame: RegExp, timeoutMs = 60_000): Promise<string[]> {
    return until(`a stop at ${frame}`, async () => {
      const stack = await this.callStack();
      const stopped = await this.toolbarButton('Continue').count();
      return stopped && stack.length && frame.test(stack[0]) ? stack : undefined;
    }, timeoutMs, async () => (await this.callStack()).join(' < '));
  }

  variableRow(name: string): Locator {
    return this.page.locator('.debug-variables .monaco-list-row', { hasText: new RegExp(`^\\s*${name}\\s*=`) }).first();
  }

  /** The Variables view's rows as `name = value`, scopes as their names. */
  async variables(): Promise<string[]> {
    return (await this.page.locator('.debug-variables .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s*\n\s*/g, ' ').trim());
  }

  async variableValue(name: string): Promise<string | undefined> {
    const rows = await this.variables();
    const row = rows.find((r) => r.startsWith(`${name} =`));
    return row?.slice(name.length + 2).trim();
  }

  /** Clicks a scope or a structured variable until its children show (or hide, with `open` false). */
  async toggle(name: string, open = true): Promise<void> {
    const row = this.page.locator('.debug-variables .monaco-list-row', { hasText: new RegExp(`^\\s*${name}\\b`) }).first();
    await row.waitFor();
    const expanded = (await row.getAttribute('aria-expanded')) === 'true';
    if (expanded !== open) await row.click();
    await until(`${name} to ${open ? 'open' : 'close'}`, async () => (await row.getAttribute('aria-expanded')) === String(open));
  }

  async contextMenu(target: Locator, item: string): Promise<void> {
    await target.click({ button: 'right' });
    const entry = this.page.locator('.context-view .action-label', { hasText: new RegExp(`^${item}$`) }).first();
    await entry.waitFor({ timeout: 10_000 });
    // The menu lives in a shadow root under a full-window block, and ignores a click that comes
    // right after it opened (against selecting on the opening click's release).
    await sleep(600);
    const box = (await entry.boundingBox())!;
    await this.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await sleep(100);
    await this.page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await until(`the menu to close after ${item}`, async () => (await entry.count()) === 0 || !(await entry.isVisible()), 5000);
  }

  /** Texts of the notifications showing (toasts, or the notification centre if open). */
  async notifications(): Promise<string[]> {
    return (await this.page.locator('.notifications-toasts .notification-list-item-message, .notifications-center .notification-list-item-message, .monaco-dialog-box .dialog-message-text, .monaco-dialog-box .dialog-message-detail').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  }

  /**
   * A notification matching `re`. A page without window focus (headless) holds its toasts back,
   * so after a moment the notification centre is opened, as a user would click the bell.
   */
  async waitForNotification(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const toast = await until(`a toast matching ${re}`, async () => (await this.notifications()).find((t) => re.test(t)), 3000).catch(() => undefined);
    if (toast) return toast;
    await this.command('Notifications: Show Notifications');
    return until(`a notification matching ${re}`, async () => (await this.notifications()).find((t) => re.test(t)), timeoutMs, async () => (await this.notifications()).join(' | '));
  }

  async clearNotifications(): Promise<void> {
    await this.page.keyboard.press('Escape');
    const dialogButton = this.page.locator('.monaco-dialog-box .dialog-buttons a, .monaco-dialog-box .dialog-buttons button').last();
    if (await dialogButton.count()) await dialogButton.click().catch(() => undefined);
    await this.command('Notifications: Clear All Notifications').catch(() => undefined);
  }

  /** Stops every debug session (the toolbar's Stop, as often as sessions remain). */
  async stopDebugging(): Promise<void> {
    for (let i = 0; i < 5 && (await this.page.locator('.debug-toolbar').isVisible().catch(() => false)); i++) {
      const stop = this.page.locator('.debug-toolbar .action-item a[aria-label^="Stop"], .debug-toolbar .action-item a[aria-label^="Disconnect"]').first();
      if (await stop.count()) await stop.click().catch(() => undefined);
      await sleep(1500);
    }
  }

  /** The text of the terminal panel's visible rows. */
  async terminalText(): Promise<string> {
    return (await this.page.locator('.terminal-wrapper.active .xterm-rows').first().innerText().catch(() => '')).replace(/\u00a0/g, ' ');
  }
}

/** Runs in the page: the line number the editor draws the top stack frame's highlight on. */
function currentLineInPage(): number | undefined {
  const ed = document.querySelector('.editor-instance .monaco-editor');
  const hl = ed?.querySelector('.view-overlays .debug-top-stack-frame-line');
  const top = (hl?.parentElement as HTMLElement | null)?.style.top;
  if (!ed || !top) return undefined;
  for (const d of ed.querySelectorAll('.margin-view-overlays > div')) {
    if ((d as HTMLElement).style.top === top) return Number(d.querySelector('.line-numbers')?.textContent) || undefined;
  }
  return undefined;
}
