// gifToVideo with a perceptual target in browsers: the WebCodecs encoder setting (quality
// 1-100, mapped to an H.264/AV1 quantizer or a bit rate by planEncoder) is searched; each
// trial encodes the whole GIF, the sampled frames are decoded back with the browser's own
// VideoDecoder and scored by the core's SSIMULACRA2 against the composited GIF frames at the
// output size. The same search as the rav1e path (src/video/av1_target.rs).
import { MediaslimError } from '../errors.js';
import { encodeFrames, planEncoder, type CoreWithVideo, type EncodedChunk, type Progress, type Reader, type WithCore, type VideoCodecChoice, type GifVideoContainer } from './encode-gif.js';

/** Whole encodes per search, at most (as MAX_ENCODES in av1_target.rs). */
export const MAX_ENCODES = 5;
/** Frames scored per encode, spread from the first to the last. */
export const SAMPLED_FRAMES = 6;
const QUALITY_STEP = 3;
/** When no trial passes, the smallest within this many points of the best score is returned
 * (past the point where 4:2:0 caps the score, more quality only adds bytes). */
const NEAR_BEST = 2;

/** `samples` frame indices spread evenly from the first to the last (as sample_indices in av1.rs). */
export function sampleIndices(frameCount: number, samples = SAMPLED_FRAMES): number[] {
  const n = Math.min(samples, frameCount);
  if (n <= 0) return [];
  if (n === 1) return [0];
  return [...new Set(Array.from({ length: n }, (_, i) => Math.floor((i * (frameCount - 1) + Math.floor((n - 1) / 2)) / (n - 1))))];
}

/**
 * Bits per pixel for `quality` when the encoder takes a bit rate, not a quantizer (Chromium's
 * H.264): doubling every 12.5 points, 0.32 at 50 to 5 at 100, so that the search reaches
 * near-lossless for small, sharp GIFs (the fixed-quality mapping tops out at 0.34, where a
 * 128 px photo GIF scored 73 at any quality).
 */
export function searchBitsPerPixel(quality: number): number {
  return 0.02 * 2 ** (quality / 12.5);
}

/** The first quality tried (medium 70 -> 60, high 80 -> 75, max 90 -> 90). */
function firstGuess(target: number): number {
  return Math.min(95, Math.max(30, Math.round(target * 1.5 - 45)));
}

interface Trial<T> {
  quality: number;
  score: number;
  bytes: number;
  value: T;
}

/**
 * The smallest trial whose score is >= target, else the best-scoring one, in at most
 * MAX_ENCODES trials; `trial(q)` returns undefined when no encoder takes quality q.
 */
export async function searchQuality<T>(target: number, trial: (quality: number) => Promise<{ score: number; bytes: number; value: T } | undefined>): Promise<{ best?: Trial<T>; bestScore?: number; reached: boolean; encodes: number }> {
  let quality = firstGuess(target);
  let low = Math.max(0, quality - 20);
  let high = 100;
  let passing: Trial<T> | undefined;
  const failing: Trial<T>[] = [];
  let encodes = 0;
  while (encodes < MAX_ENCODES) {
    const t = await trial(quality);
    if (!t) break;
    encodes += 1;
    const made = { quality, ...t };
    if (t.score >= target) {
      high = quality;
      if (!passing || made.bytes < passing.bytes) passing = made;
    } else {
      low = quality;
      failing.push(made);
    }
    if ((high - low <= QUALITY_STEP && (passing || low >= 100)) || low >= 100) break;
    quality = low + Math.ceil((high - low) / 2);
  }
  if (passing) return { best: passing, bestScore: passing.score, reached: true, encodes };
  const bestScore = Math.max(...failing.map((t) => t.score));
  const nearBest = failing.filter((t) => t.score >= bestScore - NEAR_BEST).sort((a, b) => a.bytes - b.bytes)[0];
  return { best: nearBest, bestScore, reached: false, encodes };
}

/** Decodes `chunks` with the browser's VideoDecoder and returns the RGBA of the frames at `wanted` timestamps (µs).
 * Every chunk is decoded (an encoder may reorder frames, so stopping at the last wanted one in
 * decode order can starve the decoder), and a decoded frame counts for the wanted time within
 * a millisecond of its own (Firefox hands back timestamps rounded to it). */
async function decodeFrames(chunks: EncodedChunk[], config: VideoDecoderConfig, wanted: Set<number>, width: number, height: number): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new MediaslimError('ENCODE_FAILED', 'no 2D canvas to read decoded video frames back');
  let failure: unknown;
  const decoder = new VideoDecoder({
    output: (frame) => {
      try {
        const at = [...wanted].find((t) => Math.abs(t - frame.timestamp) <= 1000 && !out.has(t));
        if (at !== undefined) {
          ctx.drawImage(frame, 0, 0, width, height);
          out.set(at, new Uint8Array(ctx.getImageData(0, 0, width, height).data.buffer));
        }
      } finally {
        frame.close();
      }
    },
    error: (e) => {
      failure = e;
    },
  });
  try {
    decoder.configure(config);
    for (const c of chunks) {
      if (failure) break;
      decoder.decode(new EncodedVideoChunk({ type: c.key ? 'key' : 'delta', timestamp: c.timestamp, data: c.data }));
    }
    if (!failure) await decoder.flush();
  } catch (err) {
    failure ??= err;
  } finally {
    if (decoder.state !== 'closed') decoder.close();
  }
  if (failure) throw new MediaslimError('ENCODE_FAILED', `the browser's ${config.codec} decoder could not decode our own video back for scoring: ${String(failure)}`);
  return out;
}

type Encoded = Awaited<ReturnType<typeof encodeFrames>>;

/** The WebCodecs encode that meets `target`, searched; `encoded` is absent when no encoder is supported. */
export async function encodeToTarget(
  choice: VideoCodecChoice,
  container: GifVideoContainer,
  target: number,
  openReader: () => Promise<Reader>,
  keyFrameInterval: number,
  withCore: WithCore,
  progress: Progress,
  fps: number,
): Promise<{ encoded?: Encoded; width: number; height: number; score?: number; encodes: number; notes: string[] }> {
  let notes: string[] = [];
  let size = { width: 0, height: 0 };
  const found = await searchQuality(target, async (quality) => {
    const reader = await openReader();
    try {
      size = { width: reader.width, height: reader.height };
      const planned = await planEncoder(choice, container, reader.width, reader.height, fps, quality, searchBitsPerPixel(quality));
      notes = planned.notes;
      if (!planned.plan) return undefined;
      const wanted = new Set(sampleIndices(reader.frameCount));
      const references = new Map<number, Uint8Array>();
      const encoded = await encodeFrames(reader, planned.plan, container, keyFrameInterval, withCore, progress, (index, rgba, timestamp) => {
        if (wanted.has(index)) references.set(timestamp, rgba.slice());
      });
      const decoded = await decodeFrames(encoded.chunks, encoded.decoderConfig, new Set(references.keys()), reader.width, reader.height);
      let score = Infinity;
      for (const [timestamp, reference] of references) {
        const shown = decoded.get(timestamp);
        if (!shown) throw new MediaslimError('ENCODE_FAILED', `the browser's decoder returned no frame at ${timestamp} µs of our own video`);
        const s = await withCore((core) => (core as CoreWithVideo).scorePixels(reference, shown, reader.width, reader.height), 'full');
        score = Math.min(score, s);
      }
      return { score, bytes: encoded.video.byteLength, value: encoded };
    } finally {
      reader.free();
    }
  });
  if (!found.best) return { ...size, encodes: found.encodes, notes };
  const { best } = found;
  if (!found.reached) {
    notes = [
      ...notes,
      `no ${best.value.codec} setting tried reached SSIMULACRA2 ${target} on the sampled frames (best ${found.bestScore!.toFixed(1)}; returned: ${best.score.toFixed(1)} at quality ${best.quality}, the smallest within ${NEAR_BEST} points of it; ${found.encodes} encodes): 4:2:0 chroma blurs small, saturated graphics; AV1 with chroma "444" may reach it, or serve the GIF`,
    ];
  }
  return { encoded: best.value, ...size, score: best.score, encodes: found.encodes, notes };
}
