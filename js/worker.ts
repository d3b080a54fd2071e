// A pool worker: one wasm instance, one job at a time. Runs in a Web Worker (module or
// classic, as a bundler emits it) or a Node worker thread. Replies carry the output buffer as
// a transferable (no copy).
//
// No top-level await: bundlers such as Vite build workers as classic IIFE scripts by default,
// which cannot hold one. And a Web Worker must install its message handler synchronously:
// a module worker still awaiting its top-level code when the first job arrives would
// drop that message (Chromium dispatches it to the missing handler), leaving the job hanging.
import { hasFull, loadCore, memoryBytes, withCore, type Flavor } from './core.js';
import { MediaslimError } from './errors.js';
import { readAll } from './input.js';
import type { JobReply, JobRequest } from './protocol.js';

type Post = (reply: JobReply, transfer: ArrayBuffer[]) => void;

/** AVIF needs the full module; once it is loaded it serves everything (one instance busy). */
function flavorFor(req: JobRequest): Flavor {
  if (hasFull()) return 'full';
  if (req.kind !== 'optimize' && req.kind !== 'optimizeMany') return 'core';
  type Asked = { format?: string; accept?: string[] };
  const parsed = JSON.parse(req.optionsJson) as Asked | Asked[];
  // AVIF output, or `format: 'auto'` allowed to pick it, needs the module with the AVIF encoder.
  const wantsAvif = (o: Asked) => o?.format === 'avif' || (o?.format === 'auto' && !!o.accept?.includes('avif'));
  return (Array.isArray(parsed) ? parsed : [parsed]).some(wantsAvif) ? 'full' : 'core';
}

async function run(req: JobRequest): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  const bytes = await readAll(req.input);
  const flavor = flavorFor(req);
  switch (req.kind) {
    case 'optimize': {
      const out = (await withCore((core) => core.optimize(bytes, req.optionsJson), flavor)) as { bytes: Uint8Array };
      // The output owns a fresh buffer (copied out of wasm memory): move it, do not copy it.
      const whole = out.bytes.byteOffset === 0 && out.bytes.byteLength === out.bytes.buffer.byteLength;
      return { value: out, transfer: whole ? [out.bytes.buffer as ArrayBuffer] : [] };
    }
    case 'optimizeMany': {
      const outs = (await withCore((core) => core.optimizeMany(bytes, req.optionsJson), flavor)) as { ok: boolean; value?: { bytes: Uint8Array } }[];
      const transfer = outs.flatMap((o) => (o.value ? [o.value.bytes.buffer as ArrayBuffer] : []));
      return { value: outs, transfer: [...new Set(transfer)] };
    }
    case 'probe':
      return { value: await withCore((core) => core.probe(bytes), flavor), transfer: [] };
    case 'compare': {
      const second = await readAll(req.second!);
      return { value: await withCore((core) => core.compare(bytes, second), flavor), transfer: [] };
    }
    case 'placeholder':
      return { value: await withCore((core) => core.placeholder(bytes), flavor), transfer: [] };
    case 'remux': {
      const out = (await withCore((core) => core.remux(bytes, req.optionsJson), flavor)) as { bytes: Uint8Array };
      return { value: out, transfer: [out.bytes.buffer as ArrayBuffer] };
    }
    case 'trap':
      await withCore((core) => core.__trapForTests());
      return { value: null, transfer: [] };
  }
}

async function handle(req: JobRequest, post: Post): Promise<void> {
  try {
    const { value, transfer } = await run(req);
    post({ id: req.id, ok: true, value, memoryBytes: memoryBytes() }, transfer);
  } catch (err) {
    const e = err instanceof MediaslimError ? err : new MediaslimError('WORKER_CRASHED', String(err));
    // A trap leaves the instance unusable: the pool replaces this whole worker.
    post({ id: req.id, ok: false, code: e.code, message: e.message, memoryBytes: memoryBytes(), fatal: e.code === 'WORKER_CRASHED' }, []);
  }
}

// Start compiling the wasm at once, before the first job arrives; a load failure is
// reported by that job (withCore retries the load).
loadCore().catch(() => undefined);

// Web workers (browsers, Deno) have `self.postMessage`; Node worker threads do not. Bun
// defines `self.postMessage` inside worker threads too but delivers the parent's messages
// only to `parentPort`, so a runtime that reports a Node version listens there.
const scope = typeof self !== 'undefined' ? (self as unknown as { postMessage?: (m: unknown, t: ArrayBuffer[]) => void; onmessage: ((e: MessageEvent) => void) | null }) : undefined;
const nodeThread = typeof process !== 'undefined' && !!process.versions?.node;
if (!nodeThread && scope && typeof scope.postMessage === 'function') {
  const post: Post = (r, t) => scope.postMessage!(r, t);
  scope.onmessage = (e) => void handle(e.data as JobRequest, post);
} else {
  // Node: the parent port queues messages until a listener is attached, so loading
  // node:worker_threads asynchronously loses nothing. (A computed specifier: browser
  // bundlers must not try to resolve it.)
  const threads = 'node:worker_threads';
  void (import(/* @vite-ignore */ /* webpackIgnore: true */ threads) as Promise<typeof import('node:worker_threads')>).then(({ parentPort }) => {
    if (!parentPort) throw new Error('mediaslim worker started outside a worker thread');
    const post: Post = (r, t) => parentPort.postMessage(r, t);
    parentPort.on('message', (req: JobRequest) => void handle(req, post));
  });
}
