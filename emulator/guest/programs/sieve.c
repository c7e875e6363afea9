/*
 * sieve — Sieve of Eratosthenes benchmark.
 *
 * Sieves the odd numbers below LIMIT (one byte per odd number) ROUNDS times
 * and checks that every round finds the same primes.  Prints the prime
 * count, and a checksum (sum of all primes mod 2^32, and the largest).
 * pi(2,000,000) = 148933 is checked; exit 1 on a mismatch.
 */
#include "lib.h"

#define LIMIT   2000000u                /* sieve primes below this */
#define ROUNDS  10u
#define EXPECTED_COUNT 148933u          /* pi(2e6) */

/* composite[i] describes the odd number 2*i + 1. */
static uint8_t composite[LIMIT / 2] __attribute__((aligned(4)));

static uint32_t sieve_once(uint32_t *sum, uint32_t *largest)
{
    const uint32_t n = LIMIT / 2;
    uint8_t *const end = &composite[n];

    /* Clear a word at a time (the array is word-aligned, n % 4 == 0). */
    for (uint32_t *w = (uint32_t *)composite; w < (uint32_t *)end; w++)
        *w = 0;
    composite[0] = 1;                   /* 1 is not prime */

    for (uint32_t i = 1; ; i++) {
        uint32_t p = 2 * i + 1;
        if (p * p >= LIMIT)
            break;
        if (composite[i])
            continue;
        /* Start at p*p; a step of 2p in numbers is p in odd-index space. */
        for (uint8_t *q = &composite[(p * p) / 2]; q < end; q += p)
            *q = 1;
    }

    uint32_t count = 1, s = 2, big = 2;     /* the prime 2 */
    for (const uint8_t *q = &composite[1]; q < end; q++) {
        if (!*q) {
            count++;
            big = 2 * (uint32_t)(q - composite) + 1;
            s += big;
        }
    }
    *sum = s;
    *largest = big;
    return count;
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;
    uint32_t count = 0, sum = 0, largest = 0;
    int ok = 1;

    for (uint32_t r = 0; r < ROUNDS; r++) {
        uint32_t s, l;
        uint32_t c = sieve_once(&s, &l);
        if (r == 0) {
            count = c;
            sum = s;
            largest = l;
        } else if (c != count || s != sum || l != largest) {
            ok = 0;
        }
    }

    uart_puts("sieve: ");
    print_udec(ROUNDS);
    uart_puts(" rounds below ");
    print_udec(LIMIT);
    uart_puts(": ");
    print_udec(count);
    uart_puts(" primes, largest ");
    print_udec(largest);
    uart_puts(", checksum ");
    print_hex(sum);
    uart_puts("\n");
    ok &= count == EXPECTED_COUNT;
    uart_puts(ok ? "sieve: ok\n" : "sieve: WRONG\n");
    return ok ? 0 : 1;
}
