/**
 * What F5 debugs for the file in the editor, on folder layouts built here: ELFs beside the
 * source, in bin/ or build/ next to it or above it, Makefile targets; the debug build preferred;
 * ELFs that name the source in their debug info over ones that do not; and the message when
 * nothing fits.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findElfForSource, makefileTargets, targetForFile } from '../../src/extension/programFinder';

const BUGDEMO_O0 = path.join(__dirname, '..', '..', 'emulator', 'guest', 'bin', 'bugdemo-O0.elf');
const HELLO_O0 = path.join(__dirname, '..', '..', 'emulator', 'guest', 'bin', 'hello-O0.elf');

describe('extension: which program F5 debugs', () => {
  let dir: string;
  const put = (rel: string, content: string | Buffer = '', mtime?: number) => {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    if (mtime) fs.utimesSync(p, mtime, mtime);
    return p;
  };
  const elf = (rel: string, from = BUGDEMO_O0, mtime?: number) => put(rel, fs.readFileSync(from), mtime);
  const program = (source: string, root?: string) => {
    const r = findElfForSource(source, root);
    return 'target' in r && r.target.mode === 'record' ? path.relative(dir, r.target.program) : `error: ${'error' in r ? r.error : ''}`;
  };

  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-finder-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the examples layout: programs/bugdemo.c → bin/bugdemo-O0.elf, the debug build over -O2 whichever is newer', () => {
    const src = put('programs/bugdemo.c', 'int main(void){}');
    elf('bin/bugdemo-O0.elf', BUGDEMO_O0, 1_000);
    elf('bin/bugdemo-O2.elf', BUGDEMO_O0, 2_000);
    elf('bin/bugdemox-O0.elf');
    assert.equal(program(src), 'bin/bugdemo-O0.elf');
  });

  it('beside the source, then in its own bin/ and build/, nearest first; an exact name over a suffixed one', () => {
    const src = put('app/bugdemo.c');
    elf('build/bugdemo.elf');
    assert.equal(program(src), 'build/bugdemo.elf');
    elf('app/build/bugdemo-release.elf');
    assert.equal(program(src), 'build/bugdemo.elf', 'the exact name wins over a suffixed nearer one');
    elf('app/bugdemo', BUGDEMO_O0, 1_000);
    assert.equal(program(src), 'app/bugdemo', 'of two exact names, the nearer, though older');
  });

  it('an ELF whose debug info names the source wins over one that merely has the name', () => {
    const src = put('programs/bugdemo.c');
    elf('bin/bugdemo.elf', HELLO_O0);
    elf('bin/bugdemo-O2.elf', BUGDEMO_O0);
    assert.equal(program(src), 'bin/bugdemo-O2.elf');
  });

  it('a file that is not an ELF is not taken, whatever its name', () => {
    const src = put('bugdemo.c');
    put('bin/bugdemo.elf', 'not an elf');
    put('bugdemo.o.d', 'dependencies');
    assert.match(program(src), /^error: Rewind found no ELF built from bugdemo\.c: it looked for bugdemo, bugdemo\.elf or bugdemo-\*\.elf in \., bin, build/);
  });

  it('a Makefile target names the ELF, wherever it puts it', () => {
    const src = put('src/blink.S');
    put('src/Makefile', 'CC=gcc\nall: out/firmware/blink.elf\n\nout/firmware/blink.elf: blink.S\n\t$(CC) -o out/firmware/blink.elf blink.S\n');
    elf('src/out/firmware/blink.elf');
    assert.deepEqual(makefileTargets(path.join(dir, 'src', 'Makefile')).map((t) => path.relative(dir, t)).sort(), ['src/all', 'src/out/firmware/blink.elf']);
    assert.equal(program(src), 'src/out/firmware/blink.elf');
  });

  it('the search stops at the workspace folder', () => {
    elf('bin/main.elf');
    const src = put('ws/main.c');
    assert.equal(program(src), 'bin/main.elf');
    assert.match(program(src, path.join(dir, 'ws')), /^error: .*in \., bin, build \(relative/);
  });

  it('an ELF records it, a .rwtrace replays it, anything else is named in the message', () => {
    const e = elf('x/prog');
    assert.deepEqual(targetForFile(e), { target: { mode: 'record', program: e } });
    const t = put('x/run.rwtrace', 'anything');
    assert.deepEqual(targetForFile(t), { target: { mode: 'replay', trace: t } });
    const r = targetForFile(put('notes.txt', 'hi'));
    assert.ok('error' in r && /notes\.txt is none of these/.test(r.error));
  });
});
