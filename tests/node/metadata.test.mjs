// Colour management and metadata: by default EXIF/ICC/XMP are stripped and non-sRGB pixels
// are converted to sRGB; keepMetadata keeps EXIF (orientation reset) and the ICC profile.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { optimize } from 'mediaslim';
import { fixture, rgba, meta, diff, assertClose, sameBytes } from './_helpers.mjs';

const P3 = fixture('display-p3.jpg'); // flower2.jpg's pixels converted to Display P3, tagged
const SECRET = 'mediaslim-secret-gps-51.5N';
const includes = (bytes, text) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(text);

/** A JPEG with a private EXIF text field and an sRGB ICC profile, made by sharp. */
async function jpegWithExif(quality) {
  const b = await sharp(fixture('hopper.png'))
    .jpeg({ quality })
    .withExif({ IFD0: { ImageDescription: SECRET, Copyright: 'someone' } })
    .toBuffer();
  return new Uint8Array(b);
}

describe('colour: Display P3 input', () => {
  it('the fixture is what the tests assume (a P3 profile that matters)', async () => {
    const m = await meta(P3);
    assert.ok(m.icc && m.icc.length > 0, 'display-p3.jpg has an ICC profile');
    const ignoring = diff(await rgba(P3, { ignoreIcc: true }), await rgba(fixture('flower2.jpg')));
    assert.ok(ignoring.worst > 3, `ignoring the profile must be visibly wrong, or this test proves nothing: ${ignoring.text}`);
  });

  for (const format of ['png', 'webp']) {
    it(`default (${format}): converted to sRGB, profile dropped, colours as sharp converts them`, async () => {
      const r = await optimize(P3, { format, lossless: format === 'webp' });
      const m = await meta(r.bytes);
      assert.equal(m.icc, undefined, 'no ICC profile in the output');
      const out = await rgba(r.bytes);
      assertClose(out, await rgba(P3), 1, "vs sharp's P3 -> sRGB conversion");
      assertClose(out, await rgba(fixture('flower2.jpg')), 3, 'vs the sRGB original (flower2.jpg)');
    });
  }

  it('default (jpeg): converted to sRGB, profile dropped', async () => {
    const r = await optimize(P3, { format: 'jpeg', quality: 95 });
    assert.equal((await meta(r.bytes)).icc, undefined);
    assertClose(await rgba(r.bytes), await rgba(P3), 3, "vs sharp's P3 -> sRGB conversion");
  });

  for (const format of ['png', 'webp', 'jpeg']) {
    it(`keepMetadata (${format}): the same ICC profile is embedded and pixels stay in P3`, async () => {
      const r = await optimize(P3, { format, keepMetadata: true, quality: 95, lossless: format === 'webp', neverBigger: false });
      const m = await meta(r.bytes);
      assert.ok(m.icc, 'ICC profile present');
      assert.ok(m.icc.equals((await meta(P3)).icc), 'the input profile, byte for byte');
      const tol = format === 'jpeg' ? 3 : 1;
      assertClose(await rgba(r.bytes, { ignoreIcc: true }), await rgba(P3, { ignoreIcc: true }), tol, 'raw P3 values untouched');
      assertClose(await rgba(r.bytes), await rgba(P3), tol, 'a colour-managed viewer sees the same colours');
    });
  }

  it('keepMetadata (avif): the ICC profile is kept, or a warning says it was not', async () => {
    // quality 90: this checks colour management, not AVIF's chroma loss at small sizes
    const r = await optimize(P3, { format: 'avif', width: 100, keepMetadata: true, quality: 90 });
    const m = await meta(r.bytes);
    assert.ok(m.icc || r.warnings.some((w) => /icc|profile/i.test(w)), `AVIF output has no ICC profile and no warning (warnings: ${JSON.stringify(r.warnings)})`);
    // Whatever happens to the profile, the colours a viewer sees must be right.
    const ref = await rgba(P3, { resize: { width: 100, height: r.height, fit: 'fill' } });
    assertClose(await rgba(r.bytes), ref, 8, 'colours vs sharp');
  });

  it('resized P3 input is converted before resizing (colours still right at width 100)', async () => {
    const r = await optimize(P3, { format: 'png', width: 100 });
    const ref = await rgba(fixture('flower2.jpg'), { resize: { width: 100, height: r.height, fit: 'fill' } });
    assertClose(await rgba(r.bytes), ref, 3, 'vs flower2.jpg resized');
  });

  it('sRGB inputs with a profile keep their colours when it is stripped', async () => {
    for (const name of ['flower2.jpg', 'skimage-rocket.jpg', 'icc_profile.png', 'tiff_16bit_RGBa_target.png']) {
      const r = await optimize(fixture(name), { format: 'png' });
      assert.equal((await meta(r.bytes)).icc, undefined, `${name}: profile stripped`);
      assertClose(await rgba(r.bytes), await rgba(fixture(name)), 1.5, name);
    }
  });
});

describe('metadata', () => {
  it('default strips EXIF, XMP, IPTC and ICC (flower2.jpg has all four)', async () => {
    const input = fixture('flower2.jpg');
    const src = await meta(input);
    assert.ok(src.exif && src.xmp && src.iptc && src.icc, 'the fixture carries EXIF, XMP, IPTC and ICC');
    for (const format of ['jpeg', 'png', 'webp']) {
      const r = await optimize(input, { format });
      if (r.keptOriginal) assert.fail(`${format}: the original (with its metadata) was returned`);
      const m = await meta(r.bytes);
      assert.deepEqual({ exif: !!m.exif, xmp: !!m.xmp, iptc: !!m.iptc, icc: !!m.icc }, { exif: false, xmp: false, iptc: false, icc: false }, format);
    }
  });

  it('default strips a private EXIF field from a re-encoded JPEG', async () => {
    const input = await jpegWithExif(95);
    assert.ok(includes(input, SECRET));
    const r = await optimize(input, { quality: 60 });
    assert.equal(r.keptOriginal, false);
    assert.equal((await meta(r.bytes)).exif, undefined);
    assert.ok(!includes(r.bytes, SECRET), 'the EXIF text is gone');
  });

  it('keepMetadata keeps EXIF contents (JPEG, PNG, WebP)', async () => {
    const input = await jpegWithExif(95);
    for (const format of ['jpeg', 'png', 'webp']) {
      const r = await optimize(input, { format, keepMetadata: true, quality: 60 });
      assert.ok((await meta(r.bytes)).exif, `${format}: EXIF present`);
      assert.ok(includes(r.bytes, SECRET), `${format}: EXIF field kept`);
    }
  });

  it('keepMetadata: false strips metadata even when neverBigger returns the original', async () => {
    // A quality-40 JPEG with EXIF: re-encoding at the default quality 80 is bigger, so
    // neverBigger would hand back the input, EXIF (think GPS) included.
    const input = await jpegWithExif(40);
    const r = await optimize(input);
    assert.equal((await meta(r.bytes)).exif, undefined, `EXIF leaked through (keptOriginal: ${r.keptOriginal})`);
    assert.ok(!includes(r.bytes, SECRET), 'the private EXIF text must not survive keepMetadata: false');
  });

  it('keepMetadata keeps the ICC profile of an sRGB photo too (flower2.jpg)', async () => {
    const input = fixture('flower2.jpg');
    const r = await optimize(input, { format: 'png', keepMetadata: true });
    const m = await meta(r.bytes);
    assert.ok(m.icc && m.icc.equals((await meta(input)).icc));
    assert.ok(!sameBytes(r.bytes, input));
  });
});
