// FFmpeg's ffprobe as the independent judge of the videos the tests make (Debian `ffmpeg`,
// installed by scripts/setup.sh). Shared by the Node and Chromium suites.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
