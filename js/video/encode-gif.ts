// GIF -> MP4 or WebM inside a pool worker. The core pulls composited frames out of the GIF one
// at a time (GifFrameReader); the browser's WebCodecs VideoEncoder encodes them (MP4: H.264,
// else AV1; WebM: VP9, else AV1) with the GIF's timing; the core muxes the chunks into a
// fast-start MP4 or a WebM. Without WebCodecs (Node, Deno, Bun) the core does it all with
// rav1e (AV1, the full wasm module).
import type { Core, Flavor } from '../core.js';
import { MediaslimError } from '../errors.js';
import { codecFor as av1CodecFor } from '../webcodecs/avif.js';
import { encodeToTarget } from './gif-target.js';
import { bytesOf, concat } from '../input.js';

/**
 * The encoder's decoder description, copied; an H.264 `avcC` whose parameter sets repeat their
 * NAL header byte (Firefox ESR 153 writes `67 67 4d ...` for an SPS, `68 68 ...` for its PPS) is
 * repaired: FFmpeg then warns "sps_id out of range" and stricter decoders refuse the file. A
 * real SPS never starts `67 67` (103 is no H.264 profile), so only that bug matches. Other
 * descriptions (AV1's av1C, ...) are copied as they are.
 */
export function decoderDescription(src: AllowSharedBufferSource): Uint8Array {
  const d = bytesOf(src);
  if (d.length < 7 || d[0] !== 1) return d;
  const sets: Uint8Array[][] = [];
  let at = 5;
  let repaired = false;
  for (const [mask, type] of [[0x1f, 7], [0xff, 8]] as const) {
    if (at >= d.length) return d;
    const count = d[at]! & mask;
    at += 1;
    const list: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      if (at + 2 > d.length) return d;
      const len = (d[at]! << 8) | d[at + 1]!;
      if (at + 2 + len > d.length) return d;
      let nal = d.subarray(at + 2, at + 2 + len);
      // The SPS decides: its PPS are repaired only when it was (a PPS may start 68 68 legitimately).
      const doubled = nal.length >= 2 && nal[0] === nal[1] && (nal[0]! & 0x1f) === type;
      if (doubled && (type === 7 || repaired)) {
        nal = nal.subarray(1);
        repaired = true;
      }
      list.push(nal);
      at += 2 + len;
    }
    sets.push(list);
  }
  if (!repaired) return d;
  const sps = sets[0]!;
  const head = d.slice(0, 5);
  if (sps[0] && sps[0].length >= 4) head.set(sps[0].subarray(1, 4), 1); // profile, compatibility, level
  const parts: number[] = [...head, (d[5]! & 0xe0) | sps.length];
  for (const [i, list] of sets.entries()) {
    if (i === 1) parts.push(list.length);
    for (const nal of list) parts.push(nal.length >> 8, nal.length & 0xff, ...nal);
  }
  return Uint8Array.from([...parts, ...d.subarray(at)]);
}

export type VideoCodecChoice = 'auto' | 'h264' | 'vp9' | 'av1';
export type GifVideoContainer = 'mp4' | 'webm';
export type VideoQuality = 'medium' | 'high' | number;
/** An SSIMULACRA2 score to meet: `medium` (70), `high` (80), `max` (90) or 30-100. */
export type VideoTarget = 'medium' | 'high' | 'max' | number;

/** The options the worker job takes (JSON). */
export interface GifVideoJobOptions {
  codec?: VideoCodecChoice;
  maxWidth?: number;
  maxHeight?: number;
  quality?: VideoQuality;
  /** Score to meet when `quality` is not given (default `high`, 80). */
  target?: VideoTarget;
  /** `420` (default) or `444` (AV1 High profile, by rav1e). */
  chroma?: '420' | '444';
  /** Frames between forced key frames (default 120). */
  keyFrameInterval?: number;
  container?: GifVideoContainer;
}

/** What the worker answers. */
export interface EncodedGifVideo {
  video: Uint8Array;
  /** RFC 6381 codec string, e.g. `avc1.4d401e` or `av01.0.00M.08`. */
  codec: string;
  encoder: 'webcodecs' | 'rav1e';
  width: number;
  height: number;
  frames: number;
  durationMs: number;
  /** Why codecs tried before the one used were not (empty when the first one worked);
   * that no setting reached the target. */
  notes: string[];
  timings: { encode: number };
  /** With a target: the lowest SSIMULACRA2 score among the sampled frames of the returned video. */
  score?: number;
  /** The score aimed for (absent with a fixed `quality`). */
  target?: number;
  /** Whole encodes made (1 with a fixed `quality`). */
  encodes: number;
}

export type WithCore = <T>(fn: (core: Core) => T, flavor?: Flavor) => Promise<T>;
export type Progress = (done: number, total: number) => void;

export interface Reader {
  width: number;
  height: number;
  frameCount: number;
  next(): { index: number; rgba: Uint8Array; timestampMs: number; durationMs: number } | null;
  free(): void;
}
export type CoreWithVideo = Core & {
  GifFrameReader: new (input: Uint8Array, optionsJson: string) => Reader;
  muxWebm(spec: string, videoConfig: Uint8Array, data: Uint8Array, sizes: Uint32Array, durations: Uint32Array, keyframes: Uint8Array, offsets: Int32Array): Uint8Array;
  muxMovie(spec: string, videoConfig: Uint8Array, data: Uint8Array, sizes: Uint32Array, durations: Uint32Array, keyframes: Uint8Array, offsets: Int32Array): Uint8Array;
  muxMp4(codec: string, config: Uint8Array, width: number, height: number, timescale: number, data: Uint8Array, sizes: Uint32Array, durations: Uint32Array, keyframes: Uint8Array): Uint8Array;
  av1Config(keyFrame: Uint8Array): { record: Uint8Array; codec: string };
  gifToAv1?: (input: Uint8Array, optionsJson: string, progress?: Progress) => { bytes: Uint8Array; codec: string; width: number; height: number; frames: number; durationMs: number; score?: number; encodes?: number; notes?: string[] };
  scorePixels(reference: Uint8Array, distorted: Uint8Array, width: number, height: number): number;
};

const QUALITY_WORDS: Record<string, number> = { medium: 50, high: 75 };
const JOB_OPTIONS = ['codec', 'maxWidth', 'maxHeight', 'quality', 'target', 'chroma', 'keyFrameInterval', 'container'];
const TARGET_WORDS: Record<string, number> = { medium: 70, high: 80, max: 90 };

/** target (a word or 30-100) -> the score; the default is `high` (80), as for images. */
export function targetScore(t: VideoTarget | undefined): number {
  const allowed = '"medium" (70), "high" (80), "max" (90) or a score from 30 to 100';
  if (t === undefined) return TARGET_WORDS.high!;
  if (typeof t === 'string') {
    const n = TARGET_WORDS[t];
    if (n === undefined) throw new MediaslimError('INVALID_OPTION', `invalid option \`target\`: must be ${allowed}, got ${JSON.stringify(t)}`);
    return n;
  }
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 30 || t > 100) throw new MediaslimError('INVALID_OPTION', `invalid option \`target\`: must be ${allowed}, got ${String(t)}`);
  return t;
}
const DEFAULT_KEY_FRAME_INTERVAL = 120;

/** quality (1-100, or a word) -> 1-100. */
export function qualityNumber(q: VideoQuality | undefined): number {
  if (q === undefined) return QUALITY_WORDS.medium!;
  if (typeof q === 'string') {
    const n = QUALITY_WORDS[q];
    if (n === undefined) throw new MediaslimError('INVALID_OPTION', `invalid option \`quality\`: must be "medium", "high" or 1-100, got ${JSON.stringify(q)}`);
    return n;
  }
  if (!Number.isFinite(q) || q < 1 || q > 100) throw new MediaslimError('INVALID_OPTION', `invalid option \`quality\`: must be "medium", "high" or 1-100, got ${q}`);
  return Math.round(q);
}

/** VP9 level for a picture size (VP9 levels table, luma samples per picture). */
export function vp9Codec(width: number, height: number): string {
  const samples = width * height;
  const levels: [number, string][] = [[36864, '10'], [73728, '11'], [122880, '20'], [245760, '21'], [552960, '30'], [983040, '31'], [2228224, '40'], [8912896, '50']];
  return `vp09.00.${(levels.find(([max]) => samples <= max) ?? [0, '60'])[1]}.08`;
}

/** H.264 level_idc whose frame size (in 16x16 macroblocks) holds width x height. */
function avcLevel(width: number, height: number): number {
  const mbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const levels: [number, number][] = [[396, 0x15], [1620, 0x1e], [3600, 0x1f], [5120, 0x20], [8192, 0x28], [22080, 0x32], [36864, 0x33], [139264, 0x3c]];
  return (levels.find(([max]) => mbs <= max) ?? [0, 0x3e])[1];
}

/** The H.264 codec strings tried, best compression first: Main, then Constrained Baseline. */
export function h264Candidates(width: number, height: number): string[] {
  const level = avcLevel(width, height).toString(16).padStart(2, '0').toUpperCase();
  return [`avc1.4D40${level}`, `avc1.42E0${level}`];
}

export interface Plan {
  kind: 'h264' | 'vp9' | 'av1';
  config: VideoEncoderConfig;
  /** Per-frame quantizer when the encoder takes one (bitrateMode "quantizer"). */
  quantizer?: number;
}

/**
 * The first encoder configuration this browser supports for `choice`, or the reasons none is.
 * Quantizer mode first (constant quality, as for images), a bit rate from bits per pixel else.
 */
export async function planEncoder(choice: VideoCodecChoice, container: GifVideoContainer, width: number, height: number, fps: number, quality: number, bitsPerPixelOverride?: number): Promise<{ plan?: Plan; notes: string[] }> {
  const notes: string[] = [];
  const kinds: Plan['kind'][] = choice !== 'auto' ? [choice] : container === 'webm' ? ['vp9', 'av1'] : ['h264', 'av1'];
  // WebKit's web process dies when its first WebCodecs call is VideoEncoder.isConfigSupported
  // (see webcodecs/avif.ts); a decoder query first avoids it.
  if (typeof VideoDecoder !== 'undefined') await VideoDecoder.isConfigSupported({ codec: h264Candidates(width, height)[1]! }).catch(() => undefined);
  for (const kind of kinds) {
    const codecs = kind === 'h264' ? h264Candidates(width, height) : kind === 'vp9' ? [vp9Codec(width, height)] : [av1CodecFor(width, height)];
    // H.264 QP 0-51, VP9's and AV1's WebCodecs quantizers 0-63, from quality 1-100.
    const quantizer = kind === 'h264' ? Math.round(Math.min(51, Math.max(10, 45 - 0.3 * quality))) : Math.round(Math.min(63, Math.max(0, 63 - 0.55 * quality)));
    const bitsPerPixel = bitsPerPixelOverride ?? 0.04 + 0.003 * quality;
    for (const codec of codecs) {
      const base: VideoEncoderConfig = { codec, width, height, latencyMode: 'quality', framerate: fps, ...(kind === 'h264' ? { avc: { format: 'avc' } } : {}) };
      const withQuantizer: VideoEncoderConfig = { ...base, bitrateMode: 'quantizer' };
      const withBitrate: VideoEncoderConfig = { ...base, bitrateMode: 'variable', bitrate: Math.max(bitsPerPixelOverride === undefined ? 50_000 : 10_000, Math.round(bitsPerPixel * width * height * fps)) };
      for (const config of [withQuantizer, withBitrate]) {
        const ok = await VideoEncoder.isConfigSupported(config).then((r) => !!r.supported, () => false);
        if (ok) return { plan: { kind, config, quantizer: config.bitrateMode === 'quantizer' ? quantizer : undefined }, notes };
      }
      notes.push(`${codec} at ${width}x${height} is not supported by this browser's VideoEncoder`);
    }
  }
  return { notes };
}

/** One encoded frame as the browser's encoder returned it. */
export interface EncodedChunk {
  data: Uint8Array;
  key: boolean;
  /** Microseconds. */
  timestamp: number;
}

/** Encodes every frame of `reader` with `plan`; returns the MP4 or WebM and its codec string,
 * and the chunks and decoder config (to decode them back for scoring). `onFrame` sees each
 * source frame. Core calls go through `withCore`, which maps core errors and traps to MediaslimError. */
export async function encodeFrames(
  reader: Reader,
  plan: Plan,
  container: GifVideoContainer,
  keyFrameInterval: number,
  withCore: WithCore,
  progress: Progress,
  onFrame?: (index: number, rgba: Uint8Array, timestamp: number) => void,
): Promise<{ video: Uint8Array; codec: string; frames: number; durationMs: number; chunks: EncodedChunk[]; decoderConfig: VideoDecoderConfig }> {
  const video = (fn: (core: CoreWithVideo) => Uint8Array | { record: Uint8Array; codec: string }) => withCore((core) => fn(core as CoreWithVideo));
  const chunks: EncodedChunk[] = [];
  let description: Uint8Array | undefined;
  let codec = plan.config.codec;
  let failure: unknown;
  const encoder = new VideoEncoder({
    output: (chunk, meta) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      chunks.push({ data, key: chunk.type === 'key', timestamp: chunk.timestamp });
      const d = meta?.decoderConfig;
      if (d?.description) description = decoderDescription(d.description);
      if (d?.codec) codec = d.codec;
    },
    error: (e) => {
      failure = e;
    },
  });
  const durations = new Map<number, number>();
  let durationMs = 0;
  try {
    encoder.configure(plan.config);
    for (let frame = await withCore(() => reader.next()); frame; frame = await withCore(() => reader.next())) {
      if (failure) break;
      // Microseconds, as WebCodecs counts; the MP4 keeps milliseconds (the GIF's own unit is 10 ms).
      const timestamp = frame.timestampMs * 1000;
      durations.set(timestamp, frame.durationMs);
      durationMs += frame.durationMs;
      onFrame?.(frame.index, frame.rgba, timestamp);
      const vf = new VideoFrame(frame.rgba as Uint8Array<ArrayBuffer>, { format: 'RGBX', codedWidth: reader.width, codedHeight: reader.height, timestamp, duration: frame.durationMs * 1000 });
      const options: VideoEncoderEncodeOptions & { avc?: { quantizer?: number }; vp9?: { quantizer?: number }; av1?: { quantizer?: number } } = { keyFrame: frame.index % keyFrameInterval === 0 };
      if (plan.quantizer !== undefined) options[plan.kind === 'h264' ? 'avc' : plan.kind] = { quantizer: plan.quantizer };
      encoder.encode(vf, options);
      vf.close();
      // Backpressure: hold at most a few frames in the encoder's queue.
      while (encoder.encodeQueueSize > 2 && !failure) await new Promise((r) => setTimeout(r, 1));
      progress(frame.index + 1, reader.frameCount);
    }
    if (!failure) await encoder.flush();
  } catch (err) {
    failure ??= err;
  } finally {
    if (encoder.state !== 'closed') encoder.close();
  }
  // The job's own errors (a corrupt frame from the core) stay as they are.
  if (failure instanceof MediaslimError) throw failure;
  if (failure) throw new MediaslimError('ENCODE_FAILED', `the browser's ${plan.config.codec} encoder failed: ${String(failure)}`);
  if (chunks.length === 0) throw new MediaslimError('ENCODE_FAILED', `the browser's ${plan.config.codec} encoder returned no frames`);
  let config: Uint8Array;
  if (plan.kind === 'h264') {
    if (!description) throw new MediaslimError('ENCODE_FAILED', `the browser's H.264 encoder gave no avcC description (asked for avc: { format: 'avc' })`);
    config = description;
  } else if (plan.kind === 'vp9') {
    config = new Uint8Array(0); // WebM's VP9 track needs no CodecPrivate
  } else {
    // Chromium gives AV1 no description: the record is built from the first key frame.
    const made = (await video((core) => core.av1Config(chunks[0]!.data))) as { record: Uint8Array; codec: string };
    config = made.record;
    codec = made.codec;
  }
  const sizes = Uint32Array.from(chunks, (c) => c.data.length);
  const data = concat(chunks.map((c) => c.data));
  const frameDurations = Uint32Array.from(chunks, (c) => {
    const d = durations.get(c.timestamp);
    if (d === undefined) throw new MediaslimError('ENCODE_FAILED', `the browser's encoder returned a frame at ${c.timestamp} µs, which was never sent`);
    return d;
  });
  const keys = Uint8Array.from(chunks, (c) => (c.key ? 1 : 0));
  // An H.264 encoder may reorder frames (Firefox's makes B-frames): chunks then come in decode
  // order with presentation times out of order. Decode times become the presentation times in
  // order, each lasting until the next, moved earlier by the largest reorder delay so that no
  // frame is decoded after it is shown; each chunk's composition offset is the difference, and
  // the edit list (mediaStart) starts presenting at that delay, so the first frame shows at 0.
  const pts = chunks.map((c) => Math.round(c.timestamp / 1000));
  const reordered = pts.some((p, i) => i > 0 && p < pts[i - 1]!);
  let decodeDurations = frameDurations;
  let offsets = new Int32Array(0);
  let mediaStart = 0;
  if (reordered) {
    if (container === 'webm') throw new MediaslimError('ENCODE_FAILED', `the browser's ${plan.config.codec} encoder reordered frames, which a WebM cannot hold`);
    const sorted = [...pts].sort((a, b) => a - b);
    const lastDuration = frameDurations[pts.indexOf(sorted.at(-1)!)]!;
    decodeDurations = Uint32Array.from(sorted, (t, i) => Math.max(1, i + 1 < sorted.length ? sorted[i + 1]! - t : lastDuration));
    const delay = Math.max(0, ...pts.map((p, i) => sorted[i]! - p));
    offsets = Int32Array.from(pts, (p, i) => p - sorted[i]! + delay);
    mediaStart = delay;
  }
  const spec = JSON.stringify({ codec: plan.kind === 'h264' ? 'avc' : plan.kind, width: reader.width, height: reader.height, timescale: 1000, mediaStart });
  const out = container === 'webm'
    ? ((await video((core) => core.muxWebm(spec, config, data, sizes, frameDurations, keys, offsets))) as Uint8Array)
    : ((await video((core) => core.muxMovie(spec, config, data, sizes, decodeDurations, keys, offsets))) as Uint8Array);
  const decoderConfig: VideoDecoderConfig = { codec, codedWidth: reader.width, codedHeight: reader.height, ...(plan.kind === 'h264' ? { description: config } : {}) };
  return { video: out, codec, frames: chunks.length, durationMs, chunks, decoderConfig };
}

/** Runs in a pool worker: the whole GIF -> MP4 encode. */
export async function encodeGifVideo(input: Uint8Array, options: GifVideoJobOptions, withCore: WithCore, progress: Progress): Promise<EncodedGifVideo> {
  const unknown = Object.keys(options).filter((k) => !JOB_OPTIONS.includes(k));
  if (unknown.length) {
    throw new MediaslimError('INVALID_OPTION', `invalid option \`${unknown[0]}\`: unknown; allowed: ${JOB_OPTIONS.map((k) => `\`${k}\``).join(', ')}`);
  }
  const choice = options.codec ?? 'auto';
  if (!['auto', 'h264', 'vp9', 'av1'].includes(choice)) {
    throw new MediaslimError('INVALID_OPTION', `invalid option \`codec\`: must be "auto", "h264", "vp9" or "av1", got ${JSON.stringify(choice)}`);
  }
  const container = options.container ?? 'mp4';
  if (container !== 'mp4' && container !== 'webm') {
    throw new MediaslimError('INVALID_OPTION', `invalid option \`container\`: must be "mp4" or "webm", got ${JSON.stringify(container)}`);
  }
  if (container === 'webm' && choice === 'h264') {
    throw new MediaslimError('INVALID_OPTION', 'invalid option `codec`: "h264" cannot go into a WebM (it holds VP9 and AV1): use codec "vp9", "av1" or "auto", or container "mp4"');
  }
  if (container === 'mp4' && choice === 'vp9') {
    throw new MediaslimError('INVALID_OPTION', 'invalid option `codec`: "vp9" is offered with container "webm" only');
  }
  if (options.quality !== undefined && options.target !== undefined) {
    throw new MediaslimError('INVALID_OPTION', 'invalid option `target`: give `quality` (a fixed setting) or `target` (a score to meet), not both');
  }
  const quality = qualityNumber(options.quality);
  // Without a fixed quality, the encoder setting is searched to meet a score (default 80).
  const target = options.quality === undefined ? targetScore(options.target) : undefined;
  const keyFrameInterval = options.keyFrameInterval ?? DEFAULT_KEY_FRAME_INTERVAL;
  if (!Number.isInteger(keyFrameInterval) || keyFrameInterval < 1) {
    throw new MediaslimError('INVALID_OPTION', `invalid option \`keyFrameInterval\`: must be a whole number from 1, got ${String(keyFrameInterval)}`);
  }
  const size = { ...(options.maxWidth !== undefined ? { maxWidth: options.maxWidth } : {}), ...(options.maxHeight !== undefined ? { maxHeight: options.maxHeight } : {}) };
  const started = performance.now();
  const chroma = options.chroma ?? '420';
  if (chroma !== '420' && chroma !== '444') {
    throw new MediaslimError('INVALID_OPTION', `invalid option \`chroma\`: must be "420" or "444", got ${JSON.stringify(chroma)}`);
  }
  if (chroma === '444') {
    // Full-resolution colour is AV1 High profile, which only rav1e makes here (browsers'
    // WebCodecs encoders and H.264 Main/Baseline are 4:2:0).
    if (choice === 'h264') throw new MediaslimError('INVALID_OPTION', 'invalid option `chroma`: "444" is AV1 only (High profile, by rav1e); use codec "av1" or "auto"');
    return rav1e(input, { ...size, ...(target === undefined ? { quality } : { target }), chroma, keyFrameInterval, container }, withCore, progress, started, []);
  }

  if (typeof VideoEncoder === 'undefined' || typeof VideoFrame === 'undefined') {
    if (choice === 'h264' || choice === 'vp9') {
      throw new MediaslimError('UNSUPPORTED_CODEC', `codec "${choice}" needs WebCodecs (VideoEncoder), which this runtime lacks; use codec "av1" or "auto" to encode AV1 with rav1e`);
    }
    return rav1e(input, { ...size, ...(target === undefined ? { quality } : { target }), keyFrameInterval, container }, withCore, progress, started, ['this runtime has no WebCodecs VideoEncoder']);
  }

  const openReader = () => withCore((core) => new (core as CoreWithVideo).GifFrameReader(input, JSON.stringify({ ...size, even: true })));
  if (target !== undefined) {
    const found = await encodeToTarget(choice, container, target, openReader, keyFrameInterval, withCore, progress, RATE_MODEL_FPS);
    if (found.encoded) {
      const { encoded, width, height, score, encodes, notes } = found;
      return { video: encoded.video, codec: encoded.codec, frames: encoded.frames, durationMs: encoded.durationMs, encoder: 'webcodecs', width, height, notes, timings: { encode: performance.now() - started }, score, target, encodes };
    }
    if (choice === 'av1') return rav1e(input, { ...size, target, keyFrameInterval, container }, withCore, progress, started, found.notes);
    const wanted = choice !== 'auto' ? choice.toUpperCase().replace('H264', 'H.264') : container === 'webm' ? 'VP9 or AV1' : 'H.264 or AV1';
    throw new MediaslimError('UNSUPPORTED_CODEC', `no video encoder for ${wanted}: ${found.notes.join('; ')}; codec "av1" encodes with rav1e in wasm instead`);
  }
  const reader = await openReader();
  let plan: Plan | undefined;
  let notes: string[];
  try {
    ({ plan, notes } = await planEncoder(choice, container, reader.width, reader.height, RATE_MODEL_FPS, quality));
    if (plan) {
      const out = await encodeFrames(reader, plan, container, keyFrameInterval, withCore, progress);
      return { video: out.video, codec: out.codec, frames: out.frames, durationMs: out.durationMs, encoder: 'webcodecs', width: reader.width, height: reader.height, notes, timings: { encode: performance.now() - started }, encodes: 1 };
    }
  } finally {
    reader.free();
  }
  if (choice === 'av1') return rav1e(input, { ...size, quality, keyFrameInterval, container }, withCore, progress, started, notes);
  const wanted = choice !== 'auto' ? choice : container === 'webm' ? 'VP9 or AV1' : 'H.264 or AV1';
  throw new MediaslimError('UNSUPPORTED_CODEC', `no video encoder for ${wanted}: ${notes.join('; ')}; codec "av1" encodes with rav1e in wasm instead`);
}

/** The frame rate the encoder's rate model assumes (GIFs are mostly 10-25 fps); every frame
 * keeps its own GIF time in the MP4 whatever this says. */
const RATE_MODEL_FPS = 15;

async function rav1e(input: Uint8Array, options: Record<string, unknown>, withCore: WithCore, progress: Progress, started: number, notes: string[]): Promise<EncodedGifVideo> {
  const out = await withCore((core) => {
    const c = core as CoreWithVideo;
    if (!c.gifToAv1) throw new MediaslimError('UNSUPPORTED_CODEC', 'this wasm module has no AV1 encoder (rav1e is in the full module only)');
    return c.gifToAv1(input, JSON.stringify(options), progress);
  }, 'full');
  return {
    video: out.bytes,
    codec: out.codec,
    encoder: 'rav1e',
    width: out.width,
    height: out.height,
    frames: out.frames,
    durationMs: out.durationMs,
    notes: [...notes, ...(out.notes ?? [])],
    timings: { encode: performance.now() - started },
    ...(out.score !== undefined && typeof options.target === 'number' ? { score: out.score, target: options.target } : {}),
    encodes: out.encodes ?? 1,
  };
}
