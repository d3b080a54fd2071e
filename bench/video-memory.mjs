// Streaming remux memory proof (`npm run bench:video-memory`): generates a non-fast-start MP4
// of at least 1 GiB on disk (FFmpeg encodes a 4 s 720p H.264 + AAC clip, then copies it
// looped, streamed to disk, with increasing timestamps), runs
// `remux(path, { fastStart: true, output: fs.createWriteStream(...) })` in a child process and
// reports its peak RSS (`process.resourceUsage().maxRSS`; goal < 300 MB), the time, whether
// `moov` now precedes `mdat`, and ffprobe's verdict. Generated files are deleted afterwards.
//
//   node bench/video-memory.mjs                 1 GiB (about a minute here)
//   node bench/video-memory.mjs --mib 200       another size
//   node bench/video-memory.mjs --keep DIR      generate into DIR and keep the files
//
// tests/node/remux-stream.test.mjs uses the same helpers on 50 MB and 400 MB files.
import { spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;

/** Whether FFmpeg and ffprobe are on PATH (the generator and the judge). */
export function hasFfmpeg() {
  return ['ffmpeg', 'ffprobe'].every((tool) => spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0);
}

function ffmpeg(args) {
  const run = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${run.stderr}`);
}

/** A 4 s 720p H.264 (near lossless: big frames, so few samples per GiB) + AAC clip, fast-start. */
export function makeSourceClip(dir) {
  const file = path.join(dir, 'source.mp4');
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '4',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '4', '-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', file]);
  return file;
}

/** An MP4 of at least `bytes` with `moov` after `mdat` (FFmpeg's default): `source` looped. */
export function makeLargeMp4(source, bytes, file) {
  const loops = Math.max(1, Math.ceil(bytes / statSync(source).size));
  ffmpeg(['-stream_loop', String(loops - 1), '-i', source, '-c', 'copy', '-f', 'mp4', file]);
  return file;
}

/** Top-level box kinds of a file on disk, read from their headers only. */
export function topLevelKinds(file) {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const head = Buffer.alloc(16);
    const kinds = [];
    for (let at = 0; at + 8 <= size && kinds.length < 10_000; ) {
      readSync(fd, head, 0, 16, at);
      let n = head.readUInt32BE(0);
      if (n === 1) n = Number(head.readBigUInt64BE(8));
      if (n === 0) n = size - at;
      if (n < 8) throw new Error(`bad box at ${at}`);
      kinds.push(head.toString('latin1', 4, 8));
      at += n;
    }
    return kinds;
  } finally {
    closeSync(fd);
  }
}

/** ffprobe's complaints about `file` (empty when clean), and its duration and streams. */
export function ffprobeVerdict(file) {
  const run = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name', '-of', 'json', file], { encoding: 'utf8' });
  const info = run.status === 0 ? JSON.parse(run.stdout) : undefined;
  return {
    clean: run.status === 0 && run.stderr.trim() === '',
    errors: run.stderr.trim(),
    duration: info ? Number(info.format.duration) : NaN,
    codecs: info ? info.streams.map((s) => s.codec_name) : [],
  };
}

/**
 * Runs the streaming remux of `input` into `output` in a fresh Node process (one pool worker)
 * and returns what it reported: `{ maxRssBytes, seconds, changed, bytesWritten, notes }`.
 */
export function measureStreamingRemux(input, output) {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', input, output], { encoding: 'utf8', maxBuffer: 16 * MiB });
  if (child.status !== 0) throw new Error(`the remux child failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1));
}

async function child(input, output) {
  const { remux, Pool } = await import('../pkg/index.js');
  const pool = new Pool({ size: 1 });
  const started = performance.now();
  const result = await remux(input, { fastStart: true, output: createWriteStream(output) }, { pool });
  const seconds = (performance.now() - started) / 1000;
  await pool.terminate?.();
  // maxRSS is in kilobytes.
  console.log(JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, seconds, ...result }));
  process.exit(0);
}

async function main() {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const mib = Number(arg('--mib') ?? 1024);
  const keep = arg('--keep');
  if (!hasFfmpeg()) {
    console.log('SKIPPED: ffmpeg/ffprobe not found (they generate the input and judge the output)');
    return;
  }
  const dir = keep ?? mkdtempSync(path.join(tmpdir(), 'mediaslim-memory-'));
  mkdirSync(dir, { recursive: true });
  try {
    let t = performance.now();
    const source = makeSourceClip(dir);
    const input = makeLargeMp4(source, mib * MiB, path.join(dir, 'input.mp4'));
    const inputSize = statSync(input).size;
    console.log(`input: ${(inputSize / MiB).toFixed(0)} MiB, boxes ${topLevelKinds(input).join(' ')} (generated in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
    const output = path.join(dir, 'output.mp4');
    const r = measureStreamingRemux(input, output);
    const kinds = topLevelKinds(output);
    t = performance.now();
    const verdict = ffprobeVerdict(output);
    const source_ = ffprobeVerdict(input);
    const peak = r.maxRssBytes / MiB;
    console.log(`streaming remux: ${r.seconds.toFixed(1)} s (${(inputSize / MiB / r.seconds).toFixed(0)} MiB/s), peak RSS ${peak.toFixed(0)} MiB (goal < 300 MB: ${r.maxRssBytes < 300e6 ? 'met' : 'MISSED'})`);
    console.log(`output: ${(r.bytesWritten / MiB).toFixed(0)} MiB, boxes ${kinds.join(' ')}, moov before mdat: ${kinds.indexOf('moov') < kinds.indexOf('mdat')}, changed: ${r.changed}`);
    console.log(`ffprobe: ${verdict.clean ? 'clean' : `ERRORS: ${verdict.errors}`}, ${verdict.codecs.join(' + ')}, ${verdict.duration.toFixed(2)} s (input ${source_.duration.toFixed(2)} s)`);
    console.log(`notes: ${r.notes.join('; ')}`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
