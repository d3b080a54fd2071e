// The demo page (www/) end to end, built with Vite's own `build()` (the package's worker and
// wasm are emitted by the bundler and load from the output), served as static files and
// driven in Chromium like a user would: files in, results out, downloads and the zip decoded,
// a corrupt file, the compare dialog, per-file settings, the layout on a phone and in dark
// mode (screenshots in tests/out/). The dev server (`npm start`) at the end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { outDir, repoRoot } from './helpers.mjs';
import {
  SAMPLES,
  assertErrorCard,
  assertGoodCard,
  buildAndServe,
  counters,
  fixture,
  openDemo,
  quiet,
  readCards,
  sample,
  settled,
  sniff,
} from './demo-helpers.mjs';

let site;
before(async () => {
  site = await buildAndServe();
  await mkdir(outDir, { recursive: true });
});
after(() => site?.close());

test('the build: the package worker and the four wasm modules, the samples, and sw.js listing them all', async () => {
  const assets = await readdir(join(site.distDir, 'assets'));
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasm.length, 4, `probe, core, plus and full wasm in ${assets}`);
  const workers = assets.filter((f) => /^worker-.*\.js$/.test(f));
  assert.equal(workers.length, 1, `one worker chunk in ${assets}`);
  assert.match(await readFile(join(site.distDir, 'assets', workers[0]), 'utf8'), /mediaslim worker started outside a worker thread/, "it is the package's worker");
  const sw = await readFile(join(site.distDir, 'sw.js'), 'utf8');
  const precache = JSON.parse(/const PRECACHE = (\[[^\]]*\]);/.exec(sw)[1]);
  for (const f of [...assets.map((a) => `assets/${a}`), './', 'index.html', ...SAMPLES.map((s) => `samples/${s.name}`)]) {
    assert.ok(precache.includes(f), `sw.js precaches ${f}`);
  }
  for (const f of precache) if (f !== './') await stat(join(site.distDir, decodeURIComponent(f)));
  const html = await readFile(join(site.distDir, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /src\/main\.ts/, 'the entry is bundled');
  // Relative URLs only: the folder can be served from any path of any static host.
  assert.doesNotMatch(html, /(src|href)="\/(?!\/)/, 'no root-relative URLs');
});

describe('files in, results out', { timeout: 120_000 }, () => {
  let page;
  let context;
  let problems;
  before(async () => {
    ({ page, context, problems } = await openDemo(site.browser, site.server.origin, { viewport: { width: 1280, height: 1600 } }));
  });
  after(() => context?.close());

  test('the samples through the file input, plus a corrupt file: smaller outputs that decode as shown, one error card', async () => {
    await page.getByLabel('Choose images…').setInputFiles([...SAMPLES.slice(0, 2).map((s) => sample(s.name)), fixture('truncated_jpeg.jpg'), ...SAMPLES.slice(2).map((s) => sample(s.name))]);
    await settled(page, 5);
    const cards = await readCards(page);
    const good = cards.filter((c) => c.name !== 'truncated_jpeg.jpg');
    for (const [i, s] of SAMPLES.entries()) {
      await assertGoodCard(good[i], { name: s.name, format: 'webp', width: s.width, height: s.height, inputBytes: (await stat(sample(s.name))).size });
    }
    assertErrorCard(cards[2], { name: 'truncated_jpeg.jpg', code: 'CORRUPT_INPUT' });
    const transparent = good[2];
    assert.ok(transparent.download.decoded.translucentFraction > 0.2, 'the WebP keeps the transparency');
    const summary = await page.locator('#summary').textContent();
    const m = /^5 files · 4 optimized: (.+) → (.+) \(saved (\d+)%\) · 1 failed$/.exec(summary);
    assert.ok(m, summary);
    const before = good.reduce((s, c) => s + Number(c.data.originalBytes), 0);
    const after = good.reduce((s, c) => s + Number(c.data.outputBytes), 0);
    assert.equal(Number(m[3]), Math.round((1 - after / before) * 100), 'summary: saved in all');
    assert.equal((await counters(page)).started, 5, 'one encode per file');
  });

  test('"Download all" saves a zip with every result, which sharp decodes at the shown sizes', async () => {
    const cards = await readCards(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Download all/ }).click()]);
    assert.equal(download.suggestedFilename(), 'mediaslim-optimized.zip');
    const zip = unzipSync(new Uint8Array(await readFile(await download.path())));
    const good = cards.filter((c) => c.status === 'done');
    assert.deepEqual(Object.keys(zip).sort(), good.map((c) => c.download.name).sort(), 'one entry per finished file');
    for (const card of good) {
      const bytes = zip[card.download.name];
      assert.equal(bytes.length, card.download.size, `${card.name}: zipped bytes are the download`);
      const meta = await sharp(bytes).metadata();
      assert.equal(meta.format, 'webp');
      assert.deepEqual([meta.width, meta.height], [Number(card.data.width), Number(card.data.height)], card.name);
    }
  });

  test('a control applies to all files: JPEG at max width 160', async () => {
    await page.getByRole('radio', { name: /^JPEG/ }).check();
    await page.getByLabel('Max width (px)').first().fill('160');
    await page.getByLabel('Max width (px)').first().press('Enter');
    await page.waitForFunction(() => document.querySelector('.card[data-file="skimage-rocket.jpg"]')?.dataset.format === 'jpeg' && document.querySelector('.card[data-file="skimage-rocket.jpg"]')?.dataset.width === '160', null, { timeout: 30_000 });
    await settled(page, 5);
    const cards = await readCards(page);
    const good = cards.filter((c) => c.name !== 'truncated_jpeg.jpg');
    for (const [i, s] of SAMPLES.entries()) {
      const width = Math.min(160, s.width);
      const height = Math.round((s.height * width) / s.width);
      await assertGoodCard(good[i], { name: s.name, format: 'jpeg', width, height });
    }
    assert.equal(good[2].download.decoded.translucentFraction, 0, 'JPEG flattens the transparency');
  });

  test('compare: split slider, zoom to pixels, SSIMULACRA2; per-file settings re-encode only that file', async () => {
    await page.getByRole('button', { name: 'Compare skimage-rocket.jpg: original and optimized' }).click();
    const dialog = page.locator('#compare');
    await assert.doesNotReject(dialog.waitFor({ state: 'visible' }));
    const split = page.getByRole('slider', { name: 'Split between original and optimized' });
    assert.equal(await split.evaluate((el) => el === document.activeElement), true, 'the split has focus');
    await split.press('ArrowLeft');
    await split.press('ArrowLeft');
    assert.equal(await split.getAttribute('aria-valuenow'), '46');
    await split.press('End');
    assert.equal(await split.getAttribute('aria-valuenow'), '100');
    await split.press('Home');
    assert.equal(await page.locator('#viewer').evaluate((v) => v.style.getPropertyValue('--split')), '0%');
    // Drag the divider with the mouse to the viewer's 25% mark.
    const box = await page.locator('#viewer').boundingBox();
    const handle = await split.boundingBox();
    await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    assert.equal(await split.getAttribute('aria-valuenow'), '25');

    // Both layers move together; past 2x the pixels are drawn as squares.
    await page.locator('#viewer').focus();
    await page.keyboard.press('1');
    assert.equal(await page.locator('#zoom-level').textContent(), '100%');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await page.keyboard.press('ArrowRight');
    const view = await page.evaluate(() => ({
      transforms: [...document.querySelectorAll('#viewer .stage')].map((s) => s.style.transform),
      pixelated: getComputedStyle(document.querySelector('#after-img')).imageRendering,
      scale: document.querySelector('#viewer').dataset.scale,
    }));
    assert.equal(view.scale, '4');
    assert.equal(view.transforms[0], view.transforms[1], 'zoom and pan are synced');
    assert.match(view.transforms[0], /scale\(4\)/);
    assert.equal(view.pixelated, 'pixelated');

    // SSIMULACRA2 is measured on request and shown with the other numbers.
    await page.waitForFunction(() => document.querySelector('#compare-stats').dataset.score !== '', null, { timeout: 30_000 });
    const stats = await page.locator('#compare-stats').innerText();
    const score = Number(/SSIMULACRA2\s+([\d.]+)/.exec(stats)?.[1]);
    assert.ok(score > 30 && score < 100, `score ${score} in ${stats}`);
    assert.match(stats, /Format\s+JPEG → JPEG/);
    assert.match(stats, /Dimensions\s+640×427 → 160×107/);
    assert.match(stats, /Bytes\s+110 KB → [\d.]+ KB/);
    assert.match(stats, /Saved\s+[\d.]+%/);
    assert.match(stats, /Encode time\s+[\d.]+ m?s/);

    // This file only: quality 20. The others are not encoded again.
    const startedBefore = (await counters(page)).started;
    const bytesBefore = Number(await page.locator('.card[data-file="skimage-rocket.jpg"]').getAttribute('data-output-bytes'));
    await page.locator('#file-settings > summary').click();
    const quality = page.locator('#file-settings-form input[type=range]');
    await quality.fill('20');
    await quality.dispatchEvent('change');
    await page.waitForFunction((b) => Number(document.querySelector('.card[data-file="skimage-rocket.jpg"]').dataset.outputBytes) !== b, bytesBefore, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelector('#compare-stats').dataset.score !== '', null, { timeout: 30_000 });
    const low = Number(/SSIMULACRA2\s+([\d.]+)/.exec(await page.locator('#compare-stats').innerText())?.[1]);
    assert.ok(low < score, `quality 20 scores lower (${low}) than 80 (${score})`);
    assert.ok(Number(await page.locator('.card[data-file="skimage-rocket.jpg"]').getAttribute('data-output-bytes')) < bytesBefore, 'and is smaller');
    await quiet(page);
    assert.equal((await counters(page)).started, startedBefore + 1, 'only this file was encoded again');
    assert.match(await page.locator('#compare-stats').innerText(), /Settings\s+JPEG, q20, max 160 px wide \(this file\)/);
    await page.screenshot({ path: join(outDir, 'demo-compare-desktop.png') });

    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Compare skimage-rocket.jpg: original and optimized', 'focus returns to the card');
    assert.match(await page.locator('.card[data-file="skimage-rocket.jpg"] .card-source').textContent(), /own settings/);
  });

  test('a batch change leaves the per-file settings alone; "Use the batch settings" drops them', async () => {
    await page.getByRole('radio', { name: /^WebP/ }).first().check();
    await settled(page, 5);
    const rocket = () => page.locator('.card[data-file="skimage-rocket.jpg"]');
    assert.equal(await rocket().getAttribute('data-format'), 'jpeg', 'its own settings');
    assert.equal(await page.locator('.card[data-file="flower2.jpg"]').getAttribute('data-format'), 'webp');
    await page.getByRole('button', { name: 'Compare skimage-rocket.jpg: original and optimized' }).click();
    await page.getByRole('button', { name: 'Use the batch settings' }).click();
    await page.waitForFunction(() => document.querySelector('.card[data-file="skimage-rocket.jpg"]').dataset.format === 'webp', null, { timeout: 30_000 });
    await page.keyboard.press('Escape');
  });

  test('remove a card, then clear', async () => {
    await page.getByRole('button', { name: 'Remove truncated_jpeg.jpg' }).click();
    assert.equal(await page.locator('#results .card').count(), 4);
    // The summary is rendered on the next frame: wait for it rather than read it once.
    await page.waitForFunction(() => /^4 files · 4 optimized/.test(document.querySelector('#summary').textContent), null, { timeout: 5_000 }).catch(() => undefined);
    assert.match(await page.locator('#summary').textContent(), /^4 files · 4 optimized/);
    await page.getByRole('button', { name: 'Clear' }).click();
    // The batch bar hides on the next frame after the last card goes: wait, do not poll once.
    await page.waitForFunction(() => document.querySelectorAll('#results .card').length === 0, null, { timeout: 5_000 });
    await page.locator('#batch-bar').waitFor({ state: 'hidden', timeout: 5_000 });
  });

  test("the page's only workers are the package's pool: one per core at most", async () => {
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const workers = page.workers().map((w) => new URL(w.url()).pathname);
    assert.ok(workers.length >= 1 && workers.length <= cores, `${workers.length} workers for ${cores} cores: ${workers}`);
    for (const path of workers) assert.match(path, /^\/assets\/worker-[^/]*\.js$/);
  });

  test('no page errors, console errors or failed requests', () => {
    assert.deepEqual(problems, []);
  });
});

describe('auto format and quality, a byte budget', { timeout: 120_000 }, () => {
  test('"Auto" picks from the allowed formats at the target score; the score is shown; "Max file size" holds', async () => {
    const { page, context, problems } = await openDemo(site.browser, site.server.origin, { viewport: { width: 1280, height: 1800 } });
    try {
      await page.getByRole('group', { name: 'Format' }).first().getByRole('radio', { name: 'Auto', exact: true }).check();
      const allowed = page.getByRole('group', { name: 'Auto picks from' });
      assert.equal(await allowed.isVisible(), true, 'the allowed formats show for Auto');
      await allowed.getByRole('checkbox', { name: 'PNG' }).check();
      const target = page.getByLabel(/^Target score/).first();
      await target.fill('70');
      await target.dispatchEvent('change');
      assert.equal(await page.getByRole('radio', { name: 'Fixed', exact: true }).first().isDisabled(), true, 'no fixed quality with Auto format');
      await page.getByLabel('Choose images…').setInputFiles(SAMPLES.map((s) => sample(s.name)));
      await settled(page, 4, 90_000);
      const cards = await readCards(page);
      for (const [i, s] of SAMPLES.entries()) {
        const card = cards[i];
        assert.equal(card.status, 'done', `${card.name}: ${card.error}`);
        assert.ok(['webp', 'jpeg', 'png'].includes(card.data.format), `${card.name}: ${card.data.format} is allowed`);
        await assertGoodCard(card, { name: s.name, format: card.data.format, width: s.width, height: s.height, smaller: card.data.format !== 'png' });
        const score = Number(await page.locator(`.card[data-file="${s.name}"] .stat-score dd`).textContent());
        assert.ok(score >= 69.5 || /target score 70 not reached/.test(card.notes ?? ''), `${card.name}: score ${score} meets 70, or a note says why not (${card.notes})`);
      }
      await page.screenshot({ path: join(outDir, 'demo-desktop-auto.png'), fullPage: true });
      assert.deepEqual(problems, []);

      // A byte budget with a fixed format: every output fits.
      await page.getByRole('radio', { name: /^WebP/ }).check();
      await page.getByLabel('Max file size (KB)').first().fill('6');
      await page.getByLabel('Max file size (KB)').first().press('Enter');
      await page.waitForFunction(() => [...document.querySelectorAll('#results .card')].every((c) => c.dataset.format === 'webp' && c.dataset.status === 'done'), null, { timeout: 60_000 });
      for (const card of await readCards(page)) {
        assert.ok(Number(card.data.outputBytes) <= 6 * 1024, `${card.name}: ${card.data.outputBytes} B fits 6 KB`);
        assert.equal(card.download.size, Number(card.data.outputBytes));
      }
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe('cancel and retry', { timeout: 120_000 }, () => {
  test('"Cancel" on one file and "Cancel all"; "Retry" runs a file ahead of the batch', async () => {
    const { page, context, problems } = await openDemo(site.browser, site.server.origin, { viewport: { width: 1280, height: 1600 } });
    try {
      // Six different photos as AVIF. With WebCodecs an encode can finish in tens of
      // milliseconds, so the test does not count on jobs being slow: it checks that nothing
      // starts after "Cancel all" and that every start either finished or was aborted.
      const rocket = await readFile(sample('skimage-rocket.jpg'));
      const files = [1, 2, 3, 4, 5, 6].map((n) => ({ name: `rocket-${n}.jpg`, mimeType: 'image/jpeg', buffer: Buffer.concat([rocket, Buffer.alloc(n)]) }));
      await page.getByRole('radio', { name: /^AVIF/ }).check();
      await page.getByLabel('Choose images…').setInputFiles(files);
      await page.getByRole('button', { name: 'Cancel rocket-6.jpg' }).click();
      const card6 = page.locator('.card[data-file="rocket-6.jpg"]');
      assert.equal(await card6.getAttribute('data-status'), 'cancelled');
      assert.equal(await card6.locator('.badge').textContent(), 'Cancelled');
      assert.equal(await card6.locator('.retry').isVisible(), true);

      await page.getByRole('button', { name: 'Cancel all' }).click();
      const atCancel = await counters(page);
      const states = await page.$$eval('#results .card', (cards) => cards.map((c) => c.dataset.status));
      assert.ok(states.every((s) => s === 'cancelled' || s === 'done'), `all cancelled or done: ${states}`);
      await quiet(page);
      const after = await counters(page);
      assert.equal(after.started, atCancel.started, 'nothing starts after "Cancel all"');
      assert.equal(after.done, states.filter((s) => s === 'done').length, 'the cards that show "done" are the encodes that finished');
      // Starts that did not finish were running when cancelled: at most one per worker (2 here).
      assert.ok(after.started - after.done <= 2 && after.started <= after.done + after.aborted, `cancelled files never reach a worker: ${JSON.stringify(after)}`);
      assert.match(await page.locator('#summary').textContent(), /cancelled/);

      // Retry one (rocket-6 was cancelled before it could start): it runs at once.
      await page.getByRole('button', { name: 'Retry rocket-6.jpg' }).click();
      await page.waitForFunction(() => document.querySelector('.card[data-file="rocket-6.jpg"]').dataset.status === 'done', null, { timeout: 60_000 });
      const card6Done = (await readCards(page)).find((c) => c.name === 'rocket-6.jpg');
      await assertGoodCard(card6Done, { name: 'rocket-6.jpg', format: 'avif', width: 640, height: 427 });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe('layout: phone width, dark mode (screenshots in tests/out/)', { timeout: 120_000 }, () => {
  for (const [label, options] of [
    ['desktop-dark', { viewport: { width: 1280, height: 900 }, colorScheme: 'dark' }],
    ['phone', { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }],
  ]) {
    test(`${label}: "Try the samples" completes every sample; nothing overflows`, async () => {
      const { page, context, problems } = await openDemo(site.browser, site.server.origin, options);
      try {
        await page.getByRole('button', { name: 'Try the samples' }).click();
        await page.waitForFunction(() => document.querySelectorAll('#results .card').length === 4);
        // On a phone only the cards on screen encode: scroll through them all.
        for (let i = 0; i < 4; i++) {
          await page.locator('#results .card').nth(i).scrollIntoViewIfNeeded();
          await page.waitForFunction((i) => document.querySelectorAll('#results .card')[i].dataset.status === 'done', i, { timeout: 30_000 });
        }
        await settled(page, 4);
        const cards = await readCards(page);
        for (const [i, s] of SAMPLES.entries()) await assertGoodCard(cards[i], { name: s.name, format: 'webp', width: s.width, height: s.height });
        const width = options.viewport.width;
        const layout = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          widest: Math.max(...[...document.querySelectorAll('body *')].filter((el) => !el.closest('dialog')).map((el) => el.getBoundingClientRect().right)),
        }));
        assert.ok(layout.scrollWidth <= width, `no horizontal scroll: ${JSON.stringify(layout)}`);
        assert.ok(layout.widest <= width + 0.5, `nothing sticks out: ${JSON.stringify(layout)}`);
        for (const control of [page.getByText('Choose images…'), page.getByRole('button', { name: 'Try the samples' }), page.getByRole('button', { name: /^Download all/ })]) {
          const box = await control.boundingBox();
          assert.ok(box && box.x >= 0 && box.x + box.width <= width, 'control inside the viewport');
          assert.ok(box.height >= 40, `touch target at least 40 px high (${box.height})`);
        }
        if (options.colorScheme === 'dark') {
          const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
          assert.equal(bg, 'rgb(15, 18, 23)', 'dark background');
        }
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(outDir, `demo-${label}.png`), fullPage: true });

        await page.getByRole('button', { name: 'Compare flower2.jpg: original and optimized' }).click();
        await page.waitForFunction(() => document.querySelector('#compare-stats').dataset.score !== '', null, { timeout: 30_000 });
        const dialog = await page.locator('#compare').boundingBox();
        assert.ok(dialog.width <= width, `dialog fits: ${dialog.width}`);
        await page.screenshot({ path: join(outDir, `demo-compare-${label}.png`) });
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});

// ---- the dev server, as `npm start` runs it ---------------------------------------------

async function freePort() {
  const probe = createNetServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('scripts/start.mjs serves the demo with the Vite dev server (no service worker there)', { timeout: 90_000 }, async () => {
  const port = await freePort();
  // As `npm start` runs it: without the NODE_ENV=production that Vite's build() left in this process.
  const env = { ...process.env };
  delete env.NODE_ENV;
  const child = spawn(process.execPath, ['scripts/start.mjs', '--port', String(port)], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed within 30 s:\n${output}`)), 30_000).unref();
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const m = /mediaslim demo running at (http:\/\/\S+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.stderr.on('data', (chunk) => (output += chunk));
      exited.then(({ code }) => reject(new Error(`start.mjs exited (${code}):\n${output}`)));
    });
    assert.match(url, new RegExp(`^http://localhost:${port}/$`));
    const { page, context, problems } = await openDemo(site.browser, url.replace(/\/$/, ''));
    try {
      await page.getByLabel('Choose images…').setInputFiles([sample('flower2.jpg'), fixture('zip-renamed.jpg')]);
      await settled(page, 2);
      const [flower, zip] = await readCards(page);
      await assertGoodCard(flower, { name: 'flower2.jpg', format: 'webp', width: 300, height: 225 });
      assertErrorCard(zip, { name: 'zip-renamed.jpg', code: 'UNSUPPORTED_FORMAT' });
      assert.equal(await page.evaluate(() => navigator.serviceWorker.getRegistrations().then((r) => r.length)), 0, 'no service worker in dev');
      assert.equal(sniff([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50]), 'webp');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  } finally {
    child.kill('SIGTERM');
    const { code, signal } = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve({ code: 'timeout' }), 10_000).unref())]);
    if (code === 'timeout') child.kill('SIGKILL');
    assert.ok(code === 0 || code === 143 || signal === 'SIGTERM', `start.mjs stopped (code ${code}, signal ${signal})`);
  }
});
