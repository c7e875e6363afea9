/*
 * start.S — reset entry and trap entry for Rewind's bare-metal guests.
 *
 * QEMU virt (-bios none) enters here in machine mode on every hart at once,
 * with a0 = mhartid and a1 = DTB address.  We:
 *   1. set gp and a per-hart stack,
 *   2. point mtvec at trap_entry (direct mode) so that any unexpected trap
 *      lands in C and is reported instead of looping silently,
 *   3. on hart 0: zero .bss, release the other harts, call main(hartid, dtb)
 *      and exit with its return value through the test finisher,
 *   4. on other harts: wait until hart 0 has zeroed .bss, then call
 *      secondary_main(hartid) — by default a weak function that parks the
 *      hart in a WFI loop; `smp` overrides it.
 */

#include "trap_frame.h"

/* Must match the .stack reservation in link.ld (16 KiB x 4 harts). */
#define STACK_SIZE_PER_HART 16384
#define MAX_HARTS           4

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    /* gp must be set without relaxation, or the linker would try to
     * express `la gp` relative to gp itself. */
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop

    csrw    mie, zero               /* no interrupt sources until a program asks */
    la      t0, trap_entry
    csrw    mtvec, t0               /* direct mode (low bits 00) */

    /* Harts beyond the stacks we reserved can do nothing useful. */
    li      t0, MAX_HARTS
    bgeu    a0, t0, park

    /* sp = __stack_top - hartid * STACK_SIZE_PER_HART (16-byte aligned) */
    la      sp, __stack_top
    li      t0, STACK_SIZE_PER_HART
    mul     t0, t0, a0
    sub     sp, sp, t0

    bnez    a0, secondary

    /* Hart 0: zero .bss (both bounds are 16-byte aligned in link.ld). */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sw      zero, 0(t0)
    sw      zero, 4(t0)
    sw      zero, 8(t0)
    sw      zero, 12(t0)
    addi    t0, t0, 16
    j       1b
2:
    /* Release the other harts: the flag lives in .data (not .bss) so it is
     * 0 from the ELF image even before we zero anything. */
    fence   rw, rw
    li      t0, 1
    la      t1, boot_done
    sw      t0, 0(t1)

    call    main                    /* a0 = hartid (0), a1 = DTB */
    call    exit                    /* a0 = main's return value; never returns */

secondary:
    la      t1, boot_done
3:  lw      t0, 0(t1)
    beqz    t0, 3b
    fence   rw, rw
    call    secondary_main          /* a0 = hartid, a1 = DTB */
    /* fall through if it returns */
park:
    csrw    mie, zero
4:  wfi
    j       4b

    .section .data
    .balign 4
    .globl boot_done
boot_done:
    .word   0

/*
 * Trap entry.  Saves every integer register into a struct trap_frame on the
 * current stack, calls trap_handler(frame) in C, restores and returns with
 * mret.  The C handler may change frame->mepc (e.g. mepc + 4 to skip an
 * ecall) and frame->regs[] — changes are written back.
 *
 * Direct mode (mtvec low bits 00) enters at trap_entry with vector = -1.
 * Vectored mode (mtvec = trap_vector_table | 1) enters at entry N of the
 * table for interrupt cause N (and entry 0 for every exception); the entry
 * records N in frame->vector so programs can check which vector was used.
 */
    .section .text
    .balign 4
    .globl trap_entry
trap_entry:
    addi    sp, sp, -TF_SIZE
    sw      t0, TF_REG(5)(sp)
    li      t0, -1
    /* fall through */
trap_save:                          /* t0 (x5) already saved; t0 = vector */
    sw      t0, TF_VECTOR(sp)
    sw      x1,  TF_REG(1)(sp)
    sw      x3,  TF_REG(3)(sp)
    sw      x4,  TF_REG(4)(sp)
    sw      x6,  TF_REG(6)(sp)
    sw      x7,  TF_REG(7)(sp)
    sw      x8,  TF_REG(8)(sp)
    sw      x9,  TF_REG(9)(sp)
    sw      x10, TF_REG(10)(sp)
    sw      x11, TF_REG(11)(sp)
    sw      x12, TF_REG(12)(sp)
    sw      x13, TF_REG(13)(sp)
    sw      x14, TF_REG(14)(sp)
    sw      x15, TF_REG(15)(sp)
    sw      x16, TF_REG(16)(sp)
    sw      x17, TF_REG(17)(sp)
    sw      x18, TF_REG(18)(sp)
    sw      x19, TF_REG(19)(sp)
    sw      x20, TF_REG(20)(sp)
    sw      x21, TF_REG(21)(sp)
    sw      x22, TF_REG(22)(sp)
    sw      x23, TF_REG(23)(sp)
    sw      x24, TF_REG(24)(sp)
    sw      x25, TF_REG(25)(sp)
    sw      x26, TF_REG(26)(sp)
    sw      x27, TF_REG(27)(sp)
    sw      x28, TF_REG(28)(sp)
    sw      x29, TF_REG(29)(sp)
    sw      x30, TF_REG(30)(sp)
    sw      x31, TF_REG(31)(sp)
    addi    t0, sp, TF_SIZE         /* the interrupted code's sp, for display */
    sw      t0, TF_REG(2)(sp)
    sw      zero, TF_REG(0)(sp)
    csrr    t0, mepc
    sw      t0, TF_MEPC(sp)
    csrr    t0, mcause
    sw      t0, TF_MCAUSE(sp)
    csrr    t0, mtval
    sw      t0, TF_MTVAL(sp)

    mv      a0, sp
    call    trap_handler

    lw      t0, TF_MEPC(sp)
    csrw    mepc, t0
    lw      x1,  TF_REG(1)(sp)
    lw      x3,  TF_REG(3)(sp)
    lw      x4,  TF_REG(4)(sp)
    lw      x5,  TF_REG(5)(sp)
    lw      x6,  TF_REG(6)(sp)
    lw      x7,  TF_REG(7)(sp)
    lw      x8,  TF_REG(8)(sp)
    lw      x9,  TF_REG(9)(sp)
    lw      x10, TF_REG(10)(sp)
    lw      x11, TF_REG(11)(sp)
    lw      x12, TF_REG(12)(sp)
    lw      x13, TF_REG(13)(sp)
    lw      x14, TF_REG(14)(sp)
    lw      x15, TF_REG(15)(sp)
    lw      x16, TF_REG(16)(sp)
    lw      x17, TF_REG(17)(sp)
    lw      x18, TF_REG(18)(sp)
    lw      x19, TF_REG(19)(sp)
    lw      x20, TF_REG(20)(sp)
    lw      x21, TF_REG(21)(sp)
    lw      x22, TF_REG(22)(sp)
    lw      x23, TF_REG(23)(sp)
    lw      x24, TF_REG(24)(sp)
    lw      x25, TF_REG(25)(sp)
    lw      x26, TF_REG(26)(sp)
    lw      x27, TF_REG(27)(sp)
    lw      x28, TF_REG(28)(sp)
    lw      x29, TF_REG(29)(sp)
    lw      x30, TF_REG(30)(sp)
    lw      x31, TF_REG(31)(sp)
    addi    sp, sp, TF_SIZE
    mret

/*
 * Vector table for vectored mode: mtvec = trap_vector_table | 1.
 * The spec puts interrupt cause N at BASE + 4*N, so every entry must be
 * exactly one 4-byte instruction: .option norvc keeps `j` from being
 * compressed to a 2-byte c.j, which would shift every later entry.
 * 256-byte alignment is more than any implementation requires of BASE.
 */
    .balign 256
    .globl trap_vector_table
trap_vector_table:
    .option push
    .option norvc
    j       vec_0       /* all exceptions */
    j       vec_1       /* supervisor software interrupt */
    j       vec_2
    j       vec_3       /* machine software interrupt (CLINT msip) */
    j       vec_4
    j       vec_5       /* supervisor timer interrupt */
    j       vec_6
    j       vec_7       /* machine timer interrupt (CLINT mtimecmp) */
    j       vec_8
    j       vec_9       /* supervisor external interrupt */
    j       vec_10
    j       vec_11      /* machine external interrupt (PLIC) */
    j       vec_12
    j       vec_13
    j       vec_14
    j       vec_15
    .option pop

    .macro VEC n
vec_\n:
    addi    sp, sp, -TF_SIZE
    sw      t0, TF_REG(5)(sp)
    li      t0, \n
    j       trap_save
    .endm
    VEC 0
    VEC 1
    VEC 2
    VEC 3
    VEC 4
    VEC 5
    VEC 6
    VEC 7
    VEC 8
    VEC 9
    VEC 10
    VEC 11
    VEC 12
    VEC 13
    VEC 14
    VEC 15
