/*
 * echo — interrupt-driven UART input through the PLIC.
 *
 * Enables the 16550's FIFO and its receive-data interrupt, routes UART IRQ 10
 * through the PLIC to hart 0's M-mode context, enables mie.MEIE and
 * mstatus.MIE and sleeps in WFI.  Each external interrupt claims the source,
 * drains every byte the UART holds (while LSR.DR), echoes it upper-cased,
 * and completes the claim.  'q' or Ctrl-D (0x04) ends the program with a
 * summary line and exit code 0.
 *
 * Feed it with:  qemu ... -serial stdio -kernel bin/echo-O2.elf < inputs/echo.txt
 *
 * The output depends only on the input bytes, not on how they were split
 * into interrupts; the instruction count, however, depends on when QEMU's
 * I/O thread delivers each byte (see guests.json).  QEMU 7.2 cannot record
 * this program with -icount sleep=off: in rr=record mode it never hands
 * input to a hart sleeping in WFI (README.md, "echo and host timing").
 */
#include "lib.h"
#include "trap_frame.h"

static uint32_t bytes;      /* bytes received, including the final 'q' */
static uint32_t lines;      /* newlines received */

static void finish(void)
{
    uart_puts("\necho: ");
    print_udec(bytes);
    uart_puts(" bytes, ");
    print_udec(lines);
    uart_puts(" lines\n");
    exit(0);
}

static void handle_byte(uint8_t c)
{
    bytes++;
    if (c == 'q' || c == 0x04) {
        finish();       /* does not return */
    }
    if (c == '\n')
        lines++;
    if (c >= 'a' && c <= 'z')
        c = (uint8_t)(c - 'a' + 'A');
    uart_putc((char)c);
}

void trap_handler(struct trap_frame *f)
{
    if (f->mcause != (MCAUSE_INTERRUPT | 11)) {
        uart_puts("echo: unexpected trap mcause=");
        print_hex(f->mcause);
        uart_puts("\n");
        exit(2);
    }

    /* Claim tells us which source fired (and stops the PLIC from
     * presenting it again until we complete). */
    uint32_t irq = mmio_read32(PLIC_CLAIM_CTX0);
    if (irq == UART_IRQ) {
        /* Drain everything: with the FIFO on, several bytes can be waiting
         * behind one interrupt. */
        while (mmio_read8(UART0_BASE + UART_LSR) & UART_LSR_DR)
            handle_byte(mmio_read8(UART0_BASE + UART_RBR));
    }
    if (irq != 0)
        mmio_write32(PLIC_CLAIM_CTX0, irq);     /* complete */
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;

    /*
     * Input can arrive from the moment QEMU starts, before we are ready, and
     * we must not lose any of it:
     *  - Without the FIFO the 16550 holds one byte in RBR.  QEMU then offers
     *    it no more input until RBR is read; the read "kicks" QEMU's main
     *    loop, which delivers the next byte a few microseconds later.
     *  - Turning the FIFO on clears it (QEMU forces the clear whenever
     *    FCR.FE changes), so a byte delivered between our rescue read and
     *    the FCR write would be lost (seen in about 1 run in 8).
     * So: switch to loopback mode first (MCR.LOOP — on real hardware it
     * disconnects the receiver from the line; in QEMU a read in loopback
     * mode does not kick the main loop), rescue a byte already waiting,
     * turn the FIFO on (FCR=0x07: enable, clear both, trigger level 1
     * byte), leave loopback, and only then kick input delivery with a
     * read of RBR — checking LSR.DR first so that a byte which did arrive
     * is treated as data.
     */
    int have_early = 0;
    uint8_t early = 0;
    mmio_write8(UART0_BASE + UART_LCR, 0x03);           /* 8N1 */
    mmio_write8(UART0_BASE + UART_MCR, 0x10);           /* LOOP */
    if (mmio_read8(UART0_BASE + UART_LSR) & UART_LSR_DR) {
        early = mmio_read8(UART0_BASE + UART_RBR);
        have_early = 1;
    }
    mmio_write8(UART0_BASE + UART_FCR, 0x07);
    mmio_write8(UART0_BASE + UART_MCR, 0x08);           /* OUT2, LOOP off */
    int have_second = 0;
    uint8_t second = 0;
    if (mmio_read8(UART0_BASE + UART_LSR) & UART_LSR_DR) {
        second = mmio_read8(UART0_BASE + UART_RBR);
        have_second = 1;
    } else {
        (void)mmio_read8(UART0_BASE + UART_RBR);        /* empty: just the kick */
    }

    /* Bytes that arrive from here on wait in the FIFO until the receive
     * interrupt is enabled below. */
    uart_puts("echo: type text, 'q' or Ctrl-D ends\n");
    if (have_early)
        handle_byte(early);
    if (have_second)
        handle_byte(second);

    mmio_write8(UART0_BASE + UART_IER, UART_IER_RDI);

    /* PLIC: source 10 priority 1 (0 would mean "never"), enabled for
     * context 0 (hart 0 M-mode), threshold 0 so any priority > 0 passes. */
    mmio_write32(PLIC_PRIORITY(UART_IRQ), 1);
    mmio_write32(PLIC_ENABLE_CTX0, 1u << UART_IRQ);
    mmio_write32(PLIC_THRESHOLD_CTX0, 0);

    csr_set(mie, MIE_MEIE);

    /* Race-free sleep (see timer.c): WFI with mstatus.MIE clear still wakes
     * on a pending enabled interrupt, which is taken when MIE is set.  The
     * handler exits the program itself when it sees 'q'. */
    for (;;) {
        csr_clear(mstatus, MSTATUS_MIE);
        wfi();
        csr_set(mstatus, MSTATUS_MIE);
    }
}
