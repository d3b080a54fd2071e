// MP4/MOV/WebM -> MP4 inside a pool worker: the core demuxes (for MP4 the index only; samples are read by range),
// the browser's WebCodecs VideoDecoder decodes, an OffscreenCanvas scales, a VideoEncoder
// encodes (H.264, else VP9, else AV1), and the core muxes the new frames with the source's
// AAC samples copied bit-exact. Also the poster frame: one key frame decoded to a PNG.
import type { Core, Flavor } from '../core.js';
import { MediaslimError } from '../errors.js';
import { codecFor as av1CodecFor } from '../webcodecs/avif.js';
import { bytesOf, h264Candidates, qualityNumber, type VideoQuality } from './encode-gif.js';
import { toSink } from './byte-sink.js';
import { FragmentStream } from './fragment-stream.js';
import { ByteSource, openVideo, type VideoDemuxer, type VideoSamples, type VideoTrackInfo } from './video-source.js';

export type TranscodeCodec = 'auto' | 'h264' | 'vp9' | 'av1';

/** What to make: the options the worker job takes (JSON); `transcode()` adds how to run it. */
export interface TranscodeJobOptions {
  /** Fit the displayed picture inside `maxWidth` x `maxHeight` (never upscaled; even sides). */
  maxWidth?: number;
  /** See `maxWidth`. */
  maxHeight?: number;
  /** `auto` (default): H.264, else VP9, else AV1, whichever this browser's VideoEncoder has. */
  codec?: TranscodeCodec;
  /** Target bits per second (variable bit rate); without it `quality` sets a constant quantizer. */
  bitrate?: number;
  /** `medium` (default), `high`, or 1-100. */
  quality?: VideoQuality;
  /** The output container: `mp4` (the only one yet). */
  container?: 'mp4';
  /** `copy` (default): AAC samples copied bit-exact; `drop`: a silent video. */
  audio?: 'copy' | 'drop';
  /** At most this many frames between key frames (default 300; the source's key frames are kept). */
  keyFrameInterval?: number;
}

/** What the worker answers. */
export interface TranscodedVideo {
  /** The MP4; absent when it was streamed to `output` (then see `bytesWritten`). */
  video?: Uint8Array;
  /** With `output`: bytes of the fragmented MP4 written there. */
  bytesWritten?: number;
  /** RFC 6381 codec string of the new video track, e.g. `avc1.4D401E`. */
  codec: string;
  /** `video/mp4; codecs="avc1.4D401E, mp4a.40.2"`. */
  mimeType: string;
  /** Hardware or software, as the browser reported it could configure. */
  hardwareAcceleration: 'prefer-hardware' | 'no-preference';
  /** Coded size of the new frames (before rotation). */
  width: number;
  height: number;
  /** Clockwise degrees, kept from the source's `tkhd` matrix (players apply it). */
  rotation: number;
  frames: number;
  /** Seconds, as presented. */
  duration: number;
  audio: 'copied' | 'dropped' | 'none';
  source: { codec: string; width: number; height: number; frames: number; audioCodec?: string };
  notes: string[];
  timings: { total: number };
}

export interface PosterJobOptions {
  /** Seconds; the key frame presented last at or before it (default: the first key frame). */
  time?: number;
}

export interface PosterFrameData {
  /** The decoded key frame, upright (rotation applied), as PNG: input for the image pipeline. */
  png: Uint8Array;
  width: number;
  height: number;
  /** Seconds: when that frame is presented. */
  time: number;
}

type WithCore = <T>(fn: (core: Core) => T, flavor?: Flavor) => Promise<T>;
type Progress = (done: number, total: number) => void;
type CoreWithMux = Core & {
  muxMovie(
    spec: string, videoConfig: Uint8Array, data: Uint8Array, sizes: Uint32Array, durations: Uint32Array, keyframes: Uint8Array, offsets: Int32Array,
    audioConfig?: Uint8Array, audioData?: Uint8Array, audioSizes?: Uint32Array, audioDurations?: Uint32Array,
  ): Uint8Array;
  av1Config(keyFrame: Uint8Array): { record: Uint8Array; codec: string };
};

const JOB_OPTIONS = ['maxWidth', 'maxHeight', 'codec', 'bitrate', 'quality', 'container', 'audio', 'keyFrameInterval'];
const CODECS: TranscodeCodec[] = ['auto', 'h264', 'vp9', 'av1'];
/** Samples asked from the core at a time (the index stays in wasm; JS pages through it). */
const PAGE = 256;
/** Requests allowed to wait in the decoder's or the encoder's queue before the loop waits
 * (frames are handed from decoder to encoder as they appear, so memory holds a few). */
const MAX_QUEUED = 8;
const DEFAULT_MAX_KEY_INTERVAL = 300;

export function hasWebCodecs(): boolean {
  return typeof VideoDecoder !== 'undefined' && typeof VideoEncoder !== 'undefined' && typeof VideoFrame !== 'undefined' && typeof EncodedVideoChunk !== 'undefined';
}

function unknownOption(options: object, allowed: string[]): void {
  const unknown = Object.keys(options).filter((k) => !allowed.includes(k));
  if (unknown.length) {
    throw new MediaslimError('INVALID_OPTION', `invalid option \`${unknown[0]}\`: unknown; allowed: ${allowed.map((k) => `\`${k}\``).join(', ')}`);
  }
}

function positiveInt(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new MediaslimError('INVALID_OPTION', `invalid option \`${name}\`: must be a whole number from 1, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks the options before any work; returns them normalized. */
export function checkTranscodeOptions(options: TranscodeJobOptions) {
  unknownOption(options, JOB_OPTIONS);
  const codec = options.codec ?? 'auto';
  if (!CODECS.includes(codec)) throw new MediaslimError('INVALID_OPTION', `invalid option \`codec\`: must be ${CODECS.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(codec)}`);
  if ((options.container ?? 'mp4') !== 'mp4') throw new MediaslimError('INVALID_OPTION', `invalid option \`container\`: must be "mp4", got ${JSON.stringify(options.container)}`);
  const audio = options.audio ?? 'copy';
  if (audio !== 'copy' && audio !== 'drop') throw new MediaslimError('INVALID_OPTION', `invalid option \`audio\`: must be "copy" or "drop", got ${JSON.stringify(audio)}`);
  return {
    codec,
    audio,
    quality: qualityNumber(options.quality),
    maxWidth: positiveInt('maxWidth', options.maxWidth),
    maxHeight: positiveInt('maxHeight', options.maxHeight),
    bitrate: positiveInt('bitrate', options.bitrate),
    keyFrameInterval: positiveInt('keyFrameInterval', options.keyFrameInterval),
  };
}

const NO_WEBCODECS = 'needs WebCodecs (VideoDecoder and VideoEncoder), which this runtime lacks (Node, Deno and Bun have none): run it in a browser';

/** Decoded size (coded orientation) fitted so the *displayed* picture fits the box; never
 * upscaled; even sides (4:2:0 encoders need them). */
export function fitSize(width: number, height: number, rotation: number, maxWidth?: number, maxHeight?: number): { width: number; height: number } {
  const quarter = rotation % 180 === 90;
  const [dw, dh] = quarter ? [height, width] : [width, height];
  const scale = Math.min(1, maxWidth ? maxWidth / dw : 1, maxHeight ? maxHeight / dh : 1);
  const even = (v: number) => Math.max(2, Math.floor(v / 2) * 2);
  const [fw, fh] = [even(dw * scale), even(dh * scale)];
  return quarter ? { width: fh, height: fw } : { width: fw, height: fh };
}

/** Without `bitrate` or `quality`: a variable bit rate below the source's, scaled by the
 * ratio of picture sides (not areas: a smaller picture needs more bits per pixel to look as
 * good), so the output comes out smaller. With `quality`: none (a constant quantizer). */
function defaultBitrate(raw: TranscodeJobOptions, video: VideoTrackInfo, size: { width: number; height: number }, seconds: number, fps: number, quality: number): number | undefined {
  if (raw.quality !== undefined || seconds <= 0) return undefined;
  const sourceBps = (video.bytes * 8) / seconds;
  const pixelRatio = (size.width * size.height) / (video.width * video.height);
  // Nor more than the medium quality needs: a near-lossless source is not copied at its rate.
  const enough = bitsPerPixel(quality) * size.width * size.height * fps;
  return Math.max(50_000, Math.round(Math.min(enough, SOURCE_BITRATE_SHARE * sourceBps * Math.sqrt(pixelRatio))));
}

/** Bits per pixel per frame a variable bit rate spends for quality 1-100. */
const bitsPerPixel = (quality: number) => 0.04 + 0.003 * quality;
/** The share of the source's bit rate (at equal size) the default aims for. Measured on
 * bigbuckbunny 720p -> 480p with Chromium's software H.264: 0.9 gives ~70% of the bytes at
 * SSIMULACRA2 ~45; the source's own encoder (x264) is better than a browser's, so less loses
 * more than it saves. */
const SOURCE_BITRATE_SHARE = 0.9;

/** VP9 level for a picture size (VP9 levels table, luma samples per picture). */
function vp9Codec(width: number, height: number): string {
  const samples = width * height;
  const levels: [number, string][] = [[36864, '10'], [73728, '11'], [122880, '20'], [245760, '21'], [552960, '30'], [983040, '31'], [2228224, '40'], [8912896, '50']];
  return `vp09.00.${(levels.find(([max]) => samples <= max) ?? [0, '60'])[1]}.08`;
}

interface Plan {
  kind: 'h264' | 'vp9' | 'av1';
  config: VideoEncoderConfig;
  quantizer?: number;
  hardwareAcceleration: 'prefer-hardware' | 'no-preference';
}

/** The first encoder configuration this browser supports, hardware first, or why none is. */
async function planEncoder(choice: TranscodeCodec, width: number, height: number, fps: number, quality: number, bitrate: number | undefined): Promise<{ plan?: Plan; notes: string[] }> {
  const notes: string[] = [];
  const kinds: Plan['kind'][] = choice === 'auto' ? ['h264', 'vp9', 'av1'] : [choice];
  for (const kind of kinds) {
    const codecs = kind === 'h264' ? h264Candidates(width, height) : kind === 'vp9' ? [vp9Codec(width, height)] : [av1CodecFor(width, height)];
    // H.264 QP 0-51; VP9's and AV1's WebCodecs quantizers 0-63; from quality 1-100.
    const quantizer = kind === 'h264' ? Math.round(Math.min(51, Math.max(10, 45 - 0.3 * quality))) : Math.round(Math.min(63, Math.max(0, 63 - 0.55 * quality)));
    const rate = bitrate ?? Math.max(100_000, Math.round(bitsPerPixel(quality) * width * height * fps));
    for (const codec of codecs) {
      for (const hardwareAcceleration of ['prefer-hardware', 'no-preference'] as const) {
        const base: VideoEncoderConfig = { codec, width, height, framerate: fps, latencyMode: 'quality', hardwareAcceleration, ...(kind === 'h264' ? { avc: { format: 'avc' } } : {}) };
        const configs: VideoEncoderConfig[] = bitrate === undefined ? [{ ...base, bitrateMode: 'quantizer' }, { ...base, bitrateMode: 'variable', bitrate: rate }] : [{ ...base, bitrateMode: 'variable', bitrate: rate }];
        for (const config of configs) {
          const ok = await VideoEncoder.isConfigSupported(config).then((r) => !!r.supported, () => false);
          if (ok) return { plan: { kind, config, hardwareAcceleration, quantizer: config.bitrateMode === 'quantizer' ? quantizer : undefined }, notes };
        }
      }
      notes.push(`${codec} at ${width}x${height} is not supported by this browser's VideoEncoder`);
    }
  }
  return { notes };
}

/** Resolves when `ready()` holds, checking after each decoder/encoder queue change (or 10 ms). */
function waitUntil(ready: () => boolean, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (signal.aborted) return reject(aborted(signal));
      if (ready()) return resolve();
      setTimeout(check, 2);
    };
    check();
  });
}

function aborted(signal: AbortSignal): MediaslimError {
  const why = signal.reason instanceof Error ? signal.reason.message : signal.reason !== undefined ? String(signal.reason) : 'aborted';
  return new MediaslimError('ABORTED', `the job was cancelled: ${why}`);
}

async function videoTrackOf(demuxer: VideoDemuxer, withCore: WithCore): Promise<{ video: VideoTrackInfo; tracks: VideoTrackInfo[] }> {
  const tracks = await withCore(() => demuxer.tracks());
  const video = tracks.find((t) => t.kind === 'video');
  if (!video) throw new MediaslimError('UNSUPPORTED_FORMAT', 'unsupported format: the file has no video track');
  if (video.sampleCount === 0) throw new MediaslimError('CORRUPT_INPUT', 'corrupt mp4 input: the video track has no samples');
  return { video, tracks };
}

async function decoderConfigFor(video: VideoTrackInfo): Promise<VideoDecoderConfig> {
  if (!video.codec) throw new MediaslimError('UNSUPPORTED_CODEC', `the video track's codec (${video.fourcc}) cannot be decoded here (encrypted or unknown)`);
  const config: VideoDecoderConfig = { codec: video.codec, codedWidth: video.width, codedHeight: video.height, ...(video.description ? { description: video.description } : {}) };
  const ok = await VideoDecoder.isConfigSupported(config).then((r) => !!r.supported, () => false);
  if (!ok) throw new MediaslimError('UNSUPPORTED_CODEC', `this browser's VideoDecoder cannot decode ${video.codec} at ${video.width}x${video.height}`);
  return config;
}

const microseconds = (ticks: number, timescale: number) => Math.round((ticks * 1e6) / timescale);

/** Runs in a pool worker: the whole transcode. */
export async function transcodeVideo(
  input: Uint8Array | Blob, raw: TranscodeJobOptions, withCore: WithCore, progress: Progress, signal: AbortSignal, output?: WritableStream<Uint8Array>,
): Promise<TranscodedVideo> {
  try {
    return await transcodeWhole(input, raw, withCore, progress, signal, output);
  } catch (err) {
    // Failed before streaming began (streaming aborts its own output): the caller's stream is
    // aborted too, not left open.
    if (output && !output.locked) await output.abort(err).catch(() => undefined);
    throw err;
  }
}

async function transcodeWhole(
  input: Uint8Array | Blob, raw: TranscodeJobOptions, withCore: WithCore, progress: Progress, signal: AbortSignal, output?: WritableStream<Uint8Array>,
): Promise<TranscodedVideo> {
  const options = checkTranscodeOptions(raw);
  if (!hasWebCodecs()) throw new MediaslimError('UNSUPPORTED_CODEC', `transcode ${NO_WEBCODECS}`);
  const started = performance.now();
  const source = new ByteSource(input);
  const demuxer = await openVideo(source, withCore);
  try {
    const { video, tracks } = await videoTrackOf(demuxer, withCore);
    const decoderConfig = await decoderConfigFor(video);
    const size = fitSize(video.width, video.height, video.rotation, options.maxWidth, options.maxHeight);
    const seconds = video.duration / video.timescale;
    const fps = seconds > 0 ? Math.min(240, Math.max(1, video.sampleCount / seconds)) : 30;
    const { plan, notes } = await planEncoder(options.codec, size.width, size.height, fps, options.quality, options.bitrate ?? defaultBitrate(raw, video, size, seconds, fps, options.quality));
    if (!plan) {
      throw new MediaslimError('UNSUPPORTED_CODEC', `no video encoder for ${options.codec === 'auto' ? 'H.264, VP9 or AV1' : options.codec}: ${notes.join('; ')}`);
    }
    if (output) {
      const streamed = { output, demuxer, source, video, tracks, decoderConfig, plan, size, notes, progress, signal, withCore, started };
      return await transcodeToStream(streamed, options.audio, options.keyFrameInterval ?? DEFAULT_MAX_KEY_INTERVAL);
    }
    const encoded = (await reencode(demuxer, source, video, decoderConfig, plan, size, options.keyFrameInterval ?? DEFAULT_MAX_KEY_INTERVAL, progress, signal))!;

    // Audio: AAC samples copied as they are; anything else cannot go into our MP4 yet.
    const audioTrack = tracks.find((t) => t.kind === 'audio');
    let audio: TranscodedVideo['audio'] = audioTrack ? 'dropped' : 'none';
    let audioParts: { config: Uint8Array; data: Uint8Array; sizes: Uint32Array; durations: Uint32Array; spec: object } | undefined;
    if (audioTrack && options.audio === 'copy') {
      if (audioTrack.codec?.startsWith('mp4a.40.') && audioTrack.description && audioTrack.sampleCount > 0) {
        audioParts = await copyAudio(demuxer, source, audioTrack, withCore, signal);
        audio = 'copied';
      } else {
        notes.push(`audio track (${audioTrack.codec ?? audioTrack.fourcc}) dropped: only AAC is copied into the MP4`);
      }
    }

    let config: Uint8Array;
    let codec = encoded.codec;
    if (plan.kind === 'h264') {
      if (!encoded.description) throw new MediaslimError('ENCODE_FAILED', "the browser's H.264 encoder gave no avcC description (asked for avc: { format: 'avc' })");
      config = encoded.description;
    } else if (plan.kind === 'av1') {
      const made = await withCore((core) => (core as CoreWithMux).av1Config(encoded.data.subarray(0, encoded.sizes[0])));
      config = made.record;
      codec = made.codec;
    } else {
      config = vpcc(codec, encoded.colorSpace);
    }
    const spec = {
      codec: plan.kind === 'h264' ? 'avc' : plan.kind,
      width: size.width,
      height: size.height,
      rotation: video.rotation,
      timescale: video.timescale,
      mediaStart: encoded.mediaStart,
      ...(audioParts ? { audio: audioParts.spec } : {}),
    };
    const mp4 = await withCore((core) =>
      (core as CoreWithMux).muxMovie(JSON.stringify(spec), config, encoded.data, encoded.sizes, encoded.durations, encoded.keyframes, encoded.offsets, audioParts?.config, audioParts?.data, audioParts?.sizes, audioParts?.durations),
    );
    // Never worse, said rather than done: a re-encode is not replaced by its input (the caller
    // asked for a new codec or size), but a larger output is pointed out.
    if (mp4.byteLength >= source.size) notes.push(`the output (${mp4.byteLength} bytes) is not smaller than the input (${source.size} bytes)`);
    const codecs = audio === 'copied' ? `${codec}, ${audioTrack!.codec}` : codec;
    return {
      video: mp4,
      codec,
      mimeType: `video/mp4; codecs="${codecs}"`,
      hardwareAcceleration: plan.hardwareAcceleration,
      width: size.width,
      height: size.height,
      rotation: video.rotation,
      frames: encoded.sizes.length,
      duration: encoded.presentedTicks / video.timescale,
      audio,
      source: { codec: video.codec!, width: video.width, height: video.height, frames: video.sampleCount, ...(audioTrack?.codec ? { audioCodec: audioTrack.codec } : {}) },
      notes,
      timings: { total: performance.now() - started },
    };
  } finally {
    demuxer.free();
  }
}

/** A `vpcC` payload (version 1) for a `vp09.PP.LL.DD` codec string. */
function vpcc(codec: string, colorSpace: VideoColorSpaceInit | undefined): Uint8Array {
  const [, profile, level, depth] = codec.split('.').map(Number);
  const bt709 = colorSpace?.primaries === 'bt709';
  // 4:2:0 with chroma co-sited with luma (1), limited range; BT.709 or unspecified (2).
  const colour = bt709 ? 1 : 2;
  const fullRange = colorSpace?.fullRange ? 1 : 0;
  return Uint8Array.from([1, 0, 0, 0, profile ?? 0, level ?? 10, ((depth ?? 8) << 4) | (1 << 1) | fullRange, colour, colour, colour, 0, 0]);
}

interface Encoded {
  data: Uint8Array;
  sizes: Uint32Array;
  durations: Uint32Array;
  keyframes: Uint8Array;
  /** Presentation minus decode time per sample; empty when the encoder did not reorder. */
  offsets: Int32Array;
  /** Edit list start for the muxer: negative delays the first frame (it was not at 0). */
  mediaStart: number;
  presentedTicks: number;
  codec: string;
  description?: Uint8Array;
  colorSpace?: VideoColorSpaceInit;
}

/** The transcode with `output`: a fragmented MP4 written GOP by GOP as the encoder goes (see
 * fragment-stream.ts), AAC copied into the same fragments. */
async function transcodeToStream(
  t: {
    output: WritableStream<Uint8Array>; demuxer: VideoDemuxer; source: ByteSource; video: VideoTrackInfo; tracks: VideoTrackInfo[]; decoderConfig: VideoDecoderConfig;
    plan: Plan; size: { width: number; height: number }; notes: string[]; progress: Progress; signal: AbortSignal; withCore: WithCore; started: number;
  },
  audioChoice: TranscodeJobOptions['audio'],
  maxKeyInterval: number,
): Promise<TranscodedVideo> {
  const { video, plan, notes, withCore } = t;
  const audioTrack = t.tracks.find((tr) => tr.kind === 'audio');
  let audio: TranscodedVideo['audio'] = audioTrack ? 'dropped' : 'none';
  const copyAac = audioTrack && audioChoice !== 'drop' && audioTrack.codec?.startsWith('mp4a.40.') && audioTrack.description && audioTrack.sampleCount > 0;
  if (copyAac) audio = 'copied';
  else if (audioTrack && audioChoice !== 'drop') notes.push(`audio track (${audioTrack.codec ?? audioTrack.fourcc}) dropped: only AAC is copied into the MP4`);
  const stream = new FragmentStream(toSink(t.output), {
    spec: { codec: plan.kind === 'h264' ? 'avc' : plan.kind, width: t.size.width, height: t.size.height, rotation: video.rotation, timescale: video.timescale },
    audio: copyAac ? { demuxer: t.demuxer, source: t.source, track: audioTrack } : undefined,
    async config(firstKey, meta) {
      if (plan.kind === 'h264') {
        if (!meta.description) throw new MediaslimError('ENCODE_FAILED', "the browser's H.264 encoder gave no avcC description (asked for avc: { format: 'avc' })");
        return { config: meta.description, codec: meta.codec };
      }
      if (plan.kind === 'av1') {
        const made = await withCore((core) => (core as CoreWithMux).av1Config(firstKey));
        return { config: made.record, codec: made.codec };
      }
      return { config: vpcc(meta.codec, meta.colorSpace), codec: meta.codec };
    },
  }, withCore);
  try {
    await reencode(t.demuxer, t.source, video, t.decoderConfig, plan, t.size, maxKeyInterval, t.progress, t.signal, stream);
    const { bytesWritten, codec } = await stream.finish();
    const codecs = audio === 'copied' ? `${codec}, ${audioTrack!.codec}` : codec;
    return {
      bytesWritten,
      codec,
      mimeType: `video/mp4; codecs="${codecs}"`,
      hardwareAcceleration: plan.hardwareAcceleration,
      width: t.size.width,
      height: t.size.height,
      rotation: video.rotation,
      frames: stream.frames,
      duration: stream.presentedTicks / video.timescale,
      audio,
      source: { codec: video.codec!, width: video.width, height: video.height, frames: video.sampleCount, ...(audioTrack?.codec ? { audioCodec: audioTrack.codec } : {}) },
      notes,
      timings: { total: performance.now() - t.started },
    };
  } catch (err) {
    await stream.abort(err);
    throw err;
  }
}

/** Decodes every frame of `video`, scales it, encodes it; frames before the source's edit
 * start (pts < 0: a player never shows them) are decoded but not encoded. */
async function reencode(
  demuxer: VideoDemuxer, source: ByteSource, video: VideoTrackInfo, decoderConfig: VideoDecoderConfig, plan: Plan,
  size: { width: number; height: number }, maxKeyInterval: number, progress: Progress, signal: AbortSignal,
  stream?: FragmentStream,
): Promise<Encoded | undefined> {
  // Each presented frame's source time in ticks (exact), by its microsecond timestamp.
  const frameTicks = new Map<number, { pts: number; duration: number; key: boolean }>();
  const chunks: { data: Uint8Array; key: boolean; timestamp: number }[] = [];
  let description: Uint8Array | undefined;
  let colorSpace: VideoColorSpaceInit | undefined;
  let codec = plan.config.codec;
  let failure: unknown;
  let encodedFrames = 0;
  let sinceKey = Infinity;
  // Progress counts the frames that will be encoded: those a player shows (pts >= 0).
  let total = 0;
  for (let from = 0; from < video.sampleCount; from += PAGE) total += demuxer.samples(video.id, from, PAGE).pts.filter((p) => p >= 0).length;
  const canvas = size.width === video.width && size.height === video.height ? undefined : new OffscreenCanvas(size.width, size.height);
  const ctx = canvas?.getContext('2d', { alpha: false }) as OffscreenCanvasRenderingContext2D | null | undefined;
  if (canvas && !ctx) throw new MediaslimError('ENCODE_FAILED', 'this browser has no 2D OffscreenCanvas to scale frames with');

  const encoder = new VideoEncoder({
    output: (chunk, meta) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      chunks.push({ data, key: chunk.type === 'key', timestamp: chunk.timestamp });
      const d = meta?.decoderConfig;
      if (d?.description) description = bytesOf(d.description);
      if (d?.colorSpace) colorSpace = d.colorSpace;
      if (d?.codec) codec = d.codec;
      encodedFrames += 1;
      progress(encodedFrames, total);
    },
    error: (e) => (failure ??= e),
  });
  const decoder = new VideoDecoder({
    output: (frame) => {
      const info = frameTicks.get(frame.timestamp);
      if (failure || signal.aborted || !info || info.pts < 0) {
        frame.close();
        return;
      }
      try {
        let out = frame;
        if (canvas && ctx) {
          ctx.drawImage(frame, 0, 0, size.width, size.height);
          out = new VideoFrame(canvas, { timestamp: frame.timestamp, duration: frame.duration ?? undefined });
          frame.close();
        }
        const keyFrame = info.key || sinceKey >= maxKeyInterval;
        sinceKey = keyFrame ? 1 : sinceKey + 1;
        const opts: VideoEncoderEncodeOptions & { avc?: { quantizer?: number }; vp9?: { quantizer?: number }; av1?: { quantizer?: number } } = { keyFrame };
        if (plan.quantizer !== undefined) opts[plan.kind === 'h264' ? 'avc' : plan.kind] = { quantizer: plan.quantizer };
        encoder.encode(out, opts);
        out.close();
      } catch (e) {
        failure ??= e;
      }
    },
    error: (e) => (failure ??= e),
  });
  try {
    encoder.configure(plan.config);
    decoder.configure(decoderConfig);
    for (let from = 0; from < video.sampleCount && !failure; from += PAGE) {
      const page: VideoSamples = demuxer.samples(video.id, from, PAGE);
      for (let i = 0; i < page.sizes.length; i++) {
        if (signal.aborted) throw aborted(signal);
        if (failure) break;
        // Backpressure: a few requests queued, not the whole clip's frames in memory.
        const ready = () => !!failure || (decoder.decodeQueueSize <= MAX_QUEUED && encoder.encodeQueueSize <= MAX_QUEUED);
        if (!ready()) await waitUntil(ready, signal);
        const pts = page.pts[i]!;
        const timestamp = microseconds(pts, video.timescale);
        const duration = page.durations[i]!;
        const key = page.keyframes[i] === 1;
        frameTicks.set(timestamp, { pts, duration, key });
        const data = await source.read(page.offsets[i]!, page.sizes[i]!);
        decoder.decode(new EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp, duration: microseconds(duration, video.timescale), data }));
        // Streaming: each finished group of pictures leaves now (memory holds about one).
        if (stream && !failure) await stream.take(chunks, frameTicks, false, { codec, description, colorSpace });
      }
    }
    if (!failure) await decoder.flush();
    if (signal.aborted) throw aborted(signal);
    if (!failure) await encoder.flush();
    if (stream && !failure) await stream.take(chunks, frameTicks, true, { codec, description, colorSpace });
  } catch (err) {
    if (err instanceof MediaslimError) throw err;
    failure ??= err;
  } finally {
    if (decoder.state !== 'closed') decoder.close();
    if (encoder.state !== 'closed') encoder.close();
  }
  if (signal.aborted) throw aborted(signal);
  if (failure) throw new MediaslimError('ENCODE_FAILED', `the browser's ${video.codec} decoder or ${plan.config.codec} encoder failed: ${String(failure)}`);
  if (stream) return undefined;
  if (chunks.length === 0) throw new MediaslimError('ENCODE_FAILED', `the browser's ${plan.config.codec} encoder returned no frames`);

  // Times back in the source's ticks: presentation from the map, decode order as emitted.
  const pts = chunks.map((c) => {
    const info = frameTicks.get(c.timestamp);
    if (!info) throw new MediaslimError('ENCODE_FAILED', `the browser's encoder returned a frame at ${c.timestamp} µs, which was never sent`);
    return info;
  });
  const sorted = pts.map((p) => p.pts).sort((a, b) => a - b);
  const first = sorted[0]!;
  const reordered = pts.some((p, i) => p.pts !== sorted[i]);
  // Decode times are the presentation times in order; each lasts until the next (the last
  // keeps its source duration).
  const durations = Uint32Array.from(sorted, (t, i) => Math.max(1, i + 1 < sorted.length ? sorted[i + 1]! - t : pts.find((p) => p.pts === t)!.duration));
  const offsets = reordered ? Int32Array.from(pts, (p, i) => p.pts - sorted[i]!) : new Int32Array(0);
  const sizes = Uint32Array.from(chunks, (c) => c.data.length);
  const data = new Uint8Array(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const c of chunks) {
    data.set(c.data, at);
    at += c.data.length;
  }
  return {
    data,
    sizes,
    durations,
    keyframes: Uint8Array.from(chunks, (c) => (c.key ? 1 : 0)),
    offsets,
    mediaStart: first > 0 ? -first : 0,
    // Frames before 0 were not encoded: presentation runs from 0 (a delay, then the first
    // frame) to the end of the last frame.
    presentedTicks: sorted.at(-1)! + durations.at(-1)!,
    codec,
    description,
    colorSpace,
  };
}

/** Every AAC sample of `track`, read by range, with what the muxer needs to copy them. */
async function copyAudio(demuxer: VideoDemuxer, source: ByteSource, track: VideoTrackInfo, withCore: WithCore, signal: AbortSignal) {
  const all = await withCore(() => demuxer.samples(track.id, 0, track.sampleCount));
  const data = new Uint8Array(all.sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  for (let i = 0; i < all.sizes.length; i++) {
    if (signal.aborted) throw aborted(signal);
    data.set(await source.read(all.offsets[i]!, all.sizes[i]!), at);
    at += all.sizes[i]!;
  }
  return {
    config: track.description!,
    data,
    sizes: all.sizes,
    durations: all.durations,
    spec: { sampleRate: track.sampleRate, channels: track.channels, timescale: track.timescale, mediaStart: track.editStart },
  };
}

/** Runs in a pool worker: one key frame decoded, turned upright, as a PNG. */
export async function decodePosterFrame(input: Uint8Array | Blob, options: PosterJobOptions, withCore: WithCore, signal: AbortSignal): Promise<PosterFrameData> {
  unknownOption(options, ['time']);
  const time = options.time ?? 0;
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) throw new MediaslimError('INVALID_OPTION', `invalid option \`time\`: must be seconds from 0, got ${JSON.stringify(time)}`);
  if (!hasWebCodecs() || typeof OffscreenCanvas === 'undefined') throw new MediaslimError('UNSUPPORTED_CODEC', `posterFrame ${NO_WEBCODECS}`);
  const source = new ByteSource(input);
  const demuxer = await openVideo(source, withCore);
  try {
    const { video } = await videoTrackOf(demuxer, withCore);
    const config = await decoderConfigFor(video);
    const index = await withCore(() => demuxer.keyframeAtOrBefore(video.id, Math.round(time * video.timescale)));
    if (index === undefined) throw new MediaslimError('CORRUPT_INPUT', 'corrupt mp4 input: the video track has no key frame');
    const sample = demuxer.samples(video.id, index, 1);
    const data = await source.read(sample.offsets[0]!, sample.sizes[0]!);
    if (signal.aborted) throw aborted(signal);
    let frame: VideoFrame | undefined;
    let failure: unknown;
    const decoder = new VideoDecoder({ output: (f) => (frame ? f.close() : (frame = f)), error: (e) => (failure ??= e) });
    try {
      decoder.configure(config);
      decoder.decode(new EncodedVideoChunk({ type: 'key', timestamp: microseconds(sample.pts[0]!, video.timescale), data }));
      await decoder.flush();
    } catch (e) {
      failure ??= e;
    } finally {
      if (decoder.state !== 'closed') decoder.close();
    }
    const decoded = frame as VideoFrame | undefined;
    if (!decoded) throw new MediaslimError('CORRUPT_INPUT', `corrupt mp4 input: the key frame at ${sample.pts[0]} ticks did not decode (${String(failure)})`);
    try {
      // Upright: the rotation a player applies is applied here (an image has no matrix).
      const [w, h] = [decoded.displayWidth, decoded.displayHeight];
      const quarter = video.rotation % 180 === 90;
      const canvas = new OffscreenCanvas(quarter ? h : w, quarter ? w : h);
      const ctx = canvas.getContext('2d')!;
      ctx.translate(canvas.width / 2, canvas.height / 2);
      ctx.rotate((video.rotation * Math.PI) / 180);
      ctx.drawImage(decoded, -w / 2, -h / 2, w, h);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      return { png: new Uint8Array(await blob.arrayBuffer()), width: canvas.width, height: canvas.height, time: sample.pts[0]! / video.timescale };
    } finally {
      decoded.close();
    }
  } finally {
    demuxer.free();
  }
}
