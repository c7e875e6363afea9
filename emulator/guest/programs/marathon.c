/*
 * marathon — a long run (about 1.2 billion instructions at -O2) for time-travel benchmarks:
 * reverse execution has to stay fast and exact far from any snapshot's start.
 *
 * Mixes table-driven CRC passes over an LCG-filled buffer with an insertion sort of a small
 * window that changes every pass, so memory keeps changing (snapshots have pages to keep), and
 * prints a progress line with the CLINT's mtime every PRINT_EVERY passes (clock reads, UART
 * output). Prints a final checksum; exit 0.
 */
#include "lib.h"

#define BUF_SIZE    8192u
#define WINDOW      32u
#ifndef PASSES
#define PASSES      12000u
#endif
#define PRINT_EVERY 1000u

static uint8_t buf[BUF_SIZE];
static uint32_t table[256];
static uint32_t window[WINDOW];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc_pass(uint32_t crc)
{
    crc = ~crc;
    for (uint32_t i = 0; i < BUF_SIZE; i++)
        crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void sort_window(void)
{
    for (uint32_t i = 1; i < WINDOW; i++) {
        uint32_t v = window[i], j = i;
        while (j > 0 && window[j - 1] > v) {
            window[j] = window[j - 1];
            j--;
        }
        window[j] = v;
    }
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;
    uint32_t seed = 12345;
    for (uint32_t i = 0; i < BUF_SIZE; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    make_table();
    uint32_t crc = 0, sum = 0;
    for (uint32_t pass = 1; pass <= PASSES; pass++) {
        crc = crc_pass(crc);
        buf[pass % BUF_SIZE] ^= (uint8_t)crc;
        for (uint32_t i = 0; i < WINDOW; i++) {
            seed = seed * 1103515245u + 12345u;
            window[i] = seed ^ crc;
        }
        sort_window();
        sum += window[WINDOW / 2];
        if (pass % PRINT_EVERY == 0) {
            uart_puts("marathon: pass ");
            print_dec((int32_t)pass);
            uart_puts(" crc ");
            print_hex(crc);
            uart_puts(read_mtime() > 0 ? " clock running\n" : " clock stopped\n");
        }
    }
    uart_puts("marathon: done, checksum ");
    print_hex(crc ^ sum);
    uart_puts("\n");
    return 0;
}
