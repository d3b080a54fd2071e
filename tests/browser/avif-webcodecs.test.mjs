// AVIF through Chromium's own AV1 encoder (WebCodecs), from the built package in a plain page:
// outputs decode in the browser at the asked size, `encoder` says which encoder ran, the
// score of `quality: 'auto'` is re-computed here from the browser's decode, libaom (wasm) still runs
// when asked for, and the bytes decode with sharp (libheif) in Node too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { ANALYZE_SOURCE, openTestPage, sniff } from './helpers.mjs';

const PAGE = '/__mediaslim_avif_webcodecs_test__.html';
const HTML = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>mediaslim AVIF WebCodecs test</title><link rel="icon" href="data:,">
<script type="module">
  import * as mediaslim from '/pkg/index.js';
  window.mediaslim = mediaslim;
  window.pool = new mediaslim.Pool({ size: 1 });
  window.fixture = async (name) => {
    const res = await fetch('/tests/fixtures/' + name);
    if (!res.ok) throw new Error('fixture ' + name + ': HTTP ' + res.status);
    return new Uint8Array(await res.arrayBuffer());
  };
  // The browser's decode of any image as PNG bytes (lossless), for compare().
  window.decodeToPng = async (bytes, type) => {
    const bitmap = await createImageBitmap(new Blob([bytes], { type }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    canvas.getContext('2d').drawImage(bitmap, 0, 0);
    bitmap.close();
    return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
  };
  window.packageReady = true;
</script>
</html>`;

let page;
let problems;
let close;

before(async () => {
  ({ page, problems, close } = await openTestPage(PAGE, HTML, { initScript: ANALYZE_SOURCE }));
});

after(async () => {
  await close?.();
});

/** Optimizes a fixture in the page; returns the result, the browser's view of it and the bytes. */
function run(name, options) {
  return page.evaluate(
    async ({ name, options }) => {
      const input = await window.fixture(name);
      const t0 = performance.now();
      const r = await window.mediaslim.optimize(input, { ...options, pool: window.pool });
      const ms = performance.now() - t0;
      const decoded = await analyzeImage(r.bytes, 'image/avif');
      // The score again, from scratch: the browser's decode against the source, which
      // compare() resizes the way optimize() did.
      const rescored = await window.mediaslim.compare(input, await window.decodeToPng(r.bytes, 'image/avif'), { pool: window.pool });
      return {
        format: r.format,
        encoder: r.encoder,
        width: r.width,
        height: r.height,
        quality: r.quality,
        score: r.score,
        encodes: r.encodes,
        warnings: r.warnings,
        timings: r.timings,
        ms,
        decoded,
        rescored,
        source: await analyzeImage(input, 'application/octet-stream'),
        bytes: Array.from(r.bytes),
      };
    },
    { name, options },
  );
}

async function decodeWithSharp(bytes) {
  const buf = Buffer.from(bytes);
  const meta = await sharp(buf).metadata();
  return { format: meta.format, width: meta.width, height: meta.height, hasAlpha: meta.hasAlpha };
}

describe('AVIF via WebCodecs in Chromium', { timeout: 240_000 }, () => {
  test('supported here: the default (auto) encoder is WebCodecs, and the output decodes at the asked size', async () => {
    const r = await run('skimage-rocket.jpg', { format: 'avif', width: 301 });
    assert.equal(r.format, 'avif');
    assert.equal(r.encoder, 'webcodecs');
    assert.equal(sniff(r.bytes), 'avif');
    assert.deepEqual([r.width, r.height], [301, 201], 'an odd size');
    assert.deepEqual([r.decoded.width, r.decoded.height], [301, 201], 'decoded by the browser');
    assert.equal(r.decoded.translucentFraction, 0, 'opaque stays opaque');
    assert.equal(r.quality, 60, 'the default AVIF quality');
    assert.deepEqual(r.warnings, []);
    assert.ok(r.rescored > 40, `quality 60 looks like quality 60 (${r.rescored.toFixed(1)})`);
    assert.deepEqual(await decodeWithSharp(r.bytes), { format: 'heif', width: 301, height: 201, hasAlpha: false });
  });

  test("quality 'auto' meets the target as the browser decodes it", async () => {
    const r = await run('flower2.jpg', { format: 'avif', quality: 'auto', width: 480 });
    assert.equal(r.encoder, 'webcodecs', r.warnings.join('; '));
    assert.deepEqual([r.decoded.width, r.decoded.height], [r.width, r.height]);
    assert.ok(r.score >= 80, `reported score ${r.score}`);
    assert.ok(r.encodes >= 2, `a search: ${r.encodes} encodes`);
    assert.ok(Math.abs(r.rescored - r.score) < 0.5, `re-scored ${r.rescored.toFixed(2)} vs reported ${r.score.toFixed(2)}`);
    assert.ok(r.rescored >= 79.5, `re-scored from the browser's decode: ${r.rescored.toFixed(2)}`);
    const lower = await run('flower2.jpg', { format: 'avif', quality: 'auto', target: 'medium', width: 480 });
    assert.equal(lower.encoder, 'webcodecs');
    assert.ok(lower.score >= 70 && lower.rescored >= 69.5, `${lower.score} / ${lower.rescored}`);
    assert.ok(lower.bytes.length < r.bytes.length, `target 70 (${lower.bytes.length} B) smaller than 80 (${r.bytes.length} B)`);
  });

  test("a target the browser's encoder cannot reach: 'auto' falls back to libaom (wasm), 'webcodecs' says so", async () => {
    const auto = await run('flower2.jpg', { format: 'avif', quality: 'auto', target: 99, width: 64 });
    assert.equal(auto.encoder, 'libaom');
    assert.ok(!auto.warnings.some((w) => /avifEncoder/.test(w)), auto.warnings.join('; '));
    const demanded = await run('flower2.jpg', { format: 'avif', quality: 'auto', target: 99, width: 64, avifEncoder: 'webcodecs' });
    assert.equal(demanded.encoder, 'webcodecs');
    assert.ok(demanded.warnings.some((w) => /target score 99 not reached/.test(w)), demanded.warnings.join('; '));
  });

  test('a higher quality gives a higher score and more bytes', async () => {
    const scores = [];
    for (const quality of [40, 75, 92]) {
      const r = await run('flower2.jpg', { format: 'avif', quality, score: true, width: 320 });
      assert.equal(r.encoder, 'webcodecs');
      assert.ok(Math.abs(r.rescored - r.score) < 0.5, `quality ${quality}: ${r.rescored} vs ${r.score}`);
      scores.push({ quality, score: r.score, bytes: r.bytes.length });
    }
    for (let i = 1; i < scores.length; i++) {
      assert.ok(scores[i].score > scores[i - 1].score && scores[i].bytes > scores[i - 1].bytes, JSON.stringify(scores));
    }
  });

  test('transparency: an alpha frame, decoded by the browser and by libheif', async () => {
    const r = await run('transparent.png', { format: 'avif', quality: 80 });
    assert.equal(r.encoder, 'webcodecs');
    assert.deepEqual([r.decoded.width, r.decoded.height], [200, 150]);
    // Chromium 156 reads AVIF alpha as limited range (rav1e's and libavif's files too), so
    // compare coverage rather than exact alpha.
    assert.ok(Math.abs(r.decoded.transparentFraction - r.source.transparentFraction) < 0.05, `${r.decoded.transparentFraction} vs ${r.source.transparentFraction}`);
    assert.deepEqual(await decodeWithSharp(r.bytes), { format: 'heif', width: 200, height: 150, hasAlpha: true });
    const { data } = await sharp(Buffer.from(r.bytes)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const source = await sharp('tests/fixtures/transparent.png').ensureAlpha().raw().toBuffer();
    let err = 0;
    for (let i = 3; i < data.length; i += 4) err += Math.abs(data[i] - source[i]);
    assert.ok(err / (200 * 150) < 4, `mean alpha error (libheif decode) ${(err / (200 * 150)).toFixed(2)}`);
  });

  test("avifEncoder 'wasm' still runs libaom in wasm; 'webcodecs' with maxBytes says why it fell back", async () => {
    const wasm = await run('skimage-rocket.jpg', { format: 'avif', width: 160, avifEncoder: 'wasm' });
    assert.equal(wasm.encoder, 'libaom');
    assert.deepEqual([wasm.decoded.width, wasm.decoded.height], [160, 107]);
    assert.deepEqual(wasm.warnings, []);
    assert.equal((await decodeWithSharp(wasm.bytes)).width, 160);
    const budget = await run('skimage-rocket.jpg', { format: 'avif', width: 160, maxBytes: 4000, avifEncoder: 'webcodecs' });
    assert.equal(budget.encoder, 'libaom');
    assert.ok(budget.bytes.length <= 4000);
    assert.ok(budget.warnings.some((w) => /avifEncoder "webcodecs": maxBytes/.test(w)), budget.warnings.join('; '));
    // 'auto' with maxBytes: libaom (wasm), silently.
    const auto = await run('skimage-rocket.jpg', { format: 'avif', width: 160, maxBytes: 4000 });
    assert.equal(auto.encoder, 'libaom');
    assert.ok(!auto.warnings.some((w) => /avifEncoder/.test(w)));
  });

  test('srcset: AVIF variants through WebCodecs, the others from one shared decode', async () => {
    const got = await page.evaluate(async () => {
      const asset = window.mediaslim.open(await window.fixture('flower2.jpg'), { pool: window.pool });
      const picture = await asset.srcset({ widths: [120, 240], formats: ['avif', 'webp'] });
      return picture.variants.map((v) => [v.format, v.width, v.encoder ?? null]);
    });
    assert.deepEqual(got, [
      ['avif', 120, 'webcodecs'],
      ['avif', 240, 'webcodecs'],
      ['webp', 120, null],
      ['webp', 240, null],
    ]);
  });

  test('a cancelled WebCodecs job rejects with ABORTED and the pool keeps serving', async () => {
    const got = await page.evaluate(async () => {
      const { optimize } = window.mediaslim;
      const input = await window.fixture('skimage-rocket.jpg');
      const controller = new AbortController();
      const job = optimize(input, { format: 'avif', quality: 'auto', pool: window.pool, signal: controller.signal });
      controller.abort(new Error('user left'));
      const code = await job.then(() => null, (e) => e.code);
      const next = await optimize(input, { format: 'avif', width: 64, pool: window.pool });
      return { code, next: [next.format, next.width, next.encoder] };
    });
    assert.equal(got.code, 'ABORTED');
    assert.deepEqual(got.next, ['avif', 64, 'webcodecs']);
  });

  test('the page ran cleanly', () => {
    assert.deepEqual(problems, []);
  });
});
