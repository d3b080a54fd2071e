#!/usr/bin/env node
// Video: transcode speed against ffmpeg.wasm, Mediabunny and native FFmpeg, and GIF-to-video
// bytes and quality.
//
//   npm run bench:video          # builds pkg/ first, then runs this file (about 5-10 minutes)
//   node bench/video.mjs --quick # one run per tool, 3 GIFs: a smoke test in about 2 minutes
//   node bench/video.mjs --help  # --reps N, --no-ffmpeg-wasm, --no-gifs, --no-transcode
//
// 1. Transcode: ../shared/corpus/video/bigbuckbunny.mp4 (1280x720 H.264 + AAC, 132 frames)
//    to 480p H.264 with the audio copied, in one headless Chromium page (Debian's chromium,
//    playwright-core, the repo on a local static server; every tool loads from node_modules):
//      ours         transcode(blob, { maxHeight: 480, codec: 'h264' }) (WebCodecs in a pool worker)
//      mediabunny   Conversion, video: { height: 480, codec: 'avc' } (WebCodecs on the page)
//      ffmpeg.wasm  @ffmpeg/ffmpeg + @ffmpeg/core (the single-thread core: no COOP/COEP),
//                   -vf scale=-2:480 -c:v libx264 -preset veryfast -c:a copy
//    and native FFmpeg (Debian) with the same arguments, with its default threads and with one.
//    Frames/s = source frames / wall time of one job, the input already in memory (ffmpeg.wasm:
//    writeFile + exec + readFile; its load() is timed apart). Each output is checked by ffprobe
//    (codec, size, frames) and its middle frame scored with SSIMULACRA2 (the package's
//    `compare`) against the source frame scaled by FFmpeg to the same size.
// 2. GIF to video: every animated GIF in ../shared/corpus/formats and tests/fixtures/dispose_*.gif
//    (deduplicated by content) -> gifToVideo H.264 in Chromium and AV1 (rav1e) in Node. Bytes
//    against the GIFs, and SSIMULACRA2 of 5 frames per GIF: each video frame (extracted by
//    FFmpeg) against the frame a browser shows for the GIF (Chromium's ImageDecoder, drawn
//    onto white), resized to the video's even size by sharp, as gifToVideo fills it.
// Writes bench/out/video.md, bench/out/video.json and bench/out/video.svg.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart } from './quality/chart.mjs';
import { fmt, kb, median, mkdir, table } from './quality/util.mjs';
import { BASE64_SCRIPT, launchBrowser, serveStatic } from '../tests/browser/helpers.mjs';
import { framesAt, hasFfmpeg, psnrY } from '../tests/ffprobe.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORPUS = path.resolve(ROOT, '..', 'shared', 'corpus');
const CLIP = path.join(CORPUS, 'video', 'bigbuckbunny.mp4');
const GIF_DIRS = [path.join(CORPUS, 'formats'), path.join(ROOT, 'tests', 'fixtures')];
const OUT = path.join(ROOT, 'bench', 'out');
const WORK = path.join(OUT, 'video');
const PAGE = '/__bench_video__.html';
const CLIP_URL = '/__bench_video_clip__.mp4';
const SAMPLES_PER_GIF = 5;
// Goals from issue #7.
const GOAL = { overFfmpegWasm: 10, overNative: 0.5, gifSaving: 0.8, gifScore: 80 };

function parseArgs(argv) {
  const a = { reps: 3, quick: false, ffmpegWasm: true, gifs: true, transcode: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--reps') {
      a.reps = Number(argv[++i]);
      if (!Number.isInteger(a.reps) || a.reps < 1) throw new Error('--reps needs a whole number >= 1');
    } else if (k === '--quick') Object.assign(a, { quick: true, reps: 1 });
    else if (k === '--no-ffmpeg-wasm') a.ffmpegWasm = false;
    else if (k === '--no-gifs') a.gifs = false;
    else if (k === '--no-transcode') a.transcode = false;
    else if (k === '-h' || k === '--help') {
      console.log('usage: node bench/video.mjs [--quick] [--reps N] [--no-ffmpeg-wasm] [--no-gifs] [--no-transcode]');
      process.exit(0);
    } else throw new Error(`unknown argument ${k} (try --help)`);
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
const log = (...m) => console.error('[bench:video]', ...m);

if (!existsSync(CLIP)) {
  console.log(`bench:video: no corpus clip at ${path.relative(ROOT, CLIP)}; nothing to measure.`);
  process.exit(0);
}
if (!hasFfmpeg) {
  console.log('bench:video: ffmpeg/ffprobe not found (Debian ffmpeg; scripts/setup.sh installs it): it is the judge and the native peer. Nothing measured.');
  process.exit(0);
}
if (!existsSync(path.join(ROOT, 'pkg', 'index.js'))) {
  console.error('bench:video: pkg/ is missing: build it first (npm run build, or use npm run bench:video).');
  process.exit(1);
}

const { default: sharp } = await import('sharp');
const { compare, gifToVideo, Pool } = await import('../pkg/index.js');
const nodePool = new Pool({ size: 2 });
const started = Date.now();
mkdir(WORK);

const sh = (cmd, argv) => execFileSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
const pkgVersion = (name) => JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

/** ffprobe's view of the first video stream (frames decoded) and whether audio is there. */
function probeFile(file) {
  const json = JSON.parse(sh('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-of', 'json', file]));
  const v = json.streams.find((s) => s.codec_type === 'video');
  const a = json.streams.find((s) => s.codec_type === 'audio');
  return { codec: v?.codec_name, width: v?.width, height: v?.height, frames: Number(v?.nb_read_frames), audio: a?.codec_name ?? 'none' };
}

// ---------------------------------------------------------------------------------------
// The page: ours, Mediabunny and ffmpeg.wasm side by side, all loaded from this server.

const HTML = `<!doctype html><html lang="en"><meta charset="utf-8"><title>bench video</title><link rel="icon" href="data:,">
<script type="module">
  import * as mediaslim from '/pkg/index.js';
  import * as mediabunny from '/node_modules/mediabunny/dist/bundles/mediabunny.min.mjs';
  import { FFmpeg } from '/node_modules/@ffmpeg/ffmpeg/dist/esm/index.js';
  window.mediaslim = mediaslim;
  window.mediabunny = mediabunny;
  window.FFmpeg = FFmpeg;
  window.pool = new mediaslim.Pool({ size: 2 });
  ${BASE64_SCRIPT}
  window.clip = async () => (window.clipBlob ??= new Blob([await (await fetch('${CLIP_URL}')).arrayBuffer()], { type: 'video/mp4' }));
  window.ready = true;
</script></html>`;

// Bodies of async functions run in the page with \`blob\` (the clip); each returns
// { ms, b64 (the output), ...notes }. The clock starts with the input in memory.
const IN_PAGE = {
  ours: async () => {
    const blob = await window.clip();
    const t = performance.now();
    const r = await window.mediaslim.transcode(blob, { maxHeight: 480, codec: 'h264', pool: window.pool });
    const ms = performance.now() - t;
    return { ms, b64: window.b64(r.video), note: `${r.codec}, ${r.hardwareAcceleration}, audio ${r.audio}` };
  },
  mediabunny: async () => {
    const blob = await window.clip();
    const M = window.mediabunny;
    const t = performance.now();
    const input = new M.Input({ formats: M.ALL_FORMATS, source: new M.BlobSource(blob) });
    const output = new M.Output({ format: new M.Mp4OutputFormat(), target: new M.BufferTarget() });
    const conversion = await M.Conversion.init({ input, output, video: { height: 480, codec: 'avc' } });
    if (!conversion.isValid) throw new Error('Mediabunny: invalid conversion: ' + JSON.stringify(conversion.discardedTracks.map((d) => d.reason)));
    await conversion.execute();
    const ms = performance.now() - t;
    const kept = conversion.utilizedTracks.map((tr) => tr.type).join('+');
    return { ms, b64: window.b64(new Uint8Array(output.target.buffer)), note: `tracks ${kept}, discarded ${conversion.discardedTracks.length}` };
  },
  ffmpegWasmLoad: async () => {
    const t = performance.now();
    window.ffmpeg = new window.FFmpeg();
    await window.ffmpeg.load({ coreURL: '/node_modules/@ffmpeg/core/dist/esm/ffmpeg-core.js', wasmURL: '/node_modules/@ffmpeg/core/dist/esm/ffmpeg-core.wasm' });
    return { ms: performance.now() - t, crossOriginIsolated: self.crossOriginIsolated };
  },
  ffmpegWasm: async () => {
    const bytes = new Uint8Array(await (await window.clip()).arrayBuffer());
    const ff = window.ffmpeg;
    const t = performance.now();
    await ff.writeFile('in.mp4', bytes);
    const code = await ff.exec(['-i', 'in.mp4', '-vf', 'scale=-2:480', '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'copy', '-y', 'out.mp4']);
    const out = await ff.readFile('out.mp4');
    const ms = performance.now() - t;
    if (code !== 0) throw new Error('ffmpeg.wasm exited with ' + code);
    await ff.deleteFile('out.mp4');
    await ff.deleteFile('in.mp4');
    return { ms, b64: window.b64(out), note: 'single-thread core' };
  },
};

let browser; // { page, version, close }
async function openBrowser() {
  const server = await serveStatic(ROOT, {
    routes: { [PAGE]: { type: 'text/html; charset=utf-8', body: HTML }, [CLIP_URL]: { type: 'video/mp4', body: readFileSync(CLIP) } },
  });
  const b = await launchBrowser();
  const page = await b.newPage();
  page.on('pageerror', (err) => log('page error:', err.message));
  await page.goto(server.origin + PAGE);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 60_000 });
  return { page, version: b.version(), close: async () => { await b.close(); await server.close(); } };
}

async function inPage(name) {
  return browser.page.evaluate(`(${IN_PAGE[name].toString()})()`);
}

// ---------------------------------------------------------------------------------------
// 1. Transcode

function nativeFfmpeg(out, threads) {
  const t = threads ? ['-threads', String(threads)] : [];
  const argv = ['-v', 'error', '-y', ...t, ...(threads ? ['-filter_threads', String(threads)] : []), '-i', CLIP, '-vf', 'scale=-2:480', '-c:v', 'libx264', '-preset', 'veryfast', ...t, '-c:a', 'copy', out];
  const t0 = performance.now();
  const r = spawnSync('ffmpeg', argv, { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.slice(-400)}`);
  return { ms, note: threads ? `${threads} thread` : `default threads (${os.cpus().length} cores)` };
}

async function benchTranscode() {
  const source = probeFile(CLIP);
  log(`clip: ${path.basename(CLIP)} ${source.width}x${source.height} ${source.codec}, ${source.frames} frames, audio ${source.audio}, ${kb(readFileSync(CLIP).length)} KB`);
  if (source.height !== 720) log(`note: the clip is ${source.height}p, not 720p`);
  const tools = [
    { key: 'ours', label: 'ours (WebCodecs, Chromium)', run: () => inPage('ours') },
    { key: 'mediabunny', label: `Mediabunny ${pkgVersion('mediabunny')} (WebCodecs, Chromium)`, run: () => inPage('mediabunny') },
    ...(args.ffmpegWasm ? [{ key: 'ffmpeg.wasm', label: `ffmpeg.wasm ${pkgVersion('@ffmpeg/ffmpeg')} + core ${pkgVersion('@ffmpeg/core')} (1 thread, Chromium)`, reps: 1, run: () => inPage('ffmpegWasm') }] : []),
    { key: 'native', label: 'native FFmpeg (libx264 veryfast)', native: 0 },
    { key: 'native-1t', label: 'native FFmpeg, 1 thread', native: 1 },
  ];
  let ffmpegWasmLoad;
  if (args.ffmpegWasm) {
    ffmpegWasmLoad = await inPage('ffmpegWasmLoad');
    log(`ffmpeg.wasm load(): ${fmt(ffmpegWasmLoad.ms)} ms (crossOriginIsolated: ${ffmpegWasmLoad.crossOriginIsolated})`);
  }
  // A warm-up of each browser tool (worker start, wasm compile, the encoder's first use).
  for (const t of tools.filter((t) => t.run && t.key !== 'ffmpeg.wasm')) await t.run();
  const runs = Object.fromEntries(tools.map((t) => [t.key, []]));
  for (let rep = 0; rep < args.reps; rep++) {
    for (const t of tools) {
      if (rep >= (t.reps ?? args.reps)) continue;
      const file = path.join(WORK, `transcode-${t.key}.mp4`);
      let r;
      if (t.run) {
        const { b64, ...rest } = await t.run();
        writeFileSync(file, Buffer.from(b64, 'base64'));
        r = rest;
      } else {
        r = nativeFfmpeg(file, t.native);
      }
      runs[t.key].push({ ms: r.ms, note: r.note });
      log(`${t.key} run ${rep + 1}: ${fmt(r.ms)} ms (${fmt((source.frames * 1000) / r.ms, 1)} fps)`);
    }
  }
  // The last output of each tool: ffprobe and the middle frame's score.
  const n = Math.floor(source.frames / 2);
  const rows = [];
  for (const t of tools) {
    const file = path.join(WORK, `transcode-${t.key}.mp4`);
    const out = probeFile(file);
    const [ref] = framesAt(CLIP, [n], path.join(WORK, `ref-${t.key}`), { width: out.width, height: out.height });
    const [dist] = framesAt(file, [n], path.join(WORK, `out-${t.key}`));
    const score = await compare(readFileSync(ref), readFileSync(dist), { pool: nodePool });
    const psnr = psnrY(CLIP, file, out.width, out.height);
    const ms = median(runs[t.key].map((r) => r.ms));
    rows.push({ key: t.key, label: t.label, ms, runs: runs[t.key].map((r) => r.ms), fps: (source.frames * 1000) / ms, bytes: readFileSync(file).length, out, score, psnr, note: runs[t.key].at(-1).note });
  }
  return { source, middleFrame: n, ffmpegWasmLoad, rows };
}

// ---------------------------------------------------------------------------------------
// 2. GIF to video

/** Every animated GIF (more than one frame, by ffprobe), one per distinct content. */
function animatedGifs() {
  const seen = new Set();
  const gifs = [];
  for (const dir of GIF_DIRS) {
    if (!existsSync(dir)) continue;
    const fixtures = dir.endsWith('fixtures');
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.gif') && (!fixtures || f.startsWith('dispose_'))).sort()) {
      const file = path.join(dir, f);
      const bytes = readFileSync(file);
      const hash = createHash('sha256').update(bytes).digest('hex');
      if (seen.has(hash)) continue;
      seen.add(hash);
      const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets,width,height', '-of', 'csv=p=0', file], { encoding: 'utf8', timeout: 20_000 });
      const [width, height, frames] = r.stdout.trim().split('\n')[0].split(',').map(Number);
      if (r.status === 0 && frames > 1) gifs.push({ name: f, file, bytes: bytes.length, width, height, frames });
    }
  }
  return gifs;
}

/** `k` frame indexes spread evenly over `frames` (first and last included). */
function sampleIndexes(frames, k) {
  if (frames <= k) return Array.from({ length: frames }, (_, i) => i);
  return [...new Set(Array.from({ length: k }, (_, i) => Math.round((i * (frames - 1)) / (k - 1))))];
}

/**
 * The GIF's frames `indexes` as a browser shows them: composited by Chromium's own GIF decoder
 * (ImageDecoder, independent of ours) and drawn onto white, as PNG (base64); plus the frame
 * count it sees. Transparency becomes white because gifToVideo flattens onto white.
 */
async function gifReferenceFrames(gif, indexes) {
  return browser.page.evaluate(
    async ({ input, indexes }) => {
      const decoder = new ImageDecoder({ data: Uint8Array.from(input), type: 'image/gif' });
      try {
        await decoder.completed;
        const frames = [];
        for (const frameIndex of indexes) {
          const { image } = await decoder.decode({ frameIndex });
          const canvas = new OffscreenCanvas(image.displayWidth, image.displayHeight);
          const ctx = canvas.getContext('2d');
          ctx.fillStyle = '#fff';
          ctx.fillRect(0, 0, canvas.width, canvas.height);
          ctx.drawImage(image, 0, 0);
          image.close();
          frames.push(window.b64(new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer())));
        }
        return { frameCount: decoder.tracks.selectedTrack.frameCount, frames };
      } catch (err) {
        return { error: `${err.name}: ${err.message}` };
      } finally {
        decoder.close();
      }
    },
    { input: Array.from(readFileSync(gif.file)), indexes },
  );
}

/** SSIMULACRA2 of the sampled frames of `videoFile` against the reference PNGs (resized to
 * the video's even size by sharp, Lanczos3, as gifToVideo fills it). */
async function scoreGifVideo(gif, refs, videoFile, width, height, tag) {
  const dir = path.join(WORK, 'gif-frames', `${gif.name}-${tag}`);
  rmSync(dir, { recursive: true, force: true });
  const outs = framesAt(videoFile, refs.indexes, path.join(dir, 'video'));
  const scores = [];
  for (let i = 0; i < refs.indexes.length; i++) {
    const ref = await sharp(Buffer.from(refs.frames[i], 'base64')).resize(width, height, { fit: 'fill', kernel: 'lanczos3' }).png().toBuffer();
    writeFileSync(path.join(dir, `ref-${i + 1}.png`), ref);
    scores.push(await compare(ref, readFileSync(outs[i]), { pool: nodePool }));
  }
  return { sampled: refs.indexes, scores, min: Math.min(...scores), median: median(scores) };
}

async function gifInPage(gif) {
  return browser.page.evaluate(
    async ({ input }) => {
      const bytes = Uint8Array.from(input);
      const t = performance.now();
      try {
        const r = await window.mediaslim.gifToVideo(bytes, { codec: 'h264', pool: window.pool });
        return { ms: performance.now() - t, b64: window.b64(r.video), codec: r.codec, width: r.width, height: r.height, frames: r.frames, notes: r.notes, reported: r.score, encodes: r.encodes };
      } catch (err) {
        return { error: `${err.code ?? err.name}: ${err.message}` };
      }
    },
    { input: Array.from(readFileSync(gif.file)) },
  );
}

async function gifInNode(gif) {
  const t = performance.now();
  try {
    const r = await gifToVideo(readFileSync(gif.file), { codec: 'av1', pool: nodePool });
    return { ms: performance.now() - t, video: r.video, codec: r.codec, width: r.width, height: r.height, frames: r.frames, notes: r.notes, reported: r.score, encodes: r.encodes };
  } catch (err) {
    return { error: `${err.code ?? err.name}: ${err.message}` };
  }
}

async function benchGifs() {
  let gifs = animatedGifs();
  if (args.quick) gifs = gifs.filter((g) => ['chi.gif', 'dispose_bgnd.gif', 'test_extents.gif'].includes(g.name));
  log(`${gifs.length} animated GIFs`);
  const results = [];
  for (const gif of gifs) {
    const row = { ...gif, outputs: {} };
    const indexes = sampleIndexes(gif.frames, SAMPLES_PER_GIF);
    const refs = { indexes, ...(await gifReferenceFrames(gif, indexes)) };
    if (refs.error) row.referenceError = refs.error;
    else if (refs.frameCount !== gif.frames) row.referenceNote = `Chromium sees ${refs.frameCount} frames, FFmpeg ${gif.frames}`;
    for (const [key, convert] of [['h264', gifInPage], ['av1', gifInNode]]) {
      const r = await convert(gif);
      if (r.error) {
        row.outputs[key] = { error: r.error };
        log(`${gif.name} ${key}: ${r.error}`);
        continue;
      }
      const file = path.join(WORK, `gif-${gif.name}.${key}.mp4`);
      writeFileSync(file, r.b64 ? Buffer.from(r.b64, 'base64') : r.video);
      const out = probeFile(file);
      const q = refs.error ? { scores: [], min: NaN, median: NaN } : await scoreGifVideo(gif, refs, file, r.width, r.height, key);
      row.outputs[key] = { bytes: readFileSync(file).length, ms: r.ms, codec: r.codec, width: r.width, height: r.height, frames: out.frames, notes: r.notes, reported: r.reported, encodes: r.encodes, ...q };
      log(`${gif.name} ${key}: ${gif.bytes} -> ${row.outputs[key].bytes} B, ${fmt(r.ms)} ms, SSIMULACRA2 min ${fmt(q.min, 1)} median ${fmt(q.median, 1)} (reported ${fmt(r.reported, 1)}, ${r.encodes} encodes)`);
    }
    results.push(row);
  }
  return results;
}

// ---------------------------------------------------------------------------------------
// Report

const pct = (r) => `${fmt(100 * r, 1)}%`;

function transcodeReport(t, p) {
  const ours = t.rows.find((r) => r.key === 'ours');
  p(`## Transcode: ${t.source.width}x${t.source.height} ${t.source.codec} (${t.source.frames} frames, audio ${t.source.audio}) -> 480p H.264, audio copied`);
  p();
  p(`Frames/s = ${t.source.frames} source frames / wall time (median of the runs listed; ffmpeg.wasm: 1 run). SSIMULACRA2: frame ${t.middleFrame} of the output against the source frame scaled by FFmpeg (bicubic) to the output's size; PSNR-Y: mean over every frame, same reference.${t.ffmpegWasmLoad ? ` ffmpeg.wasm's load() (not in its time): ${fmt(t.ffmpegWasmLoad.ms)} ms, crossOriginIsolated ${t.ffmpegWasmLoad.crossOriginIsolated}.` : ''}`);
  p();
  p(table(
    ['tool', 'ms (median)', 'runs ms', 'frames/s', 'time ours/peer', 'KB', 'bytes ours/peer', 'output (ffprobe)', 'SSIMULACRA2', 'PSNR-Y dB', 'note'],
    t.rows.map((r) => [
      r.label,
      fmt(r.ms),
      r.runs.map((x) => fmt(x)).join(', '),
      fmt(r.fps, 1),
      r.key === 'ours' ? '1' : fmt(ours.ms / r.ms, 2),
      kb(r.bytes),
      r.key === 'ours' ? '1' : fmt(ours.bytes / r.bytes, 2),
      `${r.out.codec} ${r.out.width}x${r.out.height}, ${r.out.frames} frames, audio ${r.out.audio}`,
      fmt(r.score, 1),
      fmt(r.psnr, 2),
      r.note ?? '',
    ]),
  ));
  p();
}

function gifSummary(gifs, key) {
  const ok = gifs.filter((g) => g.outputs[key] && !g.outputs[key].error);
  const gifBytes = ok.reduce((a, g) => a + g.bytes, 0);
  const videoBytes = ok.reduce((a, g) => a + g.outputs[key].bytes, 0);
  const scores = ok.flatMap((g) => g.outputs[key].scores);
  return {
    converted: ok.length,
    failed: gifs.filter((g) => g.outputs[key]?.error).map((g) => ({ name: g.name, error: g.outputs[key].error })),
    gifBytes,
    videoBytes,
    saving: 1 - videoBytes / gifBytes,
    framesScored: scores.length,
    framesAtGoal: scores.filter((s) => s >= GOAL.gifScore).length,
    below: ok.filter((g) => g.outputs[key].min < GOAL.gifScore).map((g) => g.name),
  };
}

function gifReport(gifs, p) {
  p(`## GIF to video: ${gifs.length} animated GIFs (corpus formats/ and the dispose_* fixtures, deduplicated)`);
  p();
  p(`H.264: gifToVideo in Chromium (WebCodecs). AV1: gifToVideo in Node (rav1e in wasm). Default settings: the encoder quality searched to meet target 'high' (SSIMULACRA2 80 on up to 6 sampled frames; "reported" is gifToVideo's own minimum and its encode count). SSIMULACRA2 of ${SAMPLES_PER_GIF} frames per GIF (all frames when fewer, first and last included): each video frame against the frame Chromium's own GIF decoder (ImageDecoder) shows, drawn onto white and resized by sharp to the video's even size: min / median.`);
  p();
  const cell = (o) => (!o ? 'n/a' : o.error ? `error: ${o.error.split(':')[0]}` : String(o.bytes));
  const q = (o) => (!o || o.error ? '' : `${fmt(o.min, 1)} / ${fmt(o.median, 1)}${o.reported !== undefined ? ` (reported ${fmt(o.reported, 1)}, ${o.encodes} enc)` : ''}`);
  p(table(
    ['GIF', 'size', 'frames', 'GIF B', 'H.264 B', 'H.264 / GIF', 'H.264 score min / median', 'AV1 B', 'AV1 / GIF', 'AV1 score min / median'],
    gifs.map((g) => [
      g.name, `${g.width}x${g.height}`, g.frames, g.bytes,
      cell(g.outputs.h264), g.outputs.h264?.bytes ? fmt(g.outputs.h264.bytes / g.bytes, 2) : '', q(g.outputs.h264),
      cell(g.outputs.av1), g.outputs.av1?.bytes ? fmt(g.outputs.av1.bytes / g.bytes, 2) : '', q(g.outputs.av1),
    ]),
  ));
  p();
  const unscored = gifs.filter((g) => g.referenceError || g.referenceNote);
  if (unscored.length) {
    p("Reference frames (Chromium's ImageDecoder) that differ from FFmpeg's reading:");
    p();
    for (const g of unscored) p(`- ${g.name}: ${g.referenceError ?? g.referenceNote}`);
    p();
  }
  const failures = gifs.flatMap((g) => ['h264', 'av1'].filter((k) => g.outputs[k]?.error).map((k) => `- ${g.name} (${g.width}x${g.height}) ${k}: ${g.outputs[k].error}`));
  if (failures.length) {
    p('Not converted (typed errors):');
    p();
    for (const f of [...new Set(failures)]) p(f);
    p();
  }
  const rows = ['h264', 'av1'].map((k) => [k, gifSummary(gifs, k)]);
  p(table(
    ['codec', 'GIFs converted', 'GIF bytes', 'video bytes', 'saving', `sampled frames >= ${GOAL.gifScore}`, `GIFs with a frame < ${GOAL.gifScore}`],
    rows.map(([k, s]) => [k, s.converted, s.gifBytes, s.videoBytes, pct(s.saving), `${s.framesAtGoal}/${s.framesScored}`, s.below.join(', ') || 'none']),
  ));
  p();
  return Object.fromEntries(rows);
}

function report(data) {
  const lines = [];
  const p = (s = '') => lines.push(s);
  const e = data.env;
  p('# Video: transcode speed and GIF to video');
  p();
  p(`${e.date.slice(0, 10)}, ${e.cpus} cores (${e.cpuModel}), load average ${e.loadBefore.map((x) => x.toFixed(1)).join(' ')} before, ${e.load.map((x) => x.toFixed(1)).join(' ')} at the end; Chromium ${e.chromium}; ${e.ffmpeg}.${args.quick ? ' --quick run.' : ''}`);
  p();
  const goals = [];
  if (data.transcode) {
    transcodeReport(data.transcode, p);
    const by = Object.fromEntries(data.transcode.rows.map((r) => [r.key, r]));
    if (by['ffmpeg.wasm']) goals.push([`>= ${GOAL.overFfmpegWasm}x ffmpeg.wasm (frames/s)`, `${fmt(by.ours.fps / by['ffmpeg.wasm'].fps, 1)}x`, by.ours.fps / by['ffmpeg.wasm'].fps >= GOAL.overFfmpegWasm]);
    goals.push([`>= ${GOAL.overNative}x native FFmpeg (frames/s, default threads)`, `${fmt(by.ours.fps / by.native.fps, 2)}x (1 thread: ${fmt(by.ours.fps / by['native-1t'].fps, 2)}x)`, by.ours.fps / by.native.fps >= GOAL.overNative]);
  }
  if (data.gifs) {
    const s = gifReport(data.gifs, p);
    data.gifSummary = s;
    for (const k of ['h264', 'av1']) {
      goals.push([`GIF -> ${k}: >= ${pct(GOAL.gifSaving)} smaller at SSIMULACRA2 >= ${GOAL.gifScore} per sampled frame`, `${pct(s[k].saving)} smaller; ${s[k].framesAtGoal}/${s[k].framesScored} frames >= ${GOAL.gifScore}`, s[k].saving >= GOAL.gifSaving && s[k].framesAtGoal === s[k].framesScored]);
    }
  }
  p('## Goals (issue #7)');
  p();
  p(table(['goal', 'measured', 'met'], goals.map(([g, m, ok]) => [g, m, ok ? 'yes' : '**no**']), ['l', 'l', 'l']));
  p();
  p(`Total bench time ${fmt(data.seconds)} s.`);
  return lines.join('\n');
}

function chart(data) {
  const panels = [];
  if (data.transcode) {
    const colors = { ours: '#2a9d5c', mediabunny: '#8a5cc2', 'ffmpeg.wasm': '#e69a28', native: '#4a7bd0', 'native-1t': '#7fa6e6' };
    panels.push({
      title: `${data.transcode.source.height}p -> 480p H.264: frames/s`,
      yLabel: 'frames per second',
      bars: data.transcode.rows.map((r) => ({ label: r.key.replace('-1t', '\n1 thread'), value: r.fps, color: colors[r.key] })),
    });
  }
  if (data.gifSummary) {
    panels.push({
      title: 'GIF to video: total bytes vs the GIFs',
      yLabel: 'video bytes / GIF bytes',
      bars: ['h264', 'av1'].map((k) => ({ label: `${k}\n(${data.gifSummary[k].converted} GIFs)`, value: data.gifSummary[k].videoBytes / data.gifSummary[k].gifBytes, color: k === 'h264' ? '#2a9d5c' : '#4a7bd0' })),
      hlines: [{ y: 1 - GOAL.gifSaving, label: `goal: ${pct(GOAL.gifSaving)} smaller` }],
    });
  }
  return barChart({ title: 'mediaslim video bench', subtitle: `${data.env.date.slice(0, 10)}, ${data.env.cpus} cores, load ${data.env.load.map((x) => x.toFixed(1)).join(' ')}`, panels });
}

// ---------------------------------------------------------------------------------------

const env = {
  date: new Date().toISOString(),
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model.trim(),
  loadBefore: os.loadavg(),
  ffmpeg: sh('ffmpeg', ['-version']).split('\n')[0].replace(/ Copyright.*/, ''),
  mediabunny: pkgVersion('mediabunny'),
  ffmpegWasm: `${pkgVersion('@ffmpeg/ffmpeg')} / core ${pkgVersion('@ffmpeg/core')}`,
};
const data = { env, args };
try {
  browser = await openBrowser();
  env.chromium = browser.version;
  if (args.transcode) data.transcode = await benchTranscode();
  if (args.gifs) data.gifs = await benchGifs();
} finally {
  await browser?.close();
  nodePool.terminate();
}
env.load = os.loadavg();
data.seconds = (Date.now() - started) / 1000;
const md = report(data);
console.log(md);
writeFileSync(path.join(OUT, 'video.md'), md + '\n');
writeFileSync(path.join(OUT, 'video.json'), JSON.stringify(data, null, 2));
writeFileSync(path.join(OUT, 'video.svg'), chart(data));
log(`wrote bench/out/video.md, bench/out/video.json, bench/out/video.svg in ${fmt(data.seconds)} s`);
process.exit(0);
