// gifToVideo's perceptual target in Node (AV1 by rav1e): the returned `score` (the lowest
// SSIMULACRA2 of the sampled frames, from rav1e's reconstruction) must meet the target, and
// is recomputed independently: FFmpeg extracts a frame from the MP4 (its own AV1 decoder)
// and the same frame from the GIF (its own GIF decoder, flattened on white by sharp, as the
// video is), and compare() scores the pair.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { compare, gifToVideo, MediaslimError, Pool } from 'mediaslim';
import { NO_FFPROBE, framesAt, hasFfmpeg } from '../ffprobe.mjs';
import { corpusFile, fixture, hasCorpus } from './_helpers.mjs';

const pool = new Pool({ size: 1 });
const dir = mkdtempSync(join(tmpdir(), 'mediaslim-gif-target-'));
after(() => {
  pool.terminate();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * SSIMULACRA2 of frame `index` of the MP4 (extracted by FFmpeg, its own AV1 decoder) against
 * the same GIF frame as libvips composites it (sharp; FFmpeg's GIF decoder does not clear
 * "restore to background" areas as browsers do), flattened on white as the video is.
 */
async function independentScore(gif, r, index, name) {
  const mp4File = join(dir, `${name}.mp4`);
  writeFileSync(mp4File, r.video);
  const [out] = framesAt(mp4File, [index], join(dir, `${name}-mp4-${index}`));
  const ref = await sharp(gif, { page: index }).flatten({ background: '#ffffff' }).resize(r.width, r.height, { fit: 'fill', kernel: 'lanczos3' }).png().toBuffer();
  return compare(ref, readFileSync(out), { pool });
}

/** A GIF of `frames` 1x1 frames on a w x h screen (valid LZW, 2-colour palette). */
function tinyGif(w, h, frames) {
  const head = [...Buffer.from('GIF89a'), w & 255, w >> 8, h & 255, h >> 8, 0x80, 0, 0, 0, 0, 0, 255, 255, 255];
  const frame = [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00];
  return Uint8Array.from([...head, ...Array(frames).fill(frame).flat(), 0x3b]);
}

const NO_FFMPEG = NO_FFPROBE || (!hasFfmpeg && 'ffmpeg not found');

describe('gifToVideo target (rav1e AV1)', () => {
  it('meets the default target (80) and an asked one, and says how many encodes it took', { skip: NO_FFMPEG }, async () => {
    const gif = fixture('hopper.gif');
    const bytes = {};
    for (const [options, target] of [[{}, 80], [{ target: 'medium' }, 70], [{ target: 85 }, 85]]) {
      const started = performance.now();
      const r = await gifToVideo(gif, { pool, ...options });
      const seconds = (performance.now() - started) / 1000;
      assert.equal(r.target, target);
      assert.ok(r.score >= target, `hopper.gif ${JSON.stringify(options)}: score ${r.score} < ${target}; ${r.notes}`);
      assert.ok(r.encodes >= 1 && r.encodes <= 5, `${r.encodes} encodes`);
      const independent = await independentScore(gif, r, 0, `hopper-${target}`);
      // FFmpeg upsamples chroma its own way (rav1e's reconstruction is scored with nearest):
      // a few points either side, never a different verdict by much.
      assert.ok(Math.abs(independent - r.score) < 4, `hopper.gif target ${target}: reported ${r.score.toFixed(2)}, FFmpeg decode scores ${independent.toFixed(2)}`);
      bytes[target] = r.video.length;
      console.log(`hopper.gif target ${target}: ${r.video.length} B (GIF ${gif.length} B), score ${r.score.toFixed(2)} (FFmpeg decode ${independent.toFixed(2)}), ${r.encodes} encodes, ${seconds.toFixed(2)} s`);
    }
    // Higher targets cost bytes: the search really moves the encoder.
    assert.ok(bytes[85] > bytes[80] && bytes[80] > bytes[70], JSON.stringify(bytes));
  });

  it('returns the best it found with a note when the target is out of reach, and a fixed quality skips the search', { skip: NO_FFMPEG }, async () => {
    const gif = fixture('dispose_bgnd.gif');
    const r = await gifToVideo(gif, { pool, target: 'max' }); // 4:2:0 cannot: the note path
    assert.ok(r.encodes <= 5, `${r.encodes} encodes`);
    if (r.score >= 90) {
      assert.ok(!r.notes.some((n) => /no AV1 setting/.test(n)), r.notes.join('; '));
    } else {
      assert.ok(r.notes.some((n) => /no AV1 setting tried reached SSIMULACRA2 90 .*best \d+\.\d/.test(n)), r.notes.join('; '));
    }
    // Frame 0: later frames "restore to background", which libvips and FFmpeg fill with the
    // background colour where browsers (and our core) clear to transparent (the browser suite
    // judges those frames against Chromium's own GIF decoder).
    const independent = await independentScore(gif, r, 0, 'dispose_bgnd-max');
    console.log(`dispose_bgnd.gif target 90: ${r.video.length} B (GIF ${gif.length} B), score ${r.score.toFixed(2)}, FFmpeg decode of frame 0 ${independent.toFixed(2)}, ${r.encodes} encodes; notes: ${r.notes.join(' | ')}`);
    assert.ok(independent >= r.score - 4, `frame 0 scores ${independent} independently, reported minimum ${r.score}`);

    const fixed = await gifToVideo(gif, { pool, quality: 50 });
    assert.deepEqual([fixed.encodes, fixed.score, fixed.target], [1, undefined, undefined]);
  });

  it('chroma 444 (AV1 High profile) scores graphics higher than 420 at a target', { skip: NO_FFMPEG }, async () => {
    const gif = fixture('dispose_bgnd.gif');
    const r420 = await gifToVideo(gif, { pool, target: 'high' });
    const r444 = await gifToVideo(gif, { pool, target: 'high', chroma: '444' });
    assert.match(r444.mimeType, /codecs="av01\.1\./);
    assert.match(r420.mimeType, /codecs="av01\.0\./);
    assert.ok(r444.score >= 80 || r444.notes.some((n) => /no AV1 setting/.test(n)), `${r444.score}; ${r444.notes}`);
    const independent = await independentScore(gif, r444, 0, 'dispose_bgnd-444');
    console.log(`dispose_bgnd.gif target 80: 4:2:0 ${r420.video.length} B score ${r420.score.toFixed(2)} (${r420.encodes} encodes); 4:4:4 ${r444.video.length} B score ${r444.score.toFixed(2)} (${r444.encodes} encodes, FFmpeg decode of frame 0 ${independent.toFixed(2)})`);
    assert.ok(independent >= r444.score - 4, `frame 0: ${independent} vs reported minimum ${r444.score}`);
    if (r420.score < 80) assert.ok(r444.score > r420.score, `4:4:4 ${r444.score} vs 4:2:0 ${r420.score}`);
  });

  it('a corpus GIF (chi.gif, 31 frames) meets the target on a middle frame too', { skip: NO_FFMPEG || (!hasCorpus && 'no corpus here') }, async () => {
    const gif = corpusFile('formats/chi.gif');
    const r = await gifToVideo(gif, { pool, target: 'high' });
    assert.ok(r.score >= 80 || r.notes.some((n) => /no AV1 setting/.test(n)), `${r.score}; ${r.notes}`);
    const independent = await independentScore(gif, r, 15, 'chi');
    console.log(`chi.gif target 80: ${r.video.length} B (GIF ${gif.length} B), score ${r.score.toFixed(2)}, FFmpeg decode of frame 15 ${independent.toFixed(2)}, ${r.encodes} encodes`);
    assert.ok(independent >= r.score - 4, `frame 15 scores ${independent}, reported minimum ${r.score}`);
  });

  it('refuses GIFs under 16 px and bad targets up front, with typed errors', async () => {
    const is = (code, re) => (e) => e instanceof MediaslimError && e.code === code && (!re || re.test(e.message));
    const started = performance.now();
    await assert.rejects(gifToVideo(tinyGif(12, 10, 3), { pool }), is('UNSUPPORTED_FORMAT', /12x10 GIF .*at least 16x16/));
    await assert.rejects(gifToVideo(fixture('dispose_bgnd.gif'), { pool, maxWidth: 12 }), is('INVALID_OPTION', /maxWidth\/maxHeight.*12x12.*at least 16x16/));
    await assert.rejects(gifToVideo(fixture('dispose_bgnd.gif'), { pool, target: 'ultra' }), is('INVALID_OPTION', /target/));
    await assert.rejects(gifToVideo(fixture('dispose_bgnd.gif'), { pool, target: 101 }), is('INVALID_OPTION', /target/));
    await assert.rejects(gifToVideo(fixture('dispose_bgnd.gif'), { pool, target: 80, quality: 50 }), is('INVALID_OPTION', /not both/));
    const ms = performance.now() - started;
    assert.ok(ms < 1500, `typed errors took ${ms.toFixed(0)} ms`);
  });
});
