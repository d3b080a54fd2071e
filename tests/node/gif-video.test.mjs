// gifToVideo in Node (no WebCodecs): AV1 MP4 or WebM made by rav1e in the full wasm module, judged
// by FFmpeg's ffprobe (codec, size, frame count, per-frame times, duration); the poster by
// sharp; bad GIFs and options give typed errors, bombs before any decoding.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { gifToVideo, MediaslimError, Pool } from 'mediaslim';
import { NO_FFPROBE, packetTimesMs, probeVideo } from '../ffprobe.mjs';
import { corpusFile, fixture, hasCorpus } from './_helpers.mjs';


const pool = new Pool({ size: 1 });
const dir = mkdtempSync(join(tmpdir(), 'mediaslim-gif-video-'));
after(() => {
  pool.terminate();
  rmSync(dir, { recursive: true, force: true });
});


/** The GIF's own frame times (ms) as FFmpeg reads them (it applies the browsers' 100 ms rule). */
function gifTimes(bytes, name) {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  return packetTimesMs(file);
}

/** A GIF of `frames` 1x1 frames on a w x h screen (valid LZW, 2-colour palette). */
function frameBomb(w, h, frames) {
  const head = [...Buffer.from('GIF89a'), w & 255, w >> 8, h & 255, h >> 8, 0x80, 0, 0, 0, 0, 0, 255, 255, 255];
  const frame = [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00];
  const out = new Uint8Array(head.length + frame.length * frames + 1);
  out.set(head);
  for (let i = 0; i < frames; i++) out.set(frame, head.length + i * frame.length);
  out[out.length - 1] = 0x3b;
  return out;
}

describe('gifToVideo in Node (rav1e AV1)', () => {
  it('makes an AV1 MP4 with the GIF timing, a WebP poster, a placeholder and markup', { skip: NO_FFPROBE }, async () => {
    const gif = fixture('dispose_bgnd.gif');
    const progress = [];
    const started = performance.now();
    const r = await gifToVideo(gif, { pool, onProgress: (e) => e.done !== undefined && progress.push(e.done) });
    const seconds = (performance.now() - started) / 1000;
    assert.equal(r.encoder, 'rav1e');
    assert.match(r.mimeType, /^video\/mp4; codecs="av01\.0\.\d\dM\.08"$/);
    assert.deepEqual([r.width, r.height, r.frames, r.duration], [100, 100, 5, 5]);
    assert.deepEqual(progress.at(-1), 5);
    const p = probeVideo(r.video, dir, 'fixture.mp4');
    assert.deepEqual([p.codec, p.width, p.height, p.frames], ['av1', 100, 100, 5]);
    assert.deepEqual(p.times, gifTimes(gif, 'fixture.gif'));
    assert.ok(Math.abs(p.duration - 5) < 0.001, `duration ${p.duration}`);
    const poster = await sharp(r.poster.bytes).metadata();
    assert.deepEqual([poster.format, poster.width, poster.height, r.poster.mimeType], ['webp', 100, 100, 'image/webp']);
    assert.match(r.placeholder, /^data:image\/png;base64,/);
    assert.match(r.markup, /^<video autoplay loop muted playsinline poster="data:image\/png;base64,[^"]+" width="100" height="100"><source src="video\.mp4" type="video\/mp4; codecs=&quot;av01[^"]+"><\/video>$/);
    // A 1.4 KB flat GIF makes a bigger MP4: said, not hidden (the MP4 is still there).
    assert.ok(r.video.length > gif.length && r.biggerThanGif, `${r.video.length} B vs ${gif.length} B`);
    assert.ok(r.notes.some((n) => /not smaller than the GIF \(1450 B\): serve the GIF/.test(n)), r.notes.join('; '));
    console.log(`dispose_bgnd.gif: GIF ${gif.length} B -> AV1 MP4 ${r.video.length} B, poster ${r.poster.bytes.length} B, in ${seconds.toFixed(2)} s`);
  });

  it('container webm: an AV1 WebM by rav1e with the GIF timing', { skip: NO_FFPROBE }, async () => {
    const gif = fixture('dispose_bgnd.gif');
    const r = await gifToVideo(gif, { pool, container: 'webm' });
    assert.equal(r.encoder, 'rav1e');
    assert.match(r.mimeType, /^video\/webm; codecs="av01\.0\.\d\dM\.08"$/);
    assert.deepEqual([r.width, r.height, r.frames, r.duration], [100, 100, 5, 5]);
    const p = probeVideo(r.video, dir, 'fixture.webm');
    assert.deepEqual([p.codec, p.width, p.height, p.frames], ['av1', 100, 100, 5]);
    assert.deepEqual(p.times, gifTimes(gif, 'fixture-webm.gif'));
    assert.ok(Math.abs(p.duration - 5) < 0.001, `duration ${p.duration}`);
    assert.match(r.markup, /<source src="video\.webm" type="video\/webm; codecs=&quot;av01/);
    const is = (code, re) => (e) => e instanceof MediaslimError && e.code === code && re.test(e.message);
    await assert.rejects(gifToVideo(gif, { pool, container: 'webm', codec: 'vp9' }), is('UNSUPPORTED_CODEC', /WebCodecs/));
    await assert.rejects(gifToVideo(gif, { pool, container: 'mkv' }), is('INVALID_OPTION', /container/));
    console.log(`dispose_bgnd.gif: GIF ${gif.length} B -> AV1 WebM ${r.video.length} B`);
  });

  it('fits maxWidth with even sides on corpus GIFs and keeps every frame time', { skip: NO_FFPROBE || (!hasCorpus && 'no corpus here') }, async () => {
    for (const [name, opts, size] of [['chi.gif', { maxWidth: 161 }, [160, 120]], ['iss634.gif', { quality: 'high', keyFrameInterval: 10 }, [244, 244]]]) {
      const gif = corpusFile(`formats/${name}`);
      const started = performance.now();
      const r = await gifToVideo(gif, { pool, ...opts });
      const seconds = (performance.now() - started) / 1000;
      const p = probeVideo(r.video, dir, `${name}.mp4`);
      assert.deepEqual([p.codec, p.width, p.height], ['av1', ...size], name);
      const times = gifTimes(gif, name);
      assert.equal(p.frames, times.length, name);
      assert.deepEqual(p.times, times, name);
      if (opts.keyFrameInterval) assert.ok(p.keyIndexes.length >= Math.ceil(times.length / opts.keyFrameInterval), `${name}: ${p.keyIndexes.length} key frames`);
      assert.equal(r.biggerThanGif, false, `${name}: the MP4 is smaller than the GIF`);
      console.log(`${name}: GIF ${gif.length} B -> AV1 MP4 ${r.video.length} B (${r.width}x${r.height}, ${r.frames} frames, ${r.duration} s) in ${seconds.toFixed(2)} s`);
    }
  });

  it('names what is missing or wrong with typed errors, fast', async () => {
    const gif = fixture('dispose_bgnd.gif');
    const is = (code, re) => (e) => e instanceof MediaslimError && e.code === code && (!re || re.test(e.message));
    await assert.rejects(gifToVideo(gif, { pool, codec: 'h264' }), is('UNSUPPORTED_CODEC', /WebCodecs/));
    await assert.rejects(gifToVideo(gif, { pool, codec: 'vp9' }), is('INVALID_OPTION', /codec/));
    await assert.rejects(gifToVideo(gif, { pool, quality: 'ultra' }), is('INVALID_OPTION', /quality/));
    await assert.rejects(gifToVideo(gif, { pool, maxWidht: 100 }), is('INVALID_OPTION', /`maxWidht`: unknown/));
    await assert.rejects(gifToVideo(gif, { pool, maxWidth: -5 }), is('INVALID_OPTION', /maxWidth/));
    const started = performance.now();
    await assert.rejects(gifToVideo(gif.subarray(0, gif.length / 2), { pool }), is('CORRUPT_INPUT'));
    await assert.rejects(gifToVideo(frameBomb(4000, 4000, 200), { pool }), is('TOO_LARGE', /200 frames of 4000 x 4000/));
    await assert.rejects(gifToVideo(frameBomb(2, 2, 20_000), { pool }), is('TOO_LARGE', /20000 frames/));
    await assert.rejects(gifToVideo(fixture('hopper.png'), { pool }), is('UNSUPPORTED_FORMAT'));
    const controller = new AbortController();
    const aborted = gifToVideo(gif, { pool, signal: controller.signal });
    controller.abort(new Error('user left'));
    await assert.rejects(aborted, is('ABORTED', /user left/));
    const ms = performance.now() - started;
    assert.ok(ms < 1000, `typed errors took ${ms.toFixed(0)} ms`);
  });
});
