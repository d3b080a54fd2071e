/** Stable error codes: match on `error.code`, never on the message. */
export type ErrorCode =
  | 'UNSUPPORTED_FORMAT'
  /** No video encoder for the asked codec here (message says what was tried and why). */
  | 'UNSUPPORTED_CODEC'
  | 'CORRUPT_INPUT'
  | 'TOO_LARGE'
  | 'INVALID_OPTION'
  | 'ENCODE_FAILED'
  | 'ABORTED'
  | 'WORKER_CRASHED';

/** Every failure mediaslim reports: a code plus a message naming the input and limit. */
export class MediaslimError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaslimError';
    this.code = code;
  }
}

/** Turns what the wasm core throws ({ code, message }) into a MediaslimError. */
export function fromCoreError(err: unknown): MediaslimError {
  if (err instanceof MediaslimError) return err;
  if (typeof err === 'object' && err !== null && 'code' in err && 'message' in err) {
    const { code, message } = err as { code: ErrorCode; message: string };
    return new MediaslimError(code, String(message));
  }
  const message = err instanceof Error ? err.message : String(err);
  return new MediaslimError('ENCODE_FAILED', `unexpected failure in the core: ${message}`, { cause: err });
}

/** What a job cancelled through its AbortSignal rejects with. */
export function abortError(signal: AbortSignal): MediaslimError {
  const why = signal.reason instanceof Error ? signal.reason.message : signal.reason !== undefined ? String(signal.reason) : 'aborted';
  return new MediaslimError('ABORTED', `the job was cancelled: ${why}`, { cause: signal.reason });
}
