/*
 * lib.h — the guests' whole "libc": QEMU virt addresses, CSR helpers,
 * a polling UART console, the test finisher and a few mem* helpers.
 *
 * Deliberately tiny and free of libc so that every program is small and its
 * instruction count depends only on its own code (important when comparing
 * Rewind's counts with QEMU's -icount recordings).
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdint.h>
#include <stddef.h>

/* ---- QEMU virt memory map (riscv32, QEMU 7.2) ---------------------------- */

#define UART0_BASE      0x10000000u     /* NS16550A, IRQ 10 on the PLIC */
#define UART_RBR        0               /* receive buffer (read) */
#define UART_THR        0               /* transmit holding (write) */
#define UART_IER        1               /* interrupt enable */
#define UART_IIR        2               /* interrupt identification (read) */
#define UART_FCR        2               /* FIFO control (write) */
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5               /* line status */
#define UART_LSR_DR     0x01            /* receive data ready */
#define UART_LSR_THRE   0x20            /* transmit holding register empty */
#define UART_IER_RDI    0x01            /* receive-data-available interrupt */
#define UART_IRQ        10

#define PLIC_BASE           0x0c000000u
#define PLIC_PRIORITY(irq)  (PLIC_BASE + 4u * (irq))
#define PLIC_PENDING        (PLIC_BASE + 0x1000u)
#define PLIC_ENABLE_CTX0    (PLIC_BASE + 0x2000u)     /* hart 0, M-mode */
#define PLIC_THRESHOLD_CTX0 (PLIC_BASE + 0x200000u)
#define PLIC_CLAIM_CTX0     (PLIC_BASE + 0x200004u)   /* read = claim, write = complete */

#define CLINT_BASE          0x02000000u
#define CLINT_MSIP(hart)    (CLINT_BASE + 4u * (hart))
#define CLINT_MTIMECMP_LO   (CLINT_BASE + 0x4000u)    /* hart 0 */
#define CLINT_MTIMECMP_HI   (CLINT_BASE + 0x4004u)
#define CLINT_MTIME_LO      (CLINT_BASE + 0xbff8u)
#define CLINT_MTIME_HI      (CLINT_BASE + 0xbffcu)
#define CLINT_FREQ_HZ       10000000u                 /* mtime ticks at 10 MHz */

#define FINISHER_BASE       0x00100000u               /* SiFive test device */
#define FINISHER_PASS       0x5555u
#define FINISHER_FAIL       0x3333u                   /* | (code << 16) */

#define RTC_BASE            0x00101000u               /* Goldfish RTC */
#define RTC_TIME_LOW        0x00                      /* read first: latches high */
#define RTC_TIME_HIGH       0x04

/* ---- MMIO ---------------------------------------------------------------- */

static inline uint32_t mmio_read32(uintptr_t addr)
{
    return *(volatile uint32_t *)addr;
}
static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
    *(volatile uint32_t *)addr = v;
}
static inline uint8_t mmio_read8(uintptr_t addr)
{
    return *(volatile uint8_t *)addr;
}
static inline void mmio_write8(uintptr_t addr, uint8_t v)
{
    *(volatile uint8_t *)addr = v;
}

/* ---- CSRs ---------------------------------------------------------------- */

#define csr_read(csr) ({ uint32_t __v; \
    __asm__ volatile ("csrr %0, " #csr : "=r"(__v) :: "memory"); __v; })
#define csr_write(csr, val) \
    __asm__ volatile ("csrw " #csr ", %0" :: "rK"((uint32_t)(val)) : "memory")
#define csr_set(csr, bits) \
    __asm__ volatile ("csrs " #csr ", %0" :: "rK"((uint32_t)(bits)) : "memory")
#define csr_clear(csr, bits) \
    __asm__ volatile ("csrc " #csr ", %0" :: "rK"((uint32_t)(bits)) : "memory")

#define MSTATUS_MIE     (1u << 3)
#define MSTATUS_MPIE    (1u << 7)
#define MSTATUS_MPP     (3u << 11)
#define MIE_MSIE        (1u << 3)
#define MIE_MTIE        (1u << 7)
#define MIE_MEIE        (1u << 11)
#define MCAUSE_INTERRUPT 0x80000000u

static inline void wfi(void) { __asm__ volatile ("wfi" ::: "memory"); }

/* ---- console (UART, polled) ---------------------------------------------- */

void uart_putc(char c);                 /* waits for LSR.THRE, then writes THR */
void uart_puts(const char *s);          /* no newline added (unlike libc puts) */
void print_hex(uint32_t v);             /* "0x" + 8 hex digits */
void print_udec(uint32_t v);
void print_dec(int32_t v);
void print_yesno(int cond);             /* "yes" / "no" */

/* ---- exit ---------------------------------------------------------------- */

/* Writes the SiFive test finisher: code 0 -> 0x5555 (QEMU exits 0), else
 * (code << 16) | 0x3333 (QEMU exits with `code`).  Never returns. */
void exit(int code) __attribute__((noreturn));

/* ---- timer --------------------------------------------------------------- */

uint64_t read_mtime(void);              /* hi/lo/hi read, tear-free */
void write_mtimecmp(uint64_t t);        /* hart 0; never fires early while updating */

/* ---- memory -------------------------------------------------------------- */

/* GCC may emit calls to these even with -ffreestanding (struct copies, large
 * zero-initialisations), so they must exist. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* ---- misc ---------------------------------------------------------------- */

/* Deterministic pseudo-random numbers (Numerical Recipes LCG) so that every
 * benchmark generates identical data on every run and every machine. */
static inline uint32_t lcg_next(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state;
}

/* Entry points called from start.S. */
int main(uint32_t hartid, uintptr_t dtb);
void secondary_main(uint32_t hartid, uintptr_t dtb);   /* weak default parks */

#endif
