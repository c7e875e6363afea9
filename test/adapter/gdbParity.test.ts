/**
 * Rewind's adapter against gdb on real QEMU (same ELF, `-icount shift=0`): the same breakpoints
 * and the same run of next / step / finish, and at every stop the same line and the same call
 * stack. Then the way back: from the last stop, each step undone with its reverse (reverse-next
 * for a next, reverse-step for a step or for a step that left the function) lands exactly where
 * the forward run stopped before it, icount for icount.
 *
 * Guests whose stepping depends on interrupts are left out: QEMU's gdbstub masks interrupts and
 * timers while single-stepping (its default sstep flags), so under gdb such a guest does not run
 * as it does on its own; Rewind never changes what the guest does.
 */
import assert from 'node:assert/strict';
import { guestElf } from '../support/dapSession';
import { playGdb, playRewind, Scenario, Snapshot } from '../support/gdbScenario';

const SCENARIOS: (Scenario & { title: string })[] = [
  { title: 'hello-O0: main, calls stepped into and over, finish', elf: guestElf('hello-O0'), breakpoints: ['f:main'], ops: 'ssssssssnnnnsssssssssnnnnnfnnnnsssssssssssssssssssssnnnnnnnnnn' },
  { title: 'hello-O0: fib recursion, finish out of nested frames', elf: guestElf('hello-O0'), breakpoints: ['f:fib'], ops: 'nnnsnnnsffnnss' },
  { title: 'bugdemo-O0: load_offsets and feed', elf: guestElf('bugdemo-O0'), breakpoints: ['f:load_offsets', 'f:feed'], ops: 'nnnnnnnfnnnnnnscnnnnnnnnnsss' },
  { title: 'bugdemo-O0: a source line breakpoint', elf: guestElf('bugdemo-O0'), breakpoints: ['l:bugdemo.c:64'], ops: 'nnnnnnnnnnnncnnns' },
  { title: 'qsort-O0: quicksort and insertion_sort', elf: guestElf('qsort-O0'), breakpoints: ['f:quicksort'], ops: 'nnnnnnsssssssnnnnnnnnnnnnnnfnnn' },
  { title: 'crc32-O0: make_table and crc32_bitwise', elf: guestElf('crc32-O0'), breakpoints: ['f:make_table', 'f:crc32_bitwise'], ops: 'nnnnnnnnnnnnfncnnnnnnnnnnnnf' },
  { title: 'sieve-O0: sieve_once', elf: guestElf('sieve-O0'), breakpoints: ['f:sieve_once'], ops: 'nnnnnnnnnnnnnnnnnnnnnnnn' },
  { title: 'matmul-O0: multiply and dot', elf: guestElf('matmul-O0'), breakpoints: ['f:multiply'], ops: 'nnnnssssssnnnnnnnnnnfn' },
  { title: 'strsearch-O0: make_text and search_naive', elf: guestElf('strsearch-O0'), breakpoints: ['f:make_text', 'f:search_naive'], ops: 'nnnnnnnnnnnnscnnnnnnnnnnnnnsss' },
];

const show = (s: Snapshot) => s.frames.map((f) => `${f.func}@${f.file}:${f.line}`).join(' < ');

describe('adapter: stepping against gdb on QEMU', function () {
  this.timeout(600_000);
  for (const sc of SCENARIOS) {
    it(sc.title, async () => {
      const want = await playGdb(sc);
      const { d, snaps: got } = await playRewind(sc);
      try {
        assert.equal(got.length, want.length, `as many stops as gdb made (${want.length})`);
        for (let i = 0; i < want.length; i++) {
          assert.equal(show(got[i]), show(want[i]), `stop ${i} (after '${sc.ops[i - 1] ?? 'c'}'): call stack`);
        }
        // The way back: undo each step with its reverse, newest first.
        for (let i = got.length - 1; i > 0; i--) {
          const op = sc.ops[i - 1];
          // A continue, a finish, or a step that a breakpoint ended is undone by other means
          // (reverse-continue, reverse-finish); a finish also leaves the guest mid-line, where
          // no step stops: the way back ends there.
          if (op === 'c' || op === 'f' || got[i].reason !== 'step' || sc.ops[i - 2] === 'f') break;
          const outward = got[i].frames.length < got[i - 1].frames.length;
          await d.after(() => (op === 'n' && !outward ? d.dc.stepBackRequest({ threadId: 1 }) : d.dc.customRequest('rewind/reverseStepIn', { threadId: 1 })));
          const pos = await d.dc.customRequest('rewind/position');
          const w = await d.where();
          assert.equal(pos.body.icount, got[i - 1].icount, `undoing '${op}' of stop ${i} lands on stop ${i - 1} (${show(got[i - 1])}), at ${w.name}:${w.line}`);
        }
      } finally {
        await d.close();
      }
    });
  }
});
