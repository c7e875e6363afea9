/*
 * rtc — reads the Goldfish RTC (nanoseconds since the Unix epoch).
 *
 * Reading TIME_LOW latches the high half, so TIME_LOW must be read before
 * TIME_HIGH to get a consistent 64-bit value.  The wall-clock time is of
 * course different on every run, so only facts that hold on any run are
 * printed — the output (and the instruction count: no value-dependent loops,
 * no divisions) is identical run to run.
 */
#include "lib.h"

/* 2024-01-01T00:00:00Z and 2100-01-01T00:00:00Z in ns since the epoch. */
#define NS_2024 0x17a6101701650000ull
#define NS_2100 0x38eecfcf56a60000ull

static uint64_t rtc_read_ns(void)
{
    uint32_t lo = mmio_read32(RTC_BASE + RTC_TIME_LOW);    /* latches high */
    uint32_t hi = mmio_read32(RTC_BASE + RTC_TIME_HIGH);
    return ((uint64_t)hi << 32) | lo;
}

int main(uint32_t hartid, uintptr_t dtb)
{
    (void)hartid;
    (void)dtb;

    uint64_t t1 = rtc_read_ns();
    uint64_t t2 = rtc_read_ns();

    uart_puts("rtc: year >= 2024: ");
    print_yesno(t1 >= NS_2024);
    uart_puts("\nrtc: year < 2100: ");
    print_yesno(t1 < NS_2100);
    uart_puts("\nrtc: monotonic: ");
    print_yesno(t2 >= t1);
    uart_puts("\nrtc: second read less than 1 s later: ");
    print_yesno(t2 - t1 < 1000000000ull);
    uart_puts("\n");
    return 0;
}
