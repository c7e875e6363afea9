/**
 * The guest's UART over DAP: output as `output` events while it runs, input through the
 * rewind/sendInput request (recorded), refused in the past of a live recording and taken again
 * at its end; the launch's `input` attribute.
 */
import assert from 'node:assert/strict';
import { Dap, guestElf } from '../support/dapSession';

async function waitFor(cond: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('adapter: UART', function () {
  this.timeout(300_000);

  it('input typed while the guest waits reaches it; refused in the past; taken again at the end', async () => {
    const d = await Dap.start();
    try {
      await Promise.all([d.dc.launchRequest({ program: guestElf('echo-O2'), trace: `${d.work}/echo.rwtrace` } as never), d.dc.waitForEvent('initialized')]);
      await d.dc.configurationDoneRequest();
      // The guest sleeps waiting for input: the session runs, the adapter answers.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await d.dc.threadsRequest()).success, true);
      const r = await d.dc.customRequest('rewind/sendInput', { text: 'hello\n' });
      assert.equal(r.body.accepted, 6);
      await waitFor(() => d.stdout().includes('HELLO'));
      const paused = await d.after(() => d.dc.pauseRequest({ threadId: 1 }));
      assert.equal(paused.body.reason, 'pause');
      await d.after(() => d.dc.customRequest('rewind/goToStart'));
      const refused = await d.dc.customRequest('rewind/sendInput', { text: 'x' }).then(() => '', (e: Error) => e.message);
      assert.match(refused, /input refused: the machine is at icount 0, in the past of the recording/);
      await d.after(() => d.dc.customRequest('rewind/goToEnd'));
      await d.dc.customRequest('rewind/sendInput', { text: 'bye q' });
      const end = await d.after(() => d.dc.continueRequest({ threadId: 1 }));
      assert.match(end.body.description ?? '', /exited with code 0/);
      const out = d.stdout();
      assert.equal(out.split('HELLO').length - 1, 1, 'each byte shown once, also after going back');
      assert.match(out, /BYE /);
      assert.match(out, /echo: 11 bytes, 1 lines/);
    } finally {
      await d.close();
    }
  });

  it('the launch input attribute, as text', async () => {
    const { d, stop } = await Dap.launch({ program: guestElf('echo-O0'), input: 'abc\nq' });
    try {
      assert.match(stop.body.description ?? '', /exited with code 0/);
      assert.match(d.stdout(), /ABC/);
      const bad = await d.dc.customRequest('rewind/sendInput', {}).then(() => '', (e: Error) => e.message);
      assert.match(bad, /sendInput needs text, or bytes/);
    } finally {
      await d.close();
    }
  });
});
