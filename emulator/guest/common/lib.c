/*
 * lib.c — console, finisher, timer and memory helpers for the guests.
 * See lib.h for why this exists instead of a libc.
 */
#include "lib.h"
#include "trap_frame.h"

void uart_putc(char c)
{
    /* QEMU's 16550 sets THRE again as soon as the byte is handed to the
     * character backend, so this normally spins zero times — but a real
     * (or slower emulated) UART needs the wait. */
    while ((mmio_read8(UART0_BASE + UART_LSR) & UART_LSR_THRE) == 0)
        ;
    mmio_write8(UART0_BASE + UART_THR, (uint8_t)c);
}

void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

void print_hex(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    uart_putc('0');
    uart_putc('x');
    for (int shift = 28; shift >= 0; shift -= 4)
        uart_putc(digits[(v >> shift) & 0xf]);
}

void print_udec(uint32_t v)
{
    char buf[10];       /* 4294967295 has 10 digits */
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        uart_putc(buf[--n]);
}

void print_dec(int32_t v)
{
    if (v < 0) {
        uart_putc('-');
        /* negate in unsigned arithmetic so INT32_MIN works */
        print_udec(0u - (uint32_t)v);
    } else {
        print_udec((uint32_t)v);
    }
}

void print_yesno(int cond)
{
    uart_puts(cond ? "yes" : "no");
}

void exit(int code)
{
    uint32_t v = code == 0 ? FINISHER_PASS
                           : (((uint32_t)code << 16) | FINISHER_FAIL);
    mmio_write32(FINISHER_BASE, v);
    /* QEMU stops at the write above; anything else just stops here. */
    for (;;)
        wfi();
}

uint64_t read_mtime(void)
{
    uint32_t hi, lo;
    do {
        hi = mmio_read32(CLINT_MTIME_HI);
        lo = mmio_read32(CLINT_MTIME_LO);
    } while (hi != mmio_read32(CLINT_MTIME_HI));
    return ((uint64_t)hi << 32) | lo;
}

void write_mtimecmp(uint64_t t)
{
    /* Standard RV32 sequence: park the high word at the maximum first so the
     * intermediate value is never lower than both the old and new deadline. */
    mmio_write32(CLINT_MTIMECMP_HI, 0xffffffffu);
    mmio_write32(CLINT_MTIMECMP_LO, (uint32_t)t);
    mmio_write32(CLINT_MTIMECMP_HI, (uint32_t)(t >> 32));
}

/* -O2 would recognise these byte loops as memset/memcpy idioms and turn them
 * into calls to themselves; the attribute prevents that recursion. */
#define NO_IDIOM __attribute__((optimize("no-tree-loop-distribute-patterns")))

NO_IDIOM void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

NO_IDIOM void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

NO_IDIOM void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* Default trap handler: any trap in a program that did not expect one is a
 * bug, so say what happened and stop (exit code 3) instead of hanging. */
__attribute__((weak)) void trap_handler(struct trap_frame *f)
{
    uart_puts("\nunexpected trap: mcause=");
    print_hex(f->mcause);
    uart_puts(" mepc=");
    print_hex(f->mepc);
    uart_puts(" mtval=");
    print_hex(f->mtval);
    uart_puts("\n");
    exit(3);
}

/* Default for harts other than 0: nothing to do, sleep forever. */
__attribute__((weak)) void secondary_main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;
    csr_write(mie, 0);
    for (;;)
        wfi();
}
