/**
 * Runs inside code-server's extension host (see ../inHostRunner.ts), against the installed
 * extension and the examples folder the end-to-end test opened.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

const folder = process.env.REWIND_INHOST_FOLDER!;
const ext = () => vscode.extensions.getExtension('rewind.rewind')!;

interface Contributes {
  commands: { command: string }[];
  menus: Record<string, { command: string; when?: string }[]>;
  keybindings: { command: string; key: string; when?: string }[];
  debuggers: { type: string }[];
}

/** Starts a Rewind session and waits for it (and its first stop, when `stopOnEntry`). */
async function start(config: vscode.DebugConfiguration): Promise<vscode.DebugSession> {
  const started = new Promise<vscode.DebugSession>((resolve) => {
    const d = vscode.debug.onDidStartDebugSession((s) => {
      d.dispose();
      resolve(s);
    });
  });
  assert.equal(await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], config), true, 'the session started');
  return started;
}

async function stop(session: vscode.DebugSession): Promise<void> {
  const ended = new Promise<void>((resolve) => {
    const d = vscode.debug.onDidTerminateDebugSession((s) => {
      if (s.id !== session.id) return;
      d.dispose();
      resolve();
    });
  });
  await vscode.debug.stopDebugging(session);
  await ended;
}

describe('extension (inside VS Code)', () => {
  before(async () => {
    await ext().activate();
  });

  it('contributes the rewind debugger, and every command its menus and key bindings name is registered', async () => {
    const c = ext().packageJSON.contributes as Contributes;
    assert.deepEqual(c.debuggers.map((d) => d.type), ['rewind']);
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = new Set(c.commands.map((x) => x.command));
    for (const id of contributed) assert.ok(registered.has(id), `${id} is registered`);
    for (const [menu, items] of Object.entries(c.menus)) for (const i of items) assert.ok(contributed.has(i.command), `${menu} names ${i.command}, which is contributed`);
    for (const k of c.keybindings) assert.ok(contributed.has(k.command), `the key binding ${k.key} names ${k.command}, which is contributed`);
  });

  it("the reverse key bindings do not take a key VS Code's default key bindings use", async () => {
    await vscode.commands.executeCommand('workbench.action.openDefaultKeybindingsFile');
    const doc = vscode.window.activeTextEditor!.document;
    const defaults = JSON.parse(doc.getText().replace(/^\s*\/\/.*$/gm, '')) as { key: string; command: string }[];
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    // Beside the examples (in the scratch folder): to choose keys when one clashes.
    fs.writeFileSync(path.join(folder, '..', 'default-keybindings.json'), JSON.stringify(defaults, null, 1));
    assert.ok(defaults.length > 500, `VS Code's default key bindings (${defaults.length})`);
    const norm = (k: string) => k.split(' ').map((chord) => chord.split('+').sort().join('+')).join(' ');
    const taken = new Map(defaults.filter((d) => !d.command.startsWith('rewind.')).map((d) => [norm(d.key), d.command]));
    const ours = (ext().packageJSON.contributes as Contributes).keybindings.filter((k) => k.command !== 'rewind.debugFile');
    assert.ok(ours.length >= 6);
    const clashes = ours.filter((k) => taken.has(norm(k.key))).map((k) => `${k.key} (${k.command}) is VS Code's ${taken.get(norm(k.key))}`);
    assert.deepEqual(clashes, []);
  });

  it('a configuration whose program is a C source records the -O0 ELF built from it; its UART terminal opens', async () => {
    const s = await start({ type: 'rewind', request: 'launch', name: 'hello from source', program: '${workspaceFolder}/programs/hello.c', stopOnEntry: true });
    try {
      assert.equal(s.configuration.program, path.join(folder, 'bin', 'hello-O0.elf'));
      assert.equal(s.configuration.mode, 'record');
      const pos = await until(async () => {
        const p = (await s.customRequest('rewind/position', {})) as { icount: number; live: boolean };
        return p;
      });
      assert.equal(pos.live, true);
      assert.ok(vscode.window.terminals.some((t) => t.name === 'UART · hello from source'), vscode.window.terminals.map((t) => t.name).join(', '));
    } finally {
      await stop(s);
    }
  });

  it('a configuration whose program is a .rwtrace replays it', async () => {
    const trace = path.join(folder, 'bin', 'bugdemo-O0.rwtrace');
    assert.ok(fs.existsSync(trace), 'the recording made by the bugdemo session');
    const s = await start({ type: 'rewind', request: 'launch', name: 'replay from program', program: trace, stopOnEntry: true });
    try {
      assert.equal(s.configuration.mode, 'replay');
      assert.equal(s.configuration.trace, trace);
      const pos = await until(async () => (await s.customRequest('rewind/position', {})) as { live: boolean; endIcount: number });
      assert.equal(pos.live, false);
      assert.ok(pos.endIcount > 1_000_000, `the whole bugdemo run is in it (${pos.endIcount})`);
    } finally {
      await stop(s);
    }
  });

  it('a configuration naming a program that does not exist starts nothing', async () => {
    const ok = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders![0], { type: 'rewind', request: 'launch', name: 'missing', program: '${workspaceFolder}/bin/nothere.elf' });
    assert.equal(ok, false);
    assert.equal(vscode.debug.activeDebugSession, undefined);
  });
});

async function until<T>(probe: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
