/**
 * Call-frame information and unwinding, checked against reality:
 *  - every row of every FDE against `readelf --debug-dump=frames-interp` (.debug_frame as the
 *    Makefile builds the guests, .eh_frame when rebuilt with -fasynchronous-unwind-tables);
 *  - call stacks against a shadow call stack: the guest runs on Rewind's emulator one
 *    instruction at a time from reset, a jal/jalr that links ra pushes (return address, sp),
 *    a `ret` pops, and at many points (every instruction early on, then a stride, and deep in
 *    qsort's recursion) the unwound frames must be exactly the shadow stack;
 *  - the frame-pointer fallback on -O0 guests with .debug_frame removed and fully stripped.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDebugInfo, DebugInfo } from '../../../emulator/debuginfo/debugInfo';
import { parseElf } from '../../../emulator/debuginfo/elf';
import { Machine } from '../../../emulator/machine/machine';
import { buildGuest, GUEST_BIN, tool, transformElf } from '../../support/riscvTools';

const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
  's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];
const regNumber = (name: string): number => {
  const i = ABI.indexOf(name);
  if (i >= 0) return i;
  const m = /^r(\d+)$/.exec(name);
  assert.ok(m, `register ${name}`);
  return Number(m[1]);
};

const debugInfoOf = (file: string): DebugInfo => loadDebugInfo(parseElf(new Uint8Array(fs.readFileSync(file))));

/** Every FDE row readelf computes must be the row rowAt() computes at that location. */
function compareFramesWithReadelf(file: string): number {
  const di = debugInfoOf(file);
  const out = tool('readelf', ['-W', '--debug-dump=frames-interp', file]);
  let columns: string[] = [];
  let inFde = false;
  let rows = 0;
  for (const line of out.split('\n')) {
    if (/ FDE cie=/.test(line)) {
      inFde = true;
      columns = [];
      continue;
    }
    if (/ CIE/.test(line)) inFde = false;
    if (!inFde) continue;
    const header = /^\s+LOC\s+CFA\s*(.*)$/.exec(line);
    if (header) {
      columns = header[1].trim().split(/\s+/).filter((c) => c !== '');
      continue;
    }
    const m = /^([0-9a-f]{8})\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const loc = parseInt(m[1], 16);
    const row = di.frameInfo.rowAt(loc);
    assert.ok(row, `no row at 0x${m[1]}`);
    const where = `${path.basename(file)} 0x${m[1]}`;
    const cfa = /^(\w+)([+-]\d+)$/.exec(m[2]);
    assert.ok(cfa && row.cfa.kind === 'register', `${where}: CFA ${m[2]}`);
    assert.equal(row.cfa.reg, regNumber(cfa[1]), `${where}: CFA register`);
    assert.equal(row.cfa.offset, Number(cfa[2]), `${where}: CFA offset`);
    const cells = m[3].trim().split(/\s+/).filter((c) => c !== '');
    columns.forEach((col, i) => {
      const rule = row.rules.get(regNumber(col));
      const text = !rule || rule.kind === 'undefined' ? 'u'
        : rule.kind === 'same' ? 's'
          : rule.kind === 'offset' ? `c${rule.offset >= 0 ? '+' : ''}${rule.offset}`
            : rule.kind === 'valOffset' ? `v${rule.offset >= 0 ? '+' : ''}${rule.offset}`
              : rule.kind === 'register' ? ABI[rule.reg] : 'exp';
      assert.equal(text, cells[i], `${where}: rule for ${col}`);
    });
    rows++;
  }
  return rows;
}

interface ShadowFrame {
  /** Where the callee returns to. */
  ret: number;
  /** The caller's sp at the call, which is the caller's sp whenever it is in that call. */
  sp: number;
}

type Kind = 'call' | 'ret' | 'jump' | 'branch' | 'system' | 'other';

/** Just enough RV32IC decoding to see calls, returns and traps. */
function classify(insn: number, x: Int32Array, pc: number): { len: number; kind: Kind; target?: number } {
  if ((insn & 3) === 3) {
    const op = insn & 0x7f, rd = (insn >> 7) & 31, rs1 = (insn >> 15) & 31;
    // Only ra counts: the reset ROM jumps to the kernel with `jr t0`, which the psABI's
    // return-address-stack hints would call a return.
    const links = rd === 1;
    if (op === 0x6f) {
      const imm = (((insn >> 31) & 1) << 20) | (((insn >> 12) & 0xff) << 12) | (((insn >> 20) & 1) << 11) | (((insn >> 21) & 0x3ff) << 1);
      return { len: 4, kind: links ? 'call' : 'jump', target: (pc + ((imm << 11) >> 11)) >>> 0 };
    }
    if (op === 0x67) {
      const target = ((x[rs1] + (insn >> 20)) & ~1) >>> 0;
      return { len: 4, kind: links ? 'call' : rd === 0 && rs1 === 1 ? 'ret' : 'jump', target };
    }
    if (op === 0x63) return { len: 4, kind: 'branch' };
    if (op === 0x73 && ((insn >> 12) & 7) === 0) return { len: 4, kind: 'system' };
    return { len: 4, kind: 'other' };
  }
  const q = insn & 3, f3 = (insn >> 13) & 7;
  if (q === 1 && (f3 === 1 || f3 === 5)) {
    const b = (n: number) => (insn >> n) & 1;
    const imm = (b(12) << 11) | (b(8) << 10) | (((insn >> 9) & 3) << 8) | (b(6) << 7) | (b(7) << 6) | (b(2) << 5) | (b(11) << 4) | (((insn >> 3) & 7) << 1);
    return { len: 2, kind: f3 === 1 ? 'call' : 'jump', target: (pc + ((imm << 20) >> 20)) >>> 0 }; // c.jal (RV32) / c.j
  }
  if (q === 1 && f3 >= 6) return { len: 2, kind: 'branch' };
  if (q === 2 && f3 === 4 && ((insn >> 2) & 31) === 0) {
    const rs1 = (insn >> 7) & 31;
    if (rs1 === 0) return { len: 2, kind: (insn >> 12) & 1 ? 'system' : 'other' }; // c.ebreak
    const target = (x[rs1] & ~1) >>> 0;
    if ((insn >> 12) & 1) return { len: 2, kind: 'call', target }; // c.jalr
    return { len: 2, kind: rs1 === 1 ? 'ret' : 'jump', target }; // c.jr
  }
  return { len: 2, kind: 'other' };
}

const RAM_BASE = 0x80000000, RAM_MIB = 16;

interface WalkOptions {
  /** Instructions to single-step from reset. */
  steps: number;
  /** Check at every instruction up to here, then every `stride` and right after calls and returns. */
  dense: number;
  stride: number;
  /** Only check where this holds (the frame-pointer fallback needs an established frame). */
  when?: (shadow: ShadowFrame[], x: Int32Array) => boolean;
}

interface WalkStats {
  checks: number;
  maxDepth: number;
  methods: Set<string>;
}

/**
 * Runs `elf` from reset one instruction at a time, keeping the shadow stack, and at the chosen
 * points compares `di.callStack` with it: the same pcs (the current pc, then each return
 * address) and, for every caller, the sp it had at the call.
 */
function walk(elfFile: string, di: DebugInfo, o: WalkOptions): WalkStats {
  const m = new Machine({ ramMiB: RAM_MIB });
  m.loadElf(new Uint8Array(fs.readFileSync(elfFile)));
  const h = m.harts[0];
  // Guest RAM only: an unwinder chasing a bad pointer must not read MMIO (a UART read has side effects).
  const readWord = (a: number): number => {
    if (a < RAM_BASE || a + 4 > RAM_BASE + RAM_MIB * 1024 * 1024) throw new Error(`0x${a.toString(16)} is outside RAM`);
    return m.bus.load(a, 4);
  };
  const shadow: ShadowFrame[] = [];
  const stats: WalkStats = { checks: 0, maxDepth: 0, methods: new Set() };
  let lastEdge = -1;
  for (let i = 0; i < o.steps; i++) {
    const pc = h.pc >>> 0;
    const inCode = di.symbols.isCode(pc);
    if (inCode && (i < o.dense || i % o.stride === 0 || i === lastEdge + 1) && (!o.when || o.when(shadow, h.x))) {
      const frames = di.callStack(pc, h.x, readWord, 256);
      const expected = [pc, ...shadow.map((f) => f.ret).reverse()];
      const got = frames.map((f) => f.pc);
      const describe = () => `at icount ${m.icount}, pc ${di.symbols.describe(pc)}: expected ${expected.map((a) => di.symbols.describe(a)).join(' < ')}, unwound ${frames.map((f) => `${di.symbols.describe(f.pc)} (${f.method})`).join(' < ')}`;
      const sps = frames.slice(1).map((f) => f.sp);
      const expectedSps = shadow.map((f) => f.sp).reverse();
      // Compared by hand so the (costly) message is only built on a mismatch.
      if (got.length !== expected.length || got.some((a, k) => a !== expected[k])) assert.fail(describe());
      if (sps.some((a, k) => a !== expectedSps[k])) assert.fail(`sp ${sps} != ${expectedSps}: ${describe()}`);
      for (const f of frames) stats.methods.add(f.method);
      stats.checks++;
      stats.maxDepth = Math.max(stats.maxDepth, frames.length);
    }
    const lo = m.bus.load(pc, 2);
    const insn = (lo & 3) === 3 ? m.bus.load(pc, 4) : lo;
    const c = classify(insn, h.x, pc);
    const sp = h.x[2] >>> 0;
    const r = m.run(m.icount + 1);
    if (r.reason !== 'limit') break;
    const next = h.pc >>> 0;
    const trapped = c.kind === 'system' || (c.kind === 'other' && next !== pc + c.len) || (c.target !== undefined && next !== c.target);
    // These guests take no traps; one would need trap frames in the shadow stack.
    assert.ok(!trapped, `unexpected trap or jump at 0x${pc.toString(16)} (icount ${m.icount})`);
    if (c.kind === 'call') {
      shadow.push({ ret: (pc + c.len) >>> 0, sp });
      lastEdge = i;
    } else if (c.kind === 'ret') {
      assert.ok(shadow.length > 0, `return with an empty shadow stack at 0x${pc.toString(16)}`);
      shadow.pop();
      lastEdge = i;
    }
  }
  return stats;
}

/**
 * Steps from reset, and the depth the stack must reach within them (measured), so each case
 * really compares deep stacks: hello's recursive fib(20) at -O0, qsort's recursion, which
 * starts after the 60000 values are generated (about 4.9 M instructions at -O0, 1.2 M at -O2).
 */
const GUESTS: { program: string; steps: [number, number]; depth: [number, number] }[] = [
  { program: 'hello', steps: [300_000, 300_000], depth: [20, 4] },
  { program: 'qsort', steps: [5_000_000, 1_300_000], depth: [12, 11] },
  { program: 'crc32', steps: [300_000, 300_000], depth: [5, 2] },
  { program: 'matmul', steps: [300_000, 300_000], depth: [3, 2] },
  { program: 'sieve', steps: [500_000, 500_000], depth: [3, 2] },
  { program: 'strsearch', steps: [300_000, 300_000], depth: [4, 2] },
  { program: 'bugdemo', steps: [300_000, 300_000], depth: [5, 3] },
  { program: 'rtc', steps: [300_000, 300_000], depth: [5, 3] },
];

describe('debuginfo/cfi: call-frame information and unwinding', function () {
  this.timeout(300_000);

  describe('every FDE row matches readelf --debug-dump=frames-interp', () => {
    for (const opt of ['O0', 'O2']) {
      it(`the -${opt} guests' .debug_frame`, () => {
        for (const f of fs.readdirSync(GUEST_BIN).filter((n) => n.endsWith(`-${opt}.elf`))) {
          assert.ok(compareFramesWithReadelf(path.join(GUEST_BIN, f)) > 10, f);
        }
      });
    }
    it('.eh_frame (qsort and traps rebuilt with -fasynchronous-unwind-tables)', () => {
      for (const program of ['qsort', 'traps']) {
        for (const opt of ['O0', 'O2'] as const) {
          const elf = buildGuest({ program, opt, cflags: ['-fasynchronous-unwind-tables'], keepEhFrame: true });
          const sections = tool('readelf', ['-SW', elf]);
          assert.match(sections, /\.eh_frame/);
          assert.doesNotMatch(sections, /\.debug_frame/);
          assert.ok(compareFramesWithReadelf(elf) > 10);
        }
      }
    });
  });

  describe('unwinding equals the shadow call stack', () => {
    for (const g of GUESTS) {
      (['O0', 'O2'] as const).forEach((opt, o) => {
        it(`${g.program}-${opt}: ${g.steps[o].toLocaleString('en')} instructions, depth ${g.depth[o]}`, () => {
          const file = path.join(GUEST_BIN, `${g.program}-${opt}.elf`);
          const stats = walk(file, debugInfoOf(file), { steps: g.steps[o], dense: 40_000, stride: 11 });
          // rtc exits after 6,360 (-O0) and 894 (-O2) instructions: every one is checked.
          assert.ok(stats.checks > (g.program === 'rtc' ? 800 : 40_000), `${stats.checks} checks`);
          assert.ok(stats.maxDepth >= g.depth[o], `max depth ${stats.maxDepth}`);
        });
      });
    }
    it('qsort-O2 with .eh_frame instead of .debug_frame', () => {
      const file = buildGuest({ program: 'qsort', opt: 'O2', cflags: ['-fasynchronous-unwind-tables'], keepEhFrame: true });
      const di = debugInfoOf(file);
      assert.ok(di.frameInfo.fdes.every((f) => f.section === '.eh_frame'));
      const stats = walk(file, di, { steps: 1_200_000, dense: 20_000, stride: 13 });
      assert.ok(stats.maxDepth >= 8, `max depth ${stats.maxDepth}`);
    });
  });

  describe('without call-frame information', () => {
    // The frame-pointer chain exists once the prologue has set s0 to the CFA, which is the sp
    // the caller had at the call; in prologues and epilogues only CFI can say where things are.
    const established = (shadow: ShadowFrame[], x: Int32Array): boolean => shadow.length > 0 && x[8] >>> 0 === shadow[shadow.length - 1].sp;

    for (const g of GUESTS.filter((x) => ['hello', 'qsort', 'crc32', 'strsearch'].includes(x.program))) {
      it(`${g.program}-O0 without .debug_frame: the s0 chain gives the same stack`, () => {
        const file = transformElf(path.join(GUEST_BIN, `${g.program}-O0.elf`), 'objcopy', ['--remove-section=.debug_frame']);
        const di = debugInfoOf(file);
        assert.equal(di.frameInfo.fdes.length, 0);
        const stats = walk(file, di, { steps: g.steps[0], dense: 40_000, stride: 11, when: established });
        assert.ok(stats.checks > 10_000, `${stats.checks} checks`);
        assert.ok(stats.maxDepth >= g.depth[0], `max depth ${stats.maxDepth}`);
        assert.deepEqual([...stats.methods].sort(), ['fp', 'innermost']);
      });
    }

    it('a stripped -O0 ELF: the same pcs, no names, no lines', () => {
      const file = transformElf(path.join(GUEST_BIN, 'hello-O0.elf'), 'strip', []);
      const di = debugInfoOf(file);
      assert.equal(di.lines, undefined);
      assert.equal(di.functionAt(0x80000000), undefined);
      const stats = walk(file, di, { steps: 300_000, dense: 40_000, stride: 11, when: established });
      assert.ok(stats.checks > 10_000 && stats.maxDepth >= 20, `${stats.checks} checks, depth ${stats.maxDepth}`);
    });

    it('--strip-debug keeps the symbols: functions by name, no lines, no crash on -O2', () => {
      const file = transformElf(path.join(GUEST_BIN, 'qsort-O2.elf'), 'strip', ['--strip-debug']);
      const di = debugInfoOf(file);
      assert.equal(di.lineAt(0x80000000), undefined);
      assert.equal(di.functionAt(di.addressOf('main') as number)?.name, 'main');
      // -O2 code keeps no frame pointer, so the walk is best effort: it must stay in code, never throw.
      const m = new Machine({ ramMiB: RAM_MIB });
      m.loadElf(new Uint8Array(fs.readFileSync(file)));
      for (let n = 0; n < 400; n++) {
        m.run(m.icount + 997);
        const h = m.harts[0];
        const frames = di.callStack(h.pc, h.x, (a) => m.bus.load(a, 4), 32);
        assert.equal(frames[0].pc, h.pc >>> 0);
        assert.equal(frames[0].function, di.functionAt(h.pc)?.name);
        for (const f of frames) assert.ok(di.symbols.isCode(f.pc), `frame pc 0x${f.pc.toString(16)}`);
      }
    });
  });

  it('callers are named by their call site: function, file and line of the call', () => {
    const file = path.join(GUEST_BIN, 'qsort-O0.elf');
    const di = debugInfoOf(file);
    const m = new Machine({ ramMiB: RAM_MIB });
    m.loadElf(new Uint8Array(fs.readFileSync(file)));
    const target = di.addressOf('insertion_sort') as number;
    while ((m.harts[0].pc >>> 0) !== target) m.run(m.icount + 1);
    const frames = di.callStack(m.harts[0].pc, m.harts[0].x, (a) => m.bus.load(a, 4));
    assert.deepEqual(frames.map((f) => f.function), ['insertion_sort', 'quicksort', 'quicksort', ...frames.slice(3, -2).map(() => 'quicksort'), 'main', '_start']);
    const addr2line = tool('addr2line', ['-e', file], frames.slice(1).map((f) => (f.pc - 1).toString(16)).join('\n') + '\n').trim().split('\n');
    assert.deepEqual(frames.slice(1).map((f) => `${f.file}:${f.line}`), addr2line.map((l) => l.replace(/ \(discriminator \d+\)$/, '')));
    assert.deepEqual(frames.map((f) => f.method), ['innermost', ...frames.slice(1).map(() => 'cfi')]);
  });
});
