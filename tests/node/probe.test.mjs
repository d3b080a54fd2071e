// probe(): header facts, checked against sharp's metadata and against optimize().
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { optimize, probe } from 'mediaslim';
import { fixture, corpusFile, hasCorpus, CORPUS, meta, rejectsWith } from './_helpers.mjs';

const DECODABLE = [
  'hopper.jpg', 'hopper_orientation_2.jpg', 'hopper_orientation_5.jpg', 'hopper_orientation_6.jpg', 'hopper_orientation_8.jpg',
  'progressive.jpg', 'hopper_gray.jpg', 'pil_sample_cmyk.jpg', 'flower2.jpg', 'skimage-rocket.jpg', 'display-p3.jpg',
  'hopper.png', 'p_16.png', 'pil123rgba.png', 'transparent.png', 'tiff_16bit_RGBa_target.png', 'icc_profile.png',
  'hopper.webp', 'lossless.webp', 'alpha-lossless.webp', 'transparent.webp', 'hopper.gif', 'comment_after_last_frame.gif',
];
const KEYS = ['format', 'width', 'height', 'orientation', 'hasAlpha', 'animated', 'frameCount', 'hasIccProfile', 'storedWidth', 'storedHeight'];

describe('probe', () => {
  for (const name of DECODABLE) {
    it(`${name}: agrees with sharp and with optimize`, async () => {
      const input = fixture(name);
      const p = await probe(input);
      assert.deepEqual(Object.keys(p).sort(), [...KEYS].sort(), 'exactly the documented fields');
      const m = await sharp(input, { animated: true }).metadata();
      assert.equal(p.format, m.format);
      const pageHeight = m.pageHeight ?? m.height;
      assert.deepEqual([p.storedWidth, p.storedHeight], [m.width, pageHeight], 'stored size');
      assert.equal(p.orientation, m.orientation ?? 1);
      const swap = p.orientation >= 5;
      assert.deepEqual([p.width, p.height], swap ? [pageHeight, m.width] : [m.width, pageHeight], 'displayed size');
      assert.equal(p.hasIccProfile, !!m.icc, 'hasIccProfile');
      if (m.hasAlpha) assert.equal(p.hasAlpha, true, 'sharp sees alpha, so must probe');
      assert.equal(p.frameCount, m.pages ?? 1, 'frameCount');
      assert.equal(p.animated, p.frameCount > 1);
      const r = await optimize(input, { format: 'png', neverBigger: false });
      assert.deepEqual([r.width, r.height], [p.width, p.height], 'optimize at default size has the probed size');
    });
  }

  it('orientation 6 on a non-square image: displayed size is the stored size swapped', async () => {
    const input = new Uint8Array(await sharp(fixture('skimage-rocket.jpg')).resize(160, 107, { fit: 'fill' }).jpeg().withMetadata({ orientation: 6 }).toBuffer());
    const p = await probe(input);
    assert.equal(p.orientation, 6);
    assert.deepEqual([p.storedWidth, p.storedHeight, p.width, p.height], [160, 107, 107, 160]);
  });

  it('hopper_orientation_6.jpg: orientation 6, square so the size is unchanged', async () => {
    const p = await probe(fixture('hopper_orientation_6.jpg'));
    assert.deepEqual([p.orientation, p.width, p.height, p.storedWidth, p.storedHeight], [6, 128, 128, 128, 128]);
  });

  it('alpha: transparent.png, transparent.webp have it; hopper.jpg does not', async () => {
    assert.equal((await probe(fixture('transparent.png'))).hasAlpha, true);
    assert.equal((await probe(fixture('transparent.webp'))).hasAlpha, true);
    assert.equal((await probe(fixture('alpha-lossless.webp'))).hasAlpha, true);
    assert.equal((await probe(fixture('hopper.jpg'))).hasAlpha, false);
    assert.equal((await probe(fixture('hopper.png'))).hasAlpha, false);
  });

  it('animated GIF: comment_after_last_frame.gif has 2 frames', async () => {
    const p = await probe(fixture('comment_after_last_frame.gif'));
    assert.equal(p.format, 'gif');
    assert.equal(p.animated, true);
    assert.equal(p.frameCount, 2);
    const still = await probe(fixture('hopper.gif'));
    assert.deepEqual([still.animated, still.frameCount], [false, 1]);
  });

  it('BMP', async () => {
    const p = await probe(fixture('hopper.bmp'));
    assert.deepEqual([p.format, p.width, p.height, p.animated, p.frameCount], ['bmp', 128, 128, false, 1]);
  });

  it('accepts Uint8Array, ArrayBuffer, Buffer and Blob alike', async () => {
    const bytes = fixture('hopper_orientation_6.jpg');
    const want = await probe(bytes);
    const copy = bytes.slice();
    assert.deepEqual(await probe(copy.buffer), want, 'ArrayBuffer');
    assert.deepEqual(await probe(Buffer.from(bytes)), want, 'Buffer');
    assert.deepEqual(await probe(new Blob([bytes])), want, 'Blob');
    assert.deepEqual(await probe(new File([bytes], 'x.jpg', { type: 'image/jpeg' })), want, 'File');
    // and a Uint8Array view into a bigger buffer
    const padded = new Uint8Array(bytes.length + 100);
    padded.set(bytes, 50);
    assert.deepEqual(await probe(padded.subarray(50, 50 + bytes.length)), want, 'offset view');
  });

  it('a large Blob is probed from its first 256 KB only', async () => {
    // ~480 KB noisy JPEG with orientation 6 (700x500 stored)
    const big = await sharp({ create: { width: 700, height: 500, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    assert.ok(big.length > 300 * 1024, `test input is ${big.length} B`);
    const blob = new Blob([big]);
    const sliced = [];
    const realSlice = blob.slice.bind(blob);
    blob.slice = (start, end, type) => { sliced.push([start, end]); return realSlice(start, end, type); };
    blob.arrayBuffer = () => Promise.reject(new Error('probe read the whole Blob'));
    blob.stream = () => { throw new Error('probe streamed the whole Blob'); };
    blob.text = () => Promise.reject(new Error('probe read the whole Blob'));
    const p = await probe(blob);
    assert.deepEqual([p.format, p.width, p.height, p.orientation], ['jpeg', 500, 700, 6]);
    assert.ok(sliced.length > 0 && sliced.every(([s, e]) => e - (s ?? 0) <= 256 * 1024), `slices read: ${JSON.stringify(sliced)}`);
  });

  it('optimize accepts a Blob too', async () => {
    const r = await optimize(new Blob([fixture('hopper.jpg')]), { format: 'png' });
    assert.deepEqual([r.format, r.width, r.height], ['png', 128, 128]);
    assert.equal((await meta(r.bytes)).format, 'png');
  });

  it('the 100000 x 100000 PNG bomb: probe answers from the header, fast (dimensions or TOO_LARGE)', async () => {
    await probe(fixture('hopper.png')); // warm up
    const t = performance.now();
    let p, err;
    try { p = await probe(fixture('bomb-100000x100000.png')); } catch (e) { err = e; }
    assert.ok(performance.now() - t < 200, 'fast');
    if (p) assert.deepEqual([p.width, p.height], [100000, 100000]);
    else assert.equal(err.code, 'TOO_LARGE', err.message);
  });

  it('not images: random.bin and zip-renamed.jpg', async () => {
    await rejectsWith(probe(fixture('random.bin')), 'UNSUPPORTED_FORMAT');
    await rejectsWith(probe(fixture('zip-renamed.jpg')), 'UNSUPPORTED_FORMAT', /zip/i);
    await rejectsWith(probe(new Uint8Array(0)), 'UNSUPPORTED_FORMAT');
    await rejectsWith(probe('hopper.jpg'), 'INVALID_OPTION', /input/);
  });
});

describe('probe on the corpus', { skip: !hasCorpus && 'no ../shared/corpus' }, () => {
  it('animated GIFs and WebPs: frameCount matches sharp\'s page count', async () => {
    const dir = fileURLToPath(new URL('formats/', CORPUS));
    const names = readdirSync(dir).filter((f) => /\.(gif|webp)$/i.test(f));
    let animated = 0;
    for (const name of names) {
      const input = corpusFile(`formats/${name}`);
      let m, p;
      try { m = await sharp(input, { animated: true }).metadata(); } catch { continue; }
      try { p = await probe(input); } catch { continue; }
      assert.equal(p.frameCount, m.pages ?? 1, `${name}: frameCount`);
      assert.equal(p.animated, (m.pages ?? 1) > 1, `${name}: animated`);
      if (p.animated) animated++;
    }
    assert.ok(animated >= 20, `${animated} animated files checked`);
  });

  it('a big ICC profile (> 256 KB of header) in a Blob still probes', async () => {
    const input = corpusFile('formats/icc_profile_big.jpg');
    const m = await meta(input);
    const p = await probe(new Blob([input]));
    assert.deepEqual([p.width, p.height, p.hasIccProfile], [m.width, m.height, true]);
  });
});
