// gifToVideo: an animated GIF as a looping, muted MP4 or WebM (what `<img src="x.gif">` becomes on a
// fast page), with a WebP poster of the first frame, a ThumbHash placeholder and the markup.
// The encode runs as one pool job (js/video/encode-gif.ts in a worker); the poster and the
// placeholder are ordinary image jobs on the same pool, in parallel with it.
import { Asset } from '../asset.js';
import { MediaslimError } from '../errors.js';
import { readAll, type Input } from '../input.js';
import type { Pool, Priority, ProgressEvent } from '../pool.js';
import type { EncodedGifVideo, GifVideoContainer, VideoCodecChoice, VideoQuality, VideoTarget } from './encode-gif.js';

export type { GifVideoContainer, VideoCodecChoice, VideoQuality, VideoTarget } from './encode-gif.js';

export interface GifToVideoOptions {
  /** `auto` (default): for MP4 H.264 where WebCodecs has it, else AV1; for WebM VP9, else AV1;
   * without WebCodecs, AV1 by rav1e. `vp9` goes with `container: 'webm'` only, `h264` with MP4 only. */
  codec?: VideoCodecChoice;
  /** `mp4` (default) or `webm`. */
  container?: GifVideoContainer;
  /** Fit inside this width (never upscaled); sides are rounded down to even numbers. */
  maxWidth?: number;
  /** Fit inside this height (never upscaled); sides are rounded down to even numbers. */
  maxHeight?: number;
  /**
   * A fixed encoder setting: `medium`, `high`, or 1-100. Unset (default), the setting is
   * searched to meet `target` instead.
   */
  quality?: VideoQuality;
  /**
   * The SSIMULACRA2 score the video must reach on sampled frames (up to 6, first to last,
   * each against the composited GIF frame at the output size): `medium` (70), `high` (80,
   * default), `max` (90) or 30-100. The smallest encode that meets it is returned, within 5
   * encodes; when none does, the best one, with a note. Not with `quality`.
   */
  target?: VideoTarget;
  /**
   * `420` (default): colour at half resolution, which every H.264 and AV1 decoder plays.
   * `444`: full-resolution colour (AV1 High profile, encoded by rav1e in wasm, also in
   * browsers), for small, saturated graphics that 4:2:0 blurs. Chromium plays it (tested);
   * players limited to AV1 Main profile (4:2:0 only), such as hardware decoders, do not.
   */
  chroma?: '420' | '444';
  /** At most this many frames between key frames (default 120). */
  keyFrameInterval?: number;
  /** The URL the markup's `<source>` uses: where the video will be served (default `video.mp4` / `video.webm`). */
  src?: string;
  /** The URL the markup's `poster` uses; default: the inline ThumbHash preview (no request). */
  posterSrc?: string;
  /** Cancels the job: queued, it never starts; running, it rejects with `ABORTED`. */
  signal?: AbortSignal;
  /** Video job progress: `stage`, and `done`/`total` frames while running. */
  onProgress?: (event: ProgressEvent) => void;
  /** Queue priority: `user`, `visible`, `prefetch` or `background` (default `user`). */
  priority?: Priority;
  /** Run in this pool instead of the shared default one. */
  pool?: Pool;
}

export interface GifToVideoResult {
  video: Uint8Array;
  /** For `<source type>` and `MediaSource.isTypeSupported`, e.g. `video/mp4; codecs="avc1.4d401e"`, `video/webm; codecs="vp09.00.10.08"`. */
  mimeType: string;
  codec: string;
  /** `webcodecs` (the browser's encoder) or `rav1e` (AV1 in wasm). */
  encoder: 'webcodecs' | 'rav1e';
  width: number;
  height: number;
  /** Seconds. */
  duration: number;
  frames: number;
  poster: { bytes: Uint8Array; mimeType: string; width: number; height: number };
  /** ThumbHash preview as a `data:image/png;base64,...` URL. */
  placeholder: string;
  /** `<video autoplay loop muted playsinline ...>` that plays it like the GIF played. */
  markup: string;
  /**
   * True when the video is not smaller than the GIF (tiny or flat animations): serve the GIF
   * then; `notes` says so too. Nothing is dropped: the video is still returned.
   */
  biggerThanGif: boolean;
  /** Why codecs tried first were not used; that the video is bigger than the GIF. */
  notes: string[];
  timings: { encode: number };
  /**
   * The lowest SSIMULACRA2 score among the sampled frames of the returned video (decoded back
   * by the browser, or rav1e's reconstruction); absent with a fixed `quality`.
   */
  score?: number;
  /** The score aimed for; absent with a fixed `quality`. */
  target?: number;
  /** Whole encodes made (1 with a fixed `quality`). */
  encodes: number;
}

const OWN_FIELDS = new Set(['src', 'posterSrc', 'signal', 'onProgress', 'priority', 'pool']);

function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The `<video>` element that plays like an animated GIF (autoplay needs `muted`). */
export function videoMarkup(v: { src: string; mimeType: string; poster: string; width: number; height: number }): string {
  return (
    `<video autoplay loop muted playsinline poster="${attr(v.poster)}" width="${v.width}" height="${v.height}">` +
    `<source src="${attr(v.src)}" type="${attr(v.mimeType)}"></video>`
  );
}

/**
 * Turns an animated GIF into an MP4 (H.264 or AV1) or a WebM (VP9 or AV1) that keeps every frame's timing, plus a
 * poster (first frame, WebP), a placeholder and the markup. Rejects with `MediaslimError`:
 * `UNSUPPORTED_CODEC` when no encoder for the asked codec exists here, `CORRUPT_INPUT`,
 * `TOO_LARGE` (frames, pixels), `INVALID_OPTION`, `ABORTED`.
 */
export async function gifToVideo(input: Input, options: GifToVideoOptions = {}, defaultPool: () => Pool): Promise<GifToVideoResult> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MediaslimError('INVALID_OPTION', 'invalid option `options`: must be an object');
  }
  const pool = options.pool ?? defaultPool();
  const job = Object.fromEntries(Object.entries(options).filter(([k, v]) => !OWN_FIELDS.has(k) && v !== undefined));
  let json: string;
  try {
    json = JSON.stringify(job);
  } catch (err) {
    throw new MediaslimError('INVALID_OPTION', `invalid option \`options\`: cannot be read as plain data (${String(err)})`);
  }
  const bytes = await readAll(input);
  // One failure (a corrupt GIF, a bomb) cancels the sibling jobs instead of letting them
  // decode it too; the caller's signal cancels all three.
  const siblings = new AbortController();
  const cancel = () => siblings.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', cancel, { once: true });
  if (options.signal?.aborted) cancel();
  const run = { priority: options.priority ?? 'user', signal: siblings.signal } as const;
  const failFast = <T>(p: Promise<T>) => p.catch((err: unknown) => { siblings.abort(err); throw err; });
  const size = { ...(options.maxWidth !== undefined ? { width: options.maxWidth } : {}), ...(options.maxHeight !== undefined ? { height: options.maxHeight } : {}) };
  // The poster and placeholder wait until the video job has passed the GIF's checks and
  // decoded a frame (its first progress report) or ended: a bomb or a corrupt file is
  // refused by the video job alone, not decoded by two more workers first.
  let checked!: () => void;
  const gifChecked = new Promise<void>((resolve) => (checked = resolve));
  const onProgress = (e: ProgressEvent) => {
    if (e.done !== undefined) checked();
    options.onProgress?.(e);
  };
  const video = pool.run('gifToVideo', bytes, json, { ...run, onProgress }) as Promise<EncodedGifVideo>;
  void video.then(checked, checked);
  const afterCheck = <T>(job: () => Promise<T>) => gifChecked.then(job);
  let results: [EncodedGifVideo, { bytes: Uint8Array; format: string; width: number; height: number }, { dataUrl: string }];
  try {
    results = await Promise.all([
      failFast(video),
      failFast(afterCheck(() => pool.run('optimize', bytes, JSON.stringify({ format: 'webp', ...size }), run) as Promise<{ bytes: Uint8Array; format: string; width: number; height: number }>)),
      failFast(afterCheck(() => new Asset(bytes, () => pool).placeholder(run))),
    ]);
  } finally {
    options.signal?.removeEventListener('abort', cancel);
  }
  const [encoded, poster, placeholder] = results;
  const container = options.container ?? 'mp4';
  const mimeType = `video/${container}; codecs="${encoded.codec}"`;
  const biggerThanGif = encoded.video.byteLength >= bytes.byteLength;
  const notes = biggerThanGif
    ? [...encoded.notes, `the ${container === 'webm' ? 'WebM' : 'MP4'} (${encoded.video.byteLength} B) is not smaller than the GIF (${bytes.byteLength} B): serve the GIF`]
    : encoded.notes;
  return {
    video: encoded.video,
    mimeType,
    codec: encoded.codec,
    encoder: encoded.encoder,
    width: encoded.width,
    height: encoded.height,
    duration: encoded.durationMs / 1000,
    frames: encoded.frames,
    poster: { bytes: poster.bytes, mimeType: `image/${poster.format}`, width: poster.width, height: poster.height },
    placeholder: placeholder.dataUrl,
    markup: videoMarkup({ src: options.src ?? `video.${container}`, mimeType, poster: options.posterSrc ?? placeholder.dataUrl, width: encoded.width, height: encoded.height }),
    biggerThanGif,
    notes,
    timings: encoded.timings,
    ...(encoded.score !== undefined ? { score: encoded.score, target: encoded.target } : {}),
    encodes: encoded.encodes,
  };
}
