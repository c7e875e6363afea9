import assert from 'node:assert/strict';
import { SifiveTest } from '../../../emulator/machine/sifiveTest';

function setup(withReset = true) {
  const exits: number[] = [];
  let resets = 0;
  const dev = new SifiveTest({
    onExit: (c) => exits.push(c),
    onReset: withReset ? () => { resets++; } : undefined,
  });
  return { dev, exits, resets: () => resets };
}

// Expectations from hw/misc/sifive_test.c (sifive_test_write) in QEMU 7.2.
describe('SifiveTest', () => {
  it('0x5555 (PASS) exits with code 0 whatever the upper half holds', () => {
    const { dev, exits } = setup();
    dev.write(0, 4, 0x00075555);
    assert.deepEqual(exits, [0]);
  });

  it('0x3333 (FAIL) exits with value >> 16, and FAIL with code 0 exits 0', () => {
    const { dev, exits } = setup();
    dev.write(0, 4, (42 << 16) | 0x3333);
    dev.write(0, 4, 0xffff3333);
    dev.write(0, 4, 0x3333);
    assert.deepEqual(exits, [42, 0xffff, 0]);
  });

  it('0x7777 (RESET) requests a reset and does not exit; without onReset it is ignored', () => {
    const a = setup();
    a.dev.write(0, 4, 0x7777);
    assert.equal(a.resets(), 1);
    assert.deepEqual(a.exits, []);
    const b = setup(false);
    b.dev.write(0, 4, 0x7777);
    assert.deepEqual(b.exits, []);
  });

  it('other status values and other offsets are ignored (QEMU only logs a guest error)', () => {
    const { dev, exits, resets } = setup();
    dev.write(0, 4, 0x1234);
    dev.write(4, 4, 0x5555);
    dev.write(2, 2, 0x3333);
    assert.deepEqual(exits, []);
    assert.equal(resets(), 0);
  });

  it('a 16-bit store of 0x5555 at offset 0 passes; byte stores are invalid (valid.min_access_size = 2)', () => {
    const { dev, exits } = setup();
    assert.equal(dev.validAccess(0, 1), false);
    dev.write(0, 1, 0x55);
    assert.deepEqual(exits, []);
    assert.equal(dev.validAccess(0, 2), true);
    dev.write(0, 2, 0x5555);
    assert.deepEqual(exits, [0]);
  });

  it('reads return 0 and the device has no state to save', () => {
    const { dev } = setup();
    assert.equal(dev.read(0, 4), 0);
    assert.equal(dev.read(0x10, 2), 0);
    assert.deepEqual(JSON.parse(JSON.stringify(dev.saveState())), {});
  });
});
