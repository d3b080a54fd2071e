// `quality: 'auto'`, `maxBytes` and `format: 'auto'` through the public API in Node (the wasm
// build, in the worker pool). Outputs are decoded by sharp (libvips) and re-scored against a
// lossless render of the same resize, so the reported score is not taken on trust.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { compare, optimize, MediaslimError } from 'mediaslim';
import { fixture } from './_helpers.mjs';

async function rescore(input, width, out) {
  const reference = await optimize(input, { width, format: 'png', neverBigger: false });
  return compare(reference.bytes, out.bytes);
}

describe("quality: 'auto'", () => {
  it('meets each target (re-scored), reports quality, score and encodes, and bytes rise with the target', async () => {
    const photo = fixture('skimage-rocket.jpg');
    for (const format of ['jpeg', 'webp']) {
      let last = 0;
      for (const target of ['medium', 'high', 'max']) {
        const out = await optimize(photo, { width: 320, format, quality: 'auto', target, neverBigger: false });
        const want = { medium: 70, high: 80, max: 90 }[target];
        const score = await rescore(photo, 320, out);
        const unreachable = out.warnings.some((w) => w.includes('not reached'));
        assert.ok(score >= want - 0.01 || (unreachable && out.quality === 100), `${format} ${target}: ${score}`);
        assert.ok(Math.abs(score - out.score) < 0.5, `reported ${out.score}, recomputed ${score}`);
        // WebP falls back to lossless when its 4:2:0 lossy mode cannot reach the target.
        const setting = out.lossless ? format === 'webp' : out.quality >= 1 && out.quality <= 100;
        assert.ok(setting && out.encodes >= 1, JSON.stringify({ q: out.quality, lossless: out.lossless, n: out.encodes }));
        assert.ok(out.bytes.length >= last, `${format}: ${out.bytes.length} < ${last} at ${target}`);
        last = out.bytes.length;
        const meta = await sharp(out.bytes).metadata();
        assert.equal(meta.format, format);
        assert.equal(meta.width, 320);
      }
    }
  });

  it('reaches the target for AVIF too: re-scored after libavif (sharp) decodes it', async () => {
    const photo = fixture('skimage-rocket.jpg');
    const out = await optimize(photo, { width: 200, format: 'avif', quality: 'auto', target: 75, neverBigger: false });
    assert.equal((await sharp(out.bytes).metadata()).format, 'heif');
    const decoded = new Uint8Array(await sharp(out.bytes).png().toBuffer());
    const reference = await optimize(photo, { width: 200, format: 'png', neverBigger: false });
    const score = await compare(reference.bytes, decoded);
    // The core scores libaom's reconstruction, turned to RGB with our own 4:2:0 chroma
    // upsampling (bilinear); libheif's differs, and its decode has scored 0.5-1.2 higher.
    assert.ok(score >= 74.5 && Math.abs(score - out.score) < 2, `reported ${out.score}, libavif-decoded ${score}`);
    const fixed = await optimize(photo, { width: 200, format: 'avif', quality: 50, score: true, neverBigger: false });
    assert.equal(typeof fixed.score, 'number', 'score: true works for AVIF');
  });

  it('refuses unknown targets and qualities with INVALID_OPTION naming the allowed values', async () => {
    const photo = fixture('hopper.jpg');
    await assert.rejects(optimize(photo, { quality: 'best' }), (e) => e instanceof MediaslimError && e.code === 'INVALID_OPTION' && /auto/.test(e.message));
    await assert.rejects(optimize(photo, { quality: 'auto', target: 'ultra' }), (e) => e.code === 'INVALID_OPTION' && /"high"/.test(e.message));
  });
});

describe('maxBytes', () => {
  it('fits the budget by quality first, then by dimensions, and says what it did', async () => {
    const photo = fixture('skimage-rocket.jpg');
    const full = await optimize(photo, { format: 'webp', neverBigger: false });
    const budget = Math.floor(full.bytes.length * 0.6);
    const fitted = await optimize(photo, { format: 'webp', maxBytes: budget, neverBigger: false });
    assert.ok(fitted.bytes.length <= budget, `${fitted.bytes.length} > ${budget}`);
    assert.equal(fitted.width, full.width);
    assert.ok(fitted.warnings.some((w) => /quality lowered/.test(w)), fitted.warnings.join('; '));
    const tiny = await optimize(photo, { format: 'jpeg', maxBytes: 3000, neverBigger: false });
    assert.ok(tiny.bytes.length <= 3000 && tiny.width < full.width);
    assert.equal((await sharp(tiny.bytes).metadata()).width, tiny.width);
    await assert.rejects(optimize(photo, { format: 'jpeg', maxBytes: 40 }), (e) => e.code === 'INVALID_OPTION' && /maxBytes/.test(e.message));
  });
});

describe("format: 'auto'", () => {
  it('picks the smallest accepted format meeting the target, and never JPEG for transparency', async () => {
    const photo = fixture('flower2.jpg');
    const out = await optimize(photo, { width: 320, format: 'auto', accept: ['webp', 'jpeg', 'png'], neverBigger: false });
    assert.ok(['webp', 'jpeg'].includes(out.format), out.format);
    assert.ok((await rescore(photo, 320, out)) >= 79.99);
    const jpegOnly = await optimize(photo, { width: 320, format: 'auto', accept: ['jpeg'], neverBigger: false });
    assert.equal(jpegOnly.format, 'jpeg');
    assert.ok(jpegOnly.bytes.length >= out.bytes.length);

    const transparent = fixture('transparent.png');
    const t = await optimize(transparent, { format: 'auto', accept: ['jpeg', 'webp'] });
    assert.equal(t.format, 'webp');
    const { data, info } = await sharp(t.bytes).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 4);
    assert.ok(data.some((v, i) => i % 4 === 3 && v === 0), 'transparent pixels kept');
  });
});
