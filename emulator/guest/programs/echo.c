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
 * I/O thread delivers each byte (see guests.json).
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
     * Input can start arriving the moment QEMU starts, before we are ready.
     * Without the FIFO the 16550 holds one byte in RBR and accepts no more
     * until RBR is read.  Turning the FIFO on *clears* it (QEMU forces the
     * clear whenever FCR.FE changes), so rescue a byte that is already
     * waiting first.  Reading RBR also tells QEMU's character backend to
     * poll the input again; without that read a byte thrown away by the
     * FIFO clear would leave QEMU's main loop waiting forever.
     */
    int have_early = 0;
    uint8_t early = 0;
    if (mmio_read8(UART0_BASE + UART_LSR) & UART_LSR_DR) {
        early = mmio_read8(UART0_BASE + UART_RBR);
        have_early = 1;
    }

    /* UART: 8N1 (LCR=3), FIFO on and both FIFOs cleared, receive trigger
     * level 1 byte (FCR=0x07), OUT2 in MCR (gates the interrupt line on PC
     * UARTs; harmless on QEMU), receive-data interrupt enabled.  Bytes that
     * arrive from here on wait in the FIFO until interrupts are on. */
    mmio_write8(UART0_BASE + UART_LCR, 0x03);
    mmio_write8(UART0_BASE + UART_FCR, 0x07);
    mmio_write8(UART0_BASE + UART_MCR, 0x08);

    uart_puts("echo: type text, 'q' or Ctrl-D ends\n");
    if (have_early)
        handle_byte(early);

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
