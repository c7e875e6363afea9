/*
 * timer — machine timer interrupts from the CLINT.
 *
 * Programs mtimecmp 5000 ticks (0.5 ms at 10 MHz) ahead, enables MTIE and
 * sleeps in WFI.  Each interrupt prints one line and moves the deadline
 * another 5000 ticks on; after 20 interrupts the program exits 0.
 *
 * Determinism: the printed values are the interrupt number and the
 * *scheduled* deadline (a multiple of 5000 after the start), never a raw
 * mtime reading, so the output is the same with or without -icount and on
 * any host.  Under `-icount shift=0,sleep=off` QEMU does not count
 * instructions while the hart waits in WFI; it warps virtual time to the
 * next deadline instead, so the whole run is only a few tens of thousands
 * of instructions although it spans 10 ms of guest time.
 */
#include "lib.h"
#include "trap_frame.h"

#define TICKS       20
#define INTERVAL    5000u               /* mtime ticks between interrupts */

static uint64_t start;                  /* mtime when we armed the first deadline */
static uint64_t deadline;               /* current mtimecmp */
static volatile uint32_t ticks;         /* interrupts taken so far */
static volatile uint32_t late_ok = 1;   /* every interrupt came at/after its deadline */

void trap_handler(struct trap_frame *f)
{
    if (f->mcause != (MCAUSE_INTERRUPT | 7)) {
        uart_puts("timer: unexpected trap mcause=");
        print_hex(f->mcause);
        uart_puts("\n");
        exit(2);
    }

    /* The interrupt can only be pending once mtime >= mtimecmp. */
    if (read_mtime() < deadline)
        late_ok = 0;

    uint32_t n = ticks + 1;
    ticks = n;
    uart_puts("tick ");
    if (n < 10)
        uart_putc(' ');
    print_udec(n);
    uart_puts(": deadline start+");
    print_udec((uint32_t)(deadline - start));
    uart_puts(" ticks\n");

    if (n == TICKS) {
        /* Done: stop the interrupt source.  Clearing MTIE is enough; the
         * pending bit stays set but is no longer enabled. */
        csr_clear(mie, MIE_MTIE);
    } else {
        /* Schedule from the previous deadline, not from "now", so the
         * sequence of deadlines does not depend on how late we are. */
        deadline += INTERVAL;
        write_mtimecmp(deadline);
    }
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;

    uart_puts("timer: ");
    print_udec(TICKS);
    uart_puts(" interrupts, ");
    print_udec(INTERVAL);
    uart_puts(" ticks apart\n");

    start = read_mtime();
    deadline = start + INTERVAL;
    write_mtimecmp(deadline);
    csr_set(mie, MIE_MTIE);

    /* Classic race-free sleep: test the condition with interrupts masked
     * (mstatus.MIE = 0), then WFI.  WFI still wakes when an *enabled* (mie)
     * interrupt becomes pending even though mstatus.MIE is 0; the handler
     * then runs as soon as we set mstatus.MIE again. */
    for (;;) {
        csr_clear(mstatus, MSTATUS_MIE);
        if (ticks >= TICKS)
            break;
        wfi();
        csr_set(mstatus, MSTATUS_MIE);
    }

    uint64_t elapsed = read_mtime() - start;
    uart_puts("timer: done, all interrupts at/after their deadline: ");
    print_yesno(late_ok);
    uart_puts(", elapsed >= ");
    print_udec(TICKS * INTERVAL);
    uart_puts(" ticks: ");
    print_yesno(elapsed >= (uint64_t)TICKS * INTERVAL);
    uart_puts("\n");
    return late_ok ? 0 : 1;
}
