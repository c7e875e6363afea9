/*
 * strsearch — substring search benchmark.
 *
 * Builds a TEXT_SIZE-byte text of pseudo-random "words" over a small
 * alphabet (fixed LCG), then counts the occurrences of a set of patterns
 * with two algorithms: the naive scan and Boyer-Moore-Horspool.  Both must
 * agree.  Prints the total match count and a checksum of match positions.
 */
#include "lib.h"

#define TEXT_SIZE 65536u
#define ROUNDS    9u

static char text[TEXT_SIZE + 1];

static const char *const patterns[] = {
    "the", "rewind", "time", "travel", "abba", "ed", "onion",
    "bad cab", "reset", "a", "deadbeef", "needle",
};
#define NPAT (sizeof patterns / sizeof patterns[0])

/* Count matches by trying every alignment; fold positions into *hash. */
static uint32_t search_naive(const char *t, uint32_t n, const char *p,
                             uint32_t m, uint32_t *hash)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i + m <= n; i++) {
        uint32_t k = 0;
        while (k < m && t[i + k] == p[k])
            k++;
        if (k == m) {
            count++;
            *hash = *hash * 33 + i;
        }
    }
    return count;
}

/* Boyer-Moore-Horspool: skip by the bad-character shift of the text byte
 * under the pattern's last position. */
static uint32_t search_bmh(const char *t, uint32_t n, const char *p,
                           uint32_t m, uint32_t *hash)
{
    uint32_t shift[256];
    for (int c = 0; c < 256; c++)
        shift[c] = m;
    for (uint32_t k = 0; k + 1 < m; k++)
        shift[(uint8_t)p[k]] = m - 1 - k;

    uint32_t count = 0;
    for (uint32_t i = 0; i + m <= n; i += shift[(uint8_t)t[i + m - 1]]) {
        int32_t k = (int32_t)m - 1;
        while (k >= 0 && t[i + k] == p[k])
            k--;
        if (k < 0) {
            count++;
            *hash = *hash * 33 + i;
        }
    }
    return count;
}

static void make_text(uint32_t seed)
{
    /* Words of 1-8 letters from a 12-letter alphabet, plus some of the
     * patterns themselves so that long patterns do occur. */
    static const char letters[] = "abcdeinorstw";
    uint32_t i = 0;
    while (i < TEXT_SIZE) {
        uint32_t r = lcg_next(&seed);
        if ((r >> 28) == 0) {
            const char *w = patterns[(r >> 8) % NPAT];
            while (*w && i < TEXT_SIZE)
                text[i++] = *w++;
        } else {
            uint32_t len = 1 + ((r >> 16) & 7);
            for (uint32_t k = 0; k < len && i < TEXT_SIZE; k++)
                text[i++] = letters[(lcg_next(&seed) >> 16) % 12];
        }
        if (i < TEXT_SIZE)
            text[i++] = ' ';
    }
    text[TEXT_SIZE] = 0;
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;
    uint32_t total = 0, hash_naive = 0, hash_bmh = 0;
    int ok = 1;

    for (uint32_t r = 0; r < ROUNDS; r++) {
        make_text(2024 + r);
        for (uint32_t k = 0; k < NPAT; k++) {
            uint32_t m = (uint32_t)strlen(patterns[k]);
            uint32_t a = search_naive(text, TEXT_SIZE, patterns[k], m, &hash_naive);
            uint32_t b = search_bmh(text, TEXT_SIZE, patterns[k], m, &hash_bmh);
            if (a != b)
                ok = 0;
            total += a;
        }
    }
    if (hash_naive != hash_bmh)
        ok = 0;

    uart_puts("strsearch: ");
    print_udec(NPAT);
    uart_puts(" patterns in ");
    print_udec(ROUNDS);
    uart_puts(" x ");
    print_udec(TEXT_SIZE);
    uart_puts(" bytes: ");
    print_udec(total);
    uart_puts(" matches, naive == BMH: ");
    print_yesno(ok);
    uart_puts(", checksum ");
    print_hex(hash_naive);
    uart_puts("\n");
    return ok ? 0 : 1;
}
