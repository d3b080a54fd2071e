// Lazy assets: header-only meta, variants encoded on demand (one decode per batch) and
// memoized, srcset data for <picture>, ThumbHash placeholders.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import sharp from 'sharp';
import { open, Pool, ResultCache } from 'mediaslim';

const fixture = (name) => new Uint8Array(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));
const ROCKET = fixture('skimage-rocket.jpg');

describe('lazy assets', () => {
  it('meta() reads only the header of a large Blob, and fast', async () => {
    // A 12 MP JPEG, made once here; the Blob refuses whole reads beyond its head.
    const big = await sharp({ create: { width: 4000, height: 3000, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg({ quality: 90 }).toBuffer();
    assert.ok(big.length > 1_000_000, 'a real-sized file');
    let bytesRead = 0;
    class SpyBlob extends Blob {
      slice(a, b) { bytesRead += Math.min(b, this.size) - a; return super.slice(a, b); }
      arrayBuffer() { throw new Error('meta() must not read the whole file'); }
    }
    const spy = new SpyBlob([big]);
    const pool = new Pool({ size: 1 });
    try {
      const asset = open(spy, { pool });
      const t = performance.now();
      const meta = await asset.meta();
      const ms = performance.now() - t;
      assert.deepEqual([meta.width, meta.height, meta.format], [4000, 3000, 'jpeg']);
      assert.ok(bytesRead <= 256 * 1024, `read ${bytesRead} bytes`);
      // Includes starting a worker and compiling the wasm; decoding 12 MP would take far longer.
      assert.ok(ms < 3000, `meta took ${ms} ms`);
      assert.equal(await asset.meta(), meta, 'memoized');
    } finally {
      pool.terminate();
    }
  });

  it('variants are encoded on first request, memoized, and batched into one job', async () => {
    const pool = new Pool({ size: 1 });
    try {
      const asset = open(ROCKET, { pool, cache: new ResultCache() });
      const [a, b] = await Promise.all([asset.variant({ width: 100, format: 'webp' }), asset.variant({ width: 200, format: 'jpeg' })]);
      assert.equal(pool.stats().done, 1, 'both variants in one job (one decode)');
      assert.deepEqual([a.width, a.format, b.width, b.format], [100, 'webp', 200, 'jpeg']);
      const again = await asset.variant({ width: 100, format: 'webp' });
      assert.equal(again, a, 'memoized');
      assert.equal(pool.stats().done, 1, 'no new encode');
    } finally {
      pool.terminate();
    }
  });

  it('the result cache is bounded by bytes (LRU)', async () => {
    const pool = new Pool({ size: 1 });
    try {
      const cache = new ResultCache(30_000);
      const asset = open(ROCKET, { pool, cache });
      for (const width of [200, 300, 400, 500]) await asset.variant({ width, format: 'jpeg' });
      assert.ok(cache.size.bytes <= 30_000 || cache.size.entries === 1, JSON.stringify(cache.size));
      assert.ok(cache.size.entries < 4, 'old entries evicted');
      const done = pool.stats().done;
      await asset.variant({ width: 500, format: 'jpeg' });
      assert.equal(pool.stats().done, done, 'the most recent stays cached');
    } finally {
      pool.terminate();
    }
  });

  it('srcset() gives <picture> data from one decode, never upscaling', async () => {
    const pool = new Pool({ size: 1 });
    try {
      const asset = open(ROCKET, { pool, cache: new ResultCache() });
      const pic = await asset.srcset({ widths: [160, 320, 5000], formats: ['avif', 'webp', 'jpeg'], options: { effort: 6 } });
      const meta = await asset.meta();
      assert.equal(pool.stats().done, 1, 'one batch for all 9 variants (meta() probes in this thread, not in the pool)');
      assert.deepEqual(pic.sources.map((s) => s.type), ['image/avif', 'image/webp']);
      assert.equal(pic.variants.length, 9);
      assert.deepEqual([pic.img.width, pic.img.height], [meta.width, meta.height], 'largest = source size');
      for (const s of pic.sources) assert.match(s.srcset, /^blob:\S+ 160w, blob:\S+ 320w, blob:\S+ \d+w$/);
      for (const v of pic.variants) {
        const m = await sharp(v.bytes).metadata();
        assert.equal(m.width, v.width);
      }
    } finally {
      pool.terminate();
    }
  });

  it('placeholder() is a ThumbHash with a tiny preview and the average colour', async () => {
    const pool = new Pool({ size: 1 });
    try {
      const p = await open(fixture('flower2.jpg'), { pool }).placeholder();
      assert.ok(p.thumbhash.length >= 5 && p.thumbhash.length <= 30, `${p.thumbhash.length} bytes`);
      assert.match(p.dataUrl, /^data:image\/png;base64,/);
      const preview = await sharp(Buffer.from(p.png)).raw().toBuffer({ resolveWithObject: true });
      assert.equal(preview.info.width, p.pngWidth);
      // The preview's mean colour is the reported colour, and close to the photo's own mean.
      const stats = await sharp(fixture('flower2.jpg')).stats();
      const mean = stats.channels.slice(0, 3).map((c) => c.mean);
      const reported = [1, 3, 5].map((i) => parseInt(p.color.slice(i, i + 2), 16));
      reported.forEach((v, i) => assert.ok(Math.abs(v - mean[i]) < 25, `channel ${i}: ${v} vs photo mean ${mean[i]}`));
    } finally {
      pool.terminate();
    }
  });
});
