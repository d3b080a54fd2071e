// What the plugin asks of mediaslim: probes, placeholders and variants, each looked up in the
// disk cache first and otherwise computed in the worker pool (created on the first miss, so a
// fully cached build starts no worker). All variants of one source that miss the cache go to
// one worker as one job: one decode, many encodes.
import { readFile } from 'node:fs/promises';
import { MediaslimError } from '../errors.js';
import { Pool } from '../pool.js';
import { Asset, ResultCache } from '../asset.js';
import type { OptimizeResult } from '../index.js';
import type { OptimizeOptions, ProbeInfo } from '../wasm/mediaslim_core.js';
import { DiskCache, sha256 } from './cache.js';

export interface Source {
  /** The path, as errors show it (relative to the project root). */
  file: string;
  bytes: Uint8Array;
  hash: string;
}

export interface Variant {
  bytes: Uint8Array;
  format: 'jpeg' | 'png' | 'webp' | 'avif';
  width: number;
  height: number;
  originalBytes: number;
  keptOriginal: boolean;
  /** Served from the disk cache (or a previous identical request in this process). */
  cached: boolean;
}

export interface PlaceholderValue {
  /** Average colour, `#rrggbb`. */
  color: string;
  /** ThumbHash, base64 (with `placeholder=thumbhash`). */
  thumbhash?: string;
  /** The ThumbHash rendered as a tiny PNG data URL (with `placeholder=thumbhash`). */
  dataUrl?: string;
}

export interface EngineCounters {
  /** Variants encoded by the core (cache misses). */
  encodes: number;
  /** Variants, probes and placeholders answered by the disk cache. */
  cacheHits: number;
  /** Jobs submitted to the worker pool (encode batches, probes, placeholders). */
  poolJobs: number;
}

type VariantMeta = Omit<Variant, 'bytes' | 'cached'>;

/** An animated GIF as an MP4 or WebM (`as=video`). */
export interface VideoVariant {
  bytes: Uint8Array;
  /** RFC 6381, e.g. `av01.0.00M.08`. */
  codec: string;
  width: number;
  height: number;
  frames: number;
  durationMs: number;
  cached: boolean;
}

/** What `as=video` passes to the core's GIF-to-video job. */
export interface VideoOptions {
  maxWidth?: number;
  maxHeight?: number;
  quality?: number;
  container?: 'webm';
}

/** The core's options, with `quality: 'auto'` (passed through; the core decides). */
export type EncodeOptions = Omit<OptimizeOptions, 'quality'> & { quality?: number | 'auto' };

export class Engine {
  readonly counters: EngineCounters = { encodes: 0, cacheHits: 0, poolJobs: 0 };
  private pool?: Pool;
  private readonly sources = new Map<string, Promise<Source>>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** Probes and placeholders of this build, by source hash: asked once per source. */
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(
    private readonly cache: DiskCache | undefined,
    private readonly poolOptions: { workers?: number; pool?: Pool } = {},
    private readonly onEncode?: (count: number) => void,
  ) {}

  /** Reads a source once per build (several imports of one file share it). */
  read(path: string, name = path): Promise<Source> {
    let p = this.sources.get(path);
    if (!p) {
      p = readFile(path).then((buf) => {
        const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        return { file: name, bytes, hash: sha256(bytes) };
      });
      this.sources.set(path, p);
      p.catch(() => this.sources.delete(path));
    }
    return p;
  }

  /** Forget what was read (a rebuild in watch mode reads files again). */
  forgetSources(): void {
    this.sources.clear();
    this.memo.clear();
  }

  private getPool(): Pool {
    return (this.pool ??= this.poolOptions.pool ?? new Pool(this.poolOptions.workers ? { size: this.poolOptions.workers } : {}));
  }

  /** Stops the workers this engine started (a pool passed in is left running). */
  close(): void {
    if (this.pool && this.pool !== this.poolOptions.pool) this.pool.terminate();
    this.pool = undefined;
  }

  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      this.memo.set(key, p);
      p.catch(() => this.memo.delete(key));
    }
    return p;
  }

  async probe(src: Source): Promise<ProbeInfo> {
    const key = this.cache?.key('probe', src.hash, {}) ?? `probe:${src.hash}`;
    return this.once(key, async () => {
      const hit = await this.cache?.get<ProbeInfo>(key);
      if (hit) {
        this.counters.cacheHits++;
        return hit.meta;
      }
      this.counters.poolJobs++;
      const info = (await this.getPool().run('probe', src.bytes, '{}', { priority: 'user' }).catch((e) => fail(src, e))) as ProbeInfo;
      await this.cache?.set(key, info, new Uint8Array(0));
      return info;
    });
  }

  async placeholder(src: Source): Promise<Required<PlaceholderValue>> {
    const key = this.cache?.key('placeholder', src.hash, {}) ?? `placeholder:${src.hash}`;
    return this.once(key, async () => {
      const hit = await this.cache?.get<Required<PlaceholderValue>>(key);
      if (hit) {
        this.counters.cacheHits++;
        return hit.meta;
      }
      this.counters.poolJobs++;
      const p = await new Asset(src.bytes, () => this.getPool(), new ResultCache(0)).placeholder().catch((e) => fail(src, e));
      const value = { color: p.color, thumbhash: p.thumbhashBase64, dataUrl: p.dataUrl };
      await this.cache?.set(key, value, new Uint8Array(0));
      return value;
    });
  }

  /** `src` (an animated GIF) as an MP4 or WebM: from the disk cache, else one pool job (AV1 by rav1e). */
  async video(src: Source, options: VideoOptions): Promise<VideoVariant> {
    const key = this.cache?.key('video', src.hash, options) ?? `video:${src.hash}:${JSON.stringify(options)}`;
    return this.once(key, async () => {
      const hit = await this.cache?.get<Omit<VideoVariant, 'bytes' | 'cached'>>(key);
      if (hit) {
        this.counters.cacheHits++;
        return { ...hit.meta, bytes: hit.payload, cached: true };
      }
      this.counters.poolJobs++;
      const r = (await this.getPool().run('gifToVideo', src.bytes, JSON.stringify(options), { priority: 'user' }).catch((e) => fail(src, e))) as {
        video: Uint8Array;
        codec: string;
        width: number;
        height: number;
        frames: number;
        durationMs: number;
      };
      this.counters.encodes++;
      this.onEncode?.(1);
      const meta = { codec: r.codec, width: r.width, height: r.height, frames: r.frames, durationMs: r.durationMs };
      await this.cache?.set(key, meta, r.video);
      return { ...meta, bytes: r.video, cached: false };
    });
  }

  /**
   * Every variant of `src` under `list`, in order. Cache hits are read from disk; the misses
   * are encoded together, from one decode.
   */
  async variants(src: Source, list: EncodeOptions[]): Promise<Variant[]> {
    const keys = list.map((o) => this.cache?.key('variant', src.hash, o) ?? `variant:${src.hash}:${JSON.stringify(o)}`);
    const out: (Variant | Promise<Variant>)[] = new Array(list.length);
    const misses: number[] = [];
    await Promise.all(
      keys.map(async (key, i) => {
        const shared = this.inflight.get(key) as Promise<Variant> | undefined;
        if (shared) {
          out[i] = shared.then((v) => ({ ...v, cached: true }));
          return;
        }
        const hit = await this.cache?.get<VariantMeta>(key);
        if (hit) {
          this.counters.cacheHits++;
          out[i] = { ...hit.meta, bytes: hit.payload, cached: true };
        } else {
          misses.push(i);
        }
      }),
    );
    if (misses.length) {
      // Another caller may have started one of these while we read the cache.
      const todo = misses.filter((i) => {
        const shared = this.inflight.get(keys[i]) as Promise<Variant> | undefined;
        if (shared) out[i] = shared.then((v) => ({ ...v, cached: true }));
        return !shared;
      });
      if (todo.length) {
        this.counters.poolJobs++;
        // One Asset, variants asked in the same tick: the Asset sends them as one job.
        const asset = new Asset(src.bytes, () => this.getPool(), new ResultCache(0));
        for (const i of todo) {
          const p = asset.variant(list[i] as OptimizeOptions).then(
            async (r: OptimizeResult): Promise<Variant> => {
              this.counters.encodes++;
              this.onEncode?.(1);
              const meta: VariantMeta = { format: r.format, width: r.width, height: r.height, originalBytes: r.originalBytes, keptOriginal: r.keptOriginal };
              await this.cache?.set(keys[i], meta, r.bytes);
              return { ...meta, bytes: r.bytes, cached: false };
            },
            (e: unknown) => fail(src, e),
          );
          this.inflight.set(keys[i], p);
          void p.finally(() => this.inflight.delete(keys[i])).catch(() => undefined);
          out[i] = p;
        }
      }
    }
    return Promise.all(out);
  }
}

/** A core failure, rethrown naming the file: `mediaslim: src/hero.jpg: CORRUPT_INPUT: ...`. */
function fail(src: Source, err: unknown): never {
  if (err instanceof MediaslimError) {
    throw new PluginError(src.file, err.code, `mediaslim: ${src.file}: ${err.code}: ${err.message}`, err);
  }
  throw err;
}

export class PluginError extends Error {
  constructor(
    readonly file: string,
    readonly code: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'MediaslimPluginError';
  }
}
