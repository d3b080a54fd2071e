// gifToVideo in headless Chromium: the browser's WebCodecs encoder (H.264, then AV1) in a pool
// worker, the core's muxer. Each MP4 is judged twice, independently of how it was made: the
// page plays it in a <video> element (duration, size, decoded frames), and FFmpeg's ffprobe
// reads codec, size, frame count and every frame's time against the GIF's.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hasFfprobe, packetTimesMs, probeVideo } from '../ffprobe.mjs';
import { fixtures, openTestPage, repoRoot, playVideoScript } from './helpers.mjs';

const CORPUS_GIFS = join(repoRoot, '..', 'shared', 'corpus', 'formats');


const PAGE = '/__mediaslim_gif_video_test__.html';
const HTML = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>mediaslim GIF to video test</title><link rel="icon" href="data:,">
<script type="module">
  import * as mediaslim from '/pkg/index.js';
  window.mediaslim = mediaslim;
  window.pool = new mediaslim.Pool({ size: 2 });
  ${playVideoScript()}
  window.packageReady = true;
</script>
</html>`;

let page;
let problems;
let close;
const dir = mkdtempSync(join(tmpdir(), 'mediaslim-gif-video-browser-'));

before(async () => {
  ({ page, problems, close } = await openTestPage(PAGE, HTML));
});

after(async () => {
  await close?.();
  rmSync(dir, { recursive: true, force: true });
});


const gifTimes = packetTimesMs;

/** Runs gifToVideo in the page on the GIF at `path` (read here: the corpus lies outside the
 * served folder); returns the result (bytes as arrays) and its playback. */
function convert(path, options) {
  return page.evaluate(
    async ({ input, options }) => {
      const gif = Uint8Array.from(input);
      const progress = [];
      const started = performance.now();
      const r = await window.mediaslim.gifToVideo(gif, { ...options, pool: window.pool, onProgress: (e) => e.done !== undefined && progress.push(e.done) });
      const ms = performance.now() - started;
      const played = await window.play(r.video, r.mimeType);
      const poster = await createImageBitmap(new Blob([r.poster.bytes], { type: r.poster.mimeType }));
      return {
        gifBytes: gif.length,
        ms,
        progress,
        video: Array.from(r.video),
        mimeType: r.mimeType,
        encoder: r.encoder,
        width: r.width,
        height: r.height,
        duration: r.duration,
        frames: r.frames,
        notes: r.notes,
        markup: r.markup,
        poster: { width: poster.width, height: poster.height, type: r.poster.mimeType, bytes: r.poster.bytes.length },
        played,
      };
    },
    { input: Array.from(readFileSync(path)), options },
  );
}

async function check(name, path, options, { codec, ffprobeCodec, width, height }) {
  const r = await convert(path, options);
  assert.equal(r.encoder, 'webcodecs', `${name}: ${r.notes}`);
  const container = options.container ?? 'mp4';
  assert.match(r.mimeType, new RegExp(`^video/${container}; codecs="${codec}`), name);
  assert.deepEqual([r.width, r.height], [width, height], name);
  assert.equal(r.progress.at(-1), r.frames, `${name}: progress reached the last frame`);
  // (a) the browser plays it: metadata and every frame presented.
  assert.equal(r.played.canPlay, 'probably', name);
  assert.deepEqual([r.played.width, r.played.height], [width, height], name);
  assert.ok(Math.abs(r.played.duration - r.duration) < 0.01, `${name}: <video> says ${r.played.duration} s, result ${r.duration} s`);
  assert.ok(r.played.presented >= r.frames - 1, `${name}: ${r.played.presented} of ${r.frames} frames presented`);
  assert.ok(r.poster.width > 0 && r.poster.type === 'image/webp', name);
  assert.match(r.markup, /^<video autoplay loop muted playsinline poster="data:image\/png;base64,/);
  // (b) FFmpeg agrees: codec, size, frame count, each frame at the GIF's time, duration.
  if (!hasFfprobe) {
    console.log('SKIPPED ffprobe checks: ffprobe not found (install Debian ffmpeg; scripts/setup.sh does)');
  } else {
    const p = probeVideo(Uint8Array.from(r.video), dir, `${name}.${container}`);
    const times = gifTimes(path);
    assert.deepEqual([p.codec, p.width, p.height, p.frames], [ffprobeCodec, width, height, times.length], name);
    assert.deepEqual(p.times, times, `${name}: frame times`);
    const interval = options.keyFrameInterval ?? 120;
    const keysWanted = times.map((_, i) => i).filter((i) => i % interval === 0);
    assert.deepEqual(keysWanted.filter((i) => !p.keyIndexes.includes(i)), [], `${name}: forced key frames (got ${p.keyIndexes})`);
    const frame = (times.at(-1) - times.at(-2)) / 1000;
    assert.ok(Math.abs(p.duration - r.duration) < frame, `${name}: ffprobe ${p.duration} s vs ${r.duration} s`);
  }
  console.log(`${name}: GIF ${r.gifBytes} B -> ${r.mimeType} ${r.video.length} B (${r.width}x${r.height}, ${r.frames} frames, ${r.duration} s), poster ${r.poster.bytes} B, in ${(r.ms / 1000).toFixed(2)} s`);
  return r;
}

describe('gifToVideo in Chromium (WebCodecs)', () => {
  test('fixture GIF -> H.264 MP4 that plays with the GIF timing', async () => {
    await check('dispose_bgnd-h264', join(fixtures, 'dispose_bgnd.gif'), { codec: 'h264' }, { codec: 'avc1\\.', ffprobeCodec: 'h264', width: 100, height: 100 });
  });

  test('auto picks H.264; odd sizes become even; corpus GIFs when present', async () => {
    await check('dispose_prev-auto', join(fixtures, 'dispose_prev.gif'), {}, { codec: 'avc1\\.', ffprobeCodec: 'h264', width: 100, height: 100 });
    if (!existsSync(CORPUS_GIFS)) return console.log('SKIPPED corpus GIFs: no ../shared/corpus here');
    // 245x245 (odd) -> 244x244; chi.gif 320x240, 31 frames of 100 ms.
    await check('iss634-auto', join(CORPUS_GIFS, 'iss634.gif'), { quality: 'high', keyFrameInterval: 10 }, { codec: 'avc1\\.', ffprobeCodec: 'h264', width: 244, height: 244 });
    await check('chi-auto', join(CORPUS_GIFS, 'chi.gif'), {}, { codec: 'avc1\\.', ffprobeCodec: 'h264', width: 320, height: 240 });
  });

  test('container webm: auto picks VP9; codec av1 -> AV1 WebM', async () => {
    const r = await check('dispose_bgnd-webm', join(fixtures, 'dispose_bgnd.gif'), { container: 'webm' }, { codec: 'vp09\\.', ffprobeCodec: 'vp9', width: 100, height: 100 });
    assert.match(r.markup, /<source src="video\.webm" type="video\/webm; codecs=&quot;vp09\./);
    await check('dispose_prev-webm-av1', join(fixtures, 'dispose_prev.gif'), { container: 'webm', codec: 'av1', maxWidth: 64 }, { codec: 'av01\\.0\\.', ffprobeCodec: 'av1', width: 64, height: 64 });
    if (existsSync(CORPUS_GIFS)) await check('chi-webm', join(CORPUS_GIFS, 'chi.gif'), { container: 'webm' }, { codec: 'vp09\\.', ffprobeCodec: 'vp9', width: 320, height: 240 });
  });

  test('codec av1 -> AV1 MP4 through WebCodecs', async () => {
    await check('dispose_bgnd-av1', join(fixtures, 'dispose_bgnd.gif'), { codec: 'av1', maxWidth: 64 }, { codec: 'av01\\.0\\.', ffprobeCodec: 'av1', width: 64, height: 64 });
  });

  test('bad input: typed errors', async () => {
    const codes = await page.evaluate(async () => {
      const gif = new Uint8Array(await (await fetch('/tests/fixtures/dispose_bgnd.gif')).arrayBuffer());
      const code = (p) => p.then(() => 'resolved', (e) => e.code);
      return {
        cut: await code(window.mediaslim.gifToVideo(gif.subarray(0, 700), { pool: window.pool })),
        codec: await code(window.mediaslim.gifToVideo(gif, { pool: window.pool, codec: 'vp8' })),
        h264InWebm: await code(window.mediaslim.gifToVideo(gif, { pool: window.pool, codec: 'h264', container: 'webm' })),
        typo: await code(window.mediaslim.gifToVideo(gif, { pool: window.pool, maxWidht: 10 })),
      };
    });
    assert.deepEqual(codes, { cut: 'CORRUPT_INPUT', codec: 'INVALID_OPTION', h264InWebm: 'INVALID_OPTION', typo: 'INVALID_OPTION' });
    assert.deepEqual(problems, []);
  });
});
