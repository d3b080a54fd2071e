// neverBigger (default true): same format and same size and not smaller -> the input bytes
// come back with keptOriginal: true. A resize or a format change always re-encodes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { optimize } from 'mediaslim';
import { fixture, rgba, meta, assertClose, sameBytes } from './_helpers.mjs';

const ROCKET = fixture('skimage-rocket.jpg');

describe('neverBigger', () => {
  it('re-optimizing a PNG we wrote gives the exact input bytes back', async () => {
    const first = await optimize(fixture('hopper.png'));
    assert.equal(first.keptOriginal, false);
    assert.ok(first.bytes.length < fixture('hopper.png').length);
    const second = await optimize(first.bytes);
    assert.equal(second.keptOriginal, true);
    assert.ok(sameBytes(second.bytes, first.bytes), 'exact input bytes');
    assert.equal(second.originalBytes, first.bytes.length);
    assert.deepEqual([second.format, second.width, second.height], ['png', 128, 128]);
  });

  it('whatever it decides, a same-size same-format result is the input or strictly smaller', async () => {
    let cur = (await optimize(ROCKET, { quality: 70 })).bytes;
    for (let pass = 0; pass < 3; pass++) {
      const r = await optimize(cur, { quality: 70 });
      if (r.keptOriginal) assert.ok(sameBytes(r.bytes, cur), `pass ${pass}: kept means the same bytes`);
      else assert.ok(r.bytes.length < cur.length, `pass ${pass}: ${r.bytes.length} B not smaller than ${cur.length} B`);
      cur = r.bytes;
    }
  });

  it('a higher quality than the input had returns the input (the re-encode would be bigger)', async () => {
    const q70 = (await optimize(ROCKET, { quality: 70 })).bytes;
    const r = await optimize(q70, { quality: 100 });
    assert.equal(r.keptOriginal, true);
    assert.ok(sameBytes(r.bytes, q70));
    assert.equal(r.format, 'jpeg');
    assert.deepEqual([r.width, r.height], [640, 427]);
  });

  it('neverBigger: false returns the new encoding even when it is bigger', async () => {
    const q70 = (await optimize(ROCKET, { quality: 70 })).bytes;
    const r = await optimize(q70, { quality: 100, neverBigger: false });
    assert.equal(r.keptOriginal, false);
    assert.ok(!sameBytes(r.bytes, q70));
    assert.ok(r.bytes.length > q70.length, `q100 (${r.bytes.length} B) is bigger than q70 (${q70.length} B)`);
    assert.equal((await meta(r.bytes)).format, 'jpeg');
    assertClose(await rgba(r.bytes), await rgba(q70), 1.5, 'q100 re-encode of the q70 file');
  });

  it('a resize never keeps the original, even when the output is bigger', async () => {
    const q70 = (await optimize(ROCKET, { quality: 70 })).bytes;
    const r = await optimize(q70, { quality: 100, width: 639 });
    assert.equal(r.keptOriginal, false);
    assert.deepEqual([r.width, r.height], [639, 426]);
    assert.ok(r.bytes.length > q70.length, 'bigger, but returned: the caller asked for another size');
  });

  it('a format change never keeps the original, even when the output is bigger', async () => {
    const input = fixture('hopper.webp'); // lossy, 3 KB; lossless PNG is ~26 KB
    const r = await optimize(input, { format: 'png' });
    assert.equal(r.keptOriginal, false);
    assert.equal(r.format, 'png');
    assert.ok(r.bytes.length > input.length);
  });

  it('lossless WebP output of a lossy WebP would be bigger: the input comes back', async () => {
    const input = fixture('hopper.webp');
    const r = await optimize(input);
    assert.equal(r.keptOriginal, true);
    assert.ok(sameBytes(r.bytes, input));
    assert.equal(r.format, 'webp');
  });

  it('keptOriginal reports the displayed size of an EXIF-rotated input', async () => {
    // 160x107 stored, orientation 6: displayed 107x160
    const input = new Uint8Array(await sharp(ROCKET).resize(160, 107, { fit: 'fill' }).jpeg({ quality: 40 }).withMetadata({ orientation: 6 }).toBuffer());
    const r = await optimize(input, { quality: 100, keepMetadata: true });
    assert.equal(r.keptOriginal, true);
    assert.deepEqual([r.width, r.height], [107, 160]);
    // Without keepMetadata the original cannot be returned: stripping its EXIF would show it sideways.
    const stripped = await optimize(input, { quality: 100 });
    assert.equal(stripped.keptOriginal, false);
    assert.deepEqual([stripped.width, stripped.height], [107, 160]);
  });
});
