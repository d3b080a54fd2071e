// transcode(): an MP4/MOV (or WebM) re-encoded smaller in the browser (WebCodecs, in a pool worker), its
// audio copied; posterFrame(): one key frame as an optimized image plus a ThumbHash
// placeholder; demux(): the track list and sample index. The worker side is
// js/video/transcode-worker.ts; a Blob input is passed as it is and read there by range.
import { Asset } from '../asset.js';
import { MediaslimError } from '../errors.js';
import { readAll, type Input } from '../input.js';
import type { Pool, Priority, ProgressEvent } from '../pool.js';
import type { DemuxedVideo } from './video-source.js';
import type { PosterFrameData, TranscodedVideo, TranscodeJobOptions } from './transcode-worker.js';

export type { TranscodeCodec } from './transcode-worker.js';
export type { DemuxedVideo, VideoSamples, VideoTrackInfo } from './video-source.js';

interface RunFields {
  /** Aborting rejects with ABORTED at once; a running transcode stops at its next frame. */
  signal?: AbortSignal;
  /** Default `user`. */
  priority?: Priority;
  /** Run in this pool instead of the shared default one. */
  pool?: Pool;
}

export interface TranscodeOptions extends TranscodeJobOptions, RunFields {
  /** Frames encoded so far: `done` of `total` while running. */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Stream the output here instead of returning it: a `WritableStream` (e.g. from the File
   * System Access API). Each group of pictures is written as soon as it is encoded, so memory
   * holds about one GOP, not the whole video: an MP4 is then fragmented (init segment, a `moof`
   * + `mdat` per group, an `mfra` index at the end); a WebM is written once through, as live
   * recorders write it (a Segment of unknown size, clusters per group, the Cues at the end),
   * with its duration in the header from the source. `audio` works as without `output`: audio
   * the container holds as it is goes out as it is read (by range); audio re-encoded (or Opus
   * re-timed into an MP4) is prepared first, so memory then also holds that compressed track
   * (about 0.5 MB a minute). The result then has `bytesWritten` and no `video`; the stream is
   * closed when done and aborted on failure.
   */
  output?: WritableStream<Uint8Array>;
}

export interface TranscodeResult extends Omit<TranscodedVideo, 'timings'> {
  inputBytes: number;
  timings: { total: number };
}

export interface PosterFrameOptions extends RunFields {
  /** Seconds: the key frame shown last at or before it (default: the first key frame). */
  time?: number;
  /** `webp` (default), `jpeg`, `avif` or `png`. */
  format?: 'webp' | 'jpeg' | 'avif' | 'png';
  /** Resize to this width (never upscaled). */
  width?: number;
}

export interface PosterFrameResult {
  bytes: Uint8Array;
  mimeType: string;
  width: number;
  height: number;
  /** Seconds: when the chosen frame is shown. */
  time: number;
  /** ThumbHash preview as a `data:image/png;base64,...` URL. */
  placeholder: string;
  thumbhash: string;
}

const RUN_FIELDS = new Set(['signal', 'priority', 'pool', 'onProgress', 'output']);

function jobJson(options: object): string {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MediaslimError('INVALID_OPTION', 'invalid option `options`: must be an object');
  }
  const job = Object.fromEntries(Object.entries(options).filter(([k, v]) => !RUN_FIELDS.has(k) && v !== undefined));
  for (const [k, v] of Object.entries(job)) {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new MediaslimError('INVALID_OPTION', `invalid option \`${k}\`: ${v} is not a finite number`);
  }
  return JSON.stringify(job);
}

/** A Blob stays a Blob (the worker reads it by range); anything else becomes bytes. */
async function videoSource(input: Input): Promise<Uint8Array | Blob> {
  return typeof Blob !== 'undefined' && input instanceof Blob ? input : readAll(input);
}

/**
 * Re-encodes an MP4/MOV's (or a WebM's) video with the browser's WebCodecs (decode, scale, encode) and
 * copies its AAC audio, keeping every frame's time and the rotation. Rejects with
 * `MediaslimError`: `UNSUPPORTED_CODEC` (no WebCodecs here, or no decoder/encoder for the
 * codec), `UNSUPPORTED_FORMAT`, `CORRUPT_INPUT`, `TOO_LARGE`, `INVALID_OPTION`, `ABORTED`.
 */
export async function transcode(input: Input, options: TranscodeOptions = {}, defaultPool: () => Pool): Promise<TranscodeResult> {
  const json = jobJson(options);
  const pool = options.pool ?? defaultPool();
  const source = await videoSource(input);
  const { output } = options;
  if (output !== undefined && !(typeof WritableStream !== 'undefined' && output instanceof WritableStream)) {
    throw new MediaslimError('INVALID_OPTION', 'invalid option `output`: must be a WritableStream');
  }
  const run = { priority: options.priority ?? 'user', signal: options.signal, onProgress: options.onProgress } as const;
  const out = (await pool.run('transcode', source, json, run, undefined, output)) as TranscodedVideo;
  return { ...out, inputBytes: source instanceof Uint8Array ? source.byteLength : source.size };
}

/**
 * One frame of a video as an optimized image (through the image pipeline) plus a ThumbHash
 * placeholder: the key frame at or before `time`, decoded by WebCodecs, turned upright.
 */
export async function posterFrame(input: Input, options: PosterFrameOptions = {}, defaultPool: () => Pool): Promise<PosterFrameResult> {
  const { format, width, ...rest } = options;
  if (format !== undefined && !['webp', 'jpeg', 'avif', 'png'].includes(format)) {
    throw new MediaslimError('INVALID_OPTION', `invalid option \`format\`: must be "webp", "jpeg", "avif" or "png", got ${JSON.stringify(format)}`);
  }
  const json = jobJson(rest);
  const pool = options.pool ?? defaultPool();
  const run = { priority: options.priority ?? 'user', signal: options.signal } as const;
  const frame = (await pool.run('posterFrame', await videoSource(input), json, run)) as PosterFrameData;
  const [image, placeholder] = await Promise.all([
    pool.run('optimize', frame.png, JSON.stringify({ format: format ?? 'webp', ...(width !== undefined ? { width } : {}) }), run) as Promise<{ bytes: Uint8Array; format: string; width: number; height: number }>,
    new Asset(frame.png, () => pool).placeholder(run),
  ]);
  return {
    bytes: image.bytes,
    mimeType: `image/${image.format}`,
    width: image.width,
    height: image.height,
    time: frame.time,
    placeholder: placeholder.dataUrl,
    thumbhash: placeholder.thumbhashBase64,
  };
}

/** The tracks of an MP4/MOV or WebM/Matroska (codec strings for WebCodecs, descriptions, sizes, rotation) and
 * each one's sample table (offset, size, times, key frames). Node and browsers. */
export async function demux(input: Input, run: RunFields = {}, defaultPool: () => Pool): Promise<DemuxedVideo> {
  const pool = run.pool ?? defaultPool();
  return (await pool.run('demux', await videoSource(input), '{}', { priority: run.priority ?? 'user', signal: run.signal })) as DemuxedVideo;
}
