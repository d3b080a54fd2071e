// Every decodable fixture x every output format: sharp must decode what we write, agree
// with the format and size we report, and see (nearly) the picture sharp sees in the source.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { optimize } from 'mediaslim';
import { fixture, rgba, meta, diff, assertClose, assertSamePixels, sniff, sameBytes, SHARP_FORMAT } from './_helpers.mjs';

// Per fixture: its format, whether it has (real) transparency, whether a lossless output
// must reproduce sharp's decode exactly, `extra` tolerance (mean abs error per channel,
// 0-255) for colour conversions that legitimately differ between colour engines, and the
// file sharp decodes as the reference (sharp has no BMP reader; hopper.bmp holds the same
// pixels as hopper.png).
const FIXTURES = {
  'hopper.jpg': { format: 'jpeg' },
  'hopper_orientation_2.jpg': { format: 'jpeg' },
  'hopper_orientation_3.jpg': { format: 'jpeg' },
  'hopper_orientation_4.jpg': { format: 'jpeg' },
  'hopper_orientation_5.jpg': { format: 'jpeg' },
  'hopper_orientation_6.jpg': { format: 'jpeg' },
  'hopper_orientation_7.jpg': { format: 'jpeg' },
  'hopper_orientation_8.jpg': { format: 'jpeg' },
  'progressive.jpg': { format: 'jpeg' },
  'hopper_gray.jpg': { format: 'jpeg' },
  'pil_sample_cmyk.jpg': { format: 'jpeg', extra: 7 }, // no profile: libvips assumes SWOP
  'flower2.jpg': { format: 'jpeg', extra: 1 },
  'skimage-rocket.jpg': { format: 'jpeg', extra: 1 },
  'display-p3.jpg': { format: 'jpeg', extra: 1 },
  'hopper.png': { format: 'png', exact: true },
  'p_16.png': { format: 'png', exact: true },
  'pil123rgba.png': { format: 'png', exact: true, alpha: true },
  'transparent.png': { format: 'png', exact: true, alpha: true },
  'tiff_16bit_RGBa_target.png': { format: 'png', extra: 1, alpha: true },
  'icc_profile.png': { format: 'png', extra: 1 },
  'hopper.webp': { format: 'webp', exact: true, lossy: true },
  'lossless.webp': { format: 'webp', exact: true },
  'alpha-lossless.webp': { format: 'webp', exact: true, alpha: true },
  'transparent.webp': { format: 'webp', exact: true, alpha: true, lossy: true },
  'hopper.gif': { format: 'gif', exact: true },
  'comment_after_last_frame.gif': { format: 'gif', exact: true },
  'hopper.bmp': { format: 'bmp', exact: true, reference: 'hopper.png' },
};
const LOSSLESS_TOL = 0.6; // rounding in our 8-bit pipeline, nothing more

const cache = new Map();
function memo(key, make) {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key);
}
const refBytes = (name) => fixture(FIXTURES[name].reference ?? name);
/** sharp's decode of the source: oriented, in sRGB, optionally resized and flattened. */
function reference(name, { resize, flatten } = {}) {
  return memo(`ref|${name}|${JSON.stringify(resize)}|${flatten}`, () => rgba(refBytes(name), { resize, flatten }));
}
/**
 * What sharp itself loses encoding the same picture in `format` at the same quality: our
 * lossy outputs must not be much worse than that.
 */
function sharpLoss(name, format, { resize, flatten } = {}) {
  return memo(`loss|${name}|${format}|${JSON.stringify(resize)}|${flatten}`, async () => {
    const src = await rgba(refBytes(name), { resize });
    let img = sharp(src.data, { raw: { width: src.width, height: src.height, channels: 4 } });
    if (flatten) img = img.flatten({ background: flatten });
    img = format === 'jpeg' ? img.jpeg({ quality: 80 }) : format === 'webp' ? img.webp({ quality: 80 }) : img.avif({ quality: 60 });
    const out = await rgba(await img.toBuffer());
    return diff(out, await reference(name, { resize, flatten }));
  });
}
function assertLossy(ours, theirs, extra, what) {
  for (let c = 0; c < 4; c++) {
    const limit = theirs.mae[c] * 1.5 + 1.5 + extra;
    assert.ok(ours.mae[c] <= limit, `${what}: channel ${'RGBA'[c]} ${ours.text} vs sharp's own encode ${theirs.text} (limit ${limit.toFixed(2)})`);
  }
}

/** The checks every output gets: format, magic bytes, sharp's view, reported size. */
async function checkOutput(r, input, want) {
  assert.equal(r.format, want.format, 'reported format');
  assert.deepEqual([r.width, r.height], [want.w, want.h], 'reported width x height');
  assert.equal(r.originalBytes, input.byteLength, 'originalBytes');
  assert.ok(r.bytes instanceof Uint8Array, 'bytes is a Uint8Array');
  assert.ok(Array.isArray(r.warnings), 'warnings is an array');
  for (const stage of ['decode', 'resize', 'encode']) {
    assert.ok(Number.isFinite(r.timings[stage]) && r.timings[stage] >= 0, `timings.${stage} = ${r.timings[stage]}`);
  }
  assert.equal(sniff(r.bytes), want.format, 'magic bytes match the reported format');
  const m = await meta(r.bytes);
  assert.equal(m.format, SHARP_FORMAT[want.format], 'sharp sees the format');
  if (want.format === 'avif') assert.equal(m.compression, 'av1');
  assert.deepEqual([m.width, m.height], [want.w, want.h], "sharp's width x height");
  if (r.keptOriginal) {
    assert.ok(sameBytes(r.bytes, input), 'keptOriginal returns the input bytes');
  } else if (want.sameAsSource) {
    // neverBigger (default): same format and size, not kept -> strictly smaller.
    assert.ok(r.bytes.length < input.byteLength, `not kept, so smaller: ${r.bytes.length} B vs input ${input.byteLength} B`);
  }
  return m;
}

describe('round trip at the original size', () => {
  for (const [name, fx] of Object.entries(FIXTURES)) {
    for (const format of ['png', 'webp', 'jpeg', 'original']) {
      it(`${name} -> ${format}`, async () => {
        const input = fixture(name);
        const r = await optimize(input, format === 'original' ? {} : { format, lossless: format === 'webp' });
        const want = format !== 'original' ? format : fx.format === 'gif' || fx.format === 'bmp' ? 'png' : fx.format;
        const ref = await reference(name);
        await checkOutput(r, input, { format: want, w: ref.width, h: ref.height, sameAsSource: want === fx.format });
        if (format === 'original' && want !== fx.format) {
          assert.ok(r.warnings.some((w) => w.includes(fx.format.toUpperCase())), `a warning names ${fx.format.toUpperCase()}: ${JSON.stringify(r.warnings)}`);
        }
        const out = await rgba(r.bytes);
        if (format === 'original' && fx.lossy && !r.keptOriginal) {
          // A lossy WebP stays lossy WebP: judged like sharp's own lossy WebP re-encode.
          assertLossy(diff(out, ref), await sharpLoss(name, 'webp'), fx.extra ?? 0, `${name} -> lossy webp`);
        } else if (want === 'jpeg') {
          if (r.keptOriginal) return; // the input itself, checked byte for byte above
          // JPEG has no alpha: compare with the source flattened on white (the default).
          const flatten = fx.alpha ? '#ffffff' : undefined;
          const ours = diff(out, await reference(name, { flatten }));
          assertLossy(ours, await sharpLoss(name, 'jpeg', { flatten }), fx.extra ?? 0, `${name} -> jpeg`);
          if (fx.alpha) assert.ok(r.warnings.some((w) => /transparen|alpha|flatten/i.test(w)), `a flattening warning: ${JSON.stringify(r.warnings)}`);
        } else if (fx.exact && !r.keptOriginal) {
          assertSamePixels(out, ref, `${name} -> ${want} (lossless) vs sharp's decode of the source`);
        } else {
          assertClose(out, ref, LOSSLESS_TOL + (fx.extra ?? 0), `${name} -> ${want} vs sharp's decode of the source`);
        }
      });
    }
  }

  it("PNG of hopper.png at its own size equals sharp's decode of hopper.png exactly (raw bytes)", async () => {
    const r = await optimize(fixture('hopper.png'), { format: 'png' });
    const ours = await rgba(r.bytes);
    const theirs = await rgba(fixture('hopper.png'));
    assert.ok(ours.data.equals(theirs.data), `max diff ${diff(ours, theirs).max}`);
  });

  it('the similarity checks can fail: JPEG quality 1 is far from the source, quality 95 close', async () => {
    const ref = await reference('skimage-rocket.jpg');
    const lo = await optimize(fixture('skimage-rocket.jpg'), { format: 'jpeg', quality: 1 });
    const hi = await optimize(fixture('skimage-rocket.jpg'), { format: 'jpeg', quality: 95, neverBigger: false });
    const dl = diff(await rgba(lo.bytes), ref), dh = diff(await rgba(hi.bytes), ref);
    const sharpQ80 = await sharpLoss('skimage-rocket.jpg', 'jpeg');
    assert.throws(() => assertLossy(dl, sharpQ80, 1, 'q1'), 'quality 1 must fail the lossy check');
    assert.ok(dh.worst < dl.worst / 2, `q95 (${dh.text}) much closer than q1 (${dl.text})`);
    assert.ok(hi.bytes.length > lo.bytes.length * 3, `q95 ${hi.bytes.length} B vs q1 ${lo.bytes.length} B`);
  });

  it('pil_sample_cmyk.jpg (CMYK) looks like pil_sample_rgb.jpg (the same scene in RGB)', async () => {
    const r = await optimize(fixture('pil_sample_cmyk.jpg'), { format: 'png' });
    const out = await rgba(r.bytes);
    // An inverted or channel-swapped CMYK conversion is off by ~100 levels.
    assertClose(out, await rgba(fixture('pil_sample_rgb.jpg')), 8, 'CMYK vs RGB version');
  });
});

describe('round trip resized to width 64', () => {
  for (const [name, fx] of Object.entries(FIXTURES)) {
    if (name === 'comment_after_last_frame.gif') continue; // 1 px wide: never upscaled
    for (const format of ['png', 'webp', 'jpeg']) {
      it(`${name} -> ${format}`, async () => {
        const input = fixture(name);
        const src = await reference(name);
        // Never upscaled by default: narrower sources keep their size.
        const w = Math.min(64, src.width), h = w === src.width ? src.height : Math.round((src.height * 64) / src.width);
        const r = await optimize(input, { format, width: 64, lossless: format === 'webp' });
        if (w !== src.width) assert.equal(r.keptOriginal, false, 'a resize never keeps the original');
        await checkOutput(r, input, { format, w, h });
        const resize = { width: w, height: h, fit: 'fill' };
        const flatten = format === 'jpeg' && fx.alpha ? '#ffffff' : undefined;
        const ours = diff(await rgba(r.bytes), await reference(name, { resize, flatten }));
        // Our resampler and libvips' disagree by a level or two, more on hard edges.
        const extra = (fx.extra ?? 0) + (fx.alpha ? 4 : 2);
        if (format === 'jpeg') assertLossy(ours, await sharpLoss(name, 'jpeg', { resize, flatten }), extra, `${name} -> jpeg at 64 px`);
        else assert.ok(ours.worst < LOSSLESS_TOL + extra, `${name} -> ${format} at 64 px vs sharp's resize: ${ours.text}`);
      });
    }
  }
});

describe('AVIF output (small images)', () => {
  for (const [name, width] of [['hopper.png', 128], ['transparent.png', 128], ['display-p3.jpg', 100], ['hopper_gray.jpg', 96], ['hopper_orientation_6.jpg', 64]]) {
    it(`${name} -> avif, width ${width}`, async () => {
      const input = fixture(name);
      const src = await reference(name);
      const h = Math.round((src.height * width) / src.width);
      const r = await optimize(input, { format: 'avif', width });
      const m = await checkOutput(r, input, { format: 'avif', w: width, h });
      const resize = { width, height: h, fit: 'fill' };
      const ours = diff(await rgba(r.bytes), await reference(name, { resize }));
      const theirs = await sharpLoss(name, 'avif', { resize });
      for (let c = 0; c < 4; c++) {
        const limit = theirs.mae[c] * 2 + 3 + (FIXTURES[name].extra ?? 0);
        assert.ok(ours.mae[c] <= limit, `${name} -> avif: ${ours.text} vs sharp's AVIF ${theirs.text}`);
      }
      if (name === 'transparent.png') assert.equal(m.hasAlpha, true, 'AVIF keeps alpha');
    });
  }

  it('AVIF quality changes size and fidelity', async () => {
    const input = fixture('hopper.png');
    const lo = await optimize(input, { format: 'avif', width: 96, quality: 10 });
    const hi = await optimize(input, { format: 'avif', width: 96, quality: 90 });
    assert.ok(hi.bytes.length > lo.bytes.length, `q90 ${hi.bytes.length} B > q10 ${lo.bytes.length} B`);
    const ref = await reference('hopper.png', { resize: { width: 96, height: 96, fit: 'fill' } });
    const dl = diff(await rgba(lo.bytes), ref), dh = diff(await rgba(hi.bytes), ref);
    assert.ok(dh.worst < dl.worst, `q90 (${dh.text}) closer to the source than q10 (${dl.text})`);
  });
});
