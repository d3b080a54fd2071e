// MP4/MOV/WebM -> MP4 or WebM inside a pool worker: the core demuxes (for MP4 the index only;
// samples are read by range), the browser's WebCodecs VideoDecoder decodes, an OffscreenCanvas
// scales (and, for WebM, which has no rotation matrix, turns the picture upright), a
// VideoEncoder encodes (MP4: H.264, else VP9, else AV1; WebM: VP9, else AV1), the audio is
// copied or re-encoded (./audio.ts), and the core muxes. Also the poster frame: one key frame
// decoded to a PNG.
import type { Core, Flavor } from '../core.js';
import { concat } from '../input.js';
import { MediaslimError } from '../errors.js';
import { codecFor as av1CodecFor } from '../webcodecs/avif.js';
import { aborted, prepareAudio, streamedAudio, type AudioMode, type Container } from './audio.js';
import { decoderDescription, h264Candidates, qualityNumber, vp9Codec, type VideoQuality } from './encode-gif.js';
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
  /** `auto` (default): for MP4 H.264, else VP9, else AV1; for WebM VP9, else AV1; whichever
   * this browser's VideoEncoder has. WebM holds VP9 and AV1 only (`h264` with it is refused). */
  codec?: TranscodeCodec;
  /** Target bits per second (variable bit rate); without it `quality` sets a constant quantizer. */
  bitrate?: number;
  /** `medium` (default), `high`, or 1-100. */
  quality?: VideoQuality;
  /** The output container: `mp4` (default) or `webm`. WebM has no rotation matrix, so a
   * rotated source's frames are turned upright before encoding. */
  container?: Container;
  /** `copy` (default): the audio packets copied bit-exact when the container holds their codec
   * (AAC or Opus into MP4; Opus or Vorbis into WebM), else re-encoded (said in `notes`);
   * `reencode`: always decoded and encoded again (Opus for WebM; AAC for MP4 when the
   * browser's AudioEncoder has it, else Opus in MP4); `drop`: a silent video. */
  audio?: AudioMode;
  /** At most this many frames between key frames (default 300; the source's key frames are kept). */
  keyFrameInterval?: number;
  /** At most this many frames per second (e.g. 15 for a preview): frames are dropped evenly,
   * each kept one lasting until the next, so the duration stays. Default: the source's rate. */
  fps?: number;
}

/** What the worker answers. */
export interface TranscodedVideo {
  /** The MP4 or WebM; absent when it was streamed to `output` (then see `bytesWritten`). */
  video?: Uint8Array;
  /** With `output`: bytes written there. */
  bytesWritten?: number;
  /** RFC 6381 codec string of the new video track, e.g. `avc1.4D401E`. */
  codec: string;
  /** `video/mp4; codecs="avc1.4D401E, mp4a.40.2"`, `video/webm; codecs="vp09.00.21.08, opus"`. */
  mimeType: string;
  container: Container;
  /** Hardware or software, as the browser reported it could configure. */
  hardwareAcceleration: 'prefer-hardware' | 'no-preference';
  /** Coded size of the new frames (before rotation). */
  width: number;
  height: number;
  /** Clockwise degrees a player turns the picture: the source's, in an MP4 (its `tkhd`
   * matrix); 0 in a WebM, whose frames were turned upright before encoding. */
  rotation: number;
  frames: number;
  /** Seconds, as presented. */
  duration: number;
  /** What became of the source's audio (`none`: it had none). */
  audio: 'copied' | 'reencoded' | 'dropped' | 'none';
  /** The output's audio codec (RFC 6381), when it has audio. */
  audioCodec?: string;
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
type MuxFn = (
  spec: string, videoConfig: Uint8Array, data: Uint8Array, sizes: Uint32Array, durations: Uint32Array, keyframes: Uint8Array, offsets: Int32Array,
  audioConfig?: Uint8Array, audioData?: Uint8Array, audioSizes?: Uint32Array, audioDurations?: Uint32Array,
) => Uint8Array;
type CoreWithMux = Core & {
  muxMovie: MuxFn;
  muxWebm: MuxFn;
  av1Config(keyFrame: Uint8Array): { record: Uint8Array; codec: string };
};

const JOB_OPTIONS = ['maxWidth', 'maxHeight', 'codec', 'bitrate', 'quality', 'container', 'audio', 'keyFrameInterval', 'fps'];
const CODECS: TranscodeCodec[] = ['auto', 'h264', 'vp9', 'av1'];
/** Samples asked from the core at a time (the index stays in wasm; JS pages through it). */
const PAGE = 256;
/** Requests allowed to wait in the decoder's or the encoder's queue before the loop waits
 * (frames are handed from decoder to encoder as they appear, so memory holds a few): 16 kept
 * both busy (8: 7% fewer frames/s, bench:video 720p -> 480p); frames waiting for the encoder
 * are held to QUEUED_FRAME_BYTES (a 4K source: 2 frames). */
const MAX_QUEUED = 16;
const QUEUED_FRAME_BYTES = 32 << 20;
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
  const container = options.container ?? 'mp4';
  if (container !== 'mp4' && container !== 'webm') throw new MediaslimError('INVALID_OPTION', `invalid option \`container\`: must be "mp4" or "webm", got ${JSON.stringify(options.container)}`);
  if (container === 'webm' && codec === 'h264') throw new MediaslimError('INVALID_OPTION', 'invalid option `codec`: "h264" cannot go into a WebM (it holds VP9 and AV1): use codec "vp9", "av1" or "auto", or container "mp4"');
  const audio = options.audio ?? 'copy';
  if (audio !== 'copy' && audio !== 'reencode' && audio !== 'drop') throw new MediaslimError('INVALID_OPTION', `invalid option \`audio\`: must be "copy", "reencode" or "drop", got ${JSON.stringify(audio)}`);
  return {
    codec,
    container,
    audio,
    quality: qualityNumber(options.quality),
    maxWidth: positiveInt('maxWidth', options.maxWidth),
    maxHeight: positiveInt('maxHeight', options.maxHeight),
    bitrate: positiveInt('bitrate', options.bitrate),
    keyFrameInterval: positiveInt('keyFrameInterval', options.keyFrameInterval),
    fps: frameRate(options.fps),
  };
}

function frameRate(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 1 || v > 240) throw new MediaslimError('INVALID_OPTION', `invalid option \`fps\`: must be frames per second from 1 to 240, got ${JSON.stringify(v)}`);
  return v;
}

/** Frame-rate reduction in source ticks: a frame (in presentation order) is kept when it starts
 * at or after the next slot of `ticksPerFrame`, so kept frames are spread evenly; 0 keeps all. */
export class FrameRateLimit {
  private next = -Infinity;
  constructor(private readonly ticksPerFrame: number) {}
  keep(pts: number): boolean {
    if (this.ticksPerFrame <= 0) return true;
    if (pts < this.next) return false;
    this.next = (Math.floor(pts / this.ticksPerFrame) + 1) * this.ticksPerFrame;
    return true;
  }
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
  // Fewer frames per second (`fps`) need proportionally fewer bits.
  const frameRatio = Math.min(1, fps / Math.max(1, video.sampleCount / seconds));
  const sourceBps = ((video.bytes * 8) / seconds) * frameRatio;
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

interface Plan {
  kind: 'h264' | 'vp9' | 'av1';
  config: VideoEncoderConfig;
  quantizer?: number;
  hardwareAcceleration: 'prefer-hardware' | 'no-preference';
}

/** The first encoder configuration this browser supports, hardware first, or why none is. */
async function planEncoder(choice: TranscodeCodec, container: Container, width: number, height: number, fps: number, quality: number, bitrate: number | undefined): Promise<{ plan?: Plan; notes: string[] }> {
  const notes: string[] = [];
  const kinds: Plan['kind'][] = choice !== 'auto' ? [choice] : container === 'webm' ? ['vp9', 'av1'] : ['h264', 'vp9', 'av1'];
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

/** Resolves when `ready()` holds, checking after each queue change of `codecs` (their
 * `dequeue` events), else every 10 ms (browsers without the event, and an abort). */
function waitUntil(ready: () => boolean, signal: AbortSignal, codecs: EventTarget[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (error?: unknown) => {
      clearTimeout(timer);
      for (const c of codecs) c.removeEventListener('dequeue', check);
      if (error) reject(error);
      else resolve();
    };
    function check() {
      if (signal.aborted) return settle(aborted(signal));
      if (ready()) return settle();
      clearTimeout(timer);
      timer = setTimeout(check, 10);
    }
    for (const c of codecs) c.addEventListener('dequeue', check);
    check();
  });
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
    // WebM has no rotation matrix: its frames are encoded upright (the displayed size).
    const turn = options.container === 'webm' ? video.rotation : 0;
    const encodedSize = turn % 180 === 90 ? { width: size.height, height: size.width } : size;
    const seconds = video.duration / video.timescale;
    const sourceFps = seconds > 0 ? Math.min(240, Math.max(1, video.sampleCount / seconds)) : 30;
    const fps = Math.min(sourceFps, options.fps ?? sourceFps);
    // Below the source's rate: frames closer than this many ticks to the last kept one are dropped.
    const ticksPerFrame = fps < sourceFps ? video.timescale / fps : 0;
    const { plan, notes } = await planEncoder(options.codec, options.container, encodedSize.width, encodedSize.height, fps, options.quality, options.bitrate ?? defaultBitrate(raw, video, size, seconds, fps, options.quality));
    if (!plan) {
      const wanted = options.codec !== 'auto' ? options.codec : options.container === 'webm' ? 'VP9 or AV1' : 'H.264, VP9 or AV1';
      throw new MediaslimError('UNSUPPORTED_CODEC', `no video encoder for ${wanted}: ${notes.join('; ')}`);
    }
    if (output) {
      const streamed = { output, container: options.container, demuxer, source, video, tracks, decoderConfig, plan, size: encodedSize, turn, ticksPerFrame, notes, progress, signal, withCore, started };
      return await transcodeToStream(streamed, options.audio, options.keyFrameInterval ?? DEFAULT_MAX_KEY_INTERVAL);
    }
    const encoded = (await reencode(demuxer, source, video, decoderConfig, plan, encodedSize, turn, ticksPerFrame, options.keyFrameInterval ?? DEFAULT_MAX_KEY_INTERVAL, progress, signal))!;

    const audioTrack = tracks.find((t) => t.kind === 'audio');
    const sound = await prepareAudio(audioTrack, options.audio, options.container, demuxer, source, signal);
    notes.push(...sound.notes);
    const audioParts = sound.parts;

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
      width: encodedSize.width,
      height: encodedSize.height,
      rotation: video.rotation - turn,
      timescale: video.timescale,
      mediaStart: encoded.mediaStart,
      ...(audioParts ? { audio: audioParts.spec } : {}),
    };
    const out = await withCore((core) => {
      const mux = options.container === 'webm' ? (core as CoreWithMux).muxWebm : (core as CoreWithMux).muxMovie;
      return mux(JSON.stringify(spec), config, encoded.data, encoded.sizes, encoded.durations, encoded.keyframes, encoded.offsets, audioParts?.config, audioParts?.data, audioParts?.sizes, audioParts?.durations);
    });
    // Never worse, said rather than done: a re-encode is not replaced by its input (the caller
    // asked for a new codec or size), but a larger output is pointed out.
    if (out.byteLength >= source.size) notes.push(`the output (${out.byteLength} bytes) is not smaller than the input (${source.size} bytes)`);
    const codecs = audioParts ? `${codec}, ${audioParts.codec}` : codec;
    return {
      video: out,
      codec,
      mimeType: `video/${options.container}; codecs="${codecs}"`,
      container: options.container,
      hardwareAcceleration: plan.hardwareAcceleration,
      width: encodedSize.width,
      height: encodedSize.height,
      rotation: video.rotation - turn,
      frames: encoded.sizes.length,
      duration: encoded.presentedTicks / video.timescale,
      audio: sound.audio,
      ...(audioParts ? { audioCodec: audioParts.codec } : {}),
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

/** The transcode with `output`: written GOP by GOP as the encoder goes (a fragmented MP4, or a
 * WebM of clusters; see fragment-stream.ts), the audio going into the same stretches. */
async function transcodeToStream(
  t: {
    output: WritableStream<Uint8Array>; container: Container; demuxer: VideoDemuxer; source: ByteSource; video: VideoTrackInfo; tracks: VideoTrackInfo[];
    decoderConfig: VideoDecoderConfig; plan: Plan; size: { width: number; height: number }; turn: number; ticksPerFrame: number; notes: string[];
    progress: Progress; signal: AbortSignal; withCore: WithCore; started: number;
  },
  audioChoice: AudioMode,
  maxKeyInterval: number,
): Promise<TranscodedVideo> {
  const { video, plan, notes, withCore, container } = t;
  const audioTrack = t.tracks.find((tr) => tr.kind === 'audio');
  const sound = await streamedAudio(audioTrack, audioChoice, container, t.demuxer, t.source, t.signal);
  notes.push(...sound.notes);
  const feed = sound.feed;
  const tracks = feed ? [video, audioTrack!] : [video];
  const stream = new FragmentStream(toSink(t.output), {
    spec: { codec: plan.kind === 'h264' ? 'avc' : plan.kind, width: t.size.width, height: t.size.height, rotation: video.rotation - t.turn, timescale: video.timescale },
    container,
    // A WebM's Info is written first: its length is the source's (a transcode keeps the times).
    ...(container === 'webm' ? { duration: Math.max(...tracks.map((tr) => presentedEnd(t.demuxer, tr))) } : {}),
    audio: feed,
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
    await reencode(t.demuxer, t.source, video, t.decoderConfig, plan, t.size, t.turn, t.ticksPerFrame, maxKeyInterval, t.progress, t.signal, stream);
    const { bytesWritten, codec } = await stream.finish();
    const codecs = feed ? `${codec}, ${feed.codec}` : codec;
    return {
      bytesWritten,
      codec,
      mimeType: `video/${container}; codecs="${codecs}"`,
      container,
      hardwareAcceleration: plan.hardwareAcceleration,
      width: t.size.width,
      height: t.size.height,
      rotation: video.rotation - t.turn,
      frames: stream.frames,
      duration: stream.presentedTicks / video.timescale,
      audio: sound.audio,
      ...(feed ? { audioCodec: feed.codec } : {}),
      source: { codec: video.codec!, width: video.width, height: video.height, frames: video.sampleCount, ...(audioTrack?.codec ? { audioCodec: audioTrack.codec } : {}) },
      notes,
      timings: { total: performance.now() - t.started },
    };
  } catch (err) {
    await stream.abort(err);
    throw err;
  }
}

/** Per encoder (codec and acceleration): whether it scales frames itself (see encoderScales). */
const scaling = new Map<string, Promise<boolean>>();

/**
 * Whether this browser's VideoEncoder scales a frame of another size to the size it was
 * configured with. Chromium's software encoders do (libyuv, the decoder's I420 straight to
 * I420): the canvas path's round trip through RGB is then skipped, which made a 720p -> 480p
 * H.264 transcode 1.8x as fast (850 -> 469 ms for 132 frames, bench:video). Tested once per
 * encoder on a 128x64 frame into a 64x32 encoder: dark left half, bright right half, which must
 * come back scaled (bright at x = 48), not cropped or refused.
 */
function encoderScales(config: VideoEncoderConfig): Promise<boolean> {
  const key = `${config.codec} ${config.hardwareAcceleration ?? ''}`;
  let known = scaling.get(key);
  if (!known) {
    known = scalesFrames(config).catch(() => false);
    scaling.set(key, known);
  }
  return known;
}

async function scalesFrames(config: VideoEncoderConfig): Promise<boolean> {
  const [w, h] = [64, 32];
  const chunks: EncodedVideoChunk[] = [];
  let decoderConfig: VideoDecoderConfig | undefined;
  let failed = false;
  const encoder = new VideoEncoder({ output: (c, m) => (chunks.push(c), (decoderConfig ??= m?.decoderConfig)), error: () => (failed = true) });
  const { codec, hardwareAcceleration, avc } = config;
  encoder.configure({ codec, hardwareAcceleration, ...(avc ? { avc } : {}), width: w, height: h, bitrate: 1_000_000 });
  const pixels = new Uint8Array(2 * w * 2 * h * 1.5).fill(128);
  for (let y = 0; y < 2 * h; y++) pixels.fill(16, y * 2 * w, y * 2 * w + w).fill(235, y * 2 * w + w, (y + 1) * 2 * w);
  const frame = new VideoFrame(pixels, { format: 'I420', codedWidth: 2 * w, codedHeight: 2 * h, timestamp: 0 });
  try {
    encoder.encode(frame, { keyFrame: true });
    await encoder.flush();
  } finally {
    frame.close();
    if (encoder.state !== 'closed') encoder.close();
  }
  if (failed || !decoderConfig || chunks.length === 0) return false;
  let decoded: VideoFrame | undefined;
  const decoder = new VideoDecoder({ output: (f) => (decoded ? f.close() : (decoded = f)), error: () => (failed = true) });
  try {
    decoder.configure(decoderConfig);
    for (const c of chunks) decoder.decode(c);
    await decoder.flush();
  } finally {
    if (decoder.state !== 'closed') decoder.close();
  }
  const f = decoded as VideoFrame | undefined;
  if (failed || !f) return false;
  try {
    if (f.displayWidth !== w || f.displayHeight !== h || (f.format !== 'I420' && f.format !== 'NV12')) return false;
    // The luma plane comes first in either layout: dark at x = 16, bright at x = 48.
    const data = new Uint8Array(f.allocationSize());
    const [luma] = await f.copyTo(data);
    const at = (x: number) => data[luma!.offset + 16 * luma!.stride + x]!;
    return at(16) < 60 && at(48) > 190;
  } finally {
    f.close();
  }
}

/** Where `track`'s presentation ends, in seconds: its latest sample's end, less the end
 * padding (the demuxers' times: what a player shows starts at 0). */
function presentedEnd(demuxer: VideoDemuxer, track: VideoTrackInfo): number {
  let end = 0;
  for (let from = 0; from < track.sampleCount; from += PAGE) {
    const page = demuxer.samples(track.id, from, PAGE);
    page.pts.forEach((pts, i) => (end = Math.max(end, pts + page.durations[i]!)));
  }
  return end / track.timescale - track.endPaddingNs / 1e9;
}

/** Decodes every frame of `video`, scales it, encodes it; frames before the source's edit
 * start (pts < 0: a player never shows them) are decoded but not encoded. */
async function reencode(
  demuxer: VideoDemuxer, source: ByteSource, video: VideoTrackInfo, decoderConfig: VideoDecoderConfig, plan: Plan,
  size: { width: number; height: number }, turn: number, ticksPerFrame: number, maxKeyInterval: number, progress: Progress, signal: AbortSignal,
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
  // Progress counts the frames that will be encoded: those a player shows (pts >= 0), less
  // those `fps` drops.
  const shown: number[] = [];
  for (let from = 0; from < video.sampleCount; from += PAGE) shown.push(...demuxer.samples(video.id, from, PAGE).pts.filter((p) => p >= 0));
  const counting = new FrameRateLimit(ticksPerFrame);
  const total = shown.sort((a, b) => a - b).filter((p) => counting.keep(p)).length;
  const rateLimit = new FrameRateLimit(ticksPerFrame);
  // `size` is the encoded (upright when turning) size; the canvas scales and turns `turn` degrees
  // clockwise. Without a turn, an encoder that scales frames itself gets them as decoded.
  const sameSize = size.width === video.width && size.height === video.height;
  const direct = turn === 0 && (sameSize || (await encoderScales(plan.config)));
  const canvas = direct ? undefined : new OffscreenCanvas(size.width, size.height);
  // Frames wait for the encoder at the source's size (direct) or the output's (I420 or RGBA).
  const frameBytes = direct ? video.width * video.height * 1.5 : size.width * size.height * 4;
  const maxFrames = Math.max(2, Math.min(MAX_QUEUED, Math.floor(QUEUED_FRAME_BYTES / frameBytes)));
  const ctx = canvas?.getContext('2d', { alpha: false }) as OffscreenCanvasRenderingContext2D | null | undefined;
  if (canvas && !ctx) throw new MediaslimError('ENCODE_FAILED', 'this browser has no 2D OffscreenCanvas to scale frames with');
  if (ctx) {
    // Draw the coded picture (w x h before turning) centred, turned: it fills the canvas.
    ctx.translate(size.width / 2, size.height / 2);
    ctx.rotate((turn * Math.PI) / 180);
  }
  const [drawWidth, drawHeight] = turn % 180 === 90 ? [size.height, size.width] : [size.width, size.height];

  const encoder = new VideoEncoder({
    output: (chunk, meta) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      chunks.push({ data, key: chunk.type === 'key', timestamp: chunk.timestamp });
      const d = meta?.decoderConfig;
      if (d?.description) description = decoderDescription(d.description);
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
      if (failure || signal.aborted || !info || info.pts < 0 || !rateLimit.keep(info.pts)) {
        frame.close();
        return;
      }
      try {
        let out = frame;
        if (canvas && ctx) {
          ctx.drawImage(frame, -drawWidth / 2, -drawHeight / 2, drawWidth, drawHeight);
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
        const ready = () => !!failure || (decoder.decodeQueueSize <= MAX_QUEUED && encoder.encodeQueueSize <= maxFrames);
        if (!ready()) await waitUntil(ready, signal, [decoder, encoder]);
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
  // With `fps` dropping frames, the last kept one lasts to the end of the source's last frame.
  let sourceEnd = 0;
  if (ticksPerFrame > 0) for (const f of frameTicks.values()) sourceEnd = Math.max(sourceEnd, f.pts + f.duration);
  const lastDuration = (t: number) => Math.max(pts.find((p) => p.pts === t)!.duration, sourceEnd - t);
  const durations = Uint32Array.from(sorted, (t, i) => Math.max(1, i + 1 < sorted.length ? sorted[i + 1]! - t : lastDuration(t)));
  const offsets = reordered ? Int32Array.from(pts, (p, i) => p.pts - sorted[i]!) : new Int32Array(0);
  const sizes = Uint32Array.from(chunks, (c) => c.data.length);
  const data = concat(chunks.map((c) => c.data));
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
