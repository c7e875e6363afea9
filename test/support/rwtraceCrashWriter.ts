/**
 * A recording that never ends, for the kill -9 tests: writes numbered 16-byte items into EVENTS
 * chunks through ChunkBuffer (flushing every few ms) until it is killed. Item i holds i and
 * icount 10·i, so a reader can check that every item it finds is intact and in order.
 */
import { FileSink } from '../../emulator/trace/fileAccess';
import { ChunkType } from '../../emulator/trace/rwtraceFormat';
import { ChunkBuffer, RwtraceWriter } from '../../emulator/trace/rwtraceWriter';

const writer = new RwtraceWriter(new FileSink(process.argv[2]), { test: 'crash', pid: process.pid });
const events = new ChunkBuffer(writer, ChunkType.EVENTS, 4096, 5);
process.stdout.write('started\n');
for (let i = 0; ; i++) {
  const item = new Uint8Array(16);
  const dv = new DataView(item.buffer);
  dv.setUint32(0, i, true);
  dv.setFloat64(4, i * 10, true);
  dv.setUint32(12, i ^ 0x5a5a5a5a, true);
  events.add(item, i, i * 10);
}
