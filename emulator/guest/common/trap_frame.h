/*
 * trap_frame.h — layout of the register frame built by start.S's trap entry.
 * Shared by assembly (offsets) and C (struct), so keep both halves in step.
 */
#ifndef TRAP_FRAME_H
#define TRAP_FRAME_H

#define TF_REG(n)   ((n) * 4)     /* x0..x31; x0 slot holds 0, x2 the old sp */
#define TF_MEPC     (32 * 4)
#define TF_MCAUSE   (33 * 4)
#define TF_MTVAL    (34 * 4)
#define TF_VECTOR   (35 * 4)      /* -1 in direct mode, else vector number */
#define TF_SIZE     (36 * 4)      /* 144: keeps sp 16-byte aligned */

#ifndef __ASSEMBLER__
#include <stdint.h>

struct trap_frame {
    uint32_t regs[32];
    uint32_t mepc;      /* written back to mepc before mret */
    uint32_t mcause;
    uint32_t mtval;
    int32_t  vector;
};

_Static_assert(sizeof(struct trap_frame) == TF_SIZE, "trap frame layout");

/* Called by start.S for every trap.  lib.c has a weak default that reports
 * the trap and exits with code 3; programs that take traps define their own. */
void trap_handler(struct trap_frame *f);

/* Vector table for vectored mode; use (uintptr_t)trap_vector_table | 1. */
extern char trap_vector_table[];
extern char trap_entry[];
#endif

#endif
