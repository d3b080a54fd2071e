// Runs mediaslim off the main thread, so the page stays responsive while a big image or an
// AVIF encode (about a second per 600 px image) is in progress. One wasm instance per worker.
import { optimize, probe, MediaslimError } from 'mediaslim';
import type { OptimizeOptions } from 'mediaslim';
import type { WorkerReply, WorkerRequest } from './protocol.ts';

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(message: WorkerReply, transfer?: Transferable[]): void;
};

scope.onmessage = async (event) => {
  const { id, file, options } = event.data;
  // The header read is cheap and lets the card show the source dimensions; a file that
  // cannot even be probed gets its error from optimize() below, which says the same.
  const info = await probe(file).catch(() => null);
  // "Same as input" keeps PNG, WebP, GIF and BMP sources lossless, where a quality would only
  // earn a warning: pass it for JPEG sources only.
  const opts: OptimizeOptions = { ...options };
  if (opts.format === 'original' && info && info.format !== 'jpeg') delete opts.quality;
  const started = performance.now();
  try {
    const result = await optimize(file, opts);
    const wallMs = performance.now() - started;
    const bytes = result.bytes;
    // Transfer the output instead of copying it when it owns its whole buffer (it never
    // should be a view into wasm memory, but a transfer would detach that memory).
    const transfer =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
        ? [bytes.buffer]
        : [];
    scope.postMessage({ id, ok: true, result, probe: info, wallMs }, transfer);
  } catch (err) {
    const code = err instanceof MediaslimError ? err.code : 'UNEXPECTED';
    const message = err instanceof Error ? err.message : String(err);
    scope.postMessage({ id, ok: false, code, message, probe: info });
  }
};
