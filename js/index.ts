// mediaslim: the one public entry. `optimize` shrinks an image, `probe` reads its header.
import { MediaslimError } from './errors.js';
import { readAll, type Input } from './input.js';
import { probeHeader } from './probe.js';
import { Pool, type RunOptions } from './pool.js';
import { Asset, ResultCache } from './asset.js';
import { lazyOptimize as lazyOptimizeWith, type LazyOptions } from './lazy.js';
import { toSink, type OutputStream } from './video/byte-sink.js';
import { remuxToSink, type BoxLayout, type FastStartPlan, type RemuxStreamed } from './video/remux-stream.js';
import { ByteSource, type RangeFile } from './video/video-source.js';
import { gifToVideo as gifToVideoWith, type GifToVideoOptions, type GifToVideoResult } from './video/gif.js';
import {
  demux as demuxWith,
  posterFrame as posterFrameWith,
  transcode as transcodeWith,
  type DemuxedVideo,
  type PosterFrameOptions,
  type PosterFrameResult,
  type TranscodeOptions,
  type TranscodeResult,
} from './video/transcode.js';
import type { OptimizeOptions, Optimized, ProbeInfo, RemuxOptions, Remuxed } from './wasm/mediaslim_core.js';

export { MediaslimError } from './errors.js';
export { Pool } from './pool.js';
export { Asset, ResultCache } from './asset.js';
export type { PictureData, PlaceholderData, SrcsetRequest, VariantFormat } from './asset.js';
export type { LazyOptions } from './lazy.js';
export type { GifToVideoOptions, GifToVideoResult, VideoCodecChoice, VideoQuality, VideoTarget } from './video/gif.js';
export { videoMarkup } from './video/gif.js';
export type { OutputStream, NodeWritableLike } from './video/byte-sink.js';
export type { RemuxStreamed } from './video/remux-stream.js';
export type { DemuxedVideo, VideoSamples, VideoTrackInfo, PosterFrameOptions, PosterFrameResult, TranscodeCodec, TranscodeOptions, TranscodeResult } from './video/transcode.js';
export type { PoolStats, Priority, ProgressEvent, RunOptions } from './pool.js';
export type { ErrorCode } from './errors.js';
export type { Input } from './input.js';
export type {
  AvifEncoder,
  ChromaSubsampling,
  Fit,
  Kernel,
  OptimizeOptions,
  Optimized,
  Placeholder,
  ProbeInfo,
  RemuxOptions,
  Remuxed,
  TargetFormat,
  Timings,
} from './wasm/mediaslim_core.js';

/**
 * A lazy handle on an image: nothing is read until asked. `meta()` reads the header,
 * `variant()`/`srcset()` encode on first request (variants asked together share one
 * decode) and memoize, `placeholder()` makes a ThumbHash.
 */
export function open(
  input: Input,
  options: {
    /** Run the asset's jobs in this pool instead of the shared default one. */
    pool?: Pool;
    /** Where finished variants are memoized (an LRU bounded by bytes). Default: one cache shared by every asset, 64 MiB. */
    cache?: ResultCache;
  } = {},
): Asset {
  return new Asset(input, () => options.pool ?? defaultPool(), options.cache);
}

/**
 * Optimizes `<img>` elements (an element, a list or a selector) as they near the viewport,
 * visible ones first; returns a function that stops watching. Browsers only.
 */
export function lazyOptimize(target: HTMLImageElement | Iterable<HTMLImageElement> | string, options: LazyOptions = {}): () => void {
  return lazyOptimizeWith(target, options, defaultPool);
}

/** Options for the core plus how to run the job (priority, cancellation, pool). */
export type OptimizeRequest = OptimizeOptions &
  RunOptions & {
    /** Run in this pool instead of the shared default one (one worker per core). */
    pool?: Pool;
  };

/** The first time anything runs, a pool of one worker per core is made and shared. */
let sharedPool: Pool | undefined;
export function defaultPool(): Pool {
  return (sharedPool ??= new Pool());
}

const RUN_FIELDS = new Set(['priority', 'signal', 'key', 'onProgress', 'pool']);

function splitRequest(request: OptimizeRequest): { json: string; run: RunOptions; pool: Pool } {
  const { priority, signal, key, onProgress, pool } = request;
  const core = Object.fromEntries(Object.entries(request).filter(([k]) => !RUN_FIELDS.has(k)));
  return { json: optionsToJson(core), run: { priority, signal, key, onProgress }, pool: pool ?? defaultPool() };
}

/**
 * What `optimize` resolves to. AVIF results say which AV1 encoder made them: `webcodecs`
 * (the browser's, via WebCodecs: fastest) or `libaom` (ours in wasm: fewer bytes, slower).
 */
export type OptimizeResult = Omit<Optimized, 'format'> & { format: 'jpeg' | 'png' | 'webp' | 'avif'; encoder?: 'webcodecs' | 'libaom' };

/**
 * Decodes `input`, applies EXIF orientation and colour management, resizes and re-encodes,
 * in a worker of the pool. Rejects with a `MediaslimError` whose `code` says what went wrong.
 */
export async function optimize(input: Input, options: OptimizeRequest = {}): Promise<OptimizeResult> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MediaslimError('INVALID_OPTION', 'invalid option `options`: must be an object');
  }
  const { json, run, pool } = splitRequest(options);
  const source = typeof Blob !== 'undefined' && input instanceof Blob ? input : await readAll(input);
  return (await pool.run('optimize', source, json, run)) as OptimizeResult;
}

/**
 * The core parses options as JSON so that unknown names are refused. JSON would quietly
 * turn NaN and Infinity into null ("absent"), so those are refused here, by name.
 */
function optionsToJson(options: object): string {
  try {
    return JSON.stringify(options, (key, value: unknown) => {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new MediaslimError('INVALID_OPTION', `invalid option \`${key}\`: ${value} is not a finite number`);
      }
      if (typeof value === 'bigint') {
        throw new MediaslimError('INVALID_OPTION', `invalid option \`${key}\`: use a number, not a BigInt`);
      }
      return value;
    });
  } catch (err) {
    if (err instanceof MediaslimError) throw err;
    throw new MediaslimError('INVALID_OPTION', `invalid option \`options\`: cannot be read as plain data (${String(err)})`);
  }
}

/**
 * SSIMULACRA2 of `distorted` against `reference` (higher is better: ~90 visually lossless,
 * ~70 medium). The reference is resized to the distorted image's size first, so an output
 * can be compared with its original.
 */
export async function compare(reference: Input, distorted: Input, run: RunOptions & { pool?: Pool } = {}): Promise<number> {
  const pool = run.pool ?? defaultPool();
  const [a, b] = await Promise.all([reference, distorted].map((i) => (typeof Blob !== 'undefined' && i instanceof Blob ? i : readAll(i))));
  return (await pool.run('compare', a, '{}', { priority: run.priority ?? 'user', signal: run.signal }, b)) as number;
}

/** What `remux` reads: bytes, a Blob/File, or in Node a file path or an open `FileHandle` (read by ranges). */
export type RemuxInput = Input | string | FileHandleLike;

/** A Node `fs/promises` FileHandle, as far as `remux` uses it. */
export interface FileHandleLike {
  stat(): Promise<{ size: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** `remux` options: what to rewrite, and optionally where to stream the output. */
export interface RemuxRequest extends RemuxOptions {
  /**
   * Stream the output here instead of returning it: a web `WritableStream` or a Node
   * `stream.Writable` (e.g. `fs.createWriteStream(path)`). The input is then read by ranges (a
   * path, `FileHandle` or Blob is never read whole) and the output written as it is made, so
   * memory stays flat whatever the file's size; `remux` resolves to `{ changed, notes,
   * bytesWritten }` once the stream is closed, and aborts the stream if it fails.
   */
  output?: OutputStream;
}

/**
 * Rewrites an MP4/MOV container without re-encoding: `fastStart` (default) moves the index
 * (`moov`) in front of the media so playback starts while the file downloads. Every audio
 * and video sample is copied bit-exact. Works in Node and browsers (no WebCodecs needed).
 * With `output`, streams: see {@link RemuxRequest.output}.
 */
export function remux(input: RemuxInput, options: RemuxRequest & { output: OutputStream }, run?: RunOptions & { pool?: Pool }): Promise<RemuxStreamed>;
export function remux(input: RemuxInput, options?: RemuxRequest, run?: RunOptions & { pool?: Pool }): Promise<Remuxed>;
export async function remux(input: RemuxInput, options: RemuxRequest = {}, run: RunOptions & { pool?: Pool } = {}): Promise<Remuxed | RemuxStreamed> {
  const pool = run.pool ?? defaultPool();
  const opts: RunOptions = { priority: run.priority ?? 'user', signal: run.signal, onProgress: run.onProgress };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MediaslimError('INVALID_OPTION', 'invalid option `options`: must be an object');
  }
  const { output, ...coreOptions } = options;
  const json = optionsToJson(coreOptions as Record<string, unknown>);
  if (output === undefined) {
    const file = await rangeFileOf(input);
    try {
      const bytes = file ? await file.read(0, file.size) : await readAll(input as Input);
      return (await pool.run('remux', bytes, json, opts)) as Remuxed;
    } finally {
      await file?.close();
    }
  }
  // The core checks the options (unknown names refused) before the output is touched.
  await pool.run('remux', new Uint8Array(0), json, opts).catch((err: unknown) => {
    if (err instanceof MediaslimError && err.code === 'INVALID_OPTION') throw err;
  });
  const fastStart = (JSON.parse(json) as RemuxOptions).fastStart ?? true;
  const sink = toSink(output);
  let file: Awaited<ReturnType<typeof rangeFileOf>>;
  try {
    file = await rangeFileOf(input);
  } catch (err) {
    await sink.abort(err).catch(() => undefined);
    throw err;
  }
  const source = new ByteSource(file ?? (input instanceof ArrayBuffer ? new Uint8Array(input) : (input as Uint8Array | Blob)));
  const plan = async (moov: Uint8Array, layout: BoxLayout) => (await pool.run('remuxPlan', moov, JSON.stringify(layout), opts)) as FastStartPlan;
  try {
    return await remuxToSink(source, sink, fastStart, plan, {
      signal: run.signal,
      onProgress: run.onProgress && ((done, total) => run.onProgress!({ stage: 'running', done, total })),
    });
  } finally {
    await file?.close();
  }
}

/** A path or FileHandle (Node) as a file read by ranges; undefined for bytes and Blobs. */
async function rangeFileOf(input: RemuxInput): Promise<(RangeFile & { close(): Promise<void> }) | undefined> {
  if (input instanceof Uint8Array || input instanceof ArrayBuffer || (typeof Blob !== 'undefined' && input instanceof Blob)) return undefined;
  let handle: FileHandleLike & { close?: () => Promise<void> };
  let owned = false;
  if (typeof input === 'string') {
    // A computed specifier: bundlers building for browsers must not try to resolve it.
    const fsModule = 'node:fs/promises';
    const fs = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsModule).catch(() => undefined)) as typeof import('node:fs/promises') | undefined;
    if (!fs) throw new MediaslimError('INVALID_OPTION', 'input must be a Uint8Array, ArrayBuffer or Blob here: file paths are read in Node only');
    handle = await fs.open(input, 'r').catch((err: unknown) => {
      throw new MediaslimError('INVALID_OPTION', `input: cannot open ${JSON.stringify(input)} (${String(err)})`, { cause: err });
    });
    owned = true;
  } else if (typeof input === 'object' && input !== null && typeof (input as FileHandleLike).read === 'function' && typeof (input as FileHandleLike).stat === 'function') {
    handle = input as FileHandleLike;
  } else {
    return readAll(input as Input).then(() => undefined); // names what it got
  }
  const { size } = await handle.stat();
  return {
    size,
    async read(offset: number, length: number) {
      const buffer = new Uint8Array(length);
      for (let got = 0; got < length; ) {
        const { bytesRead } = await handle.read(buffer, got, length - got, offset + got);
        if (bytesRead === 0) throw new MediaslimError('CORRUPT_INPUT', `corrupt video input: the file ended at ${offset + got} bytes, ${size} were expected (did it change while read?)`);
        got += bytesRead;
      }
      return buffer;
    },
    close: async () => {
      if (owned) await handle.close?.();
    },
  };
}

/**
 * Format, displayed dimensions, orientation, alpha and animation, from headers only. Runs in
 * the calling thread (microseconds; no worker) in its own small wasm module: an app that
 * imports only `probe` ships no encoder. `run.signal` is checked before it starts; `pool`,
 * `priority` and `onProgress` are accepted and unused.
 */
export async function probe(input: Input, run: RunOptions & { pool?: Pool } = {}): Promise<ProbeInfo> {
  return probeHeader(input, run?.signal);
}

/**
 * An animated GIF as a looping, muted MP4 that keeps every frame's timing: H.264 or AV1 via
 * the browser's WebCodecs encoder, or AV1 with rav1e (wasm) where there is none (Node). With a
 * WebP poster of the first frame, a ThumbHash placeholder and the `<video>` markup.
 */
export function gifToVideo(input: Input, options: GifToVideoOptions = {}): Promise<GifToVideoResult> {
  return gifToVideoWith(input, options, defaultPool);
}

/**
 * Re-encodes an MP4/MOV smaller in the browser: WebCodecs decodes, the frames are scaled to fit
 * `maxWidth`/`maxHeight`, re-encoded (H.264, else VP9, else AV1) and muxed with the source's
 * AAC audio copied bit-exact; frame times and rotation are kept. Needs WebCodecs: elsewhere
 * (Node) it rejects with `UNSUPPORTED_CODEC`.
 */
export function transcode(input: Input, options: TranscodeOptions = {}): Promise<TranscodeResult> {
  return transcodeWith(input, options, defaultPool);
}

/** A video's key frame at or before `time` as an optimized image (WebP by default) plus a
 * ThumbHash placeholder. Needs WebCodecs (browsers). */
export function posterFrame(input: Input, options: PosterFrameOptions = {}): Promise<PosterFrameResult> {
  return posterFrameWith(input, options, defaultPool);
}

/** The tracks and sample tables of an MP4/MOV, read from its index only. Node and browsers. */
export function demux(input: Input, run: RunOptions & { pool?: Pool } = {}): Promise<DemuxedVideo> {
  return demuxWith(input, run, defaultPool);
}
