// Shared by the demo suites (demo*.test.mjs): build the demo with Vite into a temporary
// folder, serve it statically, open it in Debian's Chromium, and read what its cards show.
// Not a test file itself.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { ANALYZE_SOURCE, fixtures, launchBrowser, repoRoot, serveStatic, watchPage } from './helpers.mjs';

export const fixture = (name) => join(fixtures, name);
export const sample = (name) => join(repoRoot, 'www', 'public', 'samples', name);
export const SAMPLES = [
  { name: 'skimage-rocket.jpg', width: 640, height: 427 },
  { name: 'flower2.jpg', width: 300, height: 225 },
  { name: 'transparent.png', width: 200, height: 150 },
  { name: 'hopper.png', width: 128, height: 128 },
];
export const LABEL = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF' };

/** Builds www/ with Vite (the demo's own config) and serves the output; `close()` undoes both. */
export async function buildAndServe() {
  const distDir = mkdtempSync(join(tmpdir(), 'mediaslim-demo-'));
  await build({
    configFile: join(repoRoot, 'www', 'vite.config.mjs'),
    logLevel: 'error',
    build: { outDir: distDir, emptyOutDir: true },
  });
  const server = await serveStatic(distDir);
  const browser = await launchBrowser();
  return {
    distDir,
    server,
    browser,
    close: async () => {
      await browser.close();
      await server.close();
      await rm(distDir, { recursive: true, force: true });
    },
  };
}

/** A fresh browser context on the demo, ready to use; `problems` collects page errors. */
export async function openDemo(browser, origin, { viewport = { width: 1280, height: 900 }, ...extra } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, ...extra });
  const page = await context.newPage();
  const problems = watchPage(page);
  await page.addInitScript({ content: ANALYZE_SOURCE });
  await page.goto(origin + '/');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return { context, page, problems };
}

/** Waits until there are `count` cards and every one of them is done or failed. */
export async function settled(page, count, timeout = 60_000) {
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
    const states = await page.$$eval('#results .card', (cards) => cards.map((c) => `${c.dataset.file}: ${c.dataset.status}`)).catch(() => []);
    throw new Error(`${count} settled cards expected within ${timeout} ms; have [${states.join(', ')}]`, { cause: err });
  }
}

/** The demo's own counters (encodes a worker started, done, failed, aborted). */
export function counters(page) {
  return page.evaluate(() => ({ ...window.mediaslimDemo.counters }));
}

/** Waits until no job is queued or running in the page's pool and nothing changed for `quietMs`. */
export async function quiet(page, quietMs = 700, timeout = 60_000) {
  let last = '';
  let since = Date.now();
  for (const deadline = Date.now() + timeout; Date.now() < deadline; await page.waitForTimeout(100)) {
    const now = await page.evaluate(() => {
      const s = window.mediaslimDemo.pool.stats();
      return JSON.stringify({ c: window.mediaslimDemo.counters, busy: s.queued + s.running, states: [...document.querySelectorAll('.card')].map((c) => c.dataset.status) });
    });
    if (now !== last || JSON.parse(now).busy > 0) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
  throw new Error('the page did not settle');
}

/** What every card shows, with its download fetched and decoded by the browser. */
export function readCards(page) {
  return page.evaluate(async () => {
    const shown = (el) => !!el && !el.hidden && el.getClientRects().length > 0;
    return Promise.all(
      [...document.querySelectorAll('#results .card')].map(async (card) => {
        const q = (s) => card.querySelector(s);
        const text = (s) => (shown(q(s)) ? q(s).textContent.trim() : null);
        const link = q('.download');
        let download = null;
        if (shown(link)) {
          const blob = await (await fetch(link.href)).blob();
          const bytes = new Uint8Array(await blob.arrayBuffer());
          download = { name: link.download, size: blob.size, type: blob.type, head: Array.from(bytes.slice(0, 16)), decoded: await analyzeImage(bytes, blob.type) };
        }
        const img = q('.thumb-img');
        if (shown(img)) await img.decode().catch(() => {});
        return {
          name: text('.card-name'),
          status: card.dataset.status,
          data: { ...card.dataset },
          badge: text('.badge'),
          source: text('.card-source'),
          stats: {
            after: text('.stat-after dd'),
            saved: text('.stat-saved dd'),
            dimensions: text('.stat-dimensions dd'),
            time: text('.stat-time dd'),
          },
          notes: text('.notes'),
          error: shown(q('.error')) ? text('.error') : null,
          thumb: shown(img) ? { width: img.naturalWidth, height: img.naturalHeight, src: img.currentSrc } : null,
          download,
        };
      }),
    );
  });
}

/** "110 KB" -> { bytes, slack }: the value and how far the page's rounding may put it off. */
export function parseSize(text) {
  const m = /(\d+)(?:\.(\d+))? (B|KB|MB)$/.exec(text ?? '');
  assert.ok(m, `a size: ${JSON.stringify(text)}`);
  const unit = { B: 1, KB: 1024, MB: 1024 * 1024 }[m[3]];
  const decimals = m[2]?.length ?? 0;
  return { bytes: Number(`${m[1]}.${m[2] ?? 0}`) * unit, slack: (unit * 0.5) / 10 ** decimals + 0.5 };
}

export function sniff(bytes) {
  const b = Uint8Array.from(bytes.slice(0, 16));
  const ascii = (from, to) => String.fromCharCode(...b.slice(from, to));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x89 && ascii(1, 4) === 'PNG') return 'png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(4, 8) === 'ftyp' && /^avi[fs]$/.test(ascii(8, 12))) return 'avif';
  return 'unknown';
}

/** The checks every finished card must pass: smaller, honest numbers, a download that decodes as shown. */
export async function assertGoodCard(card, { name, format, width, height, inputBytes, smaller = true }) {
  const where = `card ${name}`;
  assert.equal(card.name, name);
  assert.equal(card.status, 'done', `${where}: ${card.error}`);
  assert.equal(card.error, null, `${where} shows no error`);
  assert.equal(card.data.format, format, `${where} format`);
  assert.match(card.stats.after, new RegExp(`^${LABEL[format]} `), `${where}: shown format`);
  assert.equal(card.stats.dimensions, `${width}×${height}`, `${where}: shown dimensions`);
  assert.deepEqual([Number(card.data.width), Number(card.data.height)], [width, height]);

  const before = Number(card.data.originalBytes);
  const after = Number(card.data.outputBytes);
  if (inputBytes !== undefined) assert.equal(before, inputBytes, `${where}: before = the file's size`);
  const shownAfter = parseSize(card.stats.after);
  assert.ok(Math.abs(shownAfter.bytes - after) <= shownAfter.slack, `${where}: shown ${card.stats.after} ~ ${after} B`);
  if (smaller) {
    assert.ok(after < before, `${where}: ${after} B < ${before} B`);
    const saved = Number(/^([\d.]+)%$/.exec(card.stats.saved)?.[1]);
    assert.ok(Math.abs(saved - (1 - after / before) * 100) < 0.06, `${where}: saved ${card.stats.saved} for ${before} -> ${after}`);
    assert.equal(card.badge, `−${((1 - after / before) * 100).toFixed(0)}%`);
  }
  assert.match(card.stats.time, /^[\d.]+ (ms|s)$/, `${where}: encode time`);

  // The download is the output: same size, the right kind of file, decoded at the shown size.
  assert.ok(card.download, `${where} has a download link`);
  assert.equal(card.download.size, after, `${where}: download size`);
  assert.equal(card.download.type, `image/${format}`);
  assert.equal(sniff(card.download.head), format, `${where}: download bytes are ${format}`);
  assert.ok(card.download.name.endsWith({ jpeg: '.jpg', png: '.png', webp: '.webp', avif: '.avif' }[format]), `${where}: download name ${card.download.name}`);
  assert.deepEqual([card.download.decoded.width, card.download.decoded.height], [width, height], `${where}: decoded download`);
  // The thumbnail is that output too.
  assert.deepEqual([card.thumb?.width, card.thumb?.height], [width, height], `${where}: thumbnail`);
}

export function assertErrorCard(card, { name, code }) {
  assert.equal(card.name, name);
  assert.equal(card.status, 'error');
  assert.equal(card.data.errorCode, code);
  assert.ok(card.error?.startsWith(code), `${card.name}: error text ${card.error}`);
  assert.equal(card.download, null, 'no download on a failed card');
  assert.equal(card.badge, 'Failed');
}

/** Distinct copies of an image (one trailing byte more each: the pool cannot share their encodes). */
export async function copies(path, n, ext = path.slice(path.lastIndexOf('.'))) {
  const bytes = await readFile(path);
  const mimeType = { '.jpg': 'image/jpeg', '.png': 'image/png' }[ext];
  return Array.from({ length: n }, (_, i) => ({ name: `img-${String(i + 1).padStart(2, '0')}${ext}`, mimeType, buffer: Buffer.concat([bytes, Buffer.alloc(i + 1)]) }));
}

/** Records the order in which cards reach "done" (window.doneOrder), from now on. */
export function recordDoneOrder(page) {
  return page.evaluate(() => {
    window.doneOrder = [];
    window.doneObserver?.disconnect();
    window.doneObserver = new MutationObserver((mutations) => {
      for (const m of mutations) {
        if (m.target.dataset?.status === 'done' && m.oldValue !== 'done') window.doneOrder.push(m.target.dataset.file);
      }
    });
    window.doneObserver.observe(document.querySelector('#results'), { subtree: true, attributes: true, attributeFilter: ['data-status'], attributeOldValue: true });
  });
}

/** Files of the cards that intersect the viewport now. */
export function visibleCards(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('#results .card')]
      .filter((c) => {
        const r = c.getBoundingClientRect();
        return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
      })
      .map((c) => c.dataset.file),
  );
}
