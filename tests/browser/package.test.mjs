// The built package (pkg/) in a plain page, no bundler: a <script type="module"> imports
// /pkg/index.js from a static server, the wasm is fetched by URL, and every output is decoded
// by Chromium itself to check what mediaslim reports about it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ANALYZE_SOURCE, maxChannelDelta, openTestPage, sniff } from './helpers.mjs';

const PAGE = '/__mediaslim_package_test__.html';
const HTML = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>mediaslim package test</title><link rel="icon" href="data:,">
<script type="module">
  import * as mediaslim from '/pkg/index.js';
  window.mediaslim = mediaslim;
  window.fixture = async (name) => {
    const res = await fetch('/tests/fixtures/' + name);
    if (!res.ok) throw new Error('fixture ' + name + ': HTTP ' + res.status);
    return new Uint8Array(await res.arrayBuffer());
  };
  window.packageReady = true;
</script>
</html>`;

let server;
let browser;
let page;
let problems;

before(async () => {
  ({ server, browser, page, problems } = await openTestPage(PAGE, HTML, { initScript: ANALYZE_SOURCE }));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Optimizes a fixture in the page and decodes the output (and the input) with the browser. */
function optimizeInPage(name, options) {
  return page.evaluate(
    async ({ name, options }) => {
      const input = await window.fixture(name);
      const result = await window.mediaslim.optimize(input, options);
      const type = `image/${result.format}`;
      return {
        format: result.format,
        width: result.width,
        height: result.height,
        byteLength: result.bytes.byteLength,
        head: Array.from(result.bytes.slice(0, 16)),
        originalBytes: result.originalBytes,
        inputBytes: input.byteLength,
        keptOriginal: result.keptOriginal,
        warnings: result.warnings,
        timings: result.timings,
        output: await analyzeImage(result.bytes, type),
        source: await analyzeImage(input, 'application/octet-stream'),
      };
    },
    { name, options },
  );
}

const ROCKET = { name: 'skimage-rocket.jpg', width: 640, height: 427 };
const TRANSPARENT = { name: 'transparent.png', width: 200, height: 150 };

describe('optimize(): every output format decodes in Chromium as reported', { timeout: 120_000 }, () => {
  for (const format of ['jpeg', 'png', 'webp', 'avif']) {
    test(`${ROCKET.name} -> ${format}, width 200`, async () => {
      const r = await optimizeInPage(ROCKET.name, { format, width: 200 });
      const expectedHeight = Math.round((200 * ROCKET.height) / ROCKET.width); // 133
      assert.equal(r.format, format);
      assert.equal(sniff(r.head), format, 'the bytes are what `format` says');
      assert.deepEqual([r.width, r.height], [200, expectedHeight], 'reported dimensions');
      assert.deepEqual([r.output.width, r.output.height], [200, expectedHeight], 'decoded dimensions');
      assert.equal(r.originalBytes, r.inputBytes);
      assert.equal(r.keptOriginal, false);
      if (format === 'jpeg' || format === 'avif') {
        assert.ok(r.byteLength < r.inputBytes, `${format} output ${r.byteLength} B < input ${r.inputBytes} B`);
      }
      assert.equal(r.output.translucentFraction, 0, 'an opaque source stays opaque');
      // Same picture: the mean colour of the downscaled output matches Chromium's own decode.
      const delta = maxChannelDelta(r.output.meanRgb, r.source.meanRgb);
      assert.ok(delta < 3, `mean colour differs by ${delta.toFixed(2)} levels`);
      for (const stage of ['decode', 'resize', 'encode']) assert.ok(r.timings[stage] >= 0, `timings.${stage}`);
    });
  }

  for (const format of ['png', 'webp', 'avif']) {
    test(`${TRANSPARENT.name} -> ${format}, width 120: alpha preserved`, async () => {
      const r = await optimizeInPage(TRANSPARENT.name, { format, width: 120 });
      assert.equal(r.format, format);
      assert.equal(sniff(r.head), format);
      assert.deepEqual([r.width, r.height], [120, 90]);
      assert.deepEqual([r.output.width, r.output.height], [120, 90]);
      assert.ok(r.source.translucentFraction > 0.2, 'the fixture really is transparent');
      assert.ok(r.output.translucentFraction > 0.2, `translucent pixels: ${(r.output.translucentFraction * 100).toFixed(1)}%`);
      assert.ok(r.output.translucentFraction < 0.99, 'not everything became transparent');
      assert.ok(
        Math.abs(r.output.translucentFraction - r.source.translucentFraction) < 0.1,
        `translucent share ${r.output.translucentFraction.toFixed(3)} vs source ${r.source.translucentFraction.toFixed(3)}`,
      );
      assert.ok(Math.abs(r.output.meanAlpha - r.source.meanAlpha) < 6, `mean alpha ${r.output.meanAlpha} vs ${r.source.meanAlpha}`);
      const delta = maxChannelDelta(r.output.meanRgb, r.source.meanRgb);
      assert.ok(delta < 5, `visible colour differs by ${delta.toFixed(2)} levels (dark fringes if alpha is not premultiplied)`);
      if (format === 'avif') assert.ok(r.byteLength < r.inputBytes, `avif ${r.byteLength} B < ${r.inputBytes} B`);
    });
  }

  test(`${TRANSPARENT.name} -> jpeg: flattened, opaque, with a warning`, async () => {
    const r = await optimizeInPage(TRANSPARENT.name, { format: 'jpeg', width: 200 });
    assert.equal(sniff(r.head), 'jpeg');
    assert.deepEqual([r.output.width, r.output.height], [TRANSPARENT.width, TRANSPARENT.height]);
    assert.equal(r.output.translucentFraction, 0);
    assert.ok(r.byteLength < r.inputBytes);
    assert.ok(r.warnings.some((w) => /transparen/i.test(w)), `warnings: ${JSON.stringify(r.warnings)}`);
  });

  test('GIF and BMP inputs -> webp: their pixels come from the plus module, loaded on demand', async () => {
    for (const name of ['hopper.gif', 'hopper.bmp']) {
      const r = await optimizeInPage(name, { format: 'webp', width: 64 });
      assert.equal(sniff(r.head), 'webp', name);
      assert.deepEqual([r.output.width, r.output.height], [64, 64], name);
      assert.ok(r.byteLength < r.inputBytes, `${name}: ${r.byteLength} B < ${r.inputBytes} B`);
    }
  });

  test('Uint8Array, ArrayBuffer and Blob inputs give the same output', async () => {
    const sizes = await page.evaluate(async () => {
      const bytes = await window.fixture('flower2.jpg');
      const options = { format: 'jpeg', width: 150 };
      const outputs = [
        await window.mediaslim.optimize(bytes, options),
        await window.mediaslim.optimize(bytes.slice().buffer, options),
        await window.mediaslim.optimize(new Blob([bytes], { type: 'image/jpeg' }), options),
      ];
      const same = outputs.every((o) => o.bytes.length === outputs[0].bytes.length && o.bytes.every((b, i) => b === outputs[0].bytes[i]));
      return { same, dims: outputs.map((o) => [o.width, o.height]) };
    });
    assert.equal(sizes.same, true);
    assert.deepEqual(sizes.dims, [[150, 113], [150, 113], [150, 113]]);
  });
});

describe('probe()', { timeout: 60_000 }, () => {
  test('reads format, dimensions, alpha and orientation from headers', async () => {
    const got = await page.evaluate(async () => {
      const { probe } = window.mediaslim;
      const rocketBytes = await window.fixture('skimage-rocket.jpg');
      const rocketBitmap = await createImageBitmap(new Blob([rocketBytes]));
      return {
        rocket: await probe(rocketBytes),
        rocketDecoded: [rocketBitmap.width, rocketBitmap.height],
        transparent: await probe(new Blob([await window.fixture('transparent.png')])),
        gif: await probe(await window.fixture('hopper.gif')),
        rotated: await probe(await window.fixture('hopper_orientation_6.jpg')),
      };
    });
    assert.equal(got.rocket.format, 'jpeg');
    assert.deepEqual([got.rocket.width, got.rocket.height], got.rocketDecoded, 'probe agrees with the browser decode');
    assert.deepEqual([got.rocket.width, got.rocket.height], [640, 427]);
    assert.equal(got.rocket.hasAlpha, false);
    assert.equal(got.rocket.animated, false);
    assert.equal(got.rocket.orientation, 1);
    assert.equal(got.transparent.format, 'png');
    assert.equal(got.transparent.hasAlpha, true);
    assert.deepEqual([got.transparent.width, got.transparent.height], [200, 150]);
    assert.equal(got.gif.format, 'gif');
    assert.equal(got.rotated.orientation, 6);
  });
});

describe('errors', { timeout: 60_000 }, () => {
  async function failure(call) {
    return page.evaluate(async (call) => {
      const { optimize, probe, MediaslimError } = window.mediaslim;
      const [fn, name, options] = call;
      try {
        const input = await window.fixture(name);
        await (fn === 'probe' ? probe(input) : optimize(input, options));
        return { rejected: false };
      } catch (err) {
        return { rejected: true, isMediaslimError: err instanceof MediaslimError, name: err.name, code: err.code, message: err.message };
      }
    }, call);
  }

  test('a ZIP renamed .jpg: UNSUPPORTED_FORMAT', async () => {
    for (const fn of ['optimize', 'probe']) {
      const err = await failure([fn, 'zip-renamed.jpg', {}]);
      assert.equal(err.rejected, true, `${fn} rejects`);
      assert.equal(err.isMediaslimError, true);
      assert.equal(err.name, 'MediaslimError');
      assert.equal(err.code, 'UNSUPPORTED_FORMAT', err.message);
    }
  });

  test('a truncated JPEG: CORRUPT_INPUT', async () => {
    const err = await failure(['optimize', 'truncated_jpeg.jpg', { format: 'webp' }]);
    assert.equal(err.rejected, true);
    assert.equal(err.isMediaslimError, true);
    assert.equal(err.code, 'CORRUPT_INPUT', err.message);
  });

  test('a bad option: INVALID_OPTION', async () => {
    const err = await failure(['optimize', 'hopper.jpg', { quality: 500 }]);
    assert.equal(err.code, 'INVALID_OPTION', err.message);
  });

  test('the module still works after failures', async () => {
    const r = await optimizeInPage('hopper.jpg', { format: 'png' });
    assert.equal(sniff(r.head), 'png');
    assert.deepEqual([r.output.width, r.output.height], [128, 128]);
  });
});

test('only the package\'s wasm modules were fetched, as application/wasm, and the page logged no problems', () => {
  const wasm = server.requests.filter((r) => r.path.endsWith('.wasm'));
  const paths = new Set(wasm.map((r) => r.path));
  // AVIF here goes through Chromium's WebCodecs encoder, which needs the core module only; the
  // full one (libaom) is fetched when an AVIF job falls back to it. probe() runs the probe module
  // in the page.
  assert.ok(paths.has('/pkg/wasm/mediaslim_core_bg.wasm'), [...paths].join(', '));
  for (const p of paths) assert.ok(['/pkg/wasm/mediaslim_probe_bg.wasm', '/pkg/wasm/mediaslim_core_bg.wasm', '/pkg/wasm/mediaslim_plus_bg.wasm', '/pkg/wasm/mediaslim_full_bg.wasm'].includes(p), p);
  for (const r of wasm) assert.deepEqual([r.status, r.type], [200, 'application/wasm']);
  assert.deepEqual(problems, []);
});

test('the AVIF module (libaom) loads only on the first AVIF request that needs it', async () => {
  const fresh = await browser.newPage();
  const fetched = [];
  fresh.on('request', (r) => { if (r.url().endsWith('.wasm')) fetched.push(new URL(r.url()).pathname.split('/').pop()); });
  await fresh.goto(server.origin + PAGE);
  await fresh.waitForFunction(() => window.packageReady === true);
  const jpeg = await fresh.evaluate(async () => {
    const pool = new window.mediaslim.Pool({ size: 1 });
    window.onePool = pool;
    const out = await window.mediaslim.optimize(await window.fixture('hopper.png'), { format: 'jpeg', width: 64, pool });
    return out.format;
  });
  assert.equal(jpeg, 'jpeg');
  assert.deepEqual(fetched, ['mediaslim_core_bg.wasm'], 'JPEG work needs only the core module');
  const avif = await fresh.evaluate(async () => {
    const out = await window.mediaslim.optimize(await window.fixture('hopper.png'), { format: 'avif', width: 64, pool: window.onePool });
    return [out.format, out.encoder];
  });
  assert.deepEqual(avif, ['avif', 'webcodecs']);
  // The AVIF container around the browser's AV1 frame is in `plus` (the core answers NOT_BUILT
  // naming `avif-container`); the wasm AVIF encoder is not fetched.
  assert.deepEqual(fetched, ['mediaslim_core_bg.wasm', 'mediaslim_plus_bg.wasm'], "Chromium's WebCodecs AV1 encoder needs the plus module, not the full one");
  // A PNG kept as PNG (NOT_BUILT naming PNG output in the core) and scoring run in `plus` too.
  const plus = await fresh.evaluate(async () => {
    const png = await window.mediaslim.optimize(await window.fixture('hopper.png'), { width: 64, pool: window.onePool });
    const auto = await window.mediaslim.optimize(await window.fixture('hopper.png'), { format: 'webp', quality: 'auto', width: 64, pool: window.onePool });
    return [png.format, auto.format, auto.score >= 80];
  });
  assert.deepEqual(plus, ['png', 'webp', true]);
  assert.deepEqual(fetched, ['mediaslim_core_bg.wasm', 'mediaslim_plus_bg.wasm'], 'PNG output and scoring load the plus module, not the AVIF encoder');
  const wasmAvif = await fresh.evaluate(async () => {
    const out = await window.mediaslim.optimize(await window.fixture('hopper.png'), { format: 'avif', width: 64, avifEncoder: 'wasm', pool: window.onePool });
    return [out.format, out.encoder];
  });
  assert.deepEqual(wasmAvif, ['avif', 'libaom']);
  assert.deepEqual(fetched, ['mediaslim_core_bg.wasm', 'mediaslim_plus_bg.wasm', 'mediaslim_full_bg.wasm'], 'the AVIF encoder arrived with the first wasm AVIF job');
  await fresh.close();
});
