// AVIF through the browser's own AV1 encoder (WebCodecs `VideoEncoder`), run inside a pool
// worker: the core renders the job's pixels (decode, orientation, colour, resize), the
// browser encodes one AV1 key frame (plus one for alpha), the core wraps the frames in an
// AVIF container, and for `quality: "auto"` each trial is decoded by the browser and scored
// by the core's SSIMULACRA2 against the rendered pixels, as the core scores its own encodes.
//
// Measured in Chromium 156 (bench/avif.mjs, 1600 px photos): 2-4x faster than our libaom in
// wasm (5x at 8 MP), 15-19% more bytes at the same SSIMULACRA2 (libaom in real-time mode, 8-bit);
// `avifEncoder: "wasm"` keeps the smallest files. In `quality: "auto"` scoring dominates
// (SSIMULACRA2 in wasm, ~2 s per trial at 1600 px).
//
// Quality semantics follow our wasm encoder's: `quality` N gives about the score it gives at N
// (first rav1e's, which libaom's mapping in src/encode/aom.rs was fitted to keep).
// Chromium's `av1.quantizer` (bitrateMode "quantizer") cannot go low enough for that: its
// largest quantizer still makes a 4:2:0 frame scoring ~78-83. So there are two regimes,
// each where it is smaller at equal score on corpus photos:
// - below 87: 4:2:0 (an RGBX frame, converted by Chromium with BT.709 full range), bitrate
//   mode "variable". A frame's bit budget is not content-adaptive by itself, so the budget
//   is relative: `quality` names a fraction of the bytes of an "anchor" encode at the largest
//   quantizer (that fraction -> score holds across photos within a few points); the budget
//   for those bytes is interpolated from this image's earlier variable-rate encodes.
// - 87 and up: 4:4:4 (an I444 frame converted here, BT.709 full range; AV1 high profile),
//   bitrate mode "quantizer". 4:2:0 tops out near 80-90 depending on the image's colour
//   detail; 4:4:4 reaches ~90-93.
//
// Alpha: a second key frame whose RGB is the alpha channel (full-range BT.709 maps grey to
// luma = alpha), stored as the AVIF's auxiliary alpha image; 4:2:0 with a quantizer.
import type { Core } from '../core.js';
import { MediaslimError } from '../errors.js';

/** Which AV1 encoder makes AVIF output. */
export type AvifEncoder = 'auto' | 'webcodecs' | 'wasm';

/** The WebCodecs path was not taken or gave up; `reason` says why (shown when demanded). */
export class WebCodecsFallback extends Error {}

/** What the core's `render` returns. */
interface Rendered {
  width: number;
  height: number;
  rgba: Uint8Array;
  hasAlpha: boolean;
  exif?: Uint8Array;
  warnings: string[];
  timings: { decode: number; resize: number };
}

/** One encoder setting: a bit budget (variable bitrate, 4:2:0) or a quantizer. */
type Chroma = '420' | '444';
type Setting = { mode: 'variable'; bits: number; chroma: Chroma } | { mode: 'quantizer'; quantizer: number; chroma: Chroma };

/** The result, shaped like the core's `Optimized` plus `encoder`. */
export interface WebCodecsAvifResult {
  bytes: Uint8Array;
  format: 'avif';
  width: number;
  height: number;
  originalBytes: number;
  keptOriginal: false;
  quality: number;
  lossless: false;
  encodes: number;
  score?: number;
  warnings: string[];
  timings: { decode: number; resize: number; encode: number };
  encoder: 'webcodecs';
}

type Options = Record<string, unknown>;
type WithCore = <T>(fn: (core: Core) => T) => Promise<T>;

const DEFAULT_QUALITY = 60;
const DEFAULT_TARGET = 80;
const TARGETS: Record<string, number> = { medium: 70, high: 80, max: 90 };
const MAX_TRIALS = 7;

/**
 * quality (1-100, the wasm encoder's meaning) -> encoder setting, fitted on corpus photos (bench/avif.mjs
 * --calibrate: median scores within ~1 point of rav1e's at the same quality from 40 to 95).
 * Below QUANTIZER_FROM: bytes as a fraction of the anchor encode's; from it: the quantizer
 * (Chromium's 0-63 scale; 61-63 all act as 60). WebCodecs' 4:2:0/4:4:4 output tops out near
 * 94, so qualities past 95 all give its best.
 */
const QUANTIZER_FROM = 87;
const BYTES_FRACTION: [number, number][] = [[1, 0.08], [30, 0.225], [40, 0.3], [50, 0.39], [60, 0.48], [70, 0.6], [80, 0.757], [84, 0.97], [86, 1.12]];
const QUANTIZER: Record<Chroma, [number, number][]> = {
  '444': [[1, 61], [86, 61], [87, 60], [88, 55], [90, 40], [93, 21], [95, 12], [98, 0]],
  '420': [[1, 61], [86, 61], [87, 45], [88, 38], [90, 20], [93, 0]],
};
/** The anchor: Chromium's largest effective quantizer. */
const ANCHOR_QUANTIZER = 61;
/** Output bytes per budgeted byte of a variable-rate key frame, before this image's is known. */
const PRIOR_SLOPE = 4;
/** How far a variable-rate frame's bytes may land from the goal (a fraction). */
const GOAL_TOLERANCE = 0.08;

/**
 * The byte budget expected to give `goal` bytes, from earlier (budget, bytes) encodes of the
 * same frame: interpolated in log-log between the two around it, else scaled from the nearest.
 */
function budgetFor(seen: { budget: number; encoded: Encoded }[], goal: number): number {
  if (seen.length === 0) return goal / PRIOR_SLOPE;
  const pts = seen.map((p) => ({ budget: p.budget, bytes: p.encoded.chunk.length })).sort((a, b) => a.bytes - b.bytes);
  for (let i = 1; i < pts.length; i++) {
    const [a, b] = [pts[i - 1]!, pts[i]!];
    if (a.bytes <= goal && goal <= b.bytes && b.bytes > a.bytes) {
      const t = Math.log(goal / a.bytes) / Math.log(b.bytes / a.bytes);
      return Math.exp(Math.log(a.budget) + t * Math.log(b.budget / a.budget));
    }
  }
  const nearest = goal < pts[0]!.bytes ? pts[0]! : pts[pts.length - 1]!;
  return Math.max(125, nearest.budget * (goal / nearest.bytes));
}

export function lerp(table: [number, number][], x: number): number {
  const first = table[0]!;
  if (x <= first[0]) return first[1];
  for (let i = 1; i < table.length; i++) {
    const [x1, y1] = table[i]!;
    const [x0, y0] = table[i - 1]!;
    if (x <= x1) return y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
  }
  return table[table.length - 1]![1];
}

/** What this browser's VideoEncoder can do at one size. */
export interface Av1Support {
  /** 4:2:0 with a quantizer: the minimum (alpha frames use it). */
  quantizer420: boolean;
  variable420: boolean;
  quantizer444: boolean;
  variable444: boolean;
}

/** The AV1 level (seq_level_idx) whose limits hold width x height, as two digits. */
function levelFor(width: number, height: number): string {
  // [seq_level_idx, MaxPicSize, MaxHSize, MaxVSize] from the AV1 spec, annex A.
  const levels: [number, number, number, number][] = [
    [0, 147456, 2048, 1152],
    [1, 278784, 2816, 1584],
    [4, 665856, 4352, 2448],
    [5, 1065024, 5504, 3096],
    [8, 2359296, 6144, 3456],
    [12, 8912896, 8192, 4352],
    [16, 35651584, 16384, 8704],
  ];
  const fit = levels.find(([, pic, w, h]) => width * height <= pic && width <= w && height <= h);
  return String(fit ? fit[0] : 31).padStart(2, '0');
}

/** The codec string: main profile (0) for 4:2:0, high (1) for 4:4:4; 8-bit. */
export function codecFor(width: number, height: number, chroma: Chroma = '420'): string {
  return `av01.${chroma === '444' ? 1 : 0}.${levelFor(width, height)}M.08`;
}

const supportCache = new Map<string, Promise<Av1Support>>();

/** What this realm's VideoEncoder offers for AV1 at this size. */
export function webCodecsAv1Support(width: number, height: number): Promise<Av1Support> {
  const none: Av1Support = { quantizer420: false, variable420: false, quantizer444: false, variable444: false };
  if (typeof VideoEncoder === 'undefined' || typeof VideoFrame === 'undefined') return Promise.resolve(none);
  const key = `${width}x${height}`;
  let p = supportCache.get(key);
  if (!p) {
    const check = (chroma: Chroma, bitrateMode: VideoEncoderBitrateMode) =>
      VideoEncoder.isConfigSupported({
        codec: codecFor(width, height, chroma),
        width,
        height,
        bitrateMode,
        ...(bitrateMode === 'variable' ? { bitrate: 1e6, framerate: 1 } : {}),
      })
        .then((r) => !!r.supported)
        .catch(() => false);
    // WebKitGTK's web process dies when a page's first WebCodecs call is
    // VideoEncoder.isConfigSupported (GStreamer); a decoder query first avoids it.
    const decoderFirst =
      typeof VideoDecoder === 'undefined' ? Promise.resolve() : VideoDecoder.isConfigSupported({ codec: codecFor(width, height) }).then(() => undefined, () => undefined);
    p = decoderFirst
      .then(() => Promise.all([check('420', 'quantizer'), check('420', 'variable'), check('444', 'quantizer'), check('444', 'variable')]))
      .then(([quantizer420, variable420, quantizer444, variable444]) => ({ quantizer420, variable420, quantizer444, variable444 }));
    supportCache.set(key, p);
  }
  return p;
}

/** Planar 8-bit full-range BT.709 Y, U, V of straight RGBA (alpha ignored), for I444 frames. */
function i444(rgba: Uint8Array, pixels: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(pixels * 3);
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let i = 0, j = 0; i < pixels; i++, j += 4) {
    const r = rgba[j]!;
    const g = rgba[j + 1]!;
    const b = rgba[j + 2]!;
    const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    out[i] = clamp(y);
    out[pixels + i] = clamp((b - y) / 1.8556 + 128);
    out[2 * pixels + i] = clamp((r - y) / 1.5748 + 128);
  }
  return out;
}

/** Why a job cannot take the WebCodecs path at all (checked before rendering), or null. */
export function ineligible(options: Options): string | null {
  if (options.format !== 'avif') return 'avifEncoder applies to format "avif" only';
  if (options.maxBytes !== undefined && options.maxBytes !== null) {
    return 'maxBytes needs the wasm encoder (it searches quality, then dimensions)';
  }
  if (options.lossless === true) return 'AVIF has no lossless mode'; // the core reports the error
  if (typeof VideoEncoder === 'undefined') return 'this runtime has no WebCodecs VideoEncoder';
  return null;
}

function targetScore(options: Options): number {
  const t = options.target;
  if (typeof t === 'number') return t;
  if (typeof t === 'string' && t in TARGETS) return TARGETS[t]!;
  return DEFAULT_TARGET;
}

interface Encoded {
  chunk: Uint8Array;
  colorSpace: VideoColorSpaceInit | undefined;
  /** The codec string of the encoder's decoderConfig (for decoding the chunk back). */
  codec: string;
}

/** One AV1 key frame of `frame` at `setting`. */
async function encodeFrame(frame: VideoFrame, width: number, height: number, setting: Setting): Promise<Encoded> {
  let chunk: Uint8Array | undefined;
  let colorSpace: VideoColorSpaceInit | undefined;
  let codec = codecFor(width, height, setting.chroma);
  let failure: unknown;
  const encoder = new VideoEncoder({
    output: (c, meta) => {
      const bytes = new Uint8Array(c.byteLength);
      c.copyTo(bytes);
      chunk = bytes;
      colorSpace = meta?.decoderConfig?.colorSpace ?? colorSpace;
      codec = meta?.decoderConfig?.codec ?? codec;
    },
    error: (e) => {
      failure = e;
    },
  });
  try {
    const config: VideoEncoderConfig = { codec: codecFor(width, height, setting.chroma), width, height, latencyMode: 'quality' };
    if (setting.mode === 'quantizer') {
      config.bitrateMode = 'quantizer';
    } else {
      // One frame per second: the bit rate is the frame's budget.
      Object.assign(config, { bitrateMode: 'variable', framerate: 1, bitrate: Math.max(1000, Math.round(setting.bits)) });
    }
    encoder.configure(config);
    const options: VideoEncoderEncodeOptions & { av1?: { quantizer?: number } } = { keyFrame: true };
    if (setting.mode === 'quantizer') options.av1 = { quantizer: setting.quantizer };
    encoder.encode(frame, options);
    await encoder.flush();
  } catch (err) {
    failure ??= err;
  } finally {
    if (encoder.state !== 'closed') encoder.close();
  }
  if (failure || !chunk) throw new WebCodecsFallback(`the browser's AV1 encoder failed (${failure ? String(failure) : 'no output'})`);
  return { chunk, colorSpace, codec };
}

/** The browser's own decode of `bytes` as straight-alpha RGBA. */
async function decodeInBrowser(bytes: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/avif' }));
  } catch (err) {
    throw new WebCodecsFallback(`this browser cannot decode the AVIF it encoded, so it cannot be scored (${String(err)})`);
  }
  try {
    if (bitmap.width !== width || bitmap.height !== height) {
      throw new WebCodecsFallback(`the AVIF decoded at ${bitmap.width}x${bitmap.height}, not ${width}x${height}`);
    }
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new WebCodecsFallback('no 2d OffscreenCanvas to read decoded pixels');
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, width, height).data;
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } finally {
    bitmap.close();
  }
}

/** One AV1 frame decoded by the browser's VideoDecoder (the caller closes it). */
async function decodeChunk(encoded: Encoded, width: number, height: number): Promise<VideoFrame> {
  let frame: VideoFrame | undefined;
  let failure: unknown;
  const decoder = new VideoDecoder({
    output: (f) => {
      frame?.close();
      frame = f;
    },
    error: (e) => {
      failure = e;
    },
  });
  try {
    decoder.configure({ codec: encoded.codec, codedWidth: width, codedHeight: height });
    decoder.decode(new EncodedVideoChunk({ type: 'key', timestamp: 0, data: encoded.chunk as Uint8Array<ArrayBuffer> }));
    await decoder.flush();
  } catch (err) {
    failure ??= err;
  } finally {
    if (decoder.state !== 'closed') decoder.close();
  }
  if (failure || !frame) {
    frame?.close();
    throw new WebCodecsFallback(`the browser cannot decode its own AV1 frame, so it cannot be scored (${String(failure ?? 'no output')})`);
  }
  return frame;
}

/**
 * RGBA of a colour frame and an alpha frame, decoded by the browser's AV1 decoder: alpha is
 * the alpha frame's luma, as AVIF decoders read it. (Chromium 156's AVIF decoder reads every
 * AVIF's alpha, libavif's and ours too, as limited range; scoring through it would blame
 * the encoder for that.)
 */
async function decodeWithAlpha(color: Encoded, alpha: Encoded, width: number, height: number): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new WebCodecsFallback('no 2d OffscreenCanvas to read decoded pixels');
  const colorFrame = await decodeChunk(color, width, height);
  try {
    ctx.drawImage(colorFrame, 0, 0);
  } finally {
    colorFrame.close();
  }
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const alphaFrame = await decodeChunk(alpha, width, height);
  try {
    const planes = new Uint8Array(alphaFrame.allocationSize());
    const layout = await alphaFrame.copyTo(planes);
    const { offset, stride } = layout[0]!;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) rgba[(y * width + x) * 4 + 3] = planes[offset + y * stride + x]!;
    }
  } finally {
    alphaFrame.close();
  }
  return new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength);
}

interface Trial {
  quality: number;
  bytes: Uint8Array;
  score?: number;
  /** The same file as an earlier trial (no encode, no scoring). */
  reused?: boolean;
}

/**
 * Encodes a rendered job as AVIF with WebCodecs. Throws WebCodecsFallback when this path
 * cannot serve it (the caller then runs the wasm encoder), MediaslimError for errors of the job itself.
 */
export async function encodeAvifWithWebCodecs(
  input: Uint8Array,
  optionsJson: string,
  options: Options,
  demanded: boolean,
  withCore: WithCore,
): Promise<WebCodecsAvifResult> {
  const rendered = (await withCore((core) => core.render(input, optionsJson))) as Rendered;
  const { width, height, rgba, hasAlpha } = rendered;
  const tEncode = performance.now();
  const support = await webCodecsAv1Support(width, height);
  if (!support.quantizer420) {
    throw new WebCodecsFallback(`this browser's VideoEncoder cannot encode AV1 at ${width}x${height}`);
  }
  const auto = options.quality === 'auto';
  const scoreWanted = auto || options.score === true;
  if (scoreWanted && (typeof createImageBitmap === 'undefined' || typeof OffscreenCanvas === 'undefined')) {
    throw new WebCodecsFallback('scoring needs createImageBitmap and OffscreenCanvas to decode the AVIF');
  }
  const warnings = [...rendered.warnings];
  if (options.target !== undefined && !auto) warnings.push('target is used only with quality "auto" or format "auto"');
  const alphaQuality = typeof options.alphaQuality === 'number' ? options.alphaQuality : undefined;

  // Frames are made on first use and reused by every trial (encoding does not consume them).
  const frames: Partial<Record<'420' | '444' | 'alpha', VideoFrame>> = {};
  const frame = (kind: '420' | '444' | 'alpha'): VideoFrame => {
    let f = frames[kind];
    if (!f) {
      const init = { codedWidth: width, codedHeight: height, timestamp: 0 };
      if (kind === '420') {
        f = new VideoFrame(rgba as Uint8Array<ArrayBuffer>, { ...init, format: 'RGBX' });
      } else if (kind === '444') {
        const colorSpace = { primaries: 'bt709', transfer: 'iec61966-2-1', matrix: 'bt709', fullRange: true } as const;
        f = new VideoFrame(i444(rgba, width * height), { ...init, format: 'I444', colorSpace });
      } else {
        const grey = new Uint8Array(rgba.length);
        for (let i = 0; i < rgba.length; i += 4) grey[i] = grey[i + 1] = grey[i + 2] = rgba[i + 3]!;
        f = new VideoFrame(grey, { ...init, format: 'RGBX' });
      }
      frames[kind] = f;
    }
    return f;
  };
  // The colour frame at `quality` in `chroma` (see the header): the quantizer from 87, else a
  // variable-rate frame of a fraction of the anchor's bytes. A budget does not give its bytes
  // exactly (the first key frame's rate model is coarse), so every variable-rate encode of
  // this image is remembered, and the budget for a goal is interpolated between them; up to
  // three encodes get within GOAL_TOLERANCE, and a remembered one that is close enough is reused.
  const anchorBytes: Partial<Record<Chroma, number>> = {};
  const history: Record<Chroma, { budget: number; encoded: Encoded }[]> = { '420': [], '444': [] };
  const colorAt = async (quality: number, chroma: Chroma): Promise<Encoded> => {
    const variable = chroma === '420' ? support.variable420 : support.variable444;
    if (quality >= QUANTIZER_FROM || !variable) {
      return encodeFrame(frame(chroma), width, height, { mode: 'quantizer', quantizer: Math.round(lerp(QUANTIZER[chroma], quality)), chroma });
    }
    const anchor = (anchorBytes[chroma] ??= (await encodeFrame(frame(chroma), width, height, { mode: 'quantizer', quantizer: ANCHOR_QUANTIZER, chroma })).chunk.length);
    const goal = lerp(BYTES_FRACTION, quality) * anchor;
    const seen = history[chroma];
    const off = (e: Encoded) => Math.abs(e.chunk.length / goal - 1);
    let best = seen.map((p) => p.encoded).sort((a, b) => off(a) - off(b))[0];
    for (let i = 0; i < 3 && !(best && off(best) <= GOAL_TOLERANCE); i++) {
      const budget = budgetFor(seen, goal);
      if (seen.some((p) => Math.abs(p.budget / budget - 1) < 0.02)) break; // no new budget to try
      const e = await encodeFrame(frame(chroma), width, height, { mode: 'variable', bits: budget * 8, chroma });
      seen.push({ budget, encoded: e });
      if (!best || off(e) < off(best)) best = e;
    }
    return best!;
  };
  let encodes = 0;
  // Trials by their frames: a remembered variable-rate frame reused for a nearby quality (and
  // the same alpha) is the same file with the same score, not a new trial.
  const made = new Map<Encoded, Map<number, Trial>>();
  const encodeAt = async (quality: number, chroma: Chroma, scored: boolean): Promise<Trial> => {
    const color = await colorAt(quality, chroma);
    // Alpha: 4:2:0 with a quantizer (its chroma is ignored), at `alphaQuality` if given.
    const alphaQuantizer = Math.round(lerp(QUANTIZER['420'], alphaQuality ?? quality));
    const again = made.get(color)?.get(hasAlpha ? alphaQuantizer : -1);
    if (again && (again.score !== undefined || !scored)) return { ...again, quality, reused: true };
    encodes += 1;
    const alpha = hasAlpha
      ? await encodeFrame(frame('alpha'), width, height, { mode: 'quantizer', quantizer: alphaQuantizer, chroma: '420' })
      : undefined;
    if (alpha && alpha.colorSpace?.fullRange === false) {
      throw new WebCodecsFallback('the browser encoded the alpha frame in limited range');
    }
    const colorSpace = color.colorSpace ? JSON.stringify(color.colorSpace) : undefined;
    let bytes: Uint8Array;
    try {
      bytes = await withCore((core) => core.avifFromAv1(color.chunk, alpha?.chunk, width, height, colorSpace, rendered.exif));
    } catch (err) {
      // The browser's bitstream did not fit the container (a size or colour it should not
      // have produced): not the caller's fault, so the wasm encoder takes over.
      if (err instanceof MediaslimError && err.code !== 'WORKER_CRASHED') throw new WebCodecsFallback(`its AV1 frame cannot be wrapped: ${err.message}`);
      throw err;
    }
    let score: number | undefined;
    if (scored) {
      const decoded = alpha ? await decodeWithAlpha(color, alpha, width, height) : await decodeInBrowser(bytes, width, height);
      score = await withCore((core) => core.scorePixels(rgba, decoded, width, height));
    }
    const trial: Trial = { quality, bytes, score };
    if (!made.has(color)) made.set(color, new Map());
    made.get(color)!.set(hasAlpha ? alphaQuantizer : -1, trial);
    return trial;
  };

  try {
    let best: Trial;
    if (!auto) {
      const q = typeof options.quality === 'number' ? options.quality : DEFAULT_QUALITY;
      best = await encodeAt(q, q >= QUANTIZER_FROM && support.quantizer444 ? '444' : '420', scoreWanted);
    } else {
      // Like the core's JPEG search: 4:2:0 where it reaches the target (variable bitrate,
      // qualities below 87: fewer bytes there), else the 4:4:4 quantizer (87-100), which
      // reaches higher scores and costs less than 4:2:0 at its own ceiling.
      const target = targetScore(options);
      const top420 = support.variable420 && support.quantizer444 ? QUANTIZER_FROM - 1 : 100;
      let { trial, met } = await bisect(target, firstGuess(target), 1, top420, (q) => encodeAt(q, '420', true));
      if (!met && support.quantizer444) {
        const full = await bisect(target, Math.max(QUANTIZER_FROM, firstGuess(target)), QUANTIZER_FROM, 100, (q) => encodeAt(q, '444', true));
        if (full.met || (full.trial.score ?? 0) > (trial.score ?? 0)) ({ trial, met } = full);
      }
      if (!met) {
        if (!demanded) {
          throw new WebCodecsFallback(`the browser's encoder cannot reach score ${target} (best ${trial.score?.toFixed(1)})`);
        }
        warnings.push(`target score ${target} not reached: the best avif output scores ${(trial.score ?? 0).toFixed(1)}`);
      }
      best = trial;
    }
    return {
      bytes: best.bytes,
      format: 'avif',
      width,
      height,
      originalBytes: input.byteLength,
      keptOriginal: false,
      quality: best.quality,
      lossless: false,
      encodes,
      ...(best.score !== undefined ? { score: best.score } : {}),
      warnings,
      timings: { decode: rendered.timings.decode, resize: rendered.timings.resize, encode: performance.now() - tEncode },
      encoder: 'webcodecs',
    };
  } finally {
    for (const f of Object.values(frames)) f?.close();
  }
}

/** Where the search starts: the core's first guesses for AVIF (quality meeting 50/70/80/90). */
function firstGuess(target: number): number {
  const table: [number, number][] = [[50, 40], [70, 68], [80, 85], [90, 93], [100, 100]];
  return Math.min(100, Math.max(10, Math.round(lerp(table, target))));
}

/**
 * The core's bisection on quality (see src/quality/search.rs `bisect_quality`), within
 * [min, max]: the smallest passing trial and `met`, or the best-scoring one.
 */
async function bisect(target: number, start: number, min: number, max: number, encodeAt: (q: number) => Promise<Trial>): Promise<{ trial: Trial; met: boolean }> {
  let pass: Trial | undefined;
  let fail: Trial | undefined;
  const step = (gap: number) => Math.round(Math.min(25, Math.max(3, gap * 2)));
  const clamp = (q: number) => Math.min(max, Math.max(min, q));
  let q = clamp(start);
  // Reused files cost nothing and do not count, but the walk stays bounded.
  for (let i = 0, steps = 0; i < MAX_TRIALS && steps < 4 * MAX_TRIALS; steps++) {
    const trial = await encodeAt(q);
    if (!trial.reused) i++;
    const score = trial.score ?? 0;
    if (score >= target) {
      if (!pass || trial.bytes.length < pass.bytes.length) pass = trial;
    } else if (!fail || fail.quality < trial.quality) {
      fail = trial;
    }
    const lo = fail?.quality;
    const hi = pass?.quality;
    if (lo !== undefined && hi !== undefined) {
      if (hi <= lo + 1) break;
      const ls = fail!.score ?? 0;
      const hs = pass!.score ?? 0;
      const t = Math.min(1, Math.max(0, (target - ls) / Math.max(1e-6, hs - ls)));
      q = Math.min(hi - 1, Math.max(lo + 1, Math.round(lo + t * (hi - lo))));
    } else if (hi !== undefined) {
      if (hi <= min) break;
      q = clamp(hi - step((pass!.score ?? 0) - target));
    } else if (lo !== undefined) {
      if (lo >= max) break;
      // Past quality 95 the encoder is at its best already: one more try at the top settles it.
      q = lo >= 95 ? max : clamp(lo + step(target - (fail!.score ?? 0)));
    } else {
      break;
    }
  }
  if (pass) return { trial: pass, met: true };
  return { trial: fail!, met: false };
}
