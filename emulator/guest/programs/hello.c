/*
 * hello — the smallest useful guest: prints a greeting and a few lines that
 * exercise the console helpers, then exits 0 through the test finisher.
 */
#include "lib.h"

/* Plain recursion, so the program also touches the stack a little. */
static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)dtb;      /* its address depends on the machine's RAM size */

    uart_puts("Hello from Rewind's RISC-V guest!\n");
    uart_puts("running on hart ");
    print_udec(hartid);
    uart_puts("\n");

    uart_puts("counting:");
    for (int i = 1; i <= 5; i++) {
        uart_puts(" ");
        print_dec(i);
    }
    uart_puts("\n");

    uart_puts("fib(20) = ");
    print_udec(fib(20));
    uart_puts(", -42 = ");
    print_dec(-42);
    uart_puts(", 0xdeadbeef = ");
    print_hex(0xdeadbeefu);
    uart_puts("\n");

    uart_puts("goodbye\n");
    return 0;
}
