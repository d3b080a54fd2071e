// The demo's main flow with the keyboard only: Tab to "Try the samples" (past the file
// input), Enter, change the format with the arrow keys, open a card's comparison, move the
// split with the arrow keys, download from the dialog, close it (focus returns to the card),
// and download from the card.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { buildAndServe, openDemo, readCards, settled } from './demo-helpers.mjs';

let site;
before(async () => {
  site = await buildAndServe();
});
after(() => site?.close());

/** Presses Tab until `predicate(activeElement)` holds; returns what was focused on the way. */
async function tabTo(page, predicate, { max = 40, shift = false } = {}) {
  const passed = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(shift ? 'Shift+Tab' : 'Tab');
    const focus = await page.evaluate(() => {
      const el = document.activeElement;
      return { id: el?.id ?? '', tag: el?.tagName ?? '', type: el?.getAttribute('type') ?? '', label: el?.getAttribute('aria-label') ?? el?.textContent?.trim().slice(0, 40) ?? '', cls: el?.className ?? '', value: el?.value ?? '' };
    });
    passed.push(focus);
    if (predicate(focus)) return passed;
  }
  throw new Error(`focus never got there; went through ${JSON.stringify(passed.map((p) => p.id || p.label))}`);
}

test('keyboard only: samples, a setting, compare, split, downloads', { timeout: 120_000 }, async () => {
  const { page, context, problems } = await openDemo(site.browser, site.server.origin, { viewport: { width: 1280, height: 1000 } });
  try {
    const passed = await tabTo(page, (f) => f.id === 'samples-button');
    assert.ok(passed.some((f) => f.id === 'file-input'), `the file input is on the way: ${passed.map((f) => f.id || f.label)}`);
    assert.equal(passed[0].cls, 'skip-link', 'a skip link comes first');
    // The focused file input shows a focus ring on its visible label.
    await page.keyboard.press('Enter');
    await settled(page, 4);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'samples-button', 'focus stays on the button');

    // The format radios: one Tab stop, arrows move the choice.
    const toFormat = await tabTo(page, (f) => f.type === 'radio');
    assert.equal(toFormat.at(-1).value, 'webp', 'the checked format is the tab stop');
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement.closest('label')).outlineStyle);
    assert.equal(ring, 'solid', 'the focused format shows a focus ring');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.value), 'jpeg');
    await page.waitForFunction(() => [...document.querySelectorAll('#results .card')].every((c) => c.dataset.format === 'jpeg'), null, { timeout: 30_000 });
    await settled(page, 4);

    // The first card's thumbnail is the button that opens the comparison.
    await tabTo(page, (f) => f.label === 'Compare skimage-rocket.jpg: original and optimized');
    await page.keyboard.press('Enter');
    await page.locator('#compare').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('role')), 'slider', 'focus on the split');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('Shift+ArrowLeft');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-valuenow')), '34');
    const clip = await page.evaluate(() => getComputedStyle(document.querySelector('.layer-after')).clipPath);
    assert.match(clip, /inset\(0px 0px 0px 34%\)|inset\(0px 0px 0px 0px 34%\)|34%/, `the optimized layer starts at 34%: ${clip}`);

    // Tab stays inside the dialog and reaches its download.
    const inDialog = await tabTo(page, (f) => f.id === 'compare-download');
    for (const f of inDialog) assert.notEqual(f.id, 'samples-button', 'focus stays in the dialog');
    const [fromDialog] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    assert.equal(fromDialog.suggestedFilename(), 'skimage-rocket.jpg');
    const meta = await sharp(await readFile(await fromDialog.path())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 640, 427]);

    await page.keyboard.press('Escape');
    await page.locator('#compare').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Compare skimage-rocket.jpg: original and optimized', 'focus back on the card');
    await tabTo(page, (f) => f.cls.includes('download'));
    const [fromCard] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    const cards = await readCards(page);
    assert.equal(fromCard.suggestedFilename(), cards[0].download.name);
    assert.equal((await readFile(await fromCard.path())).length, cards[0].download.size);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
