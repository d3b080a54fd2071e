// Transparency survives in formats that have it and is flattened (with a warning) in JPEG.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { optimize } from 'mediaslim';
import { fixture, rgba, meta, diff, assertClose, assertSamePixels, alphaStats } from './_helpers.mjs';

const alphaOnly = (img) => ({ ...img, data: img.data.map((v, i) => (i % 4 === 3 ? v : 0)) });

describe('alpha', () => {
  for (const name of ['transparent.png', 'transparent.webp', 'pil123rgba.png', 'tiff_16bit_RGBa_target.png']) {
    for (const format of ['png', 'webp']) {
      it(`${name} -> ${format} keeps alpha exactly`, async () => {
        const input = fixture(name);
        const src = await rgba(input);
        assert.ok(alphaStats(src).translucent > 0, 'fixture has transparent pixels');
        const r = await optimize(input, { format, lossless: format === 'webp', neverBigger: false });
        assert.equal(r.format, format);
        assert.equal((await meta(r.bytes)).hasAlpha, true, 'output has an alpha channel');
        const out = await rgba(r.bytes);
        assert.equal(alphaStats(out).translucent, alphaStats(src).translucent, 'same number of non-opaque pixels');
        assertSamePixels(alphaOnly(out), alphaOnly(src), 'alpha channel');
        assert.ok(!r.warnings.some((w) => /flatten/i.test(w)), `no flattening warning: ${JSON.stringify(r.warnings)}`);
      });
    }
  }

  it('semi-transparent levels survive (not just 0/255)', async () => {
    const input = fixture('transparent.png');
    const levels = (img) => new Set(Array.from({ length: img.data.length / 4 }, (_, i) => img.data[i * 4 + 3]));
    const src = levels(await rgba(input));
    assert.ok(src.size > 2, `fixture has ${src.size} alpha levels`);
    const out = levels(await rgba((await optimize(input, { format: 'png' })).bytes));
    assert.deepEqual([...out].sort((a, b) => a - b), [...src].sort((a, b) => a - b));
  });

  it('transparent.png -> avif keeps alpha', async () => {
    const input = fixture('transparent.png');
    const r = await optimize(input, { format: 'avif', width: 120 });
    const m = await meta(r.bytes);
    assert.equal(m.format, 'heif');
    assert.equal(m.hasAlpha, true);
    const out = await rgba(r.bytes);
    const stats = alphaStats(out);
    assert.ok(stats.min < 10 && stats.translucent > 1000, `transparent pixels survive: ${JSON.stringify(stats)}`);
    const ref = await rgba(input, { resize: { width: 120, height: 90, fit: 'fill' } });
    assertClose(alphaOnly(out), alphaOnly(ref), 6, 'alpha channel vs sharp');
  });

  it('alphaQuality changes the AVIF alpha plane', async () => {
    const input = fixture('transparent.png');
    const lo = await optimize(input, { format: 'avif', width: 96, quality: 60, alphaQuality: 5 });
    const hi = await optimize(input, { format: 'avif', width: 96, quality: 60, alphaQuality: 100 });
    assert.ok(hi.bytes.length > lo.bytes.length, `alphaQuality 100 (${hi.bytes.length} B) > 5 (${lo.bytes.length} B)`);
    const ref = alphaOnly(await rgba(input, { resize: { width: 96, height: 72, fit: 'fill' } }));
    const dl = diff(alphaOnly(await rgba(lo.bytes)), ref), dh = diff(alphaOnly(await rgba(hi.bytes)), ref);
    assert.ok(dh.worst <= dl.worst, `alphaQuality 100 (${dh.text}) at least as close as 5 (${dl.text})`);
  });

  for (const name of ['transparent.png', 'transparent.webp', 'pil123rgba.png']) {
    it(`${name} -> jpeg is flattened onto white, with a warning`, async () => {
      const input = fixture(name);
      const r = await optimize(input, { format: 'jpeg', quality: 95 });
      assert.ok(r.warnings.some((w) => /transparen|alpha|flatten/i.test(w)), `warning, got ${JSON.stringify(r.warnings)}`);
      const m = await meta(r.bytes);
      assert.equal(m.hasAlpha, false);
      assertClose(await rgba(r.bytes), await rgba(input, { flatten: '#ffffff' }), 4, 'vs sharp flatten on white');
      const black = diff(await rgba(r.bytes), await rgba(input, { flatten: '#000000' }));
      assert.ok(black.worst > 20, `not flattened onto black: ${black.text}`);
    });
  }

  it('-> jpeg with a background colour flattens onto that colour', async () => {
    const input = fixture('transparent.png');
    const r = await optimize(input, { format: 'jpeg', quality: 95, background: '#3366cc' });
    assertClose(await rgba(r.bytes), await rgba(input, { flatten: '#3366cc' }), 4, 'vs sharp flatten on #3366cc');
  });

  it('an opaque image gains no alpha channel in PNG', async () => {
    const r = await optimize(fixture('hopper.jpg'), { format: 'png' });
    const out = await rgba(r.bytes);
    assert.equal(alphaStats(out).translucent, 0);
    assert.equal((await meta(r.bytes)).hasAlpha, false, 'RGB, not RGBA: no wasted channel');
  });
});
