// lazyOptimize in a real page: 60 images below the fold; only those scrolled near are
// encoded, in scroll order, and images that scroll past before starting are cancelled.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openTestPage } from './helpers.mjs';

const PAGE = '/__mediaslim_lazy_test__.html';
const IMAGES = 60;
const HTML = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>lazyOptimize test</title><link rel="icon" href="data:,">
<style>body { margin: 0 } .spacer { height: 1200px } img { display: block; width: 200px; height: 300px; margin: 0 }</style>
<div class="spacer">above the fold</div>
${Array.from({ length: IMAGES }, (_, i) => `<img alt="image ${i}" data-i="${i}" data-src="/tests/fixtures/hopper.png?i=${i}">`).join('\n')}
<script type="module">
  import { lazyOptimize, Pool } from '/pkg/index.js';
  window.pool = new Pool({ size: 1 });
  window.encoded = [];
  window.stop = lazyOptimize('img', {
    format: 'webp', width: 100, pool: window.pool, rootMargin: '300px 0px',
    onOptimized: (img) => window.encoded.push(Number(img.dataset.i)),
  });
  window.ready = true;
</script>
</html>`;

let server;
let browser;
let page;
let problems;

before(async () => {
  ({ server, browser, page, problems } = await openTestPage(PAGE, HTML, { viewport: { width: 800, height: 600 }, readyFlag: 'ready' }));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Waits until the pool is idle and no new result has arrived for 800 ms (observers and
 * fetches run between scrolling and queueing). */
async function settle() {
  let last = -1;
  let stableSince = Date.now();
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await page.waitForTimeout(100)) {
    const { n, busy } = await page.evaluate(() => {
      const s = window.pool.stats();
      return { n: window.encoded.length, busy: s.queued + s.running };
    });
    if (n !== last || busy > 0) {
      last = n;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 800) {
      return;
    }
  }
  throw new Error('the page did not settle');
}

test('nothing below the fold is encoded before it is near', async () => {
  await page.waitForTimeout(500);
  await settle();
  // Viewport 600 + margin 300 = 900 < 1200 px of spacer: no image is near yet.
  assert.deepEqual(await page.evaluate(() => window.encoded), []);
  assert.equal(await page.evaluate(() => window.pool.stats().done), 0);
});

test('scrolling encodes only the images that come near, in scroll order', async () => {
  // Bring images 0..~4 into range (each is 300 px tall).
  await page.evaluate(() => window.scrollTo(0, 900));
  await settle();
  const first = await page.evaluate(() => window.encoded.slice());
  assert.ok(first.length >= 3 && first.length <= 7, `encoded ${JSON.stringify(first)}`);
  assert.deepEqual(first, [...first].sort((a, b) => a - b), 'in scroll order');
  assert.equal(first[0], 0);
  // Further down: the next ones, still in order, and far ones untouched.
  await page.evaluate(() => window.scrollTo(0, 2400));
  await settle();
  const second = await page.evaluate(() => window.encoded.slice());
  assert.ok(second.length > first.length, 'more were encoded');
  assert.deepEqual(second, [...second].sort((a, b) => a - b), 'in scroll order');
  assert.ok(Math.max(...second) < 20, `far images stay untouched: ${JSON.stringify(second)}`);
  // The optimized bytes really replaced the sources.
  const srcs = await page.evaluate(() => Array.from(document.images).slice(0, 3).map((i) => i.src));
  for (const s of srcs) assert.match(s, /^blob:/);
});

test('jumping far down cancels what scrolled past before it started', async () => {
  const before = await page.evaluate(() => window.pool.stats());
  // Jump straight to the bottom: the images in between were never near long enough.
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await settle();
  const encoded = await page.evaluate(() => window.encoded.slice());
  const after = await page.evaluate(() => window.pool.stats());
  assert.ok(encoded.includes(IMAGES - 1), 'the last image, now visible, was encoded');
  const middle = encoded.filter((i) => i >= 20 && i < IMAGES - 6);
  assert.deepEqual(middle, [], `images skipped over were not encoded: ${JSON.stringify(encoded)}`);
  assert.ok(after.done - before.done <= 8, `encodes after the jump: ${after.done - before.done}`);
  assert.deepEqual(problems, []);
});
