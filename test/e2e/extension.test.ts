/**
 * The extension in a real VS Code: code-server 4.139.1 with the packaged .vsix installed, driven
 * in headless Chromium by clicking as a user does — the gutter, the debug toolbar, the editor
 * title, the Variables view's context menu, the terminal. A screenshot of every step goes to
 * test-artefacts/e2e/. The extension's own integration tests run inside the same workbench
 * through its test payload URL (test/e2e/inHost/).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { CodeServer, startCodeServer } from './codeServer';
import { runInHostTests } from './inHostRunner';
import { buildVsix } from './vsix';
import { launchBrowser, until, Workbench } from './workbench';

const REVERSE = ['Reverse Step Into', 'Reverse Step Out', 'Go to Start', 'Go to End'];
const EDITOR_REVERSE = ['Go to Start', 'Reverse Continue', 'Reverse Step Over', 'Reverse Step Into', 'Reverse Step Out', 'Go to End'];

describe('extension: end to end in code-server', function () {
  this.timeout(180_000);
  let server: CodeServer;
  let browser: Browser;
  let wb: Workbench;
  let examples: string;
  let step = 0;
  const shot = (name: string) => wb?.screenshot(`${String(++step).padStart(2, '0')}-${name}`);

  before(async function () {
    this.timeout(1_200_000);
    const vsix = buildVsix(fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-vsix-')));
    server = await startCodeServer(vsix, (m) => console.log(`      ${m}`));
    browser = await launchBrowser();
    examples = path.join(server.dir, 'work', 'rewind-examples');
    fs.mkdirSync(path.dirname(examples), { recursive: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !wb || wb.page.isClosed()) return;
    explainFailure(this.currentTest.err, await wb.notifications().catch(() => []), server.extensionErrors());
    await wb.screenshot(`failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
    // What a failed scenario left behind (a session, a toast) must not fail the next one too.
    await wb.stopDebugging().catch(() => undefined);
    await wb.clearNotifications().catch(() => undefined);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    if (process.env.REWIND_E2E_KEEP) console.log(`      kept ${server?.dir}`);
    else if (server) fs.rmSync(server.dir, { recursive: true, force: true });
  });

  it('Get the Example Programs puts sources, ELFs, Makefile and README into the chosen folder and opens it, with no launch.json', async () => {
    wb = await Workbench.open(browser, `${server.url}/`);
    await wb.command('Rewind: Get the Example Programs');
    const input = wb.page.locator('.quick-input-widget input');
    await input.waitFor();
    await shot('examples-folder-dialog');
    // The dialog fills in its default folder once it has listed it, which can overwrite a path
    // typed too early; it has taken the path when it lists that folder's contents (just "..":
    // it is empty) and still shows the path.
    const typed = `${path.dirname(examples)}/`;
    await until('the dialog to show the typed folder', async () => {
      if ((await input.inputValue()) !== typed) await input.fill(typed);
      const rows = (await wb.page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map((t) => t.trim()).join();
      return rows === '..' && (await input.inputValue()) === typed;
    });
    await wb.page.locator('.quick-input-widget .monaco-button', { hasText: 'Put the Examples Here' }).click();
    await wb.page.waitForURL((u) => decodeURIComponent(u.toString()).includes(examples), { timeout: 60_000 });
    await wb.ready();
    await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'programs' }).first().waitFor();
    await shot('examples-opened');
    for (const f of ['programs/bugdemo.c', 'programs/echo.c', 'bin/bugdemo-O0.elf', 'bin/echo-O0.elf', 'Makefile', 'README.md', 'common/lib.h']) {
      assert.ok(fs.existsSync(path.join(examples, f)), `${f} in the examples folder`);
    }
    assert.equal(fs.existsSync(path.join(examples, '.vscode', 'launch.json')), false);
  });

  it('F5 on bugdemo.c stops at a breakpoint set in the gutter; Step Back moves the editor to the earlier line and the Variables view to the earlier value', async () => {
    await wb.openFile('programs/bugdemo.c');
    await wb.clickGutter(126);
    await until('the breakpoint glyph on line 126', async () => (await wb.breakpointLines()).includes(126));
    await shot('breakpoint-set');
    await wb.page.keyboard.press('F5');
    await wb.waitForStop(/^main bugdemo\.c 126:/, 120_000);
    await until('line 126 highlighted', async () => (await wb.currentLine()) === 126);
    await wb.toggle('Locals');
    const before = await until('mean in Locals', () => wb.variableValue('mean'));
    assert.equal(before, '999');
    await shot('breakpoint');
    await wb.toolbarButton('Step Back').click();
    await wb.waitForStop(/^main bugdemo\.c 124:/);
    await until('line 124 highlighted', async () => (await wb.currentLine()) === 124);
    // Before line 124 ran, `mean` had not been computed yet.
    await until('mean to change back', async () => (await wb.variableValue('mean')) !== '999', 10_000, async () => String(await wb.variableValue('mean')));
    assert.equal(await wb.variableValue('mean'), '0');
    await shot('step-back');
  });

  it('Break on Value Change on the corrupted cal.gain, then Reverse: stops on the stray write in load_offsets', async () => {
    await wb.toggle('Locals', false);
    await wb.toggle('Globals');
    await wb.toggle('cal');
    assert.equal(await until('cal.gain', () => wb.variableValue('gain')), '4294967295');
    await wb.contextMenu(wb.variableRow('gain'), 'Break on Value Change');
    await wb.page.locator('.debug-breakpoints .monaco-list-row', { hasText: 'cal.gain' }).first().waitFor();
    await shot('data-breakpoint');
    await wb.toolbarButton('Reverse').click();
    await wb.waitForStop(/^load_offsets bugdemo\.c 51:/, 120_000);
    const stack = await until('the caller in the Call Stack', async () => { const s = await wb.callStack(); return /^main /.test(s[1] ?? '') && s; });
    assert.match(stack[1], /^main bugdemo\.c 89:/);
    await until('line 51 highlighted', async () => (await wb.currentLine()) === 51);
    assert.equal(await until('gain before the write', () => wb.variableValue('gain')), '1024');
    await shot('reverse-data-breakpoint');
  });

  it('the reverse buttons are in the debug toolbar and the editor title of a Rewind session, and not in a Node.js session', async () => {
    const toolbar = await wb.toolbarLabels();
    for (const b of ['Step Back', 'Reverse', ...REVERSE]) assert.ok(toolbar.includes(b), `toolbar has ${b}: ${toolbar.join(', ')}`);
    const title = await wb.editorTitleLabels();
    for (const b of EDITOR_REVERSE) assert.ok(title.includes(b), `editor title has ${b}: ${title.join(', ')}`);
    await wb.toolbarButton('Go to Start').click();
    await until('the status bar at icount 0', async () => /icount 0 · event 0/.test(await wb.page.locator('.statusbar').innerText()));
    await shot('go-to-start');
    await wb.stopDebugging();
    fs.mkdirSync(path.join(examples, 'node'), { recursive: true });
    fs.writeFileSync(path.join(examples, 'node', 'pause.js'), 'let n = 0;\nfor (let i = 0; i < 3; i++) n += i;\ndebugger;\nconsole.log(n);\n');
    await wb.openFile('node/pause.js');
    await wb.page.keyboard.press('F5');
    // VS Code asks which debugger for a JavaScript file with no launch.json.
    const nodePick = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: /^Node\.js$/ }).first();
    await nodePick.waitFor({ timeout: 20_000 });
    await nodePick.click();
    await until('the Node.js session to pause', async () => (await wb.callStack()).length > 0 && (await wb.toolbarButton('Continue').count()) > 0, 90_000, async () => (await wb.callStack()).join(' < '));
    const nodeToolbar = await wb.toolbarLabels();
    const nodeTitle = await wb.editorTitleLabels();
    await shot('node-session');
    for (const b of ['Step Back', 'Reverse', ...REVERSE]) assert.ok(!nodeToolbar.includes(b), `no ${b} for Node.js: ${nodeToolbar.join(', ')}`);
    for (const b of EDITOR_REVERSE) assert.ok(!nodeTitle.includes(b), `no ${b} in the editor title for Node.js: ${nodeTitle.join(', ')}`);
    assert.ok(nodeToolbar.includes('Step Over'), `the Node.js toolbar shows: ${nodeToolbar.join(', ')}`);
    await wb.stopDebugging();
  });

  it('the echo guest: what is typed into its UART terminal is echoed; in the past input is refused with a message', async () => {
    await wb.openFile('programs/echo.c');
    await wb.page.keyboard.press('F5');
    const tab = wb.page.locator('.terminal-tabs-entry, .single-terminal-tab', { hasText: 'UART' }).first();
    await until('the UART terminal', async () => (await wb.page.locator('.terminal-wrapper').count()) > 0 || (await tab.count()) > 0, 60_000);
    // VS Code brings the Debug Console forward as the session starts; the user switches to the terminal.
    await until('the guest waiting in the UART terminal', async () => {
      if (/echo/i.test(await wb.terminalText())) return true;
      await wb.page.locator('.panel .composite-bar .action-item', { hasText: 'Terminal' }).first().click();
      return false;
    }, 60_000, () => wb.terminalText());
    await wb.page.locator('.terminal-wrapper.active .xterm').first().click();
    await wb.page.keyboard.type('hello rewind');
    await wb.page.keyboard.press('Enter');
    await until('the echo', async () => (await wb.terminalText()).includes('HELLO REWIND'), 30_000, () => wb.terminalText());
    await shot('uart');
    await wb.toolbarButton('Pause').click();
    await until('a pause', async () => (await wb.toolbarButton('Step Back').count()) > 0 && (await wb.callStack()).length > 0);
    await wb.toolbarButton('Go to Start').click();
    await until('the status bar at icount 0', async () => /icount 0 · event 0/.test(await wb.page.locator('.statusbar').innerText()));
    await wb.page.locator('.terminal-wrapper.active .xterm').first().click();
    assert.doesNotMatch(await wb.terminalText(), /input not sent/, 'nothing refused before a key is typed');
    await wb.page.keyboard.type('x');
    await until('the refusal in the terminal', async () => /input not sent: .*past/i.test(await wb.terminalText()), 20_000, () => wb.terminalText());
    await new Promise((r) => setTimeout(r, 1000));
    // Before anything else presses a key in the terminal (the command palette's Escape would be sent too).
    assert.equal((await wb.terminalText()).match(/input not sent/g)?.length, 1, 'one key typed, one refusal');
    await wb.waitForNotification(/input not sent/);
    await shot('uart-refused-in-the-past');
    await wb.stopDebugging();
    await wb.clearNotifications();
  });

  it('F5 on a source with no ELF, and on a corrupted trace, each show a one-line notification; so does an adapter that dies', async () => {
    fs.writeFileSync(path.join(examples, 'programs', 'unbuilt.c'), 'int main(void) { return 0; }\n');
    await wb.openFile('programs/unbuilt.c');
    await wb.page.keyboard.press('F5');
    const missing = await wb.waitForNotification(/no ELF built from unbuilt\.c/);
    assert.match(missing, /bin/);
    await shot('missing-elf');
    await wb.clearNotifications();

    const broken = path.join(examples, 'broken.rwtrace');
    fs.writeFileSync(broken, Buffer.concat([Buffer.from('RWTRACE\0'), Buffer.alloc(200, 0x5a)]));
    await wb.openFromExplorer('broken.rwtrace');
    await wb.page.keyboard.press('F5');
    const corrupt = await wb.waitForNotification(/broken\.rwtrace/);
    assert.doesNotMatch(corrupt, /\n|at .*\.js:\d+/, 'one line, no stack trace');
    await shot('corrupted-trace');
    await wb.clearNotifications();

    await wb.openFile('programs/hello.c');
    await wb.clickGutter(await lineOf(path.join(examples, 'programs', 'hello.c'), /uart_puts\(/));
    await wb.page.keyboard.press('F5');
    await wb.waitForStop(/^main hello\.c/, 120_000);
    const pids = execFileSync('pgrep', ['-f', `${server.dir}/extensions/.*/dist/adapter.js`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    assert.ok(pids.length >= 1, 'an adapter process');
    for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
    const died = await wb.waitForNotification(/debug adapter was killed|debug adapter exited/);
    assert.doesNotMatch(died, /undefined|read error/);
    await shot('adapter-killed');
    await wb.clearNotifications();
    await wb.stopDebugging();
  });

  it("F5 on a recording replays it: the bugdemo session's .rwtrace stops at the same breakpoint", async () => {
    const trace = path.join(examples, 'bin', 'bugdemo-O0.rwtrace');
    assert.ok(fs.existsSync(trace), 'the recording the bugdemo session wrote');
    await wb.openFromExplorer('bin/bugdemo-O0.rwtrace');
    await wb.page.keyboard.press('F5');
    // The data breakpoint on cal.gain set in the recording session persists: the replay stops
    // after its first write (main's own, line 88), then after the stray one — on the loop's
    // `i++` (line 50), where gdb's watchpoint stops too — then at the line breakpoint.
    await wb.waitForStop(/^main bugdemo\.c 89:/, 120_000);
    await wb.toolbarButton('Continue').click();
    await wb.waitForStop(/^load_offsets bugdemo\.c 50:/);
    await wb.toolbarButton('Continue').click();
    await wb.waitForStop(/^main bugdemo\.c 126:/);
    assert.match(await wb.page.locator('.statusbar').innerText(), /icount [\d,]+ · event \d+ · hart 0/);
    await shot('replay');
    await wb.stopDebugging();
  });

  it("the extension's integration tests pass inside the workbench (test payload URL)", async () => {
    await wb.page.close();
    const r = await runInHostTests(browser, server, examples);
    for (const line of r.log) console.log(`      │ ${line}`);
    assert.ok(r.passed > 0, 'in-host tests ran');
    assert.equal(r.failed, 0, `${r.failed} in-host tests failed:\n${r.log.join('\n')}`);
  });
});

/**
 * A scenario that fails because the extension is broken usually fails as a timeout on some
 * element; what the workbench showed and what the extension host logged say why, so they join
 * the failure's message.
 */
function explainFailure(err: Error | undefined, shown: string[], logged: string[]): void {
  if (!err || (!shown.length && !logged.length)) return;
  const why = [...shown.map((t) => `workbench shows: ${t}`), ...logged.map((t) => `extension host: ${t}`)].join('\n  ');
  const first = err.message;
  err.message = `${why}\n  (${first.split('\n')[0]})`;
  if (err.stack) err.stack = err.stack.replace(first, err.message);
}

async function lineOf(file: string, re: RegExp): Promise<number> {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => re.test(l) && !l.trim().startsWith('*'));
  assert.ok(i >= 0, `${re} in ${file}`);
  return i + 1;
}
