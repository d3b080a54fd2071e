// The built demo works offline after the first visit: its service worker stores the page,
// scripts, the package's worker, both wasm modules and the samples; with the network gone,
// a reload shows the app and "Try the samples" optimizes them, AVIF (the lazily loaded
// module) included, without one request reaching the server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SAMPLES, assertGoodCard, buildAndServe, openDemo, readCards, settled } from './demo-helpers.mjs';

let site;
before(async () => {
  site = await buildAndServe();
});
after(() => site?.close());

test('second load offline: the app and its encoders come from the service worker', { timeout: 120_000 }, async () => {
  const { page, context, problems } = await openDemo(site.browser, site.server.origin, { viewport: { width: 1280, height: 1000 } });
  try {
    await page.waitForSelector('body[data-offline="ready"]', { timeout: 60_000 });
    await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 10_000 });
    assert.match(await page.locator('footer').textContent(), /works offline/);

    await context.setOffline(true);
    const served = site.server.requests.length;
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    assert.equal(await page.locator('h1').textContent(), '◐ mediaslim');

    await page.getByRole('button', { name: 'Try the samples' }).click();
    await settled(page, 4);
    let cards = await readCards(page);
    for (const [i, s] of SAMPLES.entries()) await assertGoodCard(cards[i], { name: s.name, format: 'webp', width: s.width, height: s.height });

    // AVIF loads the second wasm module on first use: it is stored too.
    await page.getByRole('radio', { name: /^AVIF/ }).check();
    await page.getByLabel('Max width (px)').first().fill('96');
    await page.getByLabel('Max width (px)').first().press('Enter');
    await page.waitForFunction(() => [...document.querySelectorAll('#results .card')].every((c) => c.dataset.format === 'avif' || c.dataset.status === 'error'), null, { timeout: 60_000 });
    cards = await readCards(page);
    for (const [i, s] of SAMPLES.entries()) {
      await assertGoodCard(cards[i], { name: s.name, format: 'avif', width: 96, height: Math.round((s.height * 96) / s.width) });
    }
    assert.equal(site.server.requests.length, served, `nothing reached the server offline: ${JSON.stringify(site.server.requests.slice(served))}`);
    // Going offline makes Chromium log failed network requests only if something tried the network.
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
