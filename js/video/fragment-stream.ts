// A transcode's output streamed as it is encoded: each group of pictures leaves (with the
// audio samples of the same stretch of time) as soon as the encoder has started the next one,
// after the header. MP4: a fragmented MP4, a `moof` + `mdat` per group and an `mfra` at the
// end. WebM: clusters per group and the Cues at the end, in a Segment of unknown size. Memory
// holds one GOP of encoded frames, not the movie. The muxing is the core's (`MovieStreamWriter`).
import type { Core, Flavor } from '../core.js';
import { concat } from '../input.js';
import { MediaslimError } from '../errors.js';
import type { ByteSink } from './byte-sink.js';
import type { AudioFeed } from './audio.js';

type WithCore = <T>(fn: (core: Core) => T, flavor?: Flavor) => Promise<T>;

/** One encoded frame as the encoder gave it (decode order). */
export interface EncodedFrame {
  data: Uint8Array;
  key: boolean;
  timestamp: number;
}

/** What the encoder said about its output so far (WebCodecs' `decoderConfig`). */
export interface EncoderMeta {
  codec: string;
  description?: Uint8Array;
  colorSpace?: VideoColorSpaceInit;
}

/** The source time of each encoded frame, by its microsecond timestamp. */
export type FrameTicks = Map<number, { pts: number; duration: number; key: boolean }>;

interface MovieStreamWriter {
  initSegment(): Uint8Array;
  /** A group of pictures and its audio; `last`: it ends the movie. */
  fragment(
    videoData: Uint8Array, videoSizes: Uint32Array, videoDurations: Uint32Array, videoKeyframes: Uint8Array, videoOffsets: Int32Array,
    audioData: Uint8Array, audioSizes: Uint32Array, audioDurations: Uint32Array, last: boolean,
  ): Uint8Array;
  finish(): Uint8Array;
  free(): void;
}
type CoreWithStreams = Core & {
  MovieStreamWriter: new (container: 'mp4' | 'webm', spec: string, videoConfig: Uint8Array, audioConfig?: Uint8Array, duration?: number) => MovieStreamWriter;
};

/** What the writer needs once the first GOP is out: the codec record and the movie's description. */
export interface StreamSetup {
  /** avcC / av1C / vpcC and the codec string, from the first key frame and the encoder's metadata. */
  config(firstKey: Uint8Array, meta: EncoderMeta): Promise<{ config: Uint8Array; codec: string }>;
  /** `muxMovie`'s spec without `mediaStart` (known from the first GOP). */
  spec: { codec: string; width: number; height: number; rotation: number; timescale: number };
  container: 'mp4' | 'webm';
  /** WebM: the presented length in seconds, for Info (the stream cannot go back to write it). */
  duration?: number;
  /** The output's audio, taken a stretch at a time (see audio.ts). */
  audio?: AudioFeed;
}

export class FragmentStream {
  private writer?: MovieStreamWriter;
  /** Bytes given to the output so far. */
  private written = 0;
  private codec = '';
  /** What the encoder said (for the codec record). */
  private meta: EncoderMeta = { codec: '' };
  frames = 0;
  presentedTicks = 0;

  constructor(private readonly sink: ByteSink, private readonly setup: StreamSetup, private readonly withCore: WithCore) {}

  /**
   * Writes every complete GOP at the front of `chunks` (those followed by a key frame), or all
   * of them when `final`, and removes them. A GOP's frames are decoded from presentation order:
   * the next key frame is where the last one ends.
   */
  async take(chunks: EncodedFrame[], ticks: FrameTicks, final: boolean, meta: EncoderMeta): Promise<void> {
    this.meta = meta;
    for (;;) {
      const next = chunks.findIndex((c, i) => i > 0 && c.key);
      const end = next > 0 ? next : final ? chunks.length : 0;
      if (end === 0) return;
      const gop = chunks.splice(0, end);
      const following = chunks[0] ? ticks.get(chunks[0].timestamp) : undefined;
      await this.writeGop(gop, ticks, following?.pts, final && chunks.length === 0);
      if (chunks.length === 0) return;
    }
  }

  /** Ends the file (MP4: the `mfra` index; WebM: the Cues) and closes the output; the bytes written. */
  async finish(): Promise<{ bytesWritten: number; codec: string }> {
    const writer = this.writer;
    if (!writer) throw new MediaslimError('ENCODE_FAILED', "the browser's encoder returned no frames");
    try {
      await this.emit(await this.withCore(() => writer.finish()));
      await this.sink.close();
      return { bytesWritten: this.written, codec: this.codec };
    } finally {
      writer.free();
    }
  }

  /** Gives up: aborts the output, frees the writer. */
  async abort(reason: unknown): Promise<void> {
    this.writer?.free();
    this.writer = undefined;
    await this.sink.abort(reason).catch(() => undefined);
  }

  private async writeGop(gop: EncodedFrame[], ticks: FrameTicks, nextPts: number | undefined, last: boolean): Promise<void> {
    const pts = gop.map((c) => {
      const info = ticks.get(c.timestamp);
      if (!info) throw new MediaslimError('ENCODE_FAILED', `the browser's encoder returned a frame at ${c.timestamp} µs, which was never sent`);
      return info;
    });
    const sorted = pts.map((p) => p.pts).sort((a, b) => a - b);
    if (!this.writer) await this.open(gop[0]!.data, sorted[0]!);
    // Decode times are the presentation times in order; each lasts until the next (the GOP's
    // last until the next key frame, the movie's last keeps its source duration).
    const durations = Uint32Array.from(sorted, (t, i) =>
      Math.max(1, (i + 1 < sorted.length ? sorted[i + 1]! : (nextPts ?? t + pts.find((p) => p.pts === t)!.duration)) - t),
    );
    const reordered = pts.some((p, i) => p.pts !== sorted[i]);
    const offsets = reordered ? Int32Array.from(pts, (p, i) => p.pts - sorted[i]!) : new Int32Array(0);
    const sizes = Uint32Array.from(gop, (c) => c.data.length);
    const data = concat(gop.map((c) => c.data));
    const endTicks = sorted.at(-1)! + durations.at(-1)!;
    const none = { data: new Uint8Array(0), sizes: new Uint32Array(0), durations: new Uint32Array(0) };
    const audio = this.setup.audio ? await this.setup.audio.until(nextPts === undefined ? Infinity : nextPts / this.setup.spec.timescale) : none;
    const writer = this.writer!;
    const bytes = await this.withCore(() =>
      writer.fragment(data, sizes, durations, Uint8Array.from(gop, (c) => (c.key ? 1 : 0)), offsets, audio.data, audio.sizes, audio.durations, last),
    );
    await this.emit(bytes);
    this.frames += gop.length;
    this.presentedTicks = endTicks;
  }

  private async open(firstKey: Uint8Array, firstPts: number): Promise<void> {
    const { config, codec } = await this.setup.config(firstKey, this.meta);
    this.codec = codec;
    const audio = this.setup.audio;
    const spec = JSON.stringify({ ...this.setup.spec, mediaStart: firstPts > 0 ? -firstPts : 0, ...(audio ? { audio: audio.spec } : {}) });
    const writer = await this.withCore((core) => new (core as CoreWithStreams).MovieStreamWriter(this.setup.container, spec, config, audio?.config, this.setup.duration));
    this.writer = writer;
    await this.emit(writer.initSegment());
  }

  private async emit(bytes: Uint8Array): Promise<void> {
    await this.sink.write(bytes);
    this.written += bytes.byteLength;
  }
}
