// AVIF encoder choice in Node, where there is no WebCodecs: `avifEncoder` is accepted and
// every value ends in libaom (wasm), with a warning only when WebCodecs was demanded. Also the
// exports behind the browser's WebCodecs path (render, scorePixels, avifFromAv1: the last two
// are in the plus and full modules only), checked with sharp (libheif) as an independent AVIF
// decoder.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { optimize, MediaslimError } from 'mediaslim';
import { fixture, rgba } from './_helpers.mjs';

const PKG = new URL('../../pkg/wasm/', import.meta.url);
const core = await import(new URL('mediaslim_core.js', PKG).href);
core.initSync({ module: readFileSync(new URL('mediaslim_core_bg.wasm', PKG)) });
// Scoring (cargo feature `score`) is in the full module only; the core says NOT_BUILT.
const full = await import(new URL('mediaslim_full.js', PKG).href);
full.initSync({ module: readFileSync(new URL('mediaslim_full_bg.wasm', PKG)) });

describe('avifEncoder in Node', () => {
  it('auto and wasm use libaom (wasm) silently; webcodecs falls back with the reason', async () => {
    const photo = fixture('skimage-rocket.jpg');
    for (const avifEncoder of [undefined, 'auto', 'wasm']) {
      const out = await optimize(photo, { format: 'avif', width: 120, avifEncoder });
      assert.equal(out.encoder, 'libaom', `${avifEncoder}`);
      assert.deepEqual(out.warnings, [], `${avifEncoder}`);
      assert.equal((await sharp(out.bytes).metadata()).width, 120);
    }
    const demanded = await optimize(photo, { format: 'avif', width: 120, avifEncoder: 'webcodecs' });
    assert.equal(demanded.encoder, 'libaom');
    assert.equal(demanded.warnings.length, 1, demanded.warnings.join('; '));
    assert.match(demanded.warnings[0], /avifEncoder "webcodecs": this runtime has no WebCodecs VideoEncoder; encoded with libaom/);
  });

  it('only AVIF results name an encoder, and a wrong value is refused by name', async () => {
    const webp = await optimize(fixture('hopper.png'), { format: 'webp', avifEncoder: 'webcodecs' });
    assert.equal(webp.encoder, undefined);
    assert.deepEqual(webp.warnings, []);
    await assert.rejects(
      optimize(fixture('hopper.png'), { format: 'avif', avifEncoder: 'gpu' }),
      (e) => e instanceof MediaslimError && e.code === 'INVALID_OPTION' && /avifEncoder/.test(e.message) && /webcodecs/.test(e.message),
    );
  });
});

/** The colour item's av1C box: profile, bit depth, monochrome and chroma subsampling. */
function av1Config(bytes) {
  const at = Buffer.from(bytes).indexOf('av1C');
  assert.ok(at > 0, 'an av1C box');
  const b1 = bytes[at + 5], b2 = bytes[at + 6];
  return { profile: b1 >> 5, depth: b2 & 0x40 ? 10 : 8, monochrome: !!(b2 & 0x10), subsampling: [(b2 >> 3) & 1, (b2 >> 2) & 1] };
}

describe('AVIF from libaom in wasm', () => {
  it('8-bit 4:2:0 below quality 90, 4:4:4 from 90 or when asked; each decodes at its size and scores by quality', async () => {
    const photo = fixture('skimage-rocket.jpg');
    // The pixels every output was encoded from (our resize, losslessly), as sharp decodes them.
    const ref = await rgba((await optimize(photo, { format: 'png', width: 200, neverBigger: false })).bytes);
    const runs = [
      [{ quality: 60 }, 0, [1, 1]],
      [{ quality: 92 }, 1, [0, 0]],
      [{ quality: 60, chromaSubsampling: '4:4:4' }, 1, [0, 0]],
      [{ quality: 92, chromaSubsampling: '4:2:0' }, 0, [1, 1]],
    ];
    const scores = {};
    for (const [opts, profile, subsampling] of runs) {
      const out = await optimize(photo, { format: 'avif', width: 200, neverBigger: false, score: true, ...opts });
      assert.equal(out.encoder, 'libaom');
      assert.deepEqual(av1Config(out.bytes), { profile, depth: 8, monochrome: false, subsampling }, JSON.stringify(opts));
      // sharp (libheif and its AV1 decoder) reads it back at the asked size, and its decode
      // scores what our encoder's reconstruction scored (the `score` of `quality: 'auto'`).
      const back = await rgba(out.bytes);
      assert.deepEqual([back.width, back.height], [ref.width, ref.height]);
      const independent = full.scorePixels(ref.data, back.data, ref.width, ref.height);
      assert.ok(Math.abs(independent - out.score) < 3, `${JSON.stringify(opts)}: reconstruction scored ${out.score}, sharp's decode ${independent}`);
      scores[JSON.stringify(opts)] = independent;
    }
    assert.ok(scores['{"quality":92}'] > scores['{"quality":60}'] + 10, JSON.stringify(scores));
  });

  it('alpha travels as a monochrome auxiliary image', async () => {
    const out = await optimize(fixture('transparent.png'), { format: 'avif', width: 100, neverBigger: false });
    const boxes = [];
    for (let at = Buffer.from(out.bytes).indexOf('av1C'); at > 0; at = Buffer.from(out.bytes).indexOf('av1C', at + 4)) boxes.push(av1Config(out.bytes.subarray(at - 4)));
    assert.equal(boxes.length, 2, 'colour and alpha items');
    assert.ok(boxes.some((b) => b.monochrome), JSON.stringify(boxes));
    const m = await sharp(out.bytes).metadata();
    assert.deepEqual([m.width, m.height, m.hasAlpha], [100, 75, true]);
  });
});

describe('core exports for the WebCodecs path', () => {
  it('render() gives the pixels an output would be encoded from', async () => {
    const png = fixture('transparent.png');
    const r = core.render(png, JSON.stringify({ format: 'avif', width: 100 }));
    assert.deepEqual([r.width, r.height, r.rgba.length], [100, 75, 100 * 75 * 4]);
    assert.equal(r.hasAlpha, true);
    assert.deepEqual(r.warnings, []);
    assert.ok(r.timings.decode >= 0 && r.timings.resize >= 0);
    // The same pixels as a lossless PNG of the same job (visible pixels; oxipng may change
    // colours under alpha 0).
    const lossless = await optimize(png, { format: 'png', width: 100, neverBigger: false });
    const back = await sharp(lossless.bytes).ensureAlpha().raw().toBuffer();
    let differ = 0;
    for (let i = 0; i < back.length; i += 4) if (back[i + 3] !== 0 && back.compare(Buffer.from(r.rgba.subarray(i, i + 4)), 0, 4, i, i + 4) !== 0) differ++;
    assert.equal(differ, 0);
    const opaque = core.render(fixture('hopper.jpg'), '{"format":"avif"}');
    assert.equal(opaque.hasAlpha, false);
    assert.throws(() => core.render(png, '{"quality":0}'), (e) => e.code === 'INVALID_OPTION');
    assert.throws(() => core.render(fixture('random.bin'), '{}'), (e) => e.code === 'UNSUPPORTED_FORMAT');
  });

  it('scorePixels() is 100 for identical pixels, lower for noise, and checks sizes', () => {
    const { width, height, rgba } = core.render(fixture('hopper.jpg'), '{"width":64}');
    assert.throws(() => core.scorePixels(rgba, rgba, width, height), (e) => e.code === 'NOT_BUILT', 'the core has no scorer');
    assert.ok(Math.abs(full.scorePixels(rgba, rgba, width, height) - 100) < 0.01);
    const noisy = rgba.map((v, i) => (i % 4 === 3 ? v : Math.min(255, v + ((i * 7919) % 17))));
    const s = full.scorePixels(rgba, noisy, width, height);
    assert.ok(s < 90, `${s}`);
    assert.throws(() => full.scorePixels(rgba, rgba.subarray(4), width, height), (e) => e.code === 'INVALID_OPTION');
  });

  it("avifFromAv1() wraps Chromium's WebCodecs AV1 frames into an AVIF that libheif decodes", async () => {
    // tests/fixtures/make-av1.mjs: transparent.png at 67x51 through Chromium's VideoEncoder.
    const meta = JSON.parse(readFileSync(new URL('../fixtures/av1-webcodecs.json', import.meta.url), 'utf8'));
    const color = fixture('av1-webcodecs-color.obu');
    const alpha = fixture('av1-webcodecs-alpha.obu');
    const bytes = full.avifFromAv1(color, alpha, meta.width, meta.height, JSON.stringify(meta.colorSpace), undefined);
    assert.equal(Buffer.from(bytes.subarray(4, 12)).toString('latin1'), 'ftypavif');
    const info = await sharp(bytes).metadata();
    assert.deepEqual([info.width, info.height, info.hasAlpha], [67, 51, true]);
    // Decoded, it looks like the source drawn at that size (alpha included).
    const { data } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const source = await sharp(fixture('transparent.png')).resize(67, 51, { fit: 'fill' }).ensureAlpha().raw().toBuffer();
    let alphaErr = 0;
    for (let i = 3; i < data.length; i += 4) alphaErr += Math.abs(data[i] - source[i]);
    assert.ok(alphaErr / (67 * 51) < 12, `mean alpha error ${alphaErr / (67 * 51)}`);
    // Colour only, no colour space: taken from the bitstream.
    const plain = full.avifFromAv1(color, undefined, 67, 51, undefined, undefined);
    assert.equal((await sharp(plain).metadata()).hasAlpha, false);
    // A size that is not the frame's, or bytes that are not AV1, are errors (not traps).
    assert.throws(() => full.avifFromAv1(color, undefined, 68, 51, undefined, undefined), (e) => e.code === 'INVALID_OPTION' && /67x51/.test(e.message));
    assert.throws(() => full.avifFromAv1(fixture('hopper.jpg'), undefined, 67, 51, undefined, undefined), (e) => e.code === 'CORRUPT_INPUT');
    assert.throws(() => full.avifFromAv1(color, undefined, 67, 51, '{"matrix":"xyz"}', undefined), (e) => e.code === 'INVALID_OPTION');
    // A member this build does not know (a later VideoColorSpaceInit) is ignored, as serde does
    // for a struct without deny_unknown_fields; options objects still refuse theirs (errors.test).
    const later = full.avifFromAv1(color, undefined, 67, 51, JSON.stringify({ ...meta.colorSpace, hdrMetadata: 'x' }), undefined);
    assert.equal((await sharp(later).metadata()).width, 67);
  });
});
