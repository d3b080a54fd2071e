// Lossy WebP (libwebp compiled into our wasm): sizes and fidelity next to sharp's libwebp,
// alpha, metadata chunks, lossless on request, and which mode `original` keeps.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { optimize, MediaslimError } from 'mediaslim';

const fixture = (name) => new Uint8Array(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));
const chunkOf = (bytes) => Buffer.from(bytes).toString('latin1', 12, 16);
const hasChunk = (bytes, tag) => Buffer.from(bytes).includes(Buffer.from(tag, 'latin1'));

async function meanAbsDiff(a, b) {
  const [x, y] = await Promise.all([a, b].map((i) => sharp(i).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
  assert.deepEqual([x.info.width, x.info.height], [y.info.width, y.info.height]);
  let sum = 0;
  for (let i = 0; i < x.data.length; i++) sum += Math.abs(x.data[i] - y.data[i]);
  return sum / x.data.length;
}

describe('lossy WebP', () => {
  it('is the default for WebP output, and matches libwebp (sharp) in bytes and fidelity', async () => {
    for (const name of ['skimage-rocket.jpg', 'flower2.jpg', 'hopper.png']) {
      const input = fixture(name);
      const ours = await optimize(input, { format: 'webp', quality: 80, neverBigger: false });
      assert.equal(chunkOf(ours.bytes), 'VP8 ', `${name}: a lossy bitstream`);
      const theirs = await sharp(input).webp({ quality: 80 }).toBuffer();
      const ratio = ours.bytes.length / theirs.length;
      assert.ok(ratio > 0.9 && ratio < 1.1, `${name}: ${ours.bytes.length} B vs sharp ${theirs.length} B`);
      const [dOurs, dTheirs] = await Promise.all([meanAbsDiff(ours.bytes, input), meanAbsDiff(theirs, input)]);
      assert.ok(dOurs < dTheirs * 1.3 + 0.5, `${name}: mean error ${dOurs.toFixed(2)} vs sharp's ${dTheirs.toFixed(2)}`);
    }
  });

  it('quality and effort change the output the right way', async () => {
    const input = fixture('flower2.jpg');
    const sizes = [];
    for (const quality of [30, 60, 90]) sizes.push((await optimize(input, { format: 'webp', quality, neverBigger: false })).bytes.length);
    assert.ok(sizes[0] < sizes[1] && sizes[1] < sizes[2], `bytes rise with quality: ${sizes}`);
    const fast = await optimize(input, { format: 'webp', effort: 0, neverBigger: false });
    const slow = await optimize(input, { format: 'webp', effort: 10, neverBigger: false });
    assert.ok(slow.bytes.length <= fast.bytes.length, `effort 10 (${slow.bytes.length} B) <= effort 0 (${fast.bytes.length} B)`);
    const sharpYuv = await optimize(input, { format: 'webp', sharpYuv: true, neverBigger: false });
    assert.notDeepEqual(sharpYuv.bytes, (await optimize(input, { format: 'webp', neverBigger: false })).bytes);
  });

  it('keeps alpha, with alphaQuality', async () => {
    const input = fixture('transparent.png');
    const r = await optimize(input, { format: 'webp', width: 120 });
    assert.ok(hasChunk(r.bytes, 'ALPH'), 'an alpha chunk');
    const m = await sharp(r.bytes).metadata();
    assert.equal(m.hasAlpha, true);
    const low = await optimize(input, { format: 'webp', width: 120, alphaQuality: 10 });
    assert.ok(low.bytes.length < r.bytes.length, 'lower alpha quality, fewer bytes');
  });

  it('carries ICC and EXIF with keepMetadata (VP8X container)', async () => {
    const p3 = fixture('display-p3.jpg');
    const r = await optimize(p3, { format: 'webp', keepMetadata: true, width: 200 });
    assert.equal(chunkOf(r.bytes), 'VP8X');
    const m = await sharp(r.bytes).metadata();
    assert.ok(m.icc, 'ICC profile present');
    assert.equal(m.width, 200);
    const withExif = await optimize(fixture('hopper_orientation_6.jpg'), { format: 'webp', keepMetadata: true });
    const e = await sharp(withExif.bytes).metadata();
    assert.ok(e.exif, 'EXIF present');
    assert.equal(e.orientation ?? 1, 1, 'orientation reset');
  });

  it('lossless on request; `original` keeps the source mode', async () => {
    const png = fixture('hopper.png');
    const lossless = await optimize(png, { format: 'webp', lossless: true });
    assert.equal(chunkOf(lossless.bytes), 'VP8L');
    const keptLossless = await optimize(fixture('lossless.webp'), { neverBigger: false });
    assert.equal(chunkOf(keptLossless.bytes), 'VP8L', 'a lossless WebP stays lossless');
    const keptLossy = await optimize(fixture('hopper.webp'), { neverBigger: false });
    assert.equal(chunkOf(keptLossy.bytes), 'VP8 ', 'a lossy WebP stays lossy');
    await assert.rejects(optimize(png, { format: 'jpeg', lossless: true }), (e) => e instanceof MediaslimError && e.code === 'INVALID_OPTION' && /lossless/.test(e.message));
  });
});
