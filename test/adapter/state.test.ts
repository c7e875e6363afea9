/**
 * What a stopped session shows over DAP: threads (one per hart), stack frames with instruction
 * pointer references, the machine-state scopes (registers, CSRs, devices), memory, disassembly
 * (exactly the count asked for, backwards too, matching objdump's instruction boundaries),
 * loaded sources and the source request for a file that is not on disk.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { parseElf } from '../../emulator/debuginfo/elf';
import { Dap, guestElf } from '../support/dapSession';

function objdumpAddresses(elf: string): number[] {
  const out = spawnSync('riscv64-unknown-elf-objdump', ['-d', elf], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout;
  return [...out.matchAll(/^ *([0-9a-f]+):\t/gm)].map((m) => parseInt(m[1], 16));
}

async function scope(d: Dap, name: string, frame = 0): Promise<DebugProtocol.Variable[]> {
  const st = await d.dc.stackTraceRequest({ threadId: 1 });
  const sc = await d.dc.scopesRequest({ frameId: st.body.stackFrames[frame].id });
  const s = sc.body.scopes.find((x) => x.name === name);
  assert.ok(s, `a ${name} scope`);
  return (await d.dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
}

describe('adapter: state', function () {
  this.timeout(300_000);

  it('threads are harts; each has its own stack', async () => {
    const { d } = await Dap.launch({ program: guestElf('smp-O0'), harts: 2 }, async (x) => { await x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'secondary_main' }] }); });
    try {
      const threads = (await d.dc.threadsRequest()).body.threads;
      assert.deepEqual(threads.map((t) => [t.id, t.name]), [[1, 'hart 0'], [2, 'hart 1']]);
      const stop = d.positions[d.positions.length - 1].body;
      assert.equal(stop.hart, 1, 'hart 1 hit secondary_main');
      const h1 = await d.where(2);
      assert.equal(h1.name, 'secondary_main');
      const h0 = await d.where(1);
      assert.notEqual(h0.pc, h1.pc);
    } finally {
      await d.close();
    }
  });

  it('registers, CSRs and devices', async () => {
    const { d } = await Dap.launch({ program: guestElf('traps-O0') }, async (x) => { await x.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'trap_handler' }] }); });
    try {
      const w = await d.where();
      const regs = await scope(d, 'Registers');
      assert.equal(regs.length, 33);
      assert.equal(Number(regs[0].value.split(' ')[0]), w.pc, 'pc first');
      assert.equal(regs[1].name, 'zero (x0)');
      assert.match(regs[1].value, /^0x00000000 \(0\)$/);
      assert.equal(regs[11].name, 'a0 (x10)');
      const csrs = await scope(d, 'CSRs');
      const mcause = csrs.find((c) => c.name === 'mcause')!;
      assert.match(mcause.value, /^0x0000000b \(ecall from M-mode\)$/, 'the first trap is the ecall');
      const mepc = csrs.find((c) => c.name === 'mepc')!;
      const nm = spawnSync('riscv64-unknown-elf-nm', [guestElf('traps-O0')], { encoding: 'utf8' }).stdout;
      assert.equal(Number(mepc.value), parseInt(/^([0-9a-f]+) \w site_ecall$/m.exec(nm)![1], 16));
      const mstatus = csrs.find((c) => c.name === 'mstatus')!;
      const fields = (await d.dc.variablesRequest({ variablesReference: mstatus.variablesReference })).body.variables;
      assert.deepEqual(fields.map((f) => f.name), ['MIE', 'MPIE', 'MPP', 'MPRV']);
      assert.equal(fields.find((f) => f.name === 'MPP')!.value, '3');
      const devices = await scope(d, 'Devices');
      assert.deepEqual(devices.map((x) => x.name.split(' ')[0]), ['UART', 'CLINT', 'PLIC', 'Goldfish']);
      const uart = (await d.dc.variablesRequest({ variablesReference: devices[0].variablesReference })).body.variables;
      assert.match(uart.find((u) => u.name === 'LSR')!.value, /^0x6[0-9a-f]$/, 'transmitter empty (THRE, TEMT)');
      // Reading the devices again changed nothing (no side effects): same values.
      const again = (await d.dc.variablesRequest({ variablesReference: (await scope(d, 'Devices'))[0].variablesReference })).body.variables;
      assert.deepEqual(again.map((v) => v.value), uart.map((v) => v.value));
    } finally {
      await d.close();
    }
  });

  it('memory: readable RAM, unreadable holes; evaluate gives registers and symbols', async () => {
    const { d } = await Dap.launch({ program: guestElf('hello-O2'), stopOnEntry: true });
    try {
      const m = await d.dc.customRequest('readMemory', { memoryReference: '0x80000000', count: 16 });
      assert.equal(m.body.address, '0x80000000');
      const seg = parseElf(fs.readFileSync(guestElf('hello-O2'))).segments.find((x) => x.paddr === 0x80000000)!;
      assert.deepEqual([...Buffer.from(m.body.data, 'base64')], [...seg.data.subarray(0, 16)], 'what the ELF loaded there');
      const hole = await d.dc.customRequest('readMemory', { memoryReference: '0x00050000', count: 8 });
      assert.equal(hole.body.unreadableBytes, 8);
      const rom = await d.dc.customRequest('readMemory', { memoryReference: '0x1000', count: 4 });
      assert.equal(Buffer.from(rom.body.data, 'base64').readUInt32LE(0), 0x00000297, 'the reset stub: auipc t0,0');
      const st = await d.dc.stackTraceRequest({ threadId: 1 });
      const pc = await d.dc.evaluateRequest({ expression: '$pc', frameId: st.body.stackFrames[0].id, context: 'watch', format: { hex: true } });
      assert.equal(pc.body.result, '0x1000', 'stopped on entry: at the reset vector (as gdb prints $pc)');
      const bad = await d.dc.evaluateRequest({ expression: 'no_such_thing', context: 'watch' }).then(() => '', (e: Error) => e.message);
      assert.match(bad, /No symbol "no_such_thing" in current context\./);
    } finally {
      await d.close();
    }
  });

  it('disassemble: exactly instructionCount instructions, before and after, on objdump\'s boundaries', async () => {
    const elf = guestElf('hello-O2');
    const addrs = objdumpAddresses(elf);
    const { d } = await Dap.launch({ program: elf, stopOnEntry: true });
    try {
      for (const [i, off, count] of [[200, -10, 25], [50, 0, 7], [300, 5, 3], [3, -20, 30], [120, -1, 1]] as const) {
        const base = addrs[i];
        const r = await d.dc.disassembleRequest({ memoryReference: `0x${base.toString(16)}`, instructionOffset: off, instructionCount: count });
        const got = r.body!.instructions;
        assert.equal(got.length, count);
        got.forEach((ins, k) => {
          const j = i + off + k;
          if (j >= 0 && j < addrs.length && addrs[j] >= 0x80000000) assert.equal(Number(ins.address), addrs[j], `instruction ${k} of the window at ${addrs[i].toString(16)}${off}`);
        });
      }
      const first = await d.dc.disassembleRequest({ memoryReference: '0x80000000', instructionOffset: -4, instructionCount: 6 });
      assert.equal(first.body!.instructions.length, 6);
      assert.equal(first.body!.instructions[0].presentationHint, 'invalid', 'nothing before RAM: padded');
      assert.equal(Number(first.body!.instructions[4].address), 0x80000000);
      const withLines = (await d.dc.disassembleRequest({ memoryReference: `0x${addrs[200].toString(16)}`, instructionCount: 40 })).body!.instructions;
      assert.ok(withLines.some((x) => x.line !== undefined && x.location?.path !== undefined), 'source locations where lines change');
    } finally {
      await d.close();
    }
  });

  it('loaded sources, and the source of a file that is not on disk', async () => {
    const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-src-')), 'hello-O2.elf');
    fs.copyFileSync(guestElf('hello-O2'), copy); // away from the sources
    const { d } = await Dap.launch({ program: copy, stopOnEntry: true });
    try {
      const srcs = (await d.dc.customRequest('loadedSources', {})).body.sources as DebugProtocol.Source[];
      const hello = srcs.find((s) => s.name === 'hello.c');
      assert.ok(hello && hello.sourceReference, 'hello.c is not beside the copy: a source reference');
      const text = (await d.dc.sourceRequest({ source: hello, sourceReference: hello.sourceReference! })).body.content;
      assert.match(text, /hello\.c is not on this machine/);
      assert.match(text, /\/\/ line \d+\n\/\/   0x8[0-9a-f]{7}  /);
    } finally {
      await d.close();
      fs.rmSync(path.dirname(copy), { recursive: true, force: true });
    }
  });
});
