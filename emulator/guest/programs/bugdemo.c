/*
 * bugdemo — a memory-corruption bug made for time-travel debugging demos.
 *
 * A small "sensor pipeline": eight channels of noisy readings around 1000
 * are offset-corrected, smoothed with a moving average and summarised; at
 * the very end the mean is multiplied by the output gain (1.0 = 1024).
 *
 * THE BUG: load_offsets() fills cal.offset[] with `i <= n` instead of
 * `i < n`, so it writes one element past the end of the array — straight
 * into cal.gain, the field that follows it (see the struct below).  That
 * stray write happens a few hundred instructions after start-up; cal.gain
 * is then left alone while the pipeline runs for millions of instructions,
 * and only the final report reads it, prints an absurd value and fails
 * with exit code 1.
 *
 * Demo: run to the end, see "FAIL", set a watchpoint on cal.gain and
 * reverse-continue — execution stops on the stray store in load_offsets().
 * (With the loop bound fixed the program prints a mean near 1000 and "ok".)
 */
#include "lib.h"

#define CHANNELS 8
#define SAMPLES  150000u            /* readings in total, round-robin over channels */
#define WINDOW   16                 /* moving-average length (power of two) */
#define UNITY    1024u              /* gain 1.0 in fixed point */

/* Calibration: the gain sits directly after the offsets array, which is
 * what makes the off-by-one write land on it. */
static struct {
    int32_t offset[CHANNELS];       /* per-channel offset correction */
    uint32_t gain;                  /* output gain, UNITY = 1.0 */
} cal;

/* Per-channel smoothing state and statistics. */
static struct {
    int32_t window[WINDOW];
    int32_t window_sum;
    uint32_t pos;
    int32_t min, max;
    int64_t total;
    uint32_t count;
} chan[CHANNELS];

/* noinline/noipa: keep the compiler from inlining this into main, where it
 * could see the out-of-bounds index and "optimise" the bug away (or warn). */
__attribute__((noinline, noipa))
static void load_offsets(int32_t *dst, uint32_t n)
{
    /* Factory offsets follow a fixed pattern: -2, 0, 2, -1, 1, -2, 0, 2. */
    for (uint32_t i = 0; i <= n; i++)          /* BUG: should be i < n */
        dst[i] = (int32_t)((i * 7) % 5) - 2;   /* STRAY WRITE when i == n:
                                                  dst[8] is cal.gain, which
                                                  becomes (uint32_t)-1 */
}

static int32_t read_sensor(uint32_t *seed)
{
    /* 1000 +/- 10 of deterministic noise */
    return 1000 + (int32_t)((lcg_next(seed) >> 24) % 21) - 10;
}

static void feed(uint32_t ch, int32_t raw)
{
    int32_t v = raw + cal.offset[ch];
    /* moving average over the last WINDOW corrected readings */
    int32_t *slot = &chan[ch].window[chan[ch].pos % WINDOW];
    chan[ch].window_sum += v - *slot;
    *slot = v;
    chan[ch].pos++;
    if (chan[ch].pos < WINDOW)
        return;                     /* window not full yet */
    int32_t avg = chan[ch].window_sum / WINDOW;
    if (avg < chan[ch].min) chan[ch].min = avg;
    if (avg > chan[ch].max) chan[ch].max = avg;
    chan[ch].total += avg;
    chan[ch].count++;
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;

    uart_puts("bugdemo: sensor pipeline, ");
    print_udec(CHANNELS);
    uart_puts(" channels\n");

    cal.gain = UNITY;                        /* gain 1.0 ...            */
    load_offsets(cal.offset, CHANNELS);      /* ... silently clobbered here */

    for (uint32_t ch = 0; ch < CHANNELS; ch++) {
        chan[ch].min = 0x7fffffff;
        chan[ch].max = -0x7fffffff - 1;
    }

    /* The long middle part: millions of instructions that never touch
     * cal.gain, so the corruption goes unnoticed. */
    uint32_t seed = 7;
    for (uint32_t s = 0; s < SAMPLES; s++) {
        feed(s % CHANNELS, read_sensor(&seed));
        if ((s + 1) % 50000 == 0) {
            uart_puts("bugdemo: ");
            print_udec(s + 1);
            uart_puts(" samples processed\n");
        }
    }

    int64_t total = 0;
    uint32_t count = 0;
    for (uint32_t ch = 0; ch < CHANNELS; ch++) {
        uart_puts("bugdemo: channel ");
        print_udec(ch);
        uart_puts(" smoothed range ");
        print_dec(chan[ch].min);
        uart_puts("..");
        print_dec(chan[ch].max);
        uart_puts("\n");
        total += chan[ch].total;
        count += chan[ch].count;
    }

    /* Mean of the smoothed readings; the sum fits in 32 bits
     * (about 150000 * 1000), so 32-bit division is enough. */
    uint32_t mean = (uint32_t)total / count;
    /* Apply the output gain — the first read of cal.gain since start-up. */
    uint32_t output = (uint32_t)(((uint64_t)mean * cal.gain) >> 10);

    uart_puts("bugdemo: calibrated mean ");
    print_udec(output);
    uart_puts(" (expected 990..1010): ");
    if (output >= 990 && output <= 1010) {
        uart_puts("ok\n");
        return 0;
    }
    uart_puts("FAIL\n");
    return 1;
}
