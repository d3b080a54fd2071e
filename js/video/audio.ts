// The audio of a transcode: copied bit-exact when the output container holds its codec (AAC
// into MP4; Opus into MP4 or WebM; Vorbis into WebM), else re-encoded with WebCodecs'
// AudioDecoder -> AudioEncoder (Opus for WebM; AAC for MP4 when this browser encodes it,
// else Opus in MP4). Times stay aligned with the video: the output's presentation starts
// where the source's did (priming and pre-skip become the muxers' `mediaStart`). A streamed
// output takes its audio a stretch at a time through an `AudioFeed` (`streamedAudio`).
import { MediaslimError } from '../errors.js';
import { bytesOf, concat } from '../input.js';
import type { ByteSource, VideoDemuxer, VideoTrackInfo } from './video-source.js';

export type AudioMode = 'copy' | 'reencode' | 'drop';
export type Container = 'mp4' | 'webm';
type AudioCodecName = 'aac' | 'opus' | 'vorbis';

/** What the muxers take for the audio track (see `muxMovie` / `muxWebm` in src/wasm.rs). */
export interface AudioParts {
  config: Uint8Array;
  data: Uint8Array;
  sizes: Uint32Array;
  durations: Uint32Array;
  /** `endPaddingNs`: the end of the last packet not to present (the source's encoder padding). */
  spec: { codec: AudioCodecName; sampleRate: number; channels: number; timescale: number; mediaStart: number; endPaddingNs?: number };
  /** RFC 6381 codec string for the output's MIME type. */
  codec: string;
}

export interface AudioOutcome {
  audio: 'copied' | 'reencoded' | 'dropped' | 'none';
  parts?: AudioParts;
  notes: string[];
}

/** Opus decodes at 48 kHz whatever the input's rate; its pre-skip counts 48 kHz samples. */
const OPUS_RATE = 48_000;
/** Decode requests allowed to queue before the loop waits for the decoder. */
const MAX_QUEUED = 16;

function kindOf(track: VideoTrackInfo): AudioCodecName | undefined {
  if (track.codec?.startsWith('mp4a.40.') && track.description) return 'aac';
  if (track.codec === 'opus' && track.description && isOpusHead(track.description)) return 'opus';
  if (track.codec === 'vorbis' && track.description) return 'vorbis';
  return undefined;
}

const isOpusHead = (b: Uint8Array) => b.byteLength >= 19 && String.fromCharCode(...b.subarray(0, 8)) === 'OpusHead';
const preSkipOf = (head: Uint8Array) => head[10]! | (head[11]! << 8);

/** Which codecs each container holds as they are. */
export function containerHolds(container: Container, kind: AudioCodecName): boolean {
  return container === 'mp4' ? kind === 'aac' || kind === 'opus' : kind === 'opus' || kind === 'vorbis';
}

/** The audio track made ready for the muxer as `mode` asks, or why it was not. */
export async function prepareAudio(
  track: VideoTrackInfo | undefined, mode: AudioMode, container: Container, demuxer: VideoDemuxer, source: ByteSource, signal: AbortSignal,
): Promise<AudioOutcome> {
  if (!track || track.sampleCount === 0) return { audio: 'none', notes: [] };
  if (mode === 'drop') return { audio: 'dropped', notes: [] };
  const notes: string[] = [];
  const kind = kindOf(track);
  const name = track.codec ?? track.fourcc;
  if (mode === 'copy') {
    if (kind && containerHolds(container, kind)) return { audio: 'copied', parts: await copyAudio(demuxer, source, track, kind, container, signal), notes };
    notes.push(`audio (${name}) re-encoded: ${kind ? `a${container === 'mp4' ? 'n MP4' : ' WebM'} cannot hold ${kind}` : 'it cannot be copied as it is'}`);
  }
  return { audio: 'reencoded', parts: await reencodeAudio(demuxer, source, track, container, signal, notes), notes };
}

/** Audio packets for a streamed output: taken in order, a stretch of time at a time, as the
 * video's groups of pictures go out. */
export interface AudioFeed {
  /** The muxers' audio spec, and the codec record. */
  spec: AudioParts['spec'];
  config: Uint8Array;
  /** RFC 6381 codec string. */
  codec: string;
  /** The packets not taken yet that are presented before `seconds`. */
  until(seconds: number): Promise<Packets>;
}

type Packets = Pick<AudioParts, 'data' | 'sizes' | 'durations'>;

/** Index entries fetched per page while feeding. */
const FEED_PAGE = 256;

/**
 * The audio of a streamed output. Copied where the container holds it as it is (AAC into an
 * MP4, Opus or Vorbis into a WebM, read by range a stretch at a time: memory stays flat);
 * else (Opus from a WebM into an MP4, which is re-timed, or `reencode`) prepared whole first
 * by `prepareAudio`, so memory holds the compressed track (about 0.5 MB a minute as Opus).
 */
export async function streamedAudio(
  track: VideoTrackInfo | undefined, mode: AudioMode, container: Container, demuxer: VideoDemuxer, source: ByteSource, signal: AbortSignal,
): Promise<AudioOutcome & { feed?: AudioFeed }> {
  if (!track || track.sampleCount === 0) return { audio: 'none', notes: [] };
  if (mode === 'drop') return { audio: 'dropped', notes: [] };
  const kind = kindOf(track);
  // Opus counts 48 kHz samples in an MP4: a WebM source's (ms) is re-timed, so prepared whole.
  const retimed = kind === 'opus' && container === 'mp4' && track.timescale !== OPUS_RATE;
  if (mode === 'copy' && kind && containerHolds(container, kind) && !retimed) {
    const spec = {
      codec: kind, sampleRate: track.sampleRate, channels: track.channels, timescale: track.timescale,
      mediaStart: mediaStartOf(kind, track, demuxer.samples(track.id, 0, 1).pts[0] ?? 0), endPaddingNs: track.endPaddingNs,
    };
    return { audio: 'copied', notes: [], feed: demuxedFeed(demuxer, source, track, spec, kind === 'aac' ? track.codec! : kind) };
  }
  const outcome = await prepareAudio(track, mode, container, demuxer, source, signal);
  return { ...outcome, ...(outcome.parts ? { feed: bufferedFeed(outcome.parts) } : {}) };
}

/** Packets read by range from the source as they are taken (times as the demuxer gives them:
 * edit list applied, like the video's). */
function demuxedFeed(demuxer: VideoDemuxer, source: ByteSource, track: VideoTrackInfo, spec: AudioParts['spec'], codec: string): AudioFeed {
  let next = 0;
  return {
    spec, codec, config: track.description!,
    async until(seconds) {
      const parts: Uint8Array[] = [];
      const sizes: number[] = [];
      const durations: number[] = [];
      while (next < track.sampleCount) {
        const page = demuxer.samples(track.id, next, FEED_PAGE);
        let i = 0;
        for (; i < page.sizes.length && page.dts[i]! / track.timescale < seconds; i++) {
          parts.push(await source.read(page.offsets[i]!, page.sizes[i]!));
          sizes.push(page.sizes[i]!);
          durations.push(page.durations[i]!);
        }
        next += i;
        if (i < page.sizes.length) break;
      }
      return { data: concat(parts), sizes: Uint32Array.from(sizes), durations: Uint32Array.from(durations) };
    },
  };
}

/** Packets already prepared (copied or re-encoded) in memory. */
function bufferedFeed(parts: AudioParts): AudioFeed {
  let next = 0;
  let at = 0; // byte offset of packet `next`
  let ticks = -parts.spec.mediaStart; // presentation time of packet `next`
  return {
    spec: parts.spec, codec: parts.codec, config: parts.config,
    async until(seconds) {
      const [first, start] = [next, at];
      while (next < parts.sizes.length && ticks / parts.spec.timescale < seconds) {
        ticks += parts.durations[next]!;
        at += parts.sizes[next]!;
        next += 1;
      }
      return { data: parts.data.subarray(start, at), sizes: parts.sizes.subarray(first, next), durations: parts.durations.subarray(first, next) };
    },
  };
}

/** The muxers' `mediaStart` for a copied track: AAC's edit list start, else minus the first
 * sample's presentation time (Opus's pre-skip as the demuxers report it). */
function mediaStartOf(kind: AudioCodecName, track: VideoTrackInfo, firstPts: number): number {
  return kind === 'aac' ? track.editStart : -firstPts;
}

async function readSamples(demuxer: VideoDemuxer, source: ByteSource, track: VideoTrackInfo, signal: AbortSignal) {
  const all = demuxer.samples(track.id, 0, track.sampleCount);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < all.sizes.length; i++) {
    if (signal.aborted) throw aborted(signal);
    parts.push(await source.read(all.offsets[i]!, all.sizes[i]!));
  }
  return { all, data: concat(parts) };
}

/** Every sample of `track`, bit-exact, with the times the output container counts in. */
async function copyAudio(demuxer: VideoDemuxer, source: ByteSource, track: VideoTrackInfo, kind: AudioCodecName, container: Container, signal: AbortSignal): Promise<AudioParts> {
  const { all, data } = await readSamples(demuxer, source, track, signal);
  const config = track.description!;
  const codec = kind === 'aac' ? track.codec! : kind;
  // Where the source presents its first sample: the muxers' `mediaStart` is minus that.
  const firstPts = all.pts[0] ?? 0;
  if (kind === 'opus' && container === 'mp4' && track.timescale !== OPUS_RATE) {
    // Opus in MP4 counts in 48 kHz samples (a WebM source counts milliseconds).
    const scale = OPUS_RATE / track.timescale;
    const preSkip = preSkipOf(config);
    let mediaStart = Math.round(-firstPts * scale);
    // The WebM demuxer rounds the pre-skip to its clock: take the exact one when that is all.
    if (Math.abs(mediaStart - preSkip) <= scale) mediaStart = preSkip;
    return {
      config, data, sizes: all.sizes, durations: Uint32Array.from(all.durations, (d) => Math.round(d * scale)), codec,
      spec: { codec: kind, sampleRate: OPUS_RATE, channels: track.channels, timescale: OPUS_RATE, mediaStart, endPaddingNs: track.endPaddingNs },
    };
  }
  return {
    config, data, sizes: all.sizes, durations: all.durations, codec,
    spec: {
      codec: kind, sampleRate: track.sampleRate, channels: track.channels, timescale: track.timescale,
      mediaStart: mediaStartOf(kind, track, firstPts), endPaddingNs: track.endPaddingNs,
    },
  };
}

/** Decodes `track` with AudioDecoder and encodes it again with AudioEncoder. */
async function reencodeAudio(demuxer: VideoDemuxer, source: ByteSource, track: VideoTrackInfo, container: Container, signal: AbortSignal, notes: string[]): Promise<AudioParts> {
  const name = track.codec ?? track.fourcc;
  if (typeof AudioDecoder === 'undefined' || typeof AudioEncoder === 'undefined' || typeof AudioData === 'undefined') {
    throw new MediaslimError('UNSUPPORTED_CODEC', `re-encoding the audio (${name}) needs WebCodecs' AudioDecoder and AudioEncoder, which this runtime lacks; use audio: 'drop'`);
  }
  if (!track.codec) throw new MediaslimError('UNSUPPORTED_CODEC', `the audio track's codec (${track.fourcc}) cannot be decoded here (unknown); use audio: 'drop'`);
  const decoderConfig: AudioDecoderConfig = { codec: track.codec, sampleRate: track.sampleRate, numberOfChannels: track.channels, ...(track.description ? { description: track.description } : {}) };
  if (!(await AudioDecoder.isConfigSupported(decoderConfig).then((r) => !!r.supported, () => false))) {
    throw new MediaslimError('UNSUPPORTED_CODEC', `this browser's AudioDecoder cannot decode ${name} (${track.sampleRate} Hz, ${track.channels} channels); use audio: 'drop'`);
  }
  // The source's channels, else stereo (downmixed here: Chromium's Opus encoder takes 1 or 2).
  const layouts = track.channels > 2 ? [track.channels, 2] : [track.channels];
  const candidates: AudioEncoderConfig[] = layouts.flatMap((numberOfChannels) => [
    ...(container === 'mp4' ? [{ codec: 'mp4a.40.2', sampleRate: track.sampleRate, numberOfChannels, bitrate: Math.min(2, numberOfChannels) * 64_000 }] : []),
    // The decoder's rate: resampling is not done here (Chromium's Opus encoder resamples itself).
    { codec: 'opus', sampleRate: track.sampleRate, numberOfChannels, bitrate: Math.min(2, numberOfChannels) * 64_000 },
  ]);
  let encoderConfig: AudioEncoderConfig | undefined;
  for (const c of candidates) {
    if (await AudioEncoder.isConfigSupported(c).then((r) => !!r.supported, () => false)) {
      encoderConfig = c;
      break;
    }
  }
  if (!encoderConfig) {
    throw new MediaslimError('UNSUPPORTED_CODEC', `this browser's AudioEncoder has no ${container === 'mp4' ? 'AAC or Opus' : 'Opus'} encoder for ${track.sampleRate} Hz, ${layouts.join(' or ')} channels; use audio: 'drop'`);
  }
  const channels = encoderConfig.numberOfChannels;
  const opus = encoderConfig.codec === 'opus';
  if (container === 'mp4' && opus) notes.push("audio re-encoded as Opus in MP4: this browser's AudioEncoder has no AAC");
  if (channels !== track.channels) notes.push(`audio downmixed from ${track.channels} channels to stereo: this browser's ${encoderConfig.codec} AudioEncoder takes no more`);

  const all = demuxer.samples(track.id, 0, track.sampleCount);
  const chunks: { data: Uint8Array; timestamp: number; duration: number }[] = [];
  let description: Uint8Array | undefined;
  let failure: unknown;
  const encoder = new AudioEncoder({
    output: (chunk, meta) => {
      const bytes = new Uint8Array(chunk.byteLength);
      chunk.copyTo(bytes);
      chunks.push({ data: bytes, timestamp: chunk.timestamp, duration: chunk.duration ?? 0 });
      if (meta?.decoderConfig?.description) description = bytesOf(meta.decoderConfig.description);
    },
    error: (e) => (failure ??= e),
  });
  const decoder = new AudioDecoder({
    output: (audio) => {
      try {
        // Only what is presented (time >= 0): priming and pre-skip are cut, to the sample.
        const trimmed = presentedPart(audio, channels);
        if (trimmed && !failure) encoder.encode(trimmed);
        trimmed?.close();
      } catch (e) {
        failure ??= e;
      } finally {
        audio.close();
      }
    },
    error: (e) => (failure ??= e),
  });
  const us = (ticks: number) => Math.round((ticks * 1e6) / track.timescale);
  try {
    encoder.configure(encoderConfig);
    decoder.configure(decoderConfig);
    for (let i = 0; i < all.sizes.length && !failure; i++) {
      if (signal.aborted) throw aborted(signal);
      while (decoder.decodeQueueSize > MAX_QUEUED && !failure) await new Promise((r) => setTimeout(r, 1));
      // Read as decoded: memory holds the encoded output, not the source's track as well.
      const data = await source.read(all.offsets[i]!, all.sizes[i]!);
      // The demuxers give presented times: an AAC edit's priming and Opus's pre-skip lie before 0.
      const timestamp = us(all.pts[i]!);
      decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp, duration: us(all.durations[i]!), data }));
    }
    if (!failure) await decoder.flush();
    if (!failure) await encoder.flush();
  } catch (e) {
    if (e instanceof MediaslimError) throw e;
    failure ??= e;
  } finally {
    if (decoder.state !== 'closed') decoder.close();
    if (encoder.state !== 'closed') encoder.close();
  }
  if (signal.aborted) throw aborted(signal);
  if (failure) throw new MediaslimError('ENCODE_FAILED', `re-encoding the audio (${name} to ${encoderConfig.codec}) failed: ${String(failure)}`);
  if (chunks.length === 0) throw new MediaslimError('ENCODE_FAILED', `the browser's ${encoderConfig.codec} AudioEncoder returned no packets`);

  const timescale = opus ? OPUS_RATE : track.sampleRate;
  const ticks = (t: number) => Math.round((t * timescale) / 1e6);
  let config: Uint8Array;
  let preSkip = 0;
  if (opus) {
    config = description && isOpusHead(description) ? description : opusHead(channels, track.sampleRate, 0);
    preSkip = preSkipOf(config);
  } else {
    if (!description) throw new MediaslimError('ENCODE_FAILED', "the browser's AAC AudioEncoder gave no AudioSpecificConfig");
    config = description;
  }
  // Durations from the next packet's time (the last keeps its own): the packets tile time.
  let durations = Uint32Array.from(chunks, (c, i) => Math.max(1, ticks((chunks[i + 1]?.timestamp ?? c.timestamp + c.duration) - c.timestamp)));
  // The first packet holds the first presented sample after the pre-skip: start there, late
  // by the first packet's time when the source's audio began after the video.
  const mediaStart = preSkip - ticks(chunks[0]!.timestamp);
  // An encoder's flush pads past the end (Opus: to cover its look-ahead): packets that would
  // only be presented after the source's audio ended are left out.
  const sourceEnd = ticks(us((all.pts.at(-1) ?? 0) + (all.durations.at(-1) ?? 0)));
  let kept = chunks.length;
  for (let start = durations.reduce((a, b) => a + b, 0); kept > 1; kept--) {
    start -= durations[kept - 1]!;
    if (start - mediaStart < sourceEnd) break;
  }
  chunks.length = kept;
  durations = durations.subarray(0, kept);
  const sizes = Uint32Array.from(chunks, (c) => c.data.byteLength);
  return {
    config, data: concat(chunks.map((c) => c.data)), sizes, durations, codec: opus ? 'opus' : encoderConfig.codec,
    spec: { codec: opus ? 'opus' : 'aac', sampleRate: opus ? OPUS_RATE : track.sampleRate, channels, timescale, mediaStart },
  };
}

/** The part of `audio` at or after time 0 with `channels` channels, as new AudioData (planar
 * float), or `undefined` when it all lies before. */
function presentedPart(audio: AudioData, channels: number): AudioData | undefined {
  if (audio.timestamp >= 0 && channels === audio.numberOfChannels) return audio.clone();
  const skip = Math.max(0, Math.round((-audio.timestamp * audio.sampleRate) / 1e6));
  const frames = audio.numberOfFrames - skip;
  if (frames <= 0) return undefined;
  const source = Array.from({ length: audio.numberOfChannels }, (_, c) => {
    const plane = new Float32Array(frames);
    audio.copyTo(plane, { planeIndex: c, frameOffset: skip, frameCount: frames, format: 'f32-planar' });
    return plane;
  });
  const planes = channels === audio.numberOfChannels ? source : downmix(source);
  const data = new Float32Array(frames * channels);
  planes.forEach((p, c) => data.set(p, c * frames));
  return new AudioData({ format: 'f32-planar', sampleRate: audio.sampleRate, numberOfFrames: frames, numberOfChannels: channels, timestamp: Math.max(0, audio.timestamp), data });
}

/** More than two channels to stereo, in Chromium's channel order (L, R, C, LFE, then the
 * surrounds, left before right): each side plus -3 dB of the centre and of its surrounds; the
 * LFE is left out (ITU-R BS.775), scaled so a full-scale sum does not clip. */
function downmix(planes: Float32Array[]): Float32Array[] {
  const [l, r, c] = planes;
  const surrounds = planes.slice(4);
  const k = Math.SQRT1_2;
  const gain = 1 / (1 + (c ? k : 0) + (surrounds.length ? k : 0));
  const out = [new Float32Array(l!.length), new Float32Array(l!.length)];
  for (let i = 0; i < l!.length; i++) {
    let left = l![i]! + (c ? k * c[i]! : 0);
    let right = (r ?? l)![i]! + (c ? k * c[i]! : 0);
    surrounds.forEach((s, n) => (n % 2 === 0 ? (left += k * s[i]!) : (right += k * s[i]!)));
    out[0]![i] = left * gain;
    out[1]![i] = right * gain;
  }
  return out;
}

/** An OpusHead (RFC 7845 5.1) for an encoder that gave none: mapping family 0 (mono, stereo). */
function opusHead(channels: number, inputRate: number, preSkip: number): Uint8Array {
  const head = new Uint8Array(19);
  head.set([...'OpusHead'].map((c) => c.charCodeAt(0)));
  const view = new DataView(head.buffer);
  view.setUint8(8, 1);
  view.setUint8(9, channels);
  view.setUint16(10, preSkip, true);
  view.setUint32(12, inputRate, true);
  return head;
}

export function aborted(signal: AbortSignal): MediaslimError {
  const why = signal.reason instanceof Error ? signal.reason.message : signal.reason !== undefined ? String(signal.reason) : 'aborted';
  return new MediaslimError('ABORTED', `the job was cancelled: ${why}`);
}
