// A pool worker: one wasm instance, one job at a time. Runs in a module Web Worker or a
// Node worker thread. Replies carry the output buffer as a transferable (no copy).
import { loadCore, memoryBytes, withCore } from './core.js';
import { MediaslimError } from './errors.js';
import { readAll } from './input.js';
import type { JobReply, JobRequest } from './protocol.js';

type Port = { post(reply: JobReply, transfer: ArrayBuffer[]): void; listen(fn: (req: JobRequest) => void): void };

async function port(): Promise<Port> {
  // Web workers (browsers, Deno, Bun) have `self.postMessage`; Node worker threads do not.
  if (typeof self !== 'undefined' && typeof (self as { postMessage?: unknown }).postMessage === 'function') {
    const scope = self as unknown as { postMessage(m: unknown, t: ArrayBuffer[]): void; onmessage: ((e: MessageEvent) => void) | null };
    return { post: (r, t) => scope.postMessage(r, t), listen: (fn) => { scope.onmessage = (e) => fn(e.data as JobRequest); } };
  }
  const threads = 'node:worker_threads';
  const { parentPort } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ threads)) as typeof import('node:worker_threads');
  if (!parentPort) throw new Error('mediaslim worker started outside a worker thread');
  return { post: (r, t) => parentPort.postMessage(r, t), listen: (fn) => parentPort.on('message', fn) };
}

async function run(req: JobRequest): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  const bytes = await readAll(req.input);
  switch (req.kind) {
    case 'optimize': {
      const out = (await withCore((core) => core.optimize(bytes, req.optionsJson))) as { bytes: Uint8Array };
      // The output owns a fresh buffer (copied out of wasm memory): move it, do not copy it.
      const whole = out.bytes.byteOffset === 0 && out.bytes.byteLength === out.bytes.buffer.byteLength;
      return { value: out, transfer: whole ? [out.bytes.buffer as ArrayBuffer] : [] };
    }
    case 'optimizeMany': {
      const outs = (await withCore((core) => core.optimizeMany(bytes, req.optionsJson))) as { ok: boolean; value?: { bytes: Uint8Array } }[];
      const transfer = outs.flatMap((o) => (o.value ? [o.value.bytes.buffer as ArrayBuffer] : []));
      return { value: outs, transfer: [...new Set(transfer)] };
    }
    case 'probe':
      return { value: await withCore((core) => core.probe(bytes)), transfer: [] };
    case 'placeholder':
      return { value: await withCore((core) => core.placeholder(bytes)), transfer: [] };
    case 'trap':
      await withCore((core) => core.__trapForTests());
      return { value: null, transfer: [] };
  }
}

const p = await port();
await loadCore().catch(() => { /* reported by the first job */ });
p.listen(async (req) => {
  try {
    const { value, transfer } = await run(req);
    p.post({ id: req.id, ok: true, value, memoryBytes: memoryBytes() }, transfer);
  } catch (err) {
    const e = err instanceof MediaslimError ? err : new MediaslimError('WORKER_CRASHED', String(err));
    // A trap leaves the instance unusable: the pool replaces this whole worker.
    p.post({ id: req.id, ok: false, code: e.code, message: e.message, memoryBytes: memoryBytes(), fatal: e.code === 'WORKER_CRASHED' }, []);
  }
});
