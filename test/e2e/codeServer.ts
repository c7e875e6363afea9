import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { freePort } from '../support/freePort';
import * as os from 'os';
import * as path from 'path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const install = require('./codeServerInstall.js') as { ensureInstalled(log?: (m: string) => void): { node: string; codeServerEntry: string } };

/** The user settings of the scratch profile: a quiet workbench, the DOM terminal renderer. */
const SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'workbench.tips.enabled': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'editor.minimap.enabled': false,
  'terminal.integrated.gpuAcceleration': 'off',
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
};

export interface CodeServer {
  readonly port: number;
  readonly url: string;
  /** The scratch folder: HOME, user data, extensions, workspaces. */
  readonly dir: string;
  /** What code-server printed. */
  log(): string;
  /** `vscode-remote://` URI of a path on this machine, for the workbench payload. */
  remoteUri(p: string): string;
  /** The extension host's errors about the Rewind extension (an activation that threw, say). */
  extensionErrors(): string[];
  stop(): Promise<void>;
}

function get(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

/**
 * Starts code-server 4.139.1 (installed into the cache on first use) on 127.0.0.1 with its own
 * HOME, user data and extensions folders under a scratch folder, with `vsix` installed, and the
 * smoke-test driver on so extension tests can run through the workbench URL.
 */
export async function startCodeServer(vsix: string, log: (m: string) => void = () => undefined): Promise<CodeServer> {
  const tools = install.ensureInstalled(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-e2e-'));
  const home = path.join(dir, 'home');
  const userData = path.join(dir, 'user-data');
  const extensions = path.join(dir, 'extensions');
  for (const d of [home, path.join(userData, 'User'), extensions]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(SETTINGS, null, 2));
  const env = {
    ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'), XDG_RUNTIME_DIR: path.join(dir, 'run'), TMPDIR: dir,
  };
  fs.mkdirSync(env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  const base = [tools.codeServerEntry, '--user-data-dir', userData, '--extensions-dir', extensions];
  let out: string;
  try {
    out = execFileSync(tools.node, [...base, '--install-extension', vsix], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`code-server --install-extension ${path.basename(vsix)} failed: ${(err.stderr || err.stdout || err.message).trim().split('\n').pop()}`);
  }
  if (!/successfully installed/.test(out)) throw new Error(`code-server did not install ${path.basename(vsix)}: ${out.trim().split('\n').pop()}`);
  const port = await freePort();
  let text = '';
  // Its own process group, so stop() ends the extension host, the adapters and the terminals too.
  const proc: ChildProcess = spawn(tools.node, [...base, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry',
    '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', '--vscode-option', 'enable-smoke-test-driver'],
  { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (b) => (text += b));
  proc.stderr!.on('data', (b) => (text += b));
  let exited: number | null | undefined;
  proc.on('exit', (code) => (exited = code));
  const url = `http://127.0.0.1:${port}`;
  const server: CodeServer = {
    port, url, dir,
    log: () => text,
    remoteUri: (p) => `vscode-remote://127.0.0.1:${port}${p}`,
    extensionErrors: () => extensionHostErrors(userData),
    stop: async () => {
      if (proc.pid === undefined) return;
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        return;
      }
      const deadline = Date.now() + 5000;
      while (exited === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
  const deadline = Date.now() + 60_000;
  while ((await get(`${url}/healthz`)) !== 200) {
    if (exited !== undefined || Date.now() > deadline) {
      await server.stop();
      throw new Error(`code-server did not start on ${url}: ${text.trim().split('\n').slice(-3).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return server;
}

/** Lines of the extension host logs (under user-data/logs) that name Rewind at error level. */
function extensionHostErrors(userData: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^(exthost|remoteexthost)\.log$/.test(e.name)) {
        for (const line of fs.readFileSync(p, 'utf8').split('\n')) {
          if (/\[error\]/.test(line) && /rewind/i.test(line)) out.push(line.replace(/^\S+ \S+ \[error\]\s*/, '').trim());
        }
      }
    }
  };
  const logs = path.join(userData, 'logs');
  if (fs.existsSync(logs)) walk(logs);
  return [...new Set(out)];
}
