import assert from 'node:assert/strict';
import { GoldfishRtc } from '../../../emulator/machine/goldfishRtc';

// Register offsets from hw/rtc/goldfish_rtc.c.
const TIME_LOW = 0x00, TIME_HIGH = 0x04, ALARM_LOW = 0x08, ALARM_HIGH = 0x0c, IRQ_ENABLED = 0x10;
const CLEAR_ALARM = 0x14, ALARM_STATUS = 0x18, CLEAR_INTERRUPT = 0x1c;

function setup(start: bigint) {
  const clock = { now: start, calls: 0 };
  const levels: boolean[] = [];
  const rtc = new GoldfishRtc({
    hostNowNs: () => { clock.calls++; return clock.now; },
    irq: { set: (l) => levels.push(l) },
  });
  const rd = (off: number) => rtc.read(off, 4);
  const wr = (off: number, v: number) => rtc.write(off, 4, v);
  const time = () => { const lo = rd(TIME_LOW); return (BigInt(rd(TIME_HIGH)) << 32n) | BigInt(lo); };
  const line = () => levels[levels.length - 1] ?? false;
  return { rtc, clock, levels, rd, wr, time, line };
}

describe('GoldfishRtc', () => {
  it('a TIME_LOW read samples the host clock exactly once and latches TIME_HIGH from that sample', () => {
    // goldfish_rtc_read: TIME_LOW stores time_high = count >> 32; TIME_HIGH returns the latch.
    const { clock, rd } = setup(0x0000_0012_3456_7890n);
    assert.equal(rd(TIME_LOW), 0x34567890);
    assert.equal(clock.calls, 1);
    clock.now = 0x0000_0013_0000_0000n;
    assert.equal(rd(TIME_HIGH), 0x12);
    assert.equal(rd(TIME_HIGH), 0x12);
    assert.equal(clock.calls, 1);
  });

  it('TIME_HIGH reads 0 before any TIME_LOW read and never calls the host clock', () => {
    const { clock, rd } = setup(0x7_0000_0000n);
    assert.equal(rd(TIME_HIGH), 0);
    for (const off of [ALARM_LOW, ALARM_HIGH, IRQ_ENABLED, CLEAR_ALARM, ALARM_STATUS, CLEAR_INTERRUPT, 0x20]) rd(off);
    assert.equal(clock.calls, 0);
  });

  it('writing TIME_HIGH then TIME_LOW sets the count, which then advances with the host clock', () => {
    // goldfish_rtc_write: deposit64 into the current count, tick_offset += new - current.
    const { clock, wr, time } = setup(1_000_000_000n);
    const target = 0x1234_5678_9abc_def0n;
    wr(TIME_HIGH, Number(target >> 32n));
    wr(TIME_LOW, Number(target & 0xffffffffn));
    assert.equal(clock.calls, 2); // each time write samples the clock once (see goldfishRtc.ts)
    clock.now += 5_000n;
    assert.equal(time(), target + 5_000n);
  });

  it('writing only TIME_LOW keeps the current high half', () => {
    const { clock, wr, time } = setup(0x5_0000_0010n);
    wr(TIME_LOW, 0x100);
    assert.equal(time(), 0x5_0000_0100n);
    clock.now += 1n;
    assert.equal(time(), 0x5_0000_0101n);
  });

  it('ALARM_LOW arms the alarm (ALARM_STATUS 1) at alarm - tick_offset on the host timeline, without reading the clock', () => {
    const { rtc, clock, rd, wr } = setup(1000n);
    wr(TIME_LOW, 0); // count = host - 1000
    const calls = clock.calls;
    wr(ALARM_HIGH, 0x1);
    assert.equal(rd(ALARM_STATUS), 0); // ALARM_HIGH alone does not arm
    assert.equal(rtc.nextAlarmNs(), null);
    wr(ALARM_LOW, 0x500);
    assert.equal(rd(ALARM_STATUS), 1);
    assert.equal(rtc.nextAlarmNs(), 0x1_0000_0500n + 1000n);
    assert.equal(rd(ALARM_LOW), 0x500);
    assert.equal(rd(ALARM_HIGH), 0x1);
    assert.equal(clock.calls, calls);
  });

  it('fireAlarm stops the alarm and sets the interrupt, which IRQ_ENABLED gates and CLEAR_INTERRUPT drops', () => {
    // goldfish_rtc_interrupt + goldfish_rtc_update (line = irq_pending & irq_enabled)
    const { rtc, rd, wr, line } = setup(0n);
    wr(ALARM_LOW, 100);
    rtc.fireAlarm();
    assert.equal(rd(ALARM_STATUS), 0);
    assert.equal(rtc.nextAlarmNs(), null);
    assert.equal(line(), false); // not enabled yet
    wr(IRQ_ENABLED, 0xff);
    assert.equal(rd(IRQ_ENABLED), 1);
    assert.equal(line(), true);
    wr(CLEAR_INTERRUPT, 0);
    assert.equal(line(), false);
  });

  it('CLEAR_ALARM disarms, and fireAlarm with nothing armed does nothing', () => {
    const { rtc, rd, wr, levels } = setup(0n);
    wr(IRQ_ENABLED, 1);
    wr(ALARM_LOW, 100);
    wr(CLEAR_ALARM, 0);
    assert.equal(rd(ALARM_STATUS), 0);
    assert.equal(rtc.nextAlarmNs(), null);
    const before = levels.length;
    rtc.fireAlarm();
    assert.equal(levels.length, before);
  });

  it('the armed deadline does not move when the time is set afterwards (QEMU timer expiry is fixed)', () => {
    const { rtc, wr } = setup(0n);
    wr(ALARM_LOW, 5000);
    wr(TIME_LOW, 4000);
    assert.equal(rtc.nextAlarmNs(), 5000n);
  });

  it('only aligned 4-byte accesses inside the 0x24-byte region are valid', () => {
    // goldfish_rtc_ops.valid min = max = 4; memory_region_init_io size 0x24
    const { rtc, clock } = setup(42n);
    assert.equal(rtc.validAccess(TIME_LOW, 4), true);
    assert.equal(rtc.validAccess(TIME_LOW, 2), false);
    assert.equal(rtc.validAccess(0x24, 4), false);
    assert.equal(rtc.read(TIME_LOW, 1), 0);
    assert.equal(clock.calls, 0);
  });

  it('reset drops alarm and interrupt state but keeps the time offset', () => {
    const { rtc, clock, rd, wr, time } = setup(0n);
    wr(TIME_HIGH, 3);
    wr(IRQ_ENABLED, 1);
    wr(ALARM_LOW, 9);
    rtc.reset();
    assert.equal(rd(IRQ_ENABLED), 0);
    assert.equal(rd(ALARM_STATUS), 0);
    assert.equal(rd(ALARM_LOW), 0);
    clock.now = 7n;
    assert.equal(time(), 0x3_0000_0007n);
  });

  it('saveState survives JSON and restores time offset, latch and armed alarm without host calls', () => {
    const a = setup(0x9_0000_0000n);
    a.wr(TIME_HIGH, 0x100);
    a.wr(IRQ_ENABLED, 1);
    a.wr(ALARM_HIGH, 0x100);
    a.wr(ALARM_LOW, 0x10);
    a.rd(TIME_LOW);
    const saved = JSON.parse(JSON.stringify(a.rtc.saveState()));
    const b = setup(0x9_0000_0000n);
    b.rtc.loadState(saved);
    assert.equal(b.clock.calls, 0);
    assert.equal(b.levels.length, 0);
    assert.equal(b.rd(TIME_HIGH), a.rd(TIME_HIGH));
    assert.equal(b.rtc.nextAlarmNs(), a.rtc.nextAlarmNs());
    assert.equal(b.time(), a.time());
    b.rtc.fireAlarm();
    assert.equal(b.line(), true);
  });
});
