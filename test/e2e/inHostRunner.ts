import * as fs from 'fs';
import * as path from 'path';
import type { Browser } from 'playwright-core';
import type { CodeServer } from './codeServer';

const ROOT = path.join(__dirname, '..', '..');

export interface InHostResult {
  passed: number;
  failed: number;
  log: string[];
}

/**
 * Runs test/e2e/inHost/*.inhost.ts inside code-server's extension host, against the installed
 * extension, through the workbench's test payload (`extensionDevelopmentPath` and
 * `extensionTestsPath` in the URL; needs `--vscode-option enable-smoke-test-driver`).
 */
export async function runInHostTests(browser: Browser, server: CodeServer, folder: string): Promise<InHostResult> {
  const extDir = path.join(server.dir, 'extensions');
  const installed = fs.readdirSync(extDir).find((d) => d.startsWith('rewind.rewind-'));
  if (!installed) throw new Error(`the extension is not installed in ${extDir}`);
  const work = path.join(server.dir, 'inhost');
  fs.mkdirSync(work, { recursive: true });
  const results = path.join(work, 'results.json');
  fs.rmSync(results, { force: true });
  const index = path.join(work, 'index.js');
  fs.writeFileSync(index, `module.exports.run = () => require(${JSON.stringify(path.join(ROOT, 'test', 'e2e', 'inHost', 'run.js'))}).run(${JSON.stringify({ results, folder })});\n`);
  const payload = JSON.stringify([['extensionDevelopmentPath', server.remoteUri(path.join(extDir, installed))], ['extensionTestsPath', server.remoteUri(index)]]);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const log: string[] = [];
  try {
    const exit = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    await page.exposeFunction('codeAutomationLog', (_type: string, args: unknown[]) => {
      const line = (Array.isArray(args) ? args : [args]).map(String).join(' ');
      if (/^\[rewind-inhost\]/.test(line)) log.push(line.replace(/^\[rewind-inhost\]\s?/, ''));
    });
    await page.goto(`${server.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(payload)}`);
    const code = await Promise.race([exit, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('the in-host tests did not finish in 5 minutes')), 300_000))]);
    if (!fs.existsSync(results)) throw new Error(`the in-host tests ended (exit code ${code}) without results: ${log.slice(-5).join(' | ') || 'nothing logged'}`);
    const r = JSON.parse(fs.readFileSync(results, 'utf8')) as { passed: number; failed: number; lines: string[] };
    return { passed: r.passed, failed: r.failed, log: r.lines };
  } finally {
    await page.close().catch(() => undefined);
  }
}
