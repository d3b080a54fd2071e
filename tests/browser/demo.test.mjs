// The demo page (www/) end to end: built with Vite's own `build()` (which proves the package
// works through a bundler: the wasm and the package's pool worker are emitted and load from
// the output; the demo has no worker of its own), served statically and driven in Chromium
// like a user would. Then the dev server, through scripts/start.mjs. Screenshots go to
// tests/out/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'vite';
import { ANALYZE_SOURCE, fixtures, launchBrowser, outDir, repoRoot, serveStatic, sniff, watchPage } from './helpers.mjs';

const EXT = { jpeg: '.jpg', png: '.png', webp: '.webp', avif: '.avif' };
const fixture = (name) => join(fixtures, name);

let distDir;
let server;
let browser;

before(async () => {
  distDir = mkdtempSync(join(tmpdir(), 'mediaslim-demo-'));
  await build({
    configFile: join(repoRoot, 'www', 'vite.config.mjs'),
    logLevel: 'error',
    build: { outDir: distDir, emptyOutDir: true },
  });
  server = await serveStatic(distDir);
  browser = await launchBrowser();
  await mkdir(outDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (distDir) await rm(distDir, { recursive: true, force: true });
});

// ---- helpers ----------------------------------------------------------------------------

async function openDemo(origin, viewport = { width: 1280, height: 900 }, extra = {}) {
  const context = await browser.newContext({ viewport, ...extra });
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.addInitScript({ content: ANALYZE_SOURCE });
  await page.goto(origin + '/');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return { context, page, problems };
}

/** Waits until there are `count` cards and none is queued or working. */
async function settled(page, count, timeout = 45_000) {
  try {
    await page.waitForFunction(
      (count) => {
        const cards = [...document.querySelectorAll('#results .card')];
        return cards.length === count && cards.every((c) => c.dataset.status === 'done' || c.dataset.status === 'error');
      },
      count,
      { timeout },
    );
  } catch (err) {
    const states = await page
      .$$eval('#results .card', (cards) => cards.map((c) => `${c.dataset.file}: ${c.dataset.status}`))
      .catch(() => []);
    throw new Error(`${count} settled cards expected within ${timeout} ms; have [${states.join(', ')}]`, { cause: err });
  }
}

/** Everything a card shows, plus its download decoded by the browser. */
function readCards(page) {
  return page.evaluate(async () => {
    const visible = (el) => !!el && !el.hidden && el.getClientRects().length > 0;
    return Promise.all(
      [...document.querySelectorAll('#results .card')].map(async (card) => {
        const q = (s) => card.querySelector(s);
        const text = (s) => (visible(q(s)) ? q(s).textContent.trim() : null);
        const link = q('.download');
        let download = null;
        if (visible(link)) {
          const blob = await (await fetch(link.href)).blob();
          const bytes = new Uint8Array(await blob.arrayBuffer());
          const pixels = await analyzeImage(bytes, blob.type);
          download = {
            href: link.href,
            name: link.download,
            size: blob.size,
            type: blob.type,
            head: Array.from(bytes.slice(0, 16)),
            decoded: pixels,
          };
        }
        const img = q('.output-img');
        let shown = null;
        if (visible(img)) {
          await img.decode().catch(() => {});
          shown = { width: img.naturalWidth, height: img.naturalHeight, alt: img.alt };
        }
        return {
          name: text('.card-name'),
          status: card.dataset.status,
          data: { ...card.dataset },
          badge: text('.badge'),
          stats: {
            format: text('.stat-format'),
            dimensions: text('.stat-dimensions'),
            before: text('.stat-before'),
            after: text('.stat-after'),
            saved: text('.stat-saved'),
            time: text('.stat-time'),
          },
          notes: text('.notes'),
          error: visible(q('.error')) ? { text: text('.error'), role: q('.error').getAttribute('role') } : null,
          download,
          shown,
          originalAlt: q('.original-img').alt,
        };
      }),
    );
  });
}

/** "110 KB" -> { bytes, slack }: the value and how far the page's rounding may put it off. */
function parseSize(text) {
  const m = /^(\d+)(?:\.(\d+))? (B|KB|MB)$/.exec(text ?? '');
  assert.ok(m, `a size: ${JSON.stringify(text)}`);
  const unit = { B: 1, KB: 1024, MB: 1024 * 1024 }[m[3]];
  const decimals = m[2]?.length ?? 0;
  return { bytes: Number(`${m[1]}.${m[2] ?? 0}`) * unit, slack: (unit * 0.5) / 10 ** decimals + 0.5 };
}

function parseDimensions(text) {
  const m = /^(\d+)×(\d+)$/.exec(text ?? '');
  assert.ok(m, `dimensions: ${JSON.stringify(text)}`);
  return [Number(m[1]), Number(m[2])];
}

/** The checks every successful card must pass. */
async function assertGoodCard(card, { name, format, width, height, smaller = true }) {
  const where = `card ${name}`;
  assert.equal(card.name, name);
  assert.equal(card.status, 'done', `${where}: ${JSON.stringify(card.error)}`);
  assert.equal(card.error, null, `${where} shows no error`);
  assert.equal(card.data.format, format, `${where} format`);
  assert.equal(card.stats.format, { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF' }[format]);

  const shownDims = parseDimensions(card.stats.dimensions);
  assert.deepEqual(shownDims, [width, height], `${where} shown dimensions`);
  assert.deepEqual([Number(card.data.width), Number(card.data.height)], [width, height]);

  const input = (await stat(fixture(name))).size;
  const before = Number(card.data.originalBytes);
  const after = Number(card.data.outputBytes);
  assert.equal(before, input, `${where}: before = the file's size`);
  const shownBefore = parseSize(card.stats.before);
  const shownAfter = parseSize(card.stats.after);
  assert.ok(Math.abs(shownBefore.bytes - before) <= shownBefore.slack, `${where}: shown ${card.stats.before} ~ ${before} B`);
  assert.ok(Math.abs(shownAfter.bytes - after) <= shownAfter.slack, `${where}: shown ${card.stats.after} ~ ${after} B`);
  if (smaller) {
    assert.ok(after < before, `${where}: ${after} B < ${before} B`);
    assert.ok(shownAfter.bytes <= shownBefore.bytes, `${where}: shown ${card.stats.after} <= ${card.stats.before}`);
    const saved = Number(/^([\d.]+)%$/.exec(card.stats.saved)?.[1]);
    assert.ok(Math.abs(saved - (1 - after / before) * 100) < 0.06, `${where}: saved ${card.stats.saved}`);
  }
  assert.match(card.stats.time, /^[\d.]+ (ms|s)$/, `${where}: encode time`);

  // The download is the output: same size, the right kind of file, decodable, as shown.
  assert.ok(card.download, `${where} has a download link`);
  assert.match(card.download.href, /^blob:/);
  assert.equal(card.download.size, after, `${where}: download size`);
  assert.equal(card.download.type, `image/${format}`);
  assert.equal(sniff(card.download.head), format, `${where}: download bytes are ${format}`);
  assert.ok(card.download.name.endsWith(EXT[format]), `${where}: download name ${card.download.name}`);
  assert.deepEqual([card.download.decoded.width, card.download.decoded.height], shownDims, `${where}: decoded download`);
  assert.deepEqual([card.shown.width, card.shown.height], shownDims, `${where}: the <img> on the card`);
  assert.ok(card.shown.alt.includes(name));
}

function assertErrorCard(card, { name, code }) {
  assert.equal(card.name, name);
  assert.equal(card.status, 'error');
  assert.equal(card.data.errorCode, code);
  assert.ok(card.error, `card ${name} shows an error`);
  assert.equal(card.error.role, 'alert');
  assert.ok(card.error.text.includes(code), `error text names ${code}: ${card.error.text}`);
  assert.ok(card.error.text.length > code.length + 10, 'and says what went wrong');
  assert.equal(card.download, null, 'no download for a failed file');
  assert.equal(card.badge, 'Failed');
}

// ---- the built demo ---------------------------------------------------------------------

test('vite build emits the wasm unchanged as its own asset, with the worker and samples', async () => {
  const assets = await readdir(join(distDir, 'assets'));
  // Every wasm module of the package, each emitted once and byte for byte (never inlined).
  const wasm = assets.filter((f) => f.endsWith('.wasm'));
  const pkgWasm = (await readdir(join(repoRoot, 'pkg', 'wasm'))).filter((f) => f.endsWith('.wasm'));
  assert.ok(wasm.length >= 1, `a .wasm in ${assets.join(', ')}`);
  const sha = async (p) => createHash('sha256').update(await readFile(p)).digest('hex');
  assert.deepEqual(
    (await Promise.all(wasm.map((f) => sha(join(distDir, 'assets', f))))).sort(),
    (await Promise.all(pkgWasm.map((f) => sha(join(repoRoot, 'pkg', 'wasm', f))))).sort(),
    `${wasm} are ${pkgWasm}`,
  );
  // One worker: the package's pool worker (the demo calls optimize() from the page).
  const workers = assets.filter((f) => /^worker-.*\.js$/.test(f));
  assert.equal(workers.length, 1, `one worker chunk in ${assets.join(', ')}`);
  assert.match(await readFile(join(distDir, 'assets', workers[0]), 'utf8'), /mediaslim worker started outside a worker thread/, "it is the package's worker");
  for (const f of ['skimage-rocket.jpg', 'flower2.jpg', 'transparent.png', 'hopper.png', 'LICENSE-pillow', 'LICENSE-scikit-image', 'README.md']) {
    await stat(join(distDir, 'samples', f));
  }
  const html = await readFile(join(distDir, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /main\.ts/, 'the entry is bundled');
});

describe('built demo, desktop', { timeout: 120_000 }, () => {
  let page;
  let context;
  let problems;
  before(async () => {
    ({ page, context, problems } = await openDemo(server.origin));
  });
  after(() => context?.close());

  test('two good files and a corrupt one: cards with results, and an error card', async () => {
    await page.getByLabel('Choose images…').setInputFiles([fixture('skimage-rocket.jpg'), fixture('truncated_jpeg.jpg'), fixture('transparent.png')]);
    await settled(page, 3);
    const [rocket, corrupt, transparent] = await readCards(page);
    await assertGoodCard(rocket, { name: 'skimage-rocket.jpg', format: 'jpeg', width: 640, height: 427 });
    assertErrorCard(corrupt, { name: 'truncated_jpeg.jpg', code: 'CORRUPT_INPUT' });
    await assertGoodCard(transparent, { name: 'transparent.png', format: 'png', width: 200, height: 150 });
    assert.ok(transparent.download.decoded.translucentFraction > 0.2, 'PNG output keeps its transparency');
    const summary = await page.locator('#summary').textContent();
    assert.match(summary, /^3 images · .* → .* \(saved \d+%\) · 1 failed$/, summary);
  });

  test('settings: AVIF, max width 160, "Optimize again"', async () => {
    await page.getByLabel('Output format').selectOption('avif');
    assert.equal(await page.locator('#quality-value').textContent(), '60', 'AVIF default quality');
    await page.getByLabel('Max width (px)').fill('160');
    await page.getByRole('button', { name: 'Optimize again' }).click();
    await settled(page, 3);
    const [rocket, corrupt, transparent] = await readCards(page);
    await assertGoodCard(rocket, { name: 'skimage-rocket.jpg', format: 'avif', width: 160, height: 107 });
    assertErrorCard(corrupt, { name: 'truncated_jpeg.jpg', code: 'CORRUPT_INPUT' });
    await assertGoodCard(transparent, { name: 'transparent.png', format: 'avif', width: 160, height: 120 });
    assert.ok(transparent.download.decoded.translucentFraction > 0.2, 'AVIF output keeps its transparency');
  });

  test('quality applies: lower JPEG quality gives a smaller file', async () => {
    await page.getByLabel('Output format').selectOption('jpeg');
    await page.getByLabel('Max width (px)').fill('');
    const sizeAt = async (quality) => {
      await page.getByLabel(/^Quality/).fill(String(quality));
      assert.equal(await page.locator('#quality-value').textContent(), String(quality));
      await page.getByRole('button', { name: 'Optimize again' }).click();
      await settled(page, 3);
      const [rocket] = await readCards(page);
      await assertGoodCard(rocket, { name: 'skimage-rocket.jpg', format: 'jpeg', width: 640, height: 427 });
      return Number(rocket.data.outputBytes);
    };
    const high = await sizeAt(90);
    const low = await sizeAt(30);
    assert.ok(low < high * 0.8, `quality 30: ${low} B, quality 90: ${high} B`);
  });

  test('drag and drop adds files', async () => {
    const base64 = (await readFile(fixture('hopper.jpg'))).toString('base64');
    const dragging = await page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'hopper.jpg', { type: 'image/jpeg' }));
      const zone = document.querySelector('#drop-zone');
      zone.dispatchEvent(new DragEvent('dragenter', { dataTransfer: data, bubbles: true, cancelable: true }));
      const highlighted = zone.classList.contains('is-dragging');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      const drop = new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
      zone.dispatchEvent(drop);
      return { highlighted, handled: drop.defaultPrevented, after: zone.classList.contains('is-dragging') };
    }, base64);
    assert.deepEqual(dragging, { highlighted: true, handled: true, after: false });
    await settled(page, 4);
    const cards = await readCards(page);
    await assertGoodCard(cards[3], { name: 'hopper.jpg', format: 'jpeg', width: 128, height: 128 });
  });

  test('an output larger than its input is reported as such', async () => {
    await page.getByLabel('Output format').selectOption('png');
    await page.getByRole('button', { name: 'Optimize again' }).click();
    await settled(page, 4);
    const [rocket] = await readCards(page);
    await assertGoodCard(rocket, { name: 'skimage-rocket.jpg', format: 'png', width: 640, height: 427, smaller: false });
    const before = Number(rocket.data.originalBytes);
    const after = Number(rocket.data.outputBytes);
    assert.ok(after > before, 'a lossless PNG of a photo JPEG is larger');
    assert.equal(rocket.stats.saved, `−${((after / before - 1) * 100).toFixed(1)}%`);
    assert.match(rocket.notes, /larger than the input/);
  });

  test("the page's only workers are the package's pool: one per core at most, none nested", async () => {
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const workers = page.workers().map((w) => new URL(w.url()).pathname);
    assert.ok(workers.length >= 1 && workers.length <= cores, `${workers.length} workers for ${cores} cores: ${workers}`);
    for (const path of workers) assert.match(path, /^\/assets\/worker-[^/]*\.js$/);
  });

  test('no page errors, console errors or failed requests', () => {
    assert.deepEqual(problems, []);
  });
});

describe('built demo, cancel and retry', { timeout: 120_000 }, () => {
  test('"Cancel" stops a waiting card ("Cancelled"); "Retry" runs it ahead of the batch', async () => {
    const { page, context, problems } = await openDemo(server.origin);
    try {
      // Five different files (one trailing byte more each, so the pool cannot share their
      // encodes) as full-size AVIF: about a second each, two at a time on this machine.
      const rocket = await readFile(fixture('skimage-rocket.jpg'));
      const files = [1, 2, 3, 4, 5].map((n) => ({ name: `rocket-${n}.jpg`, mimeType: 'image/jpeg', buffer: Buffer.concat([rocket, Buffer.alloc(n)]) }));
      await page.getByLabel('Output format').selectOption('avif');
      await page.evaluate(() => {
        window.doneOrder = [];
        new MutationObserver((mutations) => {
          for (const m of mutations) {
            const file = m.target.dataset.file;
            if (m.target.dataset.status === 'done' && !window.doneOrder.includes(file)) window.doneOrder.push(file);
          }
        }).observe(document.querySelector('#results'), { subtree: true, attributes: true, attributeFilter: ['data-status'] });
      });
      await page.getByLabel('Choose images…').setInputFiles(files);
      await page.getByRole('button', { name: 'Cancel rocket-5.jpg' }).click();
      await page.waitForFunction(() => document.querySelector('.card[data-file="rocket-5.jpg"]')?.dataset.status === 'cancelled', null, { timeout: 5_000 });

      const cancelled = await page.evaluate(() => {
        const card = document.querySelector('.card[data-file="rocket-5.jpg"]');
        const shown = (s) => !card.querySelector(s).hidden;
        return {
          badge: card.querySelector('.badge').textContent,
          note: card.querySelector('.output-frame .frame-note').textContent,
          busy: card.getAttribute('aria-busy'),
          download: shown('.download'),
          cancel: shown('.cancel'),
          retry: shown('.retry'),
          retryFocused: document.activeElement === card.querySelector('.retry'),
          error: shown('.error'),
          others: [...document.querySelectorAll('#results .card')].filter((c) => c !== card).map((c) => c.dataset.status),
          summary: document.querySelector('#summary').textContent,
        };
      });
      assert.deepEqual(
        { ...cancelled, others: undefined, summary: undefined },
        { badge: 'Cancelled', note: 'Cancelled', busy: 'false', download: false, cancel: false, retry: true, retryFocused: true, error: false, others: undefined, summary: undefined },
      );
      assert.ok(cancelled.others.every((s) => s === 'queued' || s === 'working'), `the others carry on: ${cancelled.others}`);
      assert.match(cancelled.summary, /1 cancelled/, cancelled.summary);

      await page.getByRole('button', { name: 'Retry rocket-5.jpg' }).click();
      await settled(page, 5, 60_000);
      const order = await page.evaluate(() => window.doneOrder);
      assert.equal(order.length, 5, `all five done: ${order}`);
      // Retried at priority "user": it overtakes batch files still waiting at "visible".
      assert.ok(order.indexOf('rocket-5.jpg') < order.indexOf('rocket-4.jpg'), `finished in the order ${order}`);
      const cards = await readCards(page);
      for (const card of cards) {
        assert.equal(card.status, 'done', `${card.name}: ${JSON.stringify(card.error)}`);
        assert.equal(card.data.format, 'avif');
        assert.deepEqual([card.download.decoded.width, card.download.decoded.height], [640, 427]);
        assert.equal(sniff(card.download.head), 'avif');
      }
      assert.doesNotMatch(await page.locator('#summary').textContent(), /cancelled/);
      assert.equal(await page.locator('.card .cancel:visible, .card .retry:visible').count(), 0, 'no Cancel or Retry left on finished cards');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

describe('built demo, samples and screenshots', { timeout: 120_000 }, () => {
  const SAMPLES = [
    { name: 'skimage-rocket.jpg', format: 'jpeg', width: 640, height: 427 },
    { name: 'flower2.jpg', format: 'jpeg', width: 300, height: 225 },
    { name: 'transparent.png', format: 'png', width: 200, height: 150 },
    { name: 'hopper.png', format: 'png', width: 128, height: 128 },
  ];

  for (const [label, viewport, extra] of [
    ['desktop', { width: 1280, height: 900 }, {}],
    ['phone', { width: 390, height: 844 }, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 }],
  ]) {
    test(`${label}: "Try the samples" completes every sample; screenshot`, async () => {
      const { page, context, problems } = await openDemo(server.origin, viewport, extra);
      try {
        await page.getByRole('button', { name: 'Try the samples' }).click();
        await settled(page, SAMPLES.length);
        const cards = await readCards(page);
        for (const [i, sample] of SAMPLES.entries()) {
          await assertGoodCard(cards[i], { ...sample, smaller: true });
          // The samples are fixtures; the page must have sent them byte for byte.
          assert.equal(Number(cards[i].data.originalBytes), (await stat(join(repoRoot, 'www', 'public', 'samples', sample.name))).size);
        }
        // One failing file next to them, for the screenshot and the layout check.
        await page.getByLabel('Choose images…').setInputFiles([fixture('zip-renamed.jpg')]);
        await settled(page, SAMPLES.length + 1);
        const last = (await readCards(page)).at(-1);
        assertErrorCard(last, { name: 'zip-renamed.jpg', code: 'UNSUPPORTED_FORMAT' });

        // Layout: nothing wider than the viewport, the main controls on screen.
        const layout = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          widest: Math.max(...[...document.querySelectorAll('body *')].map((el) => el.getBoundingClientRect().right)),
        }));
        assert.ok(layout.scrollWidth <= layout.innerWidth, `no horizontal scroll: ${JSON.stringify(layout)}`);
        assert.ok(layout.widest <= layout.innerWidth + 0.5, `nothing sticks out: ${JSON.stringify(layout)}`);
        for (const control of [page.getByText('Choose images…'), page.getByRole('button', { name: 'Try the samples' }), page.getByLabel('Output format')]) {
          const box = await control.boundingBox();
          assert.ok(box && box.x >= 0 && box.x + box.width <= viewport.width, 'control inside the viewport');
          assert.ok(box.height >= 40, `touch target at least 40 px high (${box.height})`);
        }

        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(outDir, `demo-${label}.png`), fullPage: true });
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

test('scripts/start.mjs serves the demo with the Vite dev server', { timeout: 90_000 }, async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['scripts/start.mjs', '--port', String(port)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed within 30 s:\n${output}`)), 30_000).unref();
      const onData = (chunk) => {
        output += chunk;
        const m = /mediaslim demo running at (http:\/\/\S+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (chunk) => (output += chunk));
      exited.then(({ code }) => reject(new Error(`start.mjs exited (${code}):\n${output}`)));
    });
    assert.match(url, new RegExp(`^http://localhost:${port}/$`), 'the asked-for port, on localhost');

    const { page, context, problems } = await openDemo(url.replace(/\/$/, ''));
    try {
      await page.getByLabel('Choose images…').setInputFiles([fixture('flower2.jpg'), fixture('zip-renamed.jpg')]);
      await settled(page, 2);
      const [flower, zip] = await readCards(page);
      await assertGoodCard(flower, { name: 'flower2.jpg', format: 'jpeg', width: 300, height: 225 });
      assertErrorCard(zip, { name: 'zip-renamed.jpg', code: 'UNSUPPORTED_FORMAT' });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  } finally {
    child.kill('SIGTERM');
    const { code, signal } = await Promise.race([
      exited,
      new Promise((resolve) => setTimeout(() => resolve({ code: 'timeout' }), 10_000).unref()),
    ]);
    if (code === 'timeout') child.kill('SIGKILL');
    // 143 = 128 + SIGTERM: Vite's own SIGTERM handler closes the server and exits with it.
    assert.ok(code === 0 || code === 143 || signal === 'SIGTERM', `start.mjs stopped (code ${code}, signal ${signal})`);
  }
});
