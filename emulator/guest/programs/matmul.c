/*
 * matmul — integer matrix multiplication benchmark.
 *
 * C = A x B for N x N int32 matrices filled from a fixed LCG, repeated
 * ROUNDS times with A perturbed by the previous result so every round
 * differs.  B is transposed once per round so that every C[i][j] is a dot
 * product of two rows walked sequentially with pointers — cache-friendly,
 * and it keeps the -O0 build within ~3x of -O2's instruction count.
 * Prints a checksum of C (wrapping arithmetic).
 */
#include "lib.h"

#define N      128
#define ROUNDS 8

static int32_t A[N][N], B[N][N], BT[N][N], C[N][N];

static int32_t dot(const int32_t *a, const int32_t *b)
{
    const int32_t *end = a + N;
    int32_t s = 0;
    while (a != end)
        s += *a++ * *b++;
    return s;
}

static void multiply(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            BT[j][i] = B[i][j];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            C[i][j] = dot(A[i], BT[j]);
}

static uint32_t checksum(void)
{
    uint32_t h = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            h = h * 31 + (uint32_t)C[i][j];
    return h;
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;

    uint32_t seed = 42;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            /* small values (-128..127) like a fixed-point kernel */
            A[i][j] = (int32_t)(lcg_next(&seed) >> 24) - 128;
            B[i][j] = (int32_t)(lcg_next(&seed) >> 24) - 128;
        }

    uint32_t h = 0;
    for (int r = 0; r < ROUNDS; r++) {
        multiply();
        h = checksum();
        /* feed the result back so rounds cannot be folded together */
        for (int i = 0; i < N; i++)
            A[i][(i + r) % N] ^= C[i][i] & 0xff;
    }

    uart_puts("matmul: ");
    print_udec(ROUNDS);
    uart_puts(" x ");
    print_udec(N);
    uart_puts("x");
    print_udec(N);
    uart_puts(" int32, C[0][0]=");
    print_dec(C[0][0]);
    uart_puts(", checksum ");
    print_hex(h);
    uart_puts("\n");
    return 0;
}
