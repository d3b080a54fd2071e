// Lazy assets: `open(input)` costs nothing; `meta()` reads the header only; variants are
// encoded when first asked for, batched so that variants asked together share one decode,
// and memoized in a cache bounded by bytes.
import { MediaslimError } from './errors.js';
import type { Input } from './input.js';
import { probeHeader } from './probe.js';
import type { Pool, RunOptions } from './pool.js';
import type { OptimizeOptions, Placeholder, ProbeInfo } from './wasm/mediaslim_core.js';
import type { OptimizeResult } from './index.js';

export type VariantFormat = 'avif' | 'webp' | 'jpeg' | 'png';

export interface SrcsetRequest {
  /** Candidate widths; those at or above the source width collapse into the source width. */
  widths: number[];
  /** Best first: `<source>` order in the `<picture>`; the last is the `<img>` fallback. */
  formats: VariantFormat[];
  /** Extra options for every variant (quality, effort, fit...). */
  options?: Omit<OptimizeOptions, 'width' | 'format'>;
}

export interface PictureData {
  sources: { type: string; srcset: string }[];
  img: { src: string; srcset: string; width: number; height: number };
  /** Every variant, for uploading or saving. */
  variants: OptimizeResult[];
}

export interface PlaceholderData extends Placeholder {
  /** `data:image/png;base64,...` of the preview, for `background-image` or `<img src>`. */
  dataUrl: string;
  /** The ThumbHash as base64 (what to store or inline). */
  thumbhashBase64: string;
}

/** Finished variants, least recently used dropped first once over `maxBytes`. */
export class ResultCache {
  private readonly entries = new Map<string, OptimizeResult>();
  private bytes = 0;
  constructor(readonly maxBytes = 64 * 1024 * 1024) {}

  get(key: string): OptimizeResult | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit); // most recent last
    }
    return hit;
  }

  set(key: string, value: OptimizeResult): void {
    this.delete(key);
    this.entries.set(key, value);
    this.bytes += value.bytes.length;
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.maxBytes || k === key) break;
      this.entries.delete(k);
      this.bytes -= v.bytes.length;
    }
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes.length;
    }
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

const sharedCache = new ResultCache();
let nextAssetId = 1;

interface Pending {
  json: string;
  resolve(r: OptimizeResult): void;
  reject(e: unknown): void;
}

export class Asset {
  private readonly id = nextAssetId++;
  private metaPromise?: Promise<ProbeInfo>;
  private placeholderPromise?: Promise<PlaceholderData>;
  private readonly inflight = new Map<string, Promise<OptimizeResult>>();
  private batch: Pending[] = [];
  private batchRun: RunOptions = {};
  private bytesPromise?: Promise<Uint8Array | Blob>;

  constructor(
    private readonly input: Input,
    private readonly pool: () => Pool,
    private readonly cache: ResultCache = sharedCache,
  ) {}

  /** Format, displayed size, orientation, alpha, animation: from the header only, in this thread (no pool job). */
  meta(run: RunOptions = {}): Promise<ProbeInfo> {
    return (this.metaPromise ??= probeHeader(this.input, run.signal));
  }

  /** One variant, encoded on first request and memoized. */
  variant(options: OptimizeOptions, run: RunOptions = {}): Promise<OptimizeResult> {
    const json = JSON.stringify(options);
    const key = `${this.id}:${json}`;
    const cached = this.cache.get(key);
    if (cached) return Promise.resolve(cached);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = new Promise<OptimizeResult>((resolve, reject) => {
        // Variants asked for in the same tick go to the worker as one job: one decode.
        if (this.batch.length === 0) queueMicrotask(() => this.flush());
        this.batch.push({ json, resolve, reject });
        this.batchRun = mergeRun(this.batchRun, run);
      }).then(
        (r) => {
          this.inflight.delete(key);
          this.cache.set(key, r);
          return r;
        },
        (e) => {
          this.inflight.delete(key);
          throw e;
        },
      );
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** `<picture>`-ready data for every width x format, from one decode. */
  async srcset(request: SrcsetRequest, run: RunOptions = {}): Promise<PictureData> {
    if (!request.widths?.length || !request.formats?.length) {
      throw new MediaslimError('INVALID_OPTION', 'invalid option `widths`/`formats`: srcset needs at least one of each');
    }
    const meta = await this.meta(run);
    // Never upscale: widths past the source collapse into the source width.
    const widths = [...new Set(request.widths.map((w) => Math.min(w, meta.width)))].sort((a, b) => a - b);
    const perFormat = await Promise.all(
      request.formats.map((format) =>
        Promise.all(widths.map((width) => this.variant({ ...request.options, width, format }, run))),
      ),
    );
    const url = (r: OptimizeResult) => URL.createObjectURL(new Blob([r.bytes as Uint8Array<ArrayBuffer>], { type: `image/${r.format}` }));
    const srcsetOf = (list: OptimizeResult[]) => list.map((r) => `${url(r)} ${r.width}w`).join(', ');
    const fallback = perFormat[perFormat.length - 1];
    const largest = fallback[fallback.length - 1];
    return {
      sources: perFormat.slice(0, -1).map((list) => ({ type: `image/${list[0].format}`, srcset: srcsetOf(list) })),
      img: { src: url(largest), srcset: srcsetOf(fallback), width: largest.width, height: largest.height },
      variants: perFormat.flat(),
    };
  }

  /** ThumbHash, its preview as a data URL, and the average colour. */
  placeholder(run: RunOptions = {}): Promise<PlaceholderData> {
    return (this.placeholderPromise ??= (async () => {
      const p = (await this.pool().run('placeholder', await this.source(), '{}', { priority: run.priority ?? 'visible', signal: run.signal })) as Placeholder;
      return { ...p, dataUrl: `data:image/png;base64,${base64(p.png)}`, thumbhashBase64: base64(p.thumbhash) };
    })());
  }

  private source(): Promise<Uint8Array | Blob> {
    return (this.bytesPromise ??= (async () => {
      if (typeof Blob !== 'undefined' && this.input instanceof Blob) return this.input;
      const { readAll } = await import('./input.js');
      return readAll(this.input);
    })());
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    const run = this.batchRun;
    this.batch = [];
    this.batchRun = {};
    try {
      const source = await this.source();
      const json = `[${batch.map((p) => p.json).join(',')}]`;
      const outs = (await this.pool().run('optimizeMany', source, json, run)) as (
        | { ok: true; value: OptimizeResult }
        | { ok: false; code: MediaslimError['code']; message: string }
      )[];
      outs.forEach((o, i) => (o.ok ? batch[i].resolve(o.value) : batch[i].reject(new MediaslimError(o.code, o.message))));
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

/** The most urgent priority wins; any signal given is honoured only if all callers abort. */
function mergeRun(a: RunOptions, b: RunOptions): RunOptions {
  const order = ['user', 'visible', 'prefetch', 'background'];
  const pa = a.priority ?? 'background';
  const pb = b.priority ?? 'background';
  return { priority: order.indexOf(pa) <= order.indexOf(pb) ? pa : pb };
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
