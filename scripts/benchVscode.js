// The VS Code part of `npm run bench`, in code-server driven by headless Chromium as in the
// end-to-end tests: F5 on bugdemo.c to the editor showing the breakpoint's line, and a click on
// Step Back to the editor showing the earlier line (measured from the mouse press to the frame
// that draws it).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const { quantile, now, verdictLine } = require('./benchStats');

async function benchVscode({ table, fmt }) {
  const { buildVsix } = require(path.join(ROOT, 'test', 'e2e', 'vsix.ts'));
  const { startCodeServer } = require(path.join(ROOT, 'test', 'e2e', 'codeServer.ts'));
  const { launchBrowser, until, Workbench } = require(path.join(ROOT, 'test', 'e2e', 'workbench.ts'));
  const vsix = buildVsix(fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-vsix-')));
  const server = await startCodeServer(vsix, (m) => console.log(m));
  const browser = await launchBrowser();
  try {
    const folder = path.join(server.dir, 'rewind-examples');
    fs.cpSync(path.join(ROOT, 'dist', 'examples'), folder, { recursive: true });
    const wb = await Workbench.open(browser, `${server.url}/?folder=${encodeURIComponent(folder)}`);
    await wb.openFile('programs/bugdemo.c');
    await wb.clickGutter(126);
    await until('the breakpoint', async () => (await wb.breakpointLines()).includes(126));
    const line = (n) => wb.waitForLine(n, 120_000);
    const f5 = [];
    const back = [];
    for (let i = 0; i < 3; i++) {
      await wb.page.keyboard.press('Escape');
      const t0 = now();
      await wb.page.keyboard.press('F5');
      await line(126);
      f5.push(now() - t0);
      for (let j = 0; j < 5; j++) {
        back.push(await wb.clickUntilLine(wb.toolbarButton('Step Back'), 124));
        await wb.toolbarButton('Step Over').click();
        await line(126);
      }
      await wb.stopDebugging();
      await until('the session to end', async () => !(await wb.page.locator('.debug-toolbar').isVisible()), 30_000);
    }
    const rows = [
      ['F5 on bugdemo.c → breakpoint line shown', f5],
      ['click Step Back → earlier line shown', back],
    ];
    console.log('\nVS Code (code-server 4.139.1, headless Chromium), wall time until the editor shows the line:');
    console.log(table(['operation', 'n', 'p50 ms', 'max ms'], rows.map(([name, xs]) => [name, String(xs.length), fmt(quantile(xs, 0.5)), fmt(Math.max(...xs))])));
    const verdict = (name, value, limit) => console.log(verdictLine(name, value, limit, 'ms', fmt));
    verdict('F5 → first stop shown in VS Code, p50', quantile(f5, 0.5), 3000);
    verdict('Step Back click → new line shown in VS Code, p50', quantile(back, 0.5), 300);
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
    fs.rmSync(server.dir, { recursive: true, force: true });
  }
}

module.exports = { benchVscode };
