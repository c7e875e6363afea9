/*
 * qsort — quicksort benchmark on LCG data.
 *
 * Sorts ROUNDS arrays of N 32-bit values (each round from a different LCG
 * seed) with a median-of-three quicksort that hands small partitions to
 * insertion sort, recursing into the smaller side so the stack stays
 * O(log N).  Verifies the result is ordered and a permutation of the input
 * (same sum and xor), and prints a position-weighted checksum.
 */
#include "lib.h"

#define N      60000u
#define ROUNDS 14u
#define SMALL  16                       /* insertion-sort threshold */

static uint32_t data[N];

static void insertion_sort(uint32_t *a, int32_t lo, int32_t hi)
{
    for (int32_t i = lo + 1; i <= hi; i++) {
        uint32_t v = a[i];
        int32_t j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static inline void swap(uint32_t *a, int32_t i, int32_t j)
{
    uint32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void quicksort(uint32_t *a, int32_t lo, int32_t hi)
{
    while (hi - lo > SMALL) {
        /* Median of three: order a[lo], a[mid], a[hi], pivot = a[mid]. */
        int32_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap(a, mid, lo);
        if (a[hi] < a[lo])  swap(a, hi, lo);
        if (a[hi] < a[mid]) swap(a, hi, mid);
        uint32_t pivot = a[mid];

        /* Hoare partition. */
        int32_t i = lo, j = hi;
        for (;;) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i >= j)
                break;
            swap(a, i, j);
            i++;
            j--;
        }

        /* Recurse into the smaller part, loop on the larger one. */
        if (j - lo < hi - j) {
            quicksort(a, lo, j);
            lo = j + 1;
        } else {
            quicksort(a, j + 1, hi);
            hi = j;
        }
    }
    insertion_sort(a, lo, hi);
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;
    uint32_t checksum = 0;
    int ok = 1;

    for (uint32_t r = 0; r < ROUNDS; r++) {
        uint32_t seed = 0x1234u + r;
        uint32_t sum_in = 0, xor_in = 0;
        for (uint32_t i = 0; i < N; i++) {
            /* modulo keeps many duplicates in play, a harder case */
            uint32_t v = lcg_next(&seed) % (N * 4);
            data[i] = v;
            sum_in += v;
            xor_in ^= v;
        }

        quicksort(data, 0, (int32_t)N - 1);

        uint32_t sum_out = 0, xor_out = 0;
        for (uint32_t i = 0; i < N; i++) {
            if (i > 0 && data[i - 1] > data[i])
                ok = 0;
            sum_out += data[i];
            xor_out ^= data[i];
            checksum += data[i] * (i + 1);
        }
        if (sum_in != sum_out || xor_in != xor_out)
            ok = 0;
    }

    uart_puts("qsort: ");
    print_udec(ROUNDS);
    uart_puts(" x ");
    print_udec(N);
    uart_puts(" values, sorted: ");
    print_yesno(ok);
    uart_puts(", checksum ");
    print_hex(checksum);
    uart_puts("\n");
    return ok ? 0 : 1;
}
