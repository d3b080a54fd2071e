// FFmpeg's ffprobe as the independent judge of the videos the tests make (Debian `ffmpeg`,
// installed by scripts/setup.sh). Shared by the Node and Chromium suites.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Whether `command -version` runs here. */
function runs(command) {
  try {
    execFileSync(command, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const hasFfprobe = runs('ffprobe');
export const hasFfmpeg = hasFfprobe && runs('ffmpeg');
/** A `skip` value for node:test: false when ffprobe is here, else the reason. */
export const NO_FFPROBE = !hasFfprobe && 'ffprobe not found: install Debian ffmpeg (scripts/setup.sh does)';

/** ffprobe `-show_entries` of the first video stream as CSV text. */
function entries(file, what, extra = []) {
  return execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', ...extra, '-show_entries', what, '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim();
}

/** Every packet's presentation time of the first video stream, in whole milliseconds. */
export function packetTimesMs(file) {
  return entries(file, 'packet=pts_time').split('\n').map((l) => Math.round(Number(l.replace(/,$/, '')) * 1000));
}

/**
 * The first video stream of `bytes` (written to `dir/name`) as ffprobe reads it:
 * { codec, width, height, frames (decoded), duration (s), times (ms), keyIndexes }.
 */
export function probeVideo(bytes, dir, name) {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  const [codec, width, height, frames] = entries(file, 'stream=codec_name,width,height,nb_read_frames', ['-count_frames']).split(',');
  return {
    codec,
    width: Number(width),
    height: Number(height),
    frames: Number(frames),
    duration: Number(entries(file, 'format=duration')),
    times: packetTimesMs(file),
    keyIndexes: entries(file, 'packet=flags').split('\n').flatMap((l, i) => (l.startsWith('K') ? [i] : [])),
  };
}

/**
 * Frames `indexes` (presentation order, ascending) of `file` as PNGs `${prefix}-1.png`, ... in
 * that order, optionally scaled by FFmpeg (bicubic) to width x height; `rgba` keeps alpha (GIF).
 * Returns the paths.
 */
export function framesAt(file, indexes, prefix, { width, height, rgba = false } = {}) {
  mkdirSync(dirname(prefix), { recursive: true });
  const select = `select=${indexes.map((n) => `eq(n\\,${n})`).join('+')}`;
  const scale = width && height ? `,scale=${width}:${height}:flags=bicubic` : '';
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', file, '-vf', select + scale, '-fps_mode', 'passthrough', ...(rgba ? ['-pix_fmt', 'rgba'] : []), '-frames:v', String(indexes.length), `${prefix}-%d.png`]);
  const paths = indexes.map((_, i) => `${prefix}-${i + 1}.png`);
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`${file}: FFmpeg wrote no frame for ${missing.map((p) => indexes[paths.indexOf(p)]).join(', ')}`);
  return paths;
}

/** Mean luma PSNR (dB) of `out` against `src` scaled (bicubic) to w x h, frame by frame (both
 * from their first frame: FFmpeg shifts each input by its own start time, audio included). */
export function psnrY(src, out, w, h) {
  const r = spawnSync('ffmpeg', ['-v', 'info', '-nostats', '-i', out, '-i', src, '-lavfi', `[1:v]setpts=PTS-STARTPTS,scale=${w}:${h}:flags=bicubic[ref];[0:v]setpts=PTS-STARTPTS[out];[out][ref]psnr`, '-f', 'null', '-'], { encoding: 'utf8' });
  const m = /PSNR y:([\d.]+|inf)/.exec(r.stderr);
  if (!m) throw new Error(`no PSNR in FFmpeg's output: ${r.stderr.slice(-500)}`);
  return m[1] === 'inf' ? Infinity : Number(m[1]);
}
