/*
 * poll — a device-polling guest: it spins on device registers the way a
 * driver without interrupts does (the UART's line status, the CLINT's mtime),
 * so nearly every iteration is an MMIO access. The benchmark for what lock
 * tracing costs: each access takes the BQL in QEMU (io_readx) and in Rewind.
 */
#include "lib.h"

#ifndef ROUNDS
#define ROUNDS 200000u
#endif

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;
    volatile uint8_t *uart = (volatile uint8_t *)UART0_BASE;
    volatile uint32_t *mtime = (volatile uint32_t *)CLINT_MTIME_LO;
    uint32_t ready = 0, sum = 0;

    uart_puts("polling the UART and the CLINT\n");
    for (uint32_t i = 0; i < ROUNDS; i++) {
        if (uart[UART_LSR] & UART_LSR_THRE)
            ready++;
        sum += *mtime & 1u;
        if ((i & 0x7fffu) == 0)
            uart_putc('.');
    }
    uart_puts("\nready ");
    print_udec(ready);
    uart_puts(" of ");
    print_udec(ROUNDS);
    uart_puts("\n");
    (void)sum;
    return ready == ROUNDS ? 0 : 1;
}
