// EXIF orientation is applied to the pixels and then removed (or reset to 1 when metadata is
// kept), so every viewer shows the picture upright.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { optimize, probe } from 'mediaslim';
import { fixture, corpusFile, hasCorpus, rgba, meta, diff, assertClose } from './_helpers.mjs';

/** Orientation 1 or absent: nothing left for a viewer to apply. */
function assertUpright(m, what) {
  assert.ok(m.orientation === undefined || m.orientation === 1, `${what}: EXIF orientation ${m.orientation} left in the output`);
}

describe('hopper_orientation_N.jpg', () => {
  let upright;
  before(async () => {
    upright = await rgba((await optimize(fixture('hopper.jpg'), { format: 'png' })).bytes);
  });

  for (let n = 2; n <= 8; n++) {
    const name = `hopper_orientation_${n}.jpg`;
    it(`${name} -> png is hopper.jpg upright, with no orientation left`, async () => {
      const input = fixture(name);
      const r = await optimize(input, { format: 'png' });
      const out = await rgba(r.bytes);
      // The fixtures were re-encoded separately, so a few levels of JPEG noise remain.
      assertClose(out, upright, 8, `${name} vs hopper.jpg`);
      assertClose(out, await rgba(input), 1.5, `${name} vs sharp's autoOrient`);
      // and the test can tell: the stored (unrotated) pixels are far from upright
      const stored = diff(out, await rgba(input, { autoOrient: false }));
      assert.ok(stored.worst > 15, `stored pixels should differ from upright ones: ${stored.text}`);
      assertUpright(await meta(r.bytes), name);
    });

    it(`${name} with keepMetadata: EXIF kept, orientation reset to 1, pixels upright`, async () => {
      for (const format of ['jpeg', 'png', 'webp']) {
        const r = await optimize(fixture(name), { format, keepMetadata: true, neverBigger: false });
        const m = await meta(r.bytes);
        assert.ok(m.exif, `${format}: EXIF kept`);
        assert.equal(m.orientation, 1, `${format}: orientation reset to 1`);
        assertClose(await rgba(r.bytes), upright, format === 'jpeg' ? 10 : 8, `${name} -> ${format}`);
      }
    });
  }
});

describe('non-square images with orientation 1-8 (made with sharp)', () => {
  // 160x107 stored; orientations 5-8 display as 107x160.
  const stored = sharp(fixture('skimage-rocket.jpg')).resize(160, 107, { fit: 'fill' });
  const make = (n, format) => stored.clone()[format](format === 'jpeg' ? { quality: 95 } : { lossless: true }).withMetadata({ orientation: n }).toBuffer().then((b) => new Uint8Array(b));

  for (let n = 1; n <= 8; n++) {
    it(`JPEG orientation ${n}: size swapped for 5-8, pixels match sharp's autoOrient`, async () => {
      const input = await make(n, 'jpeg');
      const r = await optimize(input, { format: 'png' });
      const [w, h] = n >= 5 ? [107, 160] : [160, 107];
      assert.deepEqual([r.width, r.height], [w, h]);
      assertClose(await rgba(r.bytes), await rgba(input), 1.5, `orientation ${n}`);
      assertUpright(await meta(r.bytes), `orientation ${n}`);
      // width applies to the displayed picture
      const small = await optimize(input, { format: 'png', width: 50 });
      assert.deepEqual([small.width, small.height], [50, Math.round((h * 50) / w)]);
    });
  }

  it('PNG with an eXIf orientation 6 chunk is rotated too', async () => {
    const input = await make(6, 'png');
    assert.equal((await meta(input)).orientation, 6, 'sharp wrote the orientation');
    const r = await optimize(input, { format: 'png' });
    assert.deepEqual([r.width, r.height], [107, 160]);
    assertClose(await rgba(r.bytes), await rgba(input), 0.6, 'png orientation 6');
    assertUpright(await meta(r.bytes), 'png orientation 6');
  });

  it('WebP with EXIF orientation 3, 6, 8 is rotated by optimize and reported by probe', async () => {
    const problems = [];
    for (const n of [3, 6, 8]) {
      const input = await make(n, 'webp');
      assert.equal((await meta(input)).orientation, n, 'sharp wrote the orientation');
      const size = n >= 5 ? [107, 160] : [160, 107];
      const r = await optimize(input, { format: 'png' });
      if (r.width !== size[0] || r.height !== size[1]) problems.push(`orientation ${n}: optimize gives ${r.width}x${r.height}, want ${size.join('x')}`);
      else {
        const d = diff(await rgba(r.bytes), await rgba(input));
        if (d.worst >= 0.6) problems.push(`orientation ${n}: pixels vs sharp's autoOrient ${d.text}`);
      }
      const info = await probe(input);
      if (info.orientation !== n) problems.push(`orientation ${n}: probe says orientation ${info.orientation}, ${info.width}x${info.height}`);
    }
    assert.deepEqual(problems, []);
  });
});

describe('corpus: Landscape_1..8 and Portrait_1..8 (1800x1200)', { skip: !hasCorpus && 'no ../shared/corpus' }, () => {
  for (const kind of ['Landscape', 'Portrait']) {
    let first;
    before(async () => {
      if (!hasCorpus) return;
      first = await rgba((await optimize(corpusFile(`orientation/${kind}_1.jpg`), { format: 'png', width: 300 })).bytes);
    });
    for (let n = 1; n <= 8; n++) {
      it(`${kind}_${n}.jpg at width 300`, async () => {
        const input = corpusFile(`orientation/${kind}_${n}.jpg`);
        const r = await optimize(input, { format: 'png', width: 300 });
        assert.deepEqual([r.width, r.height], kind === 'Landscape' ? [300, 200] : [300, 450]);
        const out = await rgba(r.bytes);
        assertClose(out, await rgba(input, { resize: { width: 300, height: r.height, fit: 'fill' } }), 3, "vs sharp's autoOrient + resize");
        // Same photo in every file; only the big digit in the middle differs.
        assertClose(out, first, 4, `vs ${kind}_1`);
        assertUpright(await meta(r.bytes), `${kind}_${n}`);
        const kept = await optimize(input, { format: 'jpeg', width: 300, keepMetadata: true });
        const km = await meta(kept.bytes);
        assert.equal(km.orientation ?? 1, 1, 'keepMetadata: orientation reset');
        assert.deepEqual([km.width, km.height], [r.width, r.height]);
      });
    }
  }

  it('corpus formats/hopper_orientation_2..8.webp are shown upright', async () => {
    const problems = [];
    for (let n = 2; n <= 8; n++) {
      const input = corpusFile(`formats/hopper_orientation_${n}.webp`);
      const r = await optimize(input, { format: 'png' });
      const d = diff(await rgba(r.bytes), await rgba(input));
      if (d.worst >= 1.5) problems.push(`orientation ${n}: optimize vs sharp's autoOrient ${d.text}`);
      const info = await probe(input);
      if (info.orientation !== n) problems.push(`orientation ${n}: probe says ${info.orientation}`);
    }
    assert.deepEqual(problems, []);
  });
});
