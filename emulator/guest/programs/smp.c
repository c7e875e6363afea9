/*
 * smp — two harts hammer one shared counter with atomics.
 *
 * Run with `-smp 2`.  Each hart adds 1 to `counter` N times with amoadd.w
 * and N more times with an lr.w/sc.w retry loop, so the two kinds of atomic
 * also race with each other.  Hart 1 then raises a flag; hart 0 waits for
 * it and checks that no increment was lost (4N in total).  Exit 0 if so,
 * 1 if not.  Only hart 0 prints, so the output is the same however the
 * harts were interleaved (the instruction count is not: sc.w failures and
 * spin-wait iterations depend on the schedule).
 */
#include "lib.h"

#define N 100000u

static volatile uint32_t counter;       /* the shared counter */
static volatile uint32_t hart1_done;    /* set by hart 1 when its loops end */
static volatile uint32_t hart1_seen;    /* hart 1's mhartid, as it saw it */

static inline void add_amo(volatile uint32_t *p)
{
    __asm__ volatile ("amoadd.w zero, %1, (%0)"
                      :: "r"(p), "r"(1) : "memory");
}

static inline void add_lrsc(volatile uint32_t *p)
{
    uint32_t tmp, fail;
    __asm__ volatile (
        "1: lr.w    %0, (%2)\n"
        "   addi    %0, %0, 1\n"
        "   sc.w    %1, %0, (%2)\n"
        "   bnez    %1, 1b\n"           /* reservation lost: retry */
        : "=&r"(tmp), "=&r"(fail)
        : "r"(p)
        : "memory");
}

static void hammer(void)
{
    for (uint32_t i = 0; i < N; i++) {
        add_amo(&counter);
        add_lrsc(&counter);
    }
}

/* Hart 1 (and any other) starts here after hart 0 has zeroed .bss. */
void secondary_main(uint32_t hartid, uintptr_t dtb)
{
    (void)dtb;
    if (hartid != 1) {
        for (;;)
            wfi();      /* only two harts take part */
    }
    hart1_seen = csr_read(mhartid);
    hammer();
    /* Publish "done" only after all our increments are visible. */
    __asm__ volatile ("fence rw, w" ::: "memory");
    hart1_done = 1;
    for (;;)
        wfi();
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;

    uart_puts("smp: 2 harts x (");
    print_udec(N);
    uart_puts(" amoadd.w + ");
    print_udec(N);
    uart_puts(" lr.w/sc.w) increments\n");

    hammer();

    /* Wait for hart 1.  With -smp 1 this never ends, which is why the
     * program must be run with -smp 2 (guests.json says harts: 2). */
    while (!hart1_done)
        ;
    __asm__ volatile ("fence r, rw" ::: "memory");

    uint32_t total = counter;
    uint32_t expected = 4 * N;
    uart_puts("smp: hart 1 finished (mhartid ");
    print_udec(hart1_seen);
    uart_puts(")\nsmp: counter = ");
    print_udec(total);
    uart_puts(", expected ");
    print_udec(expected);
    uart_puts(total == expected ? ": ok\n" : ": WRONG\n");
    return total == expected ? 0 : 1;
}
