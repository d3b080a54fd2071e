// Animated inputs: only the first frame is encoded for now, so the caller must be told
// (a warning) whenever frames are dropped, whatever the output format.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { optimize, probe } from 'mediaslim';
import { fixture, corpusFile, hasCorpus, rgba, meta, assertClose } from './_helpers.mjs';

/**
 * The optimized result either keeps every frame or warns that frames were dropped.
 * Checks each format and returns the list of silent drops.
 */
async function silentDrops(input, formats, what) {
  const frames = (await probe(input)).frameCount;
  assert.ok(frames > 1, `${what} is animated (${frames} frames)`);
  const silent = [];
  for (const format of formats) {
    const r = await optimize(input, format === 'original' ? {} : { format });
    const pages = (await sharp(Buffer.from(r.bytes), { animated: true }).metadata()).pages ?? 1;
    if (pages !== frames && !r.warnings.some((w) => /frame|anim/i.test(w))) {
      silent.push(`${what} -> ${format} (${r.format}): ${frames} frames became ${pages}, warnings ${JSON.stringify(r.warnings)}`);
    }
  }
  return silent;
}

describe('animated inputs', () => {
  it('animated GIF -> first frame, same as sharp\'s page 0', async () => {
    const input = fixture('comment_after_last_frame.gif');
    const r = await optimize(input, { format: 'png' });
    assertClose(await rgba(r.bytes), await rgba(input), 0.5, 'first frame');
  });

  it('animated GIF -> every format: frames kept or a warning', async () => {
    const silent = await silentDrops(fixture('comment_after_last_frame.gif'), ['original', 'png', 'webp', 'jpeg'], 'comment_after_last_frame.gif');
    assert.deepEqual(silent, []);
  });

  it('animated WebP (made by sharp), default options: frames kept or a warning', async () => {
    // two 32x32 frames (hopper, then hopper upside down) stacked -> a 2-page animated WebP
    const frame = await sharp(fixture('hopper.png')).resize(32).raw().toBuffer();
    const flipped = await sharp(frame, { raw: { width: 32, height: 32, channels: 3 } }).flip().raw().toBuffer();
    const webp = new Uint8Array(
      await sharp(Buffer.concat([frame, flipped]), { raw: { width: 32, height: 64, channels: 3, pageHeight: 32 } })
        .webp({ lossless: true, loop: 0, delay: [100, 100] })
        .toBuffer(),
    );
    assert.equal((await meta(webp)).pages, 2, 'the test input is animated');
    assert.deepEqual(await silentDrops(webp, ['original', 'png'], 'animated WebP'), []);
  });
});

describe('animated inputs from the corpus', { skip: !hasCorpus && 'no ../shared/corpus' }, () => {
  it('chi.gif (31 frames), iss634.webp (42), apng/delay.png (4): frames kept or a warning', async () => {
    const silent = [];
    for (const rel of ['formats/chi.gif', 'formats/iss634.webp', 'formats/apng/delay.png']) {
      silent.push(...(await silentDrops(corpusFile(rel), ['original', 'webp'], rel)));
    }
    assert.deepEqual(silent, []);
  });
});
