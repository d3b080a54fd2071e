// A pool worker: one wasm instance, one job at a time. Runs in a Web Worker (module or
// classic, as a bundler emits it) or a Node worker thread. Replies carry the output buffer as
// a transferable (no copy).
//
// No top-level await: bundlers such as Vite build workers as classic IIFE scripts by default,
// which cannot hold one. And a Web Worker must install its message handler synchronously:
// a module worker still awaiting its top-level code when the first job arrives would
// drop that message (Chromium dispatches it to the missing handler), leaving the job hanging.
import { flavorToRun, flavorWith, larger, loadCore, memoryBytes, notBuilt, withCore, type Core, type Flavor } from './core.js';
import { MediaslimError } from './errors.js';
import { concat, readAll } from './input.js';
import type { JobReply, JobRequest, WorkerMessage } from './protocol.js';
import type { AvifEncoder } from './webcodecs/avif.js';
import type { GifVideoJobOptions } from './video/encode-gif.js';
import type { PosterJobOptions, TranscodeJobOptions } from './video/transcode-worker.js';

// The WebCodecs AVIF path and video load on their first job (dynamic imports: bundlers make
// them separate chunks): a page that only shrinks photos never fetches them.
const webCodecsAvif = () => import('./webcodecs/avif.js');
const gifVideo = () => import('./video/encode-gif.js');
const videoSource = () => import('./video/video-source.js');
const transcoder = () => import('./video/transcode-worker.js');

type Post = (reply: JobReply, transfer: ArrayBuffer[]) => void;

/**
 * The module a job starts in: the smallest that plainly has what it needs (`core`; `plus`
 * for PNG output and scoring; `full` for AVIF and video), or a bigger one already loaded
 * (one instance busy, not two). What this cannot see from the options (a PNG input
 * re-encoded as PNG) fails with NOT_BUILT and runs again in the module that has it (see `withCore`).
 */
function flavorFor(req: JobRequest): Flavor {
  if (['remux', 'remuxPlan', 'gifToVideo', 'demux', 'transcode', 'posterFrame'].includes(req.kind)) return flavorToRun('full');
  if (req.kind === 'compare') return flavorToRun('plus');
  if (req.kind !== 'optimize' && req.kind !== 'optimizeMany') return flavorToRun('core');
  type Asked = { format?: string; quality?: unknown; score?: boolean; accept?: unknown };
  const parsed = JSON.parse(req.optionsJson) as Asked | Asked[];
  const needs = (o: Asked): Flavor => {
    if (o?.format === 'avif' || (o?.format === 'auto' && Array.isArray(o.accept) && o.accept.includes('avif'))) return 'full';
    return o?.format === 'png' || o?.format === 'auto' || o?.quality === 'auto' || o?.score === true ? 'plus' : 'core';
  };
  return flavorToRun((Array.isArray(parsed) ? parsed : [parsed]).map(needs).reduce(larger, 'core'));
}

type Output = { bytes: Uint8Array; format: string; warnings: string[]; encoder?: 'webcodecs' | 'libaom'; originalRanges?: number[] };
type ManyEntry = { ok: boolean; value?: Output; code?: string; message?: string };

/**
 * AVIF through the browser's AV1 encoder (js/webcodecs/avif.ts) when `avifEncoder` allows
 * it: a result, or none plus the note to add to the wasm (libaom) result when WebCodecs was demanded.
 * Errors of the job itself (a corrupt input, a bad option) are thrown as they are.
 */
async function tryWebCodecs(bytes: Uint8Array, json: string, options: Record<string, unknown>): Promise<{ result?: Output; note?: string }> {
  const choice = (options.avifEncoder ?? 'auto') as AvifEncoder;
  if (choice === 'wasm' || options.format !== 'avif') return {};
  const demanded = choice === 'webcodecs';
  const note = (why: string) => (demanded ? { note: `avifEncoder "webcodecs": ${why}; encoded with libaom (wasm) instead` } : {});
  const { WebCodecsFallback, encodeAvifWithWebCodecs, ineligible } = await webCodecsAvif();
  const why = ineligible(options);
  if (why) return note(why);
  try {
    // Rendering and wrapping need no AV1 encoder: the small module does them (scoring, for
    // `quality: "auto"`, moves the job to the module with the scorer).
    const flavor = flavorToRun('core');
    return { result: await encodeAvifWithWebCodecs(bytes, json, options, demanded, (fn) => withCore(fn, flavor)) };
  } catch (err) {
    if (err instanceof WebCodecsFallback) return note(err.message);
    if (err instanceof MediaslimError) throw err; // the job's own error, or a trapped instance
    // Anything else came from the browser's WebCodecs objects: the wasm encoder can still do the job.
    return note(`the browser's encoder path failed (${String(err)})`);
  }
}

/**
 * The core frees its copy of the input once decoded, so an output that keeps the original
 * (`neverBigger`) comes back as byte ranges of the input (its metadata cut out): cut them
 * from ours.
 */
function withOriginal(out: Output, input: Uint8Array): Output {
  const ranges = out.originalRanges;
  if (!ranges) return out;
  delete out.originalRanges;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < ranges.length; i += 2) parts.push(input.subarray(ranges[i], ranges[i + 1]));
  out.bytes = concat(parts);
  return out;
}

/** Says which encoder made an AVIF, and why WebCodecs did not when it was asked for. */
function labelled(out: Output, note: string | undefined): Output {
  if (out.format === 'avif') out.encoder ??= 'libaom';
  if (note) out.warnings.push(note);
  return out;
}

function parseObject(json: string): Record<string, unknown> {
  const v = JSON.parse(json) as unknown;
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Progress at most every 50 ms: one message per frame would flood the pool for long videos. */
function throttled(id: number, post: Post): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < 50) return;
    last = now;
    post({ id, progress: { done, total } }, []);
  };
}

/** Running jobs that can stop midway, by id: the pool's cancel message aborts them. */
const cancellers = new Map<number, AbortController>();

async function run(req: JobRequest, post: Post): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  // Video (GIF frames, demuxers, the MP4 muxer) is built into the full module only.
  const inFlavor = <T>(fn: (core: Core) => T, f?: Flavor) => withCore(fn, f ?? 'full');
  // Video jobs read their input by range (a Blob stays a Blob); the rest need it whole.
  switch (req.kind) {
    case 'demux':
      return { value: await (await videoSource()).demuxJob(req.input, inFlavor), transfer: [] };
    case 'transcode':
    case 'posterFrame': {
      const controller = new AbortController();
      cancellers.set(req.id, controller);
      try {
        if (req.kind === 'posterFrame') {
          const out = await (await transcoder()).decodePosterFrame(req.input, parseObject(req.optionsJson) as PosterJobOptions, inFlavor, controller.signal);
          return { value: out, transfer: [out.png.buffer as ArrayBuffer] };
        }
        const out = await (await transcoder()).transcodeVideo(req.input, parseObject(req.optionsJson) as TranscodeJobOptions, inFlavor, throttled(req.id, post), controller.signal, req.output);
        return { value: out, transfer: out.video ? [out.video.buffer as ArrayBuffer] : [] };
      } finally {
        cancellers.delete(req.id);
      }
    }
    default:
      break;
  }
  const bytes = await readAll(req.input);
  const flavor = flavorFor(req);
  switch (req.kind) {
    case 'optimize': {
      const { result, note } = await tryWebCodecs(bytes, req.optionsJson, parseObject(req.optionsJson));
      const out = labelled(result ?? withOriginal((await withCore((core) => core.optimize(bytes, req.optionsJson), flavor)) as Output, bytes), note);
      // The output owns a fresh buffer (copied out of wasm memory): move it, do not copy it.
      const whole = out.bytes.byteOffset === 0 && out.bytes.byteLength === out.bytes.buffer.byteLength;
      return { value: out, transfer: whole ? [out.bytes.buffer as ArrayBuffer] : [] };
    }
    case 'optimizeMany': {
      // AVIF entries the browser can encode go through WebCodecs one by one (each renders
      // from the input again, which costs far less than an AV1 encode); the rest share
      // one decode in the core.
      const list = JSON.parse(req.optionsJson) as unknown;
      if (!Array.isArray(list)) {
        return { value: await withCore((core) => core.optimizeMany(bytes, req.optionsJson), flavor), transfer: [] }; // the core names the error
      }
      const outs: (ManyEntry | undefined)[] = list.map(() => undefined);
      const notes: (string | undefined)[] = list.map(() => undefined);
      for (let i = 0; i < list.length; i++) {
        const options: unknown = list[i];
        if (typeof options !== 'object' || options === null || Array.isArray(options)) continue;
        try {
          const { result, note } = await tryWebCodecs(bytes, JSON.stringify(options), options as Record<string, unknown>);
          if (result) outs[i] = { ok: true, value: result };
          notes[i] = note;
        } catch (err) {
          if (!(err instanceof MediaslimError) || err.code === 'WORKER_CRASHED') throw err;
          outs[i] = { ok: false, code: err.code, message: err.message };
        }
      }
      const rest = list.filter((_, i) => !outs[i]);
      if (rest.length > 0) {
        const json = rest.length < list.length ? JSON.stringify(rest) : req.optionsJson;
        const fromCore = (await withCore((core) => core.optimizeMany(bytes, json), flavor)) as ManyEntry[];
        // Entries this module leaves out (NOT_BUILT) run again in one that has them all.
        const missing = fromCore.flatMap((e, i) => (!e.ok && notBuilt(e) ? [i] : []));
        if (missing.length > 0) {
          const next = flavorToRun(missing.map((i) => flavorWith(fromCore[i])).reduce(larger));
          const again = (await withCore((core) => core.optimizeMany(bytes, JSON.stringify(missing.map((i) => rest[i]))), next)) as ManyEntry[];
          missing.forEach((i, k) => (fromCore[i] = again[k]));
        }
        let next = 0;
        for (let i = 0; i < outs.length; i++) if (!outs[i]) outs[i] = fromCore[next++];
      }
      const done = outs as ManyEntry[];
      done.forEach((o, i) => o.value && labelled(withOriginal(o.value, bytes), notes[i]));
      const transfer = done.flatMap((o) => (o.value ? [o.value.bytes.buffer as ArrayBuffer] : []));
      return { value: done, transfer: [...new Set(transfer)] };
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
    case 'remuxPlan': {
      // A streamed remux's index: the caller copies the media itself (js/video/remux-stream.ts).
      const layout = parseObject(req.optionsJson) as { kinds: number[]; starts: number[]; sizes: number[]; headers: number[] };
      const out = (await withCore(
        (core) => core.fastStartPlan(Uint8Array.from(layout.kinds), Float64Array.from(layout.starts), Float64Array.from(layout.sizes), Uint8Array.from(layout.headers), bytes),
        flavor,
      )) as { moov: Uint8Array };
      return { value: out, transfer: [out.moov.buffer as ArrayBuffer] };
    }
    case 'gifToVideo': {
      const out = await (await gifVideo()).encodeGifVideo(bytes, parseObject(req.optionsJson) as GifVideoJobOptions, inFlavor, throttled(req.id, post));
      return { value: out, transfer: [out.video.buffer as ArrayBuffer] };
    }
    case 'trap':
      await withCore((core) => core.__trapForTests());
      return { value: null, transfer: [] };
    default:
      throw new MediaslimError('INVALID_OPTION', `unknown job kind ${JSON.stringify(req.kind)}`);
  }
}

function receive(msg: WorkerMessage, post: Post): void {
  if ('cancel' in msg) {
    cancellers.get(msg.cancel)?.abort(new Error('every caller aborted'));
    return;
  }
  void handle(msg, post);
}

async function handle(req: JobRequest, post: Post): Promise<void> {
  try {
    const { value, transfer } = await run(req, post);
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
  scope.onmessage = (e) => receive(e.data as WorkerMessage, post);
} else {
  // Node: the parent port queues messages until a listener is attached, so loading
  // node:worker_threads asynchronously loses nothing. (A computed specifier: browser
  // bundlers must not try to resolve it.)
  const threads = 'node:worker_threads';
  void (import(/* @vite-ignore */ /* webpackIgnore: true */ threads) as Promise<typeof import('node:worker_threads')>).then(({ parentPort }) => {
    if (!parentPort) throw new Error('mediaslim worker started outside a worker thread');
    const post: Post = (r, t) => parentPort.postMessage(r, t);
    parentPort.on('message', (msg: WorkerMessage) => receive(msg, post));
  });
}
