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

const BUGDEMO_PRINTS = ['cal', 'cal.gain', 'cal.offset[7]', '&cal.gain', 'chan[3].pos', 'chan[1].window[2] + 1', 'sizeof(chan)', '(char)cal.offset[2]', '*(uint32_t *)&cal.gain'];
const QSORT_PRINTS = ['data[0]', 'data[59999]', '&data[3]', 'data[1] < data[2]', '(int)data[4] - (int)data[5]'];

const SCENARIOS: (Scenario & { title: string })[] = [
  { title: 'bugdemo-O0: variables, arguments and globals along a run of steps', elf: guestElf('bugdemo-O0'), breakpoints: ['f:load_offsets', 'f:feed'], ops: 'nnnnnsfnncnnnnsnf', variables: true, prints: BUGDEMO_PRINTS },
  { title: 'bugdemo-O2: the same with optimised code (location lists, inlined calls)', elf: guestElf('bugdemo-O2'), breakpoints: ['f:load_offsets', 'f:feed'], ops: 'c', variables: true, prints: BUGDEMO_PRINTS },
  { title: 'qsort-O0: arrays, pointers and recursion', elf: guestElf('qsort-O0'), breakpoints: ['f:insertion_sort'], ops: 'nnnnnnnnfnnn', variables: true, prints: QSORT_PRINTS },
  // At -O2, `next` is gdb's along insertion_sort and over inlined calls (hello-O2: uart_putc
  // inlined into uart_puts is stepped over, as gdb's infrun does). Still different, so left out
  // until they match: a loop whose body is one line (bugdemo-O2 load_offsets: gdb stops at line
  // 50 again on each iteration, Rewind leaves the loop) and the -O2 `main`s of crc32 and matmul,
  // where GCC interleaves several inlined helpers and gdb's stops follow rules not modelled yet.
  { title: 'hello-O2: next over inlined calls, step into uart_puts, finish', elf: guestElf('hello-O2'), breakpoints: ['f:main'], ops: 'nnnnsnnnnnnnfnnnn', variables: true },
  { title: 'qsort-O2: next along insertion_sort', elf: guestElf('qsort-O2'), breakpoints: ['f:insertion_sort'], ops: 'nnnnnnnnnnnnnnn', variables: true },
  { title: 'qsort-O2: an inlined swap inside quicksort', elf: guestElf('qsort-O2'), breakpoints: ['f:swap', 'f:insertion_sort'], ops: 'ccccc', variables: true, prints: QSORT_PRINTS },
  // hello-O2's fib, partly inlined into itself, is left out: on a loaded machine gdb on QEMU was
  // seen to pass over one of its breakpoint hits now and then (three frames where it usually
  // stops with two), so it is no reference there.
  { title: 'strsearch-O2 and crc32-O2: a constant-propagated clone, inlined loops', elf: guestElf('strsearch-O2'), breakpoints: ['f:search_bmh', 'f:search_naive'], ops: 'ccc', variables: true },
  { title: 'crc32-O2: inlined helpers', elf: guestElf('crc32-O2'), breakpoints: ['f:crc32_table', 'f:make_table', 'f:crc32_bitwise'], ops: 'cc', variables: true },
  { title: 'matmul-O0 and sieve-O0: loops over arrays', elf: guestElf('matmul-O0'), breakpoints: ['f:dot'], ops: 'nnnnnnnncnn', variables: true },
  { title: 'sieve-O0', elf: guestElf('sieve-O0'), breakpoints: ['f:sieve_once'], ops: 'nnnnnnnnnnnn', variables: true },
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
          const at = `stop ${i} (after '${sc.ops[i - 1] ?? 'c'}', ${show(want[i])})`;
          assert.equal(show(got[i]), show(want[i]), `${at}: call stack`);
          if (sc.variables) {
            for (let f = 0; f < want[i].frames.length; f++) {
              assert.deepEqual(got[i].args![f], want[i].args![f], `${at}: arguments of frame ${f}`);
              assert.deepEqual(got[i].locals![f], want[i].locals![f], `${at}: locals of frame ${f}`);
            }
          }
          if (sc.prints) assert.deepEqual(got[i].prints, want[i].prints, `${at}: printed expressions`);
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
