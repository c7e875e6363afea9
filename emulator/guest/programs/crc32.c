/*
 * crc32 — CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) benchmark.
 *
 * Fills a buffer from a fixed LCG, checks the table-driven CRC against the
 * bit-at-a-time definition once (and against the standard "123456789" check
 * value 0xCBF43926), then runs the table-driven CRC over the buffer PASSES
 * times, perturbing one byte per pass so no pass can be skipped.  Prints the
 * final CRC; exits 1 if a self-check fails.
 */
#include "lib.h"

#define BUF_SIZE 16384u
#define PASSES   800u

static uint8_t buf[BUF_SIZE];
static uint32_t table[256];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        table[i] = c;
    }
}

/* Reference: one bit at a time, straight from the definition. */
static uint32_t crc32_bitwise(const uint8_t *p, uint32_t n)
{
    uint32_t crc = 0xffffffffu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* The benchmark kernel: one table lookup per byte. */
static uint32_t crc32_table(uint32_t crc, const uint8_t *p, uint32_t n)
{
    crc = ~crc;
    while (n--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;
    int ok = 1;

    make_table();

    static const uint8_t check[] = "123456789";
    uint32_t c = crc32_table(0, check, 9);
    uart_puts("crc32: check value ");
    print_hex(c);
    uart_puts(c == 0xCBF43926u ? " ok\n" : " WRONG\n");
    ok &= c == 0xCBF43926u;

    uint32_t seed = 12345;
    for (uint32_t i = 0; i < BUF_SIZE; i++)
        buf[i] = (uint8_t)(lcg_next(&seed) >> 24);

    uint32_t ref = crc32_bitwise(buf, BUF_SIZE);
    uint32_t tab = crc32_table(0, buf, BUF_SIZE);
    uart_puts("crc32: bitwise == table-driven: ");
    print_yesno(ref == tab);
    uart_puts("\n");
    ok &= ref == tab;

    uint32_t crc = 0;
    for (uint32_t pass = 0; pass < PASSES; pass++) {
        buf[pass % BUF_SIZE] ^= (uint8_t)crc;     /* chain the passes */
        crc = crc32_table(crc, buf, BUF_SIZE);
    }

    uart_puts("crc32: ");
    print_udec(PASSES);
    uart_puts(" passes over ");
    print_udec(BUF_SIZE);
    uart_puts(" bytes, checksum ");
    print_hex(crc);
    uart_puts("\n");
    return ok ? 0 : 1;
}
