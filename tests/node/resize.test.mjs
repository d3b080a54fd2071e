// Resizing: width/height/fit semantics, no upscaling by default, padding and cropping,
// judged against sharp's resize of the same source.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { optimize } from 'mediaslim';
import { fixture, rgba, meta, diff, assertClose, alphaStats } from './_helpers.mjs';

const ROCKET = fixture('skimage-rocket.jpg'); // 640 x 427 photo
const ROCKET_W = 640, ROCKET_H = 427;

async function png(input, options) {
  const r = await optimize(input, { format: 'png', ...options });
  const m = await meta(r.bytes);
  assert.deepEqual([m.width, m.height], [r.width, r.height], 'reported size is the real size');
  return r;
}
/** A pixel of a decoded RGBA image. */
function px(img, x, y) {
  const i = (y * img.width + x) * 4;
  return [...img.data.subarray(i, i + 4)];
}

describe('resize: dimensions', () => {
  const cases = [
    [{ width: 200 }, [200, 133], 'width only keeps the aspect ratio'],
    [{ height: 100 }, [150, 100], 'height only keeps the aspect ratio'],
    [{ width: 200, height: 200 }, [200, 133], 'inside (default) fits within the box'],
    [{ width: 200, height: 200, fit: 'inside' }, [200, 133], 'inside'],
    [{ width: 300, height: 100 }, [150, 100], 'inside, height-bound'],
    [{ width: 200, height: 200, fit: 'cover' }, [200, 200], 'cover fills the exact box'],
    [{ width: 50, height: 120, fit: 'cover' }, [50, 120], 'cover, tall box'],
    [{ width: 200, height: 200, fit: 'contain' }, [200, 200], 'contain pads to the exact box'],
    [{ width: 200, height: 200, fit: 'fill' }, [200, 200], 'fill stretches to the exact box'],
    [{ width: 1 }, [1, 1], 'tiny: at least one pixel high'],
    [{ width: 640, height: 1, fit: 'fill' }, [640, 1], 'one-pixel-high fill'],
  ];
  for (const [options, [w, h], what] of cases) {
    it(`${JSON.stringify(options)} -> ${w}x${h}: ${what}`, async () => {
      const r = await png(ROCKET, options);
      assert.deepEqual([r.width, r.height], [w, h]);
      assert.equal(r.keptOriginal, false);
    });
  }

  it('never upscales by default, whichever side is asked', async () => {
    for (const options of [{ width: 1000 }, { height: 1000 }, { width: 1000, height: 1000 }, { width: 1000, height: 1000, fit: 'inside' }]) {
      const r = await optimize(ROCKET, { format: 'png', ...options });
      assert.deepEqual([r.width, r.height], [ROCKET_W, ROCKET_H], JSON.stringify(options));
    }
    // fill: each side is clamped to the source's
    const f = await png(ROCKET, { width: 1000, height: 300, fit: 'fill' });
    assert.ok(f.width <= ROCKET_W && f.height === 300, `fill without upscale: ${f.width}x${f.height}`);
  });

  it('cover with a box larger than the source: no side grows, the crop keeps the box shape', async () => {
    const r = await png(ROCKET, { width: 1000, height: 100, fit: 'cover' });
    assert.ok(r.width <= ROCKET_W && r.height <= ROCKET_H, `not upscaled: ${r.width}x${r.height}`);
    assert.ok(r.width <= 1000 && r.height <= 100, `within the box: ${r.width}x${r.height}`);
    assert.ok(Math.abs(r.width / r.height - 10) < 0.2, `box aspect 10:1, got ${r.width}x${r.height}`);
  });

  it('upscale: true enlarges, and the result looks like sharp\'s enlargement', async () => {
    const r = await png(ROCKET, { width: 1000, upscale: true });
    assert.deepEqual([r.width, r.height], [1000, 667]);
    const ref = await rgba(ROCKET, { resize: { width: 1000, height: 667, fit: 'fill' } });
    assertClose(await rgba(r.bytes), ref, 3, 'upscaled vs sharp');
    const c = await png(fixture('hopper.png'), { width: 300, height: 100, fit: 'cover', upscale: true });
    assert.deepEqual([c.width, c.height], [300, 100]);
  });
});

describe('resize: pixels', () => {
  for (const fit of ['inside', 'cover', 'fill']) {
    it(`${fit} 120x120 matches sharp's ${fit}`, async () => {
      const r = await png(ROCKET, { width: 120, height: 120, fit });
      const ref = await rgba(ROCKET, { resize: { width: 120, height: 120, fit } });
      assertClose(await rgba(r.bytes), ref, 3, `${fit} vs sharp`);
    });
  }

  it('cover crops the centre (not a corner): compared with a left-aligned crop it is closer to sharp', async () => {
    const r = await png(ROCKET, { width: 100, height: 100, fit: 'cover' });
    const out = await rgba(r.bytes);
    const centre = diff(out, await rgba(ROCKET, { resize: { width: 100, height: 100, fit: 'cover', position: 'centre' } }));
    const left = diff(out, await rgba(ROCKET, { resize: { width: 100, height: 100, fit: 'cover', position: 'left' } }));
    assert.ok(centre.worst < 3, `centre crop: ${centre.text}`);
    assert.ok(left.worst > centre.worst * 2, `left crop should differ: ${left.text} vs centre ${centre.text}`);
  });

  it('contain pads with transparency by default in PNG, centred, picture in the middle', async () => {
    const r = await png(ROCKET, { width: 100, height: 100, fit: 'contain' });
    const out = await rgba(r.bytes);
    assert.equal((await meta(r.bytes)).hasAlpha, true, 'PNG output has alpha for the padding');
    // 640x427 -> 100x67 picture, 16-17 rows of padding above and below
    for (const y of [0, 10, 15, 84, 90, 99]) for (const x of [0, 50, 99]) assert.equal(px(out, x, y)[3], 0, `padding at ${x},${y} transparent`);
    for (const y of [18, 50, 81]) for (const x of [0, 50, 99]) assert.equal(px(out, x, y)[3], 255, `picture at ${x},${y} opaque`);
    const ref = await rgba(ROCKET, { resize: { width: 100, height: 100, fit: 'contain', background: { r: 0, g: 0, b: 0, alpha: 0 } } });
    assertClose(out, ref, 4, 'contain vs sharp');
  });

  it('contain in JPEG pads with the background colour', async () => {
    const r = await optimize(ROCKET, { format: 'jpeg', width: 100, height: 100, fit: 'contain', background: '#00ff00', quality: 95 });
    assert.deepEqual([r.width, r.height], [100, 100]);
    const out = await rgba(r.bytes);
    for (const [x, y] of [[0, 0], [50, 5], [99, 99], [10, 95]]) {
      const [R, G, B] = px(out, x, y);
      assert.ok(R < 12 && G > 243 && B < 12, `padding at ${x},${y} is green, got ${[R, G, B]}`);
    }
    const [R, G, B] = px(out, 50, 50);
    assert.ok(!(G > 200 && R < 40 && B < 40), `the middle is the picture, not the background: ${[R, G, B]}`);
  });

  it('contain in JPEG without a background pads with white', async () => {
    const r = await optimize(ROCKET, { format: 'jpeg', width: 100, height: 100, fit: 'contain', quality: 95 });
    const [R, G, B] = px(await rgba(r.bytes), 50, 2);
    assert.ok(R > 245 && G > 245 && B > 245, `white padding, got ${[R, G, B]}`);
  });

  it('contain in PNG with a #rrggbbaa background uses that colour and alpha', async () => {
    const r = await png(ROCKET, { width: 100, height: 100, fit: 'contain', background: '#ff000080' });
    const [R, G, B, A] = px(await rgba(r.bytes), 50, 2);
    assert.deepEqual([R, G, B], [255, 0, 0]);
    assert.ok(Math.abs(A - 128) <= 1, `alpha 0x80, got ${A}`);
  });

  it('contain of a tall image pads left and right', async () => {
    const tall = (await optimize(ROCKET, { format: 'png', width: 60, height: 120, fit: 'cover' })).bytes;
    const r = await png(tall, { width: 100, height: 100, fit: 'contain' });
    const out = await rgba(r.bytes);
    assert.equal(px(out, 2, 50)[3], 0, 'left padding');
    assert.equal(px(out, 97, 50)[3], 0, 'right padding');
    assert.equal(px(out, 50, 50)[3], 255, 'picture');
    assert.ok(alphaStats(out).translucent >= 100 * 40, 'about half the box is padding');
  });

  it('every kernel gives a sane image, and they are not all the same', async () => {
    const outs = {};
    const ref = await rgba(ROCKET, { resize: { width: 160, height: 107, fit: 'fill' } });
    for (const kernel of ['nearest', 'linear', 'mitchell', 'lanczos3']) {
      const r = await png(ROCKET, { width: 160, kernel });
      assert.deepEqual([r.width, r.height], [160, 107]);
      outs[kernel] = await rgba(r.bytes);
      assertClose(outs[kernel], ref, kernel === 'nearest' ? 8 : 3, `${kernel} vs sharp lanczos3`);
    }
    assert.ok(diff(outs.nearest, outs.lanczos3).worst > 0.5, 'nearest differs from lanczos3');
  });

  it('resizing preserves alpha edges (no dark fringes from unpremultiplied filtering)', async () => {
    const input = fixture('transparent.png');
    const r = await png(input, { width: 100 });
    const ref = await rgba(input, { resize: { width: 100, height: 75, fit: 'fill' } });
    assertClose(await rgba(r.bytes), ref, 4, 'alpha-aware resize vs sharp');
  });
});
