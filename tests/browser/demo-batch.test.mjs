// The demo with many files: only the cards on screen are encoded until the user scrolls
// (counted), a card scrolled to jumps the background queue, a settings change re-encodes the
// cards on screen first and drops the queued stale jobs, and a picked folder keeps its paths
// (into the zip). Real photos: distinct copies of a sample, so the pool cannot share encodes.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { unzipSync } from 'fflate';
import sharp from 'sharp';
import { buildAndServe, copies, counters, openDemo, quiet, readCards, recordDoneOrder, sample, settled, visibleCards } from './demo-helpers.mjs';

let site;
before(async () => {
  site = await buildAndServe();
});
after(() => site?.close());

describe('40 files', { timeout: 150_000 }, () => {
  let page;
  let context;
  let problems;
  let files;
  before(async () => {
    ({ page, context, problems } = await openDemo(site.browser, site.server.origin, { viewport: { width: 1280, height: 900 } }));
    files = await copies(sample('skimage-rocket.jpg'), 40);
  });
  after(() => context?.close());

  const statuses = () => page.$$eval('#results .card', (cards) => Object.fromEntries(cards.map((c) => [c.dataset.file, c.dataset.status])));

  test('only the cards on screen are encoded; scrolling encodes the ones that come into view', async () => {
    await page.getByLabel('Choose images…').setInputFiles(files);
    await page.waitForFunction(() => document.querySelectorAll('#results .card').length === 40);
    await quiet(page);
    const seen = await visibleCards(page);
    assert.ok(seen.length >= 1 && seen.length <= 8, `a row or two on screen: ${seen}`);
    let state = await statuses();
    for (const file of seen) assert.equal(state[file], 'done', `${file} on screen is done`);
    const offScreen = Object.keys(state).filter((f) => !seen.includes(f));
    for (const file of offScreen) assert.equal(state[file], 'idle', `${file} off screen waits`);
    assert.equal((await counters(page)).started, seen.length, 'one encode per card on screen, none more');
    // Off-screen cards do not even load their original.
    const loaded = await page.$$eval('#results .card[data-status="idle"] .thumb-img', (imgs) => imgs.filter((i) => i.getAttribute('src')).length);
    assert.equal(loaded, 0, 'no original loaded off screen');
    assert.match(await page.locator('#summary').textContent(), new RegExp(`${40 - seen.length} waiting to scroll into view`));

    // Jump to the end: the last cards come into view and are encoded; those jumped over are not.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await quiet(page);
    const seenAtEnd = await visibleCards(page);
    assert.ok(seenAtEnd.includes('img-40.jpg'), `the last card is on screen: ${seenAtEnd}`);
    state = await statuses();
    for (const file of seenAtEnd) assert.equal(state[file], 'done', `${file} on screen is done`);
    assert.equal((await counters(page)).started, seen.length + seenAtEnd.length, 'only the cards that were on screen');
    const cards = await readCards(page);
    for (const card of cards.filter((c) => c.status === 'done')) {
      assert.deepEqual([card.download.decoded.width, card.download.decoded.height], [640, 427]);
      assert.ok(card.download.size < Number(card.data.originalBytes));
    }
  });

  test('"Optimize all" queues the rest behind the screen; a card scrolled to jumps that queue', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await quiet(page);
    await recordDoneOrder(page);
    await page.getByRole('button', { name: 'Optimize all' }).click();
    // Straight away, bring a card from the middle on screen (a user looking for one file).
    await page.locator('.card[data-file="img-30.jpg"]').scrollIntoViewIfNeeded();
    await settled(page, 40);
    const order = await page.evaluate(() => window.doneOrder);
    const waiting = 40 - (await page.evaluate(() => document.querySelectorAll('.card').length - window.doneOrder.length));
    assert.equal(order.length, waiting);
    assert.ok(order.indexOf('img-30.jpg') < 5, `img-30.jpg was among the first done: ${order.indexOf('img-30.jpg')} in ${order}`);
    assert.equal((await counters(page)).started, 40, 'every file encoded exactly once');
    assert.match(await page.locator('#summary').textContent(), /^40 files · 40 optimized: .* \(saved \d+%\)$/);
  });

  test('a new setting re-encodes the cards on screen first and drops the queued stale jobs', async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await quiet(page);
    const seen = await visibleCards(page);
    const before = await counters(page);
    await recordDoneOrder(page);
    // JPEG, then back to WebP as soon as a JPEG encode has started: the JPEG jobs still
    // queued are stale and must never run. (In the page, so that no time passes between.)
    const jpegStarted =
      (await page.evaluate(async () => {
        const radio = (name) => [...document.querySelectorAll('#batch-settings input[type=radio]')].find((r) => r.value === name);
        radio('jpeg').click();
        while (!document.querySelector('.card[data-status="working"]')) await new Promise((r) => setTimeout(r, 5));
        const started = window.mediaslimDemo.counters.started;
        radio('webp').click();
        return started;
      })) - before.started;
    await settled(page, 40);
    await quiet(page);
    const now = await counters(page);
    const ran = now.started - before.started;
    // Every JPEG job either had started (a worker cannot be interrupted) or was dropped unrun.
    assert.ok(jpegStarted < 20, `most JPEG jobs were still queued: ${jpegStarted} had started`);
    assert.ok(ran >= 40 + jpegStarted && ran <= 40 + jpegStarted, `40 WebP encodes plus the ${jpegStarted} JPEG ones that had started: ${ran}`);
    assert.ok(now.aborted - before.aborted >= 40 - jpegStarted, `stale jobs dropped: ${now.aborted - before.aborted}`);
    const cards = await readCards(page);
    for (const card of cards) assert.equal(card.data.format, 'webp', `${card.name}: only the last setting's result is shown`);
    // On screen first: those cards are among the first WebP results.
    const order = await page.evaluate(() => window.doneOrder);
    const first = order.slice(0, seen.length + 2);
    for (const file of seen) assert.ok(first.includes(file), `${file} (on screen) among the first results: ${order}`);
    assert.deepEqual(problems, []);
  });
});

test('a picked folder: images only, paths kept in the cards and the zip', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mediaslim-folder-'));
  const root = join(dir, 'photos');
  await mkdir(join(root, 'trip'), { recursive: true });
  await copyFile(sample('flower2.jpg'), join(root, 'flower2.jpg'));
  await copyFile(sample('hopper.png'), join(root, 'trip', 'hopper.png'));
  await copyFile(sample('flower2.jpg'), join(root, 'trip', 'flower2.jpg'));
  await writeFile(join(root, 'notes.txt'), 'not an image');
  await writeFile(join(root, '.DS_Store'), 'hidden');
  const { page, context, problems } = await openDemo(site.browser, site.server.origin, { viewport: { width: 1280, height: 1600 } });
  try {
    await page.locator('#folder-input').setInputFiles(root);
    await settled(page, 3);
    const cards = await readCards(page);
    assert.deepEqual(cards.map((c) => c.data.file).sort(), ['photos/flower2.jpg', 'photos/trip/flower2.jpg', 'photos/trip/hopper.png']);
    assert.match(await page.locator('#summary').textContent(), /^3 files · 3 optimized: .* · 2 skipped \(not images\)$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /^Download all/ }).click()]);
    const zip = unzipSync(new Uint8Array(await readFile(await download.path())));
    assert.deepEqual(Object.keys(zip).sort(), ['photos/flower2.webp', 'photos/trip/flower2.webp', 'photos/trip/hopper.webp']);
    for (const [name, bytes] of Object.entries(zip)) {
      const meta = await sharp(bytes).metadata();
      assert.equal(meta.format, 'webp', name);
      assert.equal(meta.width, name.endsWith('hopper.webp') ? 128 : 300);
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    await rm(dir, { recursive: true, force: true });
  }
});
