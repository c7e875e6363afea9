/**
 * The one error type for failures a user can cause (bad ELF, bad trace, bad arguments).
 * Anything else that escapes is a bug in Rewind and keeps its stack trace.
 */
export class RewindError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'RewindError';
  }
}
