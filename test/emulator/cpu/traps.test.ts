/**
 * Machine-mode traps (privileged spec v20211203, chapter 3): exceptions, mret, mtvec modes,
 * interrupt priority and WFI, together with the counting rule that follows QEMU -icount (a
 * load/store that faults is not counted, ecall/ebreak/illegal ones are, taking an interrupt
 * counts nothing).
 */
import assert from 'node:assert/strict';
import { Loaded, R, loadAsm, runProgram, step, ux } from '../../support/assemble';
import { runWithTrapRecorder, TRAP_RECORDER } from '../../support/assemble';

/** Runs `body` with a recording trap handler; s9 = -1 afterwards means no trap was taken. */
function exec(body: string, data = ''): Loaded {
  return runWithTrapRecorder(body, data, 'after');
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16);
const trapRegs = (l: Loaded) => [hex(l.h.x[R.s9]), hex(l.h.x[R.s10]), hex(l.h.x[R.s11])];

const MSIP = 0x02000000;
const MTIMECMP = 0x02004000;
const MTIME = 0x0200bff8;

describe('traps', () => {
  describe('exceptions (§3.1.15, §3.1.16)', () => {
    it('ECALL: mcause 11, mepc = its address, mtval 0, and it is counted', () => {
      const l = exec('li t0, 0x1234\n csrw mtval, t0\nbad: ecall');
      assert.deepEqual(trapRegs(l), ['0xb', hex(l.sym.bad), '0x0']);
      assert.equal(l.m.icount, 3 + 3 + 1 + 7);
    });

    // mtval may be 0 or the pc (priv §3.1.16); QEMU 7.2 writes 0 and Rewind matches it.
    it('EBREAK: mcause 3, mepc = its address, mtval = 0 (as QEMU), and it is counted', () => {
      const l = exec('.option norvc\nbad: ebreak\n.option rvc');
      assert.deepEqual(trapRegs(l), ['0x3', hex(l.sym.bad), '0x0']);
      assert.equal(l.m.icount, 3 + 1 + 7);
    });

    it('a load from an unmapped address raises load access fault (mcause 5, mtval = address), is not counted, leaves rd', () => {
      const l = exec('li a0, 4\n li a1, 77\nbad: lw a1, 0(a0)');
      assert.deepEqual(trapRegs(l), ['0x5', hex(l.sym.bad), '0x4']);
      assert.equal(l.h.x[R.a1], 77);
      assert.equal(l.m.icount, 3 + 2 + 0 + 7);
    });

    it('a store to an unmapped address raises store/AMO access fault (mcause 7, mtval = address), is not counted', () => {
      const l = exec('li a0, 0\n li a1, 77\nbad: sw a1, 8(a0)');
      assert.deepEqual(trapRegs(l), ['0x7', hex(l.sym.bad), '0x8']);
      assert.equal(l.m.icount, 3 + 2 + 0 + 7);
    });

    it('a byte load just past the end of RAM raises load access fault', () => {
      const l = exec('li a0, 0x80100000\nbad: lbu a1, 0(a0)');
      assert.deepEqual(trapRegs(l), ['0x5', hex(l.sym.bad), '0x80100000']);
    });

    it('jumping to 0x0 raises instruction access fault (mcause 1, mepc 0, mtval 0); the fetch is not counted', () => {
      const l = exec('li s10, -1\n li t0, 0\n jr t0');
      assert.deepEqual(trapRegs(l), ['0x1', '0x0', '0x0']);
      assert.equal(l.m.icount, 3 + 3 + 0 + 7);
    });

    it('a 32-bit instruction whose second half lies past the end of RAM: fetch access fault, mepc = its start, mtval = the missing half', () => {
      const l = loadAsm(`  SET_MTVEC trap\n  li t0, 0x800ffffe\n  jr t0\n${TRAP_RECORDER}`);
      l.m.bus.writeRam(0x800ffffe, Uint8Array.from([0x13, 0x05])); // low half of addi a0, x0, 1
      step(l, 'exit');
      assert.deepEqual(trapRegs(l), ['0x1', '0x800ffffe', '0x80100000']);
      assert.equal(l.m.icount, 3 + 3 + 0 + 7);
    });
  });

  describe('trap entry and MRET (§3.1.6.1, §3.3.2)', () => {
    it('trap entry copies MIE into MPIE, clears MIE and sets MPP = M', () => {
      const off = runProgram(`SET_MTVEC trap\n csrci mstatus, 8\n ecall\n .balign 4\ntrap:\n csrr a0, mstatus\n EXIT`, 'exit');
      const onStatus = runProgram(`SET_MTVEC trap\n csrsi mstatus, 8\n ecall\n .balign 4\ntrap:\n csrr a0, mstatus\n EXIT`, 'exit');
      assert.equal(hex(onStatus.h.x[R.a0]), '0x1880');
      assert.equal(hex(off.h.x[R.a0]), '0x1800');
    });

    it('MRET sets MIE from MPIE, sets MPIE to 1 and jumps to mepc', () => {
      const l = runProgram(`
  la t0, t1
  csrw mepc, t0
  li t0, 0x80
  csrw mstatus, t0      # MPIE=1, MIE=0
  mret
  li s1, 9
t1:
  csrr a0, mstatus
  la t0, t2
  csrw mepc, t0
  li t0, 0x08
  csrw mstatus, t0      # MPIE=0, MIE=1
  mret
  li s1, 9
t2:
  csrr a1, mstatus
  EXIT`, 'exit');
      assert.equal(l.h.x[R.s1], 0, 'mret jumped over the fall-through');
      assert.equal(hex(l.h.x[R.a0]), '0x1888');
      assert.equal(hex(l.h.x[R.a1]), '0x1880');
    });
  });

  describe('mtvec modes (§3.1.7)', () => {
    const table = Array.from({ length: 12 }, (_, i) => `  j v${i}`).join('\n');
    const entries = Array.from({ length: 12 }, (_, i) => `v${i}:\n  li s1, ${i}\n  j common`).join('\n');
    const vectored = (body: string) => `
  li s1, -1
  la t0, vec
  ori t0, t0, 1
  csrw mtvec, t0
${body}
  EXIT
common:
  csrr s2, mcause
  csrr s3, mtvec
  EXIT
  .balign 64
vec:
.option push
.option norvc
${table}
.option pop
${entries}`;

    const cases: [string, string, (l: Loaded) => void, number, number][] = [
      ['an exception (ECALL) goes to BASE', 'ecall', () => undefined, 0, 11],
      ['a software interrupt goes to BASE + 4*3', `li t0, ${MSIP}\n li t1, 1\n sw t1, 0(t0)\n csrsi mie, 8\n csrsi mstatus, 8`, () => undefined, 3, 0x80000003],
      ['a timer interrupt goes to BASE + 4*7', `li t0, ${MTIMECMP}\n sw x0, 4(t0)\n sw x0, 0(t0)\n li t0, 0x80\n csrs mie, t0\n csrsi mstatus, 8`, () => undefined, 7, 0x80000007],
      ['an external interrupt goes to BASE + 4*11', 'li t0, 0x800\n csrs mie, t0\n csrsi mstatus, 8', (l) => { l.h.mip |= 0x800; }, 11, 0x8000000b],
    ];
    for (const [what, body, prepare, slot, cause] of cases) {
      it(`vectored mode: ${what}`, () => {
        const l = loadAsm(vectored(body));
        prepare(l);
        step(l, 'exit');
        assert.equal(l.h.x[R.s1], slot, 'vector slot');
        assert.equal(hex(l.h.x[R.s2]), hex(cause), 'mcause');
        assert.equal(hex(l.h.x[R.s3]), hex(l.sym.vec + 1), 'mtvec keeps the mode');
      });
    }

    it('direct mode: interrupts go to BASE too', () => {
      const l = exec(`li t0, ${MSIP}\n li t1, 1\n sw t1, 0(t0)\n csrsi mie, 8\n csrsi mstatus, 8\nafter:\n nop`);
      assert.deepEqual(trapRegs(l).slice(0, 2), ['0x80000003', hex(l.sym.after)]);
    });
  });

  describe('interrupts (§3.1.9)', () => {
    it('with MEI, MSI and MTI all pending they are taken in the order MEI, MSI, MTI', () => {
      const l = loadAsm(`
  SET_MTVEC handler
  la s0, log
  li t0, ${MSIP}
  li t1, 1
  sw t1, 0(t0)
  li t0, ${MTIMECMP}
  sw x0, 4(t0)
  sw x0, 0(t0)
  li t0, 0x888
  csrw mie, t0
  csrsi mstatus, 8
after:
  nop
  EXIT
  .balign 4
handler:
  csrr t0, mcause
  sw t0, 0(s0)
  csrr t0, mepc
  sw t0, 4(s0)
  addi s0, s0, 8
  csrr t0, mcause
  andi t0, t0, 31
  li t1, 1
  sll t1, t1, t0
  csrc mie, t1
  mret
  .balign 8
log: .space 32`);
      l.h.mip |= 0x800; // MEIP, as the PLIC would drive it
      step(l, 'exit');
      const log = Array.from({ length: 8 }, (_, i) => hex(l.m.bus.load(l.sym.log + 4 * i, 4)));
      const after = hex(l.sym.after);
      assert.deepEqual(log, ['0x8000000b', after, '0x80000003', after, '0x80000007', after, '0x0', '0x0']);
    });

    it('an interrupt is taken before the next instruction, with mepc = that instruction, and counts nothing', () => {
      const l = exec(`li t0, ${MSIP}\n li t1, 1\n sw t1, 0(t0)\n li t0, 8\n csrw mie, t0\n csrsi mstatus, 8\nnext:\n nop`);
      assert.deepEqual(trapRegs(l), ['0x80000003', hex(l.sym.next), '0x0']);
      assert.equal(l.m.icount, 3 + 6 + 7);
    });

    it('a pending, enabled interrupt is not taken while mstatus.MIE = 0, and is taken as soon as MIE is set', () => {
      const l = exec(`
  li t0, ${MSIP}
  li t1, 1
  sw t1, 0(t0)
  li t0, 8
  csrw mie, t0
  .rept 10
  nop
  .endr
  li s1, 1
  csrr s3, mip
  csrsi mstatus, 8
after:
  li s2, 1`);
      assert.equal(l.h.x[R.s1], 1);
      assert.equal(l.h.x[R.s3] & 8, 8, 'mip.MSIP visible');
      assert.equal(l.h.x[R.s2], 0, 'interrupt taken before `after`');
      assert.deepEqual(trapRegs(l).slice(0, 2), ['0x80000003', hex(l.sym.after)]);
    });

    it('WFI with mstatus.MIE = 0 waits, and resumes after the WFI without trapping when an enabled interrupt becomes pending', () => {
      const l = loadAsm(`
  SET_MTVEC handler
  li t0, 8
  csrw mie, t0
  wfi
after:
  li s1, 1
  EXIT
  .balign 4
handler:
  li s2, 1
  EXIT`);
      const r = l.m.run(l.m.icount + 1000);
      assert.equal(r.reason, 'idle');
      assert.equal(l.h.halted, true);
      assert.equal(hex(l.h.pc), hex(l.sym.after));
      assert.equal(l.h.x[R.s1], 0);
      assert.ok(l.m.bus.store(MSIP, 4, 1)); // the host (another hart, say) raises MSIP
      step(l, 'exit');
      assert.equal(l.h.halted, false);
      assert.equal(l.h.x[R.s1], 1, 'resumed after wfi');
      assert.equal(l.h.x[R.s2], 0, 'no trap');
    });

    const armTimer = (k: number) => `
  li t2, ${MTIME}
  lw a0, 0(t2)
  addi a0, a0, ${k}
  li t0, ${MTIMECMP}
  li t1, -1
  sw t1, 4(t0)
  sw a0, 0(t0)
  sw x0, 4(t0)
  li t0, 0x80
  csrw mie, t0`;

    it('WFI with MIE = 0 and a timer armed: the clock warps to mtimecmp and execution continues after the WFI', () => {
      const l = exec(`${armTimer(1000)}\n  wfi\n  lw a1, 0(t2)\n  csrr a2, mip`);
      assert.equal(l.h.x[R.s9], -1, 'no trap');
      assert.ok(ux(l.h, R.a1) >= ux(l.h, R.a0), `mtime ${l.h.x[R.a1]} >= mtimecmp ${l.h.x[R.a0]}`);
      assert.equal(l.h.x[R.a2] & 0x80, 0x80, 'MTIP pending');
      assert.ok(l.m.icount < 100, `${l.m.icount} instructions`);
    });

    it('WFI with MIE = 1 and a timer armed: MTI (mcause 0x80000007) is taken after the warp, mepc = the instruction after WFI', () => {
      const l = runProgram(`
  SET_MTVEC handler
${armTimer(1000)}
  csrsi mstatus, 8
  wfi
after:
  li s1, 1
  EXIT
  .balign 4
handler:
  lw a1, 0(t2)
  csrr s2, mcause
  csrr s3, mepc
  EXIT`, 'exit');
      assert.equal(hex(l.h.x[R.s2]), '0x80000007');
      assert.equal(hex(l.h.x[R.s3]), hex(l.sym.after));
      assert.equal(l.h.x[R.s1], 0);
      assert.ok(ux(l.h, R.a1) >= ux(l.h, R.a0), `mtime ${l.h.x[R.a1]} >= mtimecmp ${l.h.x[R.a0]}`);
      assert.ok(l.m.icount < 100, `${l.m.icount} instructions`);
    });

    it('a timer interrupt arrives once mtime reaches mtimecmp while the hart spins', () => {
      const l = runProgram(`
  SET_MTVEC handler
${armTimer(3)}
  csrsi mstatus, 8
spin:
  j spin
  .balign 4
handler:
  lw a1, 0(t2)
  csrr s2, mcause
  EXIT`, 'exit');
      const cmp = ux(l.h, R.a0);
      assert.equal(hex(l.h.x[R.s2]), '0x80000007');
      assert.ok(ux(l.h, R.a1) >= cmp, `mtime ${l.h.x[R.a1]} >= mtimecmp ${cmp}`);
      assert.ok(l.m.icount < cmp * 100 + 100, `${l.m.icount} instructions`);
    });
  });

  describe('a hart that cannot fetch its own trap handler', () => {
    // QEMU spins here forever without counting an instruction, so no instruction limit could
    // end it; Rewind stops the run and says why.
    it('stops with reason "stuck" instead of looping forever when mtvec points at unmapped memory', () => {
      const l = loadAsm('  li t0, 0x40\n  csrw mtvec, t0\n  jr t0');
      const r = l.m.run(1_000_000);
      assert.equal(r.reason, 'stuck');
      assert.equal(l.h.pc >>> 0, 0x40);
      assert.equal(l.h.mcause, 1);
      assert.equal(l.m.icount, 3); // li, csrw, jr; the faulting fetches count nothing
    });
  });
});
