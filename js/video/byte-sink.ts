// Where streamed output goes: a web WritableStream or a Node Writable, behind one small
// interface that waits for the destination to take each piece (backpressure), so memory holds
// one piece at a time whatever the output's size.
import { MediaslimError } from '../errors.js';

/** A Node `stream.Writable`, as far as we use it (no import: this module also runs in browsers). */
export interface NodeWritableLike {
  write(chunk: Uint8Array, callback: (err?: Error | null) => void): boolean;
  end(callback?: () => void): unknown;
  destroy(error?: Error): unknown;
  on(event: 'error', listener: (...args: unknown[]) => void): unknown;
  once(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown;
  off(event: 'drain' | 'error' | 'close', listener: (...args: unknown[]) => void): unknown;
  readonly writable?: boolean;
}

/** What streamed output may be written to. */
export type OutputStream = WritableStream<Uint8Array> | NodeWritableLike;

export interface ByteSink {
  /** Resolves once the destination has taken `bytes` (the caller may then reuse nothing: each piece is fresh). */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the output: closes the stream (Node: `end()`, waiting for it to finish). */
  close(): Promise<void>;
  /** Gives up: aborts the web stream / destroys the Node stream with `reason`. */
  abort(reason: unknown): Promise<void>;
}

function isNodeWritable(output: unknown): output is NodeWritableLike {
  const o = output as Partial<NodeWritableLike> | null;
  return typeof o === 'object' && o !== null && typeof o.write === 'function' && typeof o.end === 'function' && typeof o.once === 'function';
}

export function isOutputStream(output: unknown): output is OutputStream {
  return (typeof WritableStream !== 'undefined' && output instanceof WritableStream) || isNodeWritable(output);
}

/** Wraps `output`, or refuses it with INVALID_OPTION naming `option`. */
export function toSink(output: unknown, option = 'output'): ByteSink {
  if (typeof WritableStream !== 'undefined' && output instanceof WritableStream) {
    const writer = (output as WritableStream<Uint8Array>).getWriter();
    return {
      async write(bytes) {
        await writer.ready;
        await writer.write(bytes);
      },
      close: () => writer.close(),
      abort: (reason) => writer.abort(reason),
    };
  }
  if (isNodeWritable(output)) return nodeSink(output);
  throw new MediaslimError('INVALID_OPTION', `invalid option \`${option}\`: must be a WritableStream or a Node stream.Writable`);
}

function nodeSink(stream: NodeWritableLike): ByteSink {
  // A write's callback reports its error; 'drain' says the buffer emptied; a stream that
  // closes or fails while we wait must not leave us waiting forever. An 'error' with no
  // listener would throw out of the event loop: one listener stays until we are done.
  let failed: unknown;
  const remember = (err: unknown) => (failed ??= err);
  stream.on('error', remember);
  const release = () => stream.off('error', remember);
  const waitFor = (event: 'drain' | 'close') =>
    new Promise<void>((resolve, reject) => {
      const done = () => {
        stream.off('error', fail);
        stream.off('close', closed);
        resolve();
      };
      const fail = (err: unknown) => {
        stream.off(event, done);
        stream.off('close', closed);
        reject(new MediaslimError('ABORTED', `the output stream failed: ${String(err)}`, { cause: err }));
      };
      const closed = () => {
        stream.off(event, done);
        stream.off('error', fail);
        if (event === 'close') resolve();
        else reject(new MediaslimError('ABORTED', 'the output stream was closed before the output was complete'));
      };
      stream.once(event, done);
      stream.once('error', fail);
      if (event !== 'close') stream.once('close', closed);
    });
  return {
    async write(bytes) {
      if (failed) throw new MediaslimError('ABORTED', `the output stream failed: ${String(failed)}`, { cause: failed });
      const more = stream.write(bytes, (err) => err && remember(err));
      if (!more) await waitFor('drain');
      if (failed) throw new MediaslimError('ABORTED', `the output stream failed: ${String(failed)}`, { cause: failed });
    },
    async close() {
      await new Promise<void>((resolve) => stream.end(() => resolve()));
      release();
      if (failed) throw new MediaslimError('ABORTED', `the output stream failed: ${String(failed)}`, { cause: failed });
    },
    async abort(reason) {
      // Destroying with the reason emits it as 'error' on a later tick: our listener stays so
      // that event cannot crash the process (the caller already gets the rejection).
      stream.destroy(reason instanceof Error ? reason : new Error(String(reason)));
    },
  };
}
