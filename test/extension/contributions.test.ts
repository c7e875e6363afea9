/**
 * The extension's package.json against the adapter: the launch schema describes every
 * attribute the adapter takes, with the same types, bounds and choices; every contributed
 * command is registered by the extension's code and every menu item names a contributed one.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LAUNCH_ATTRIBUTES } from '../../src/adapter/launchArgs';

const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const debuggerOf = () => pkg.contributes.debuggers.find((d: { type: string }) => d.type === 'rewind');

describe('extension: contributions in package.json', () => {
  it('the launch schema has every adapter attribute, typed and described, and no other but cwd', () => {
    const props = debuggerOf().configurationAttributes.launch.properties as Record<string, { type?: string; enum?: string[]; minimum?: number; maximum?: number; description?: string; anyOf?: unknown[] }>;
    assert.deepEqual(Object.keys(props).filter((k) => k !== 'cwd').sort(), Object.keys(LAUNCH_ATTRIBUTES).sort());
    for (const [name, a] of Object.entries(LAUNCH_ATTRIBUTES)) {
      const p = props[name];
      assert.ok(p.description && p.description.length > 20, `${name} is described`);
      if (a.type === 'input') assert.equal(p.anyOf?.length, 2, 'input: text or { file }');
      else assert.equal(p.type, a.type, `${name} type`);
      assert.deepEqual(p.enum, a.values ? [...a.values] : undefined, `${name} choices`);
      assert.equal(p.minimum, a.min, `${name} minimum`);
      assert.equal(p.maximum, a.max, `${name} maximum`);
    }
  });

  it('initial configurations and snippets for record and replay use only schema attributes', () => {
    const d = debuggerOf();
    const props = new Set([...Object.keys(d.configurationAttributes.launch.properties), 'type', 'request', 'name']);
    const bodies = [...d.initialConfigurations, ...d.configurationSnippets.map((s: { body: object }) => s.body)];
    for (const b of bodies) for (const k of Object.keys(b)) assert.ok(props.has(k), `${k} is in the schema`);
    const modes = d.configurationSnippets.map((s: { body: { mode: string } }) => s.body.mode);
    assert.ok(modes.includes('record') && modes.includes('replay'));
  });

  it('every contributed command is registered in src/extension, and menus and key bindings name contributed commands', () => {
    const code = fs.readdirSync(path.join(ROOT, 'src', 'extension')).map((f) => fs.readFileSync(path.join(ROOT, 'src', 'extension', f), 'utf8')).join('\n');
    const registered = new Set([...code.matchAll(/registerCommand\('([^']+)'/g)].map((m) => m[1]));
    const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command);
    assert.deepEqual([...registered].sort(), [...contributed].sort());
    for (const [menu, items] of Object.entries(pkg.contributes.menus) as [string, { command: string }[]][]) {
      for (const i of items) assert.ok(contributed.includes(i.command), `${menu}: ${i.command}`);
    }
    for (const k of pkg.contributes.keybindings) assert.ok(contributed.includes(k.command), k.key);
  });

  it('the reverse buttons show only in Rewind sessions while stopped; icons exist', () => {
    for (const menu of ['debug/toolBar', 'editor/title']) {
      for (const i of pkg.contributes.menus[menu]) assert.match(i.when, /debugType == 'rewind' && debugState == 'stopped'/, `${menu}: ${i.command}`);
    }
    for (const c of pkg.contributes.commands) {
      if (typeof c.icon === 'object') for (const f of [c.icon.light, c.icon.dark]) assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} is built`);
    }
  });

  it('engines.vscode allows code-server 4.139.1 (VS Code 1.139) and @types/vscode is not newer', () => {
    const engine = /^\^(\d+)\.(\d+)\.\d+$/.exec(pkg.engines.vscode)!;
    assert.ok(engine && Number(engine[1]) === 1 && Number(engine[2]) <= 139, pkg.engines.vscode);
    const types = /(\d+)\.(\d+)\.\d+/.exec(pkg.devDependencies['@types/vscode'])!;
    assert.ok(Number(types[2]) <= Number(engine[2]), `@types/vscode ${pkg.devDependencies['@types/vscode']} ≤ engines ${pkg.engines.vscode}`);
  });
});
