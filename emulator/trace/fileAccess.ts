import * as fs from 'fs';

/**
 * The small interfaces through which the trace code touches files, so that the format code
 * itself stays free of Node (and testable on plain byte arrays).
 */
export interface ByteSink {
  /** Appends bytes at the end, in one write: a chunk is never interleaved with another. */
  append(bytes: Uint8Array): void;
  close(): void;
}

export interface ByteSource {
  readonly size: number;
  /** Reads [offset, offset + length) or as much of it as exists. */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

/** An append-only file. Each append is one write(2), so a killed writer leaves whole writes. */
export class FileSink implements ByteSink {
  private fd: number;
  constructor(path: string) {
    this.fd = fs.openSync(path, 'w');
  }
  append(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(this.fd, bytes, off, bytes.length - off);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

export class FileSource implements ByteSource {
  private fd: number;
  readonly size: number;
  constructor(path: string) {
    this.fd = fs.openSync(path, 'r');
    this.size = fs.fstatSync(this.fd).size;
  }
  read(offset: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = fs.readSync(this.fd, buf, got, n - got, offset + got);
      if (r === 0) break;
      got += r;
    }
    return got === n ? buf : buf.subarray(0, got);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

/** A source over bytes already in memory (tests, small files). */
export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(private readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, Math.min(this.size, offset + length));
  }
  close(): void {}
}
