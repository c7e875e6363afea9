import * as fs from 'fs';

/**
 * Buffered writer for the guest's UART output: bytes go to stdout in large writes, and nothing
 * but the guest's bytes ever goes there.
 */
export class OutputSink {
  private buf = Buffer.alloc(1 << 16);
  private len = 0;

  constructor(private readonly fd: number) {}

  readonly put = (byte: number): void => {
    this.buf[this.len++] = byte;
    if (this.len === this.buf.length) this.flush();
  };

  flush(): void {
    let off = 0;
    while (off < this.len) {
      try {
        off += fs.writeSync(this.fd, this.buf, off, this.len - off);
      } catch (e) {
        // A non-blocking pipe that is full: wait for the reader and try again.
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      }
    }
    this.len = 0;
  }
}

/** Reads a whole input file (or all of stdin for "-"), with a one-line error for a bad path. */
export function readInputFile(path: string): Uint8Array {
  return fs.readFileSync(path === '-' ? 0 : path);
}
