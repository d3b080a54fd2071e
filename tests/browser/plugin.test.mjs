// The fixture site (tests/plugin/site) built with `vite build` + mediaslim/vite, and with
// webpack 5 + mediaslim/webpack, served statically and opened in headless Chromium: every
// image the page shows loads and decodes, the <picture> picks the WebP source, srcset
// candidates match their descriptors, and the page logs no error or failed request.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'vite';
import webpack from 'webpack';
import mediaslimVite from 'mediaslim/vite';
import mediaslimWebpack from 'mediaslim/webpack';
import { makeSite } from '../plugin/helpers.mjs';
import { launchBrowser, serveStatic, watchPage } from './helpers.mjs';

/** What the page shows, measured in the page once every image has loaded. */
async function measure(page) {
  await page.waitForFunction(() => [...document.images].every((img) => img.complete), null, { timeout: 30_000 });
  return page.evaluate(async () => {
    const out = {};
    for (const img of document.images) {
      await img.decode().catch(() => undefined);
      out[img.id] = { naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, currentSrc: img.currentSrc };
    }
    const bg = getComputedStyle(document.getElementById('bg')).backgroundImage;
    const bgUrl = /url\("(.+)"\)/.exec(bg)?.[1];
    const bgImg = new Image();
    bgImg.src = bgUrl;
    await bgImg.decode();
    out.bg = { naturalWidth: bgImg.naturalWidth, naturalHeight: bgImg.naturalHeight, currentSrc: bgUrl };
    // Every srcset candidate decodes at the width its descriptor states.
    out.candidates = [];
    for (const s of document.querySelectorAll('source, img[srcset]')) {
      for (const item of s.srcset.split(', ')) {
        const [url, w] = item.split(' ');
        const res = await fetch(url);
        const bitmap = await createImageBitmap(await res.blob());
        out.candidates.push({ url, declared: Number(w.slice(0, -1)), width: bitmap.width, type: res.headers.get('content-type') });
        bitmap.close();
      }
    }
    return out;
  });
}

function checkPage(seen, problems) {
  assert.deepEqual(problems, []);
  // No `sizes`: the slot is 100vw = 1280 px, so the largest candidate (640w) is chosen, and
  // naturalWidth is density-corrected (640 px at 0.5x = 1280).
  assert.match(seen.hero.currentSrc, /hero-640w-[\w-]+\.webp$/, 'the WebP <source> wins over the JPEG fallback');
  assert.equal(seen.hero.naturalWidth, 1280);
  assert.deepEqual([seen.thumb.naturalWidth, seen.thumb.naturalHeight], [120, 80]);
  assert.match(seen.thumb.currentSrc, /\.avif$/);
  assert.deepEqual([seen.flower.naturalWidth, seen.flower.naturalHeight], [100, 75]);
  assert.equal(seen.logo.naturalWidth, 128);
  assert.deepEqual([seen.plain.naturalWidth, seen.plain.naturalHeight], [100, 100]);
  assert.deepEqual([seen.bg.naturalWidth, seen.bg.naturalHeight], [300, 225]);
  assert.equal(seen.candidates.length, 8);
  for (const c of seen.candidates) assert.equal(c.width, c.declared, `${c.url}`);
}

function runWebpack(config) {
  return new Promise((resolve, reject) => {
    const compiler = webpack(config);
    compiler.run((err, stats) => compiler.close((e) => (err || e ? reject(err || e) : resolve(stats))));
  });
}

describe('plugin-built sites in Chromium', { timeout: 180_000 }, () => {
  let browser;
  const temps = [];
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
  });

  test('vite build', async () => {
    const dir = await makeSite();
    temps.push(dir);
    await build({ root: dir, configFile: false, logLevel: 'silent', build: { outDir: 'dist' }, plugins: [mediaslimVite({ report: false, progress: false })] });
    const server = await serveStatic(join(dir, 'dist'));
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchPage(page);
    try {
      await page.goto(server.origin + '/');
      checkPage(await measure(page), problems);
      assert.equal(await page.evaluate(() => document.getElementById('public').naturalWidth), 200, 'public/ image');
    } finally {
      await page.close();
      await server.close();
    }
  });

  test('webpack 5 (publicPath auto)', async () => {
    const dir = await makeSite();
    temps.push(dir);
    const stats = await runWebpack({
      mode: 'production',
      context: dir,
      entry: { main: './main.js', style: './style.css' },
      output: { path: join(dir, 'dist') },
      experiments: { css: true },
      module: { rules: [{ test: /\.(png|jpe?g|webp)$/i, type: 'asset/resource' }] },
      plugins: [mediaslimWebpack({ report: false, progress: false })],
    });
    assert.ok(!stats.hasErrors(), stats.toString({ all: false, errors: true }));
    // No HTML plugin here: a page like the fixture's, pointing at webpack's outputs.
    const html = `<!doctype html><link rel="icon" href="data:,"><link rel="stylesheet" href="style.css"><img id="plain" src="PLAIN">
      <div class="bg" id="bg"></div><div id="app"></div><script src="main.js"></script>
      <script>document.getElementById('plain').src = globalThis.__images.plainUrl;</script>`;
    const server = await serveStatic(join(dir, 'dist'), { routes: { '/': { type: 'text/html; charset=utf-8', body: html.replace('src="PLAIN"', '') } } });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems = watchPage(page);
    try {
      await page.goto(server.origin + '/');
      checkPage(await measure(page), problems);
    } finally {
      await page.close();
      await server.close();
    }
  });
});
