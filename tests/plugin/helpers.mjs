// Shared by the plugin suites: a fresh copy of the fixture site in a temp folder (its images
// come from tests/fixtures, listed in site/images.json), and bundler runners.
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const siteTemplate = fileURLToPath(new URL('./site/', import.meta.url));
export const fixtures = join(repoRoot, 'tests', 'fixtures');

/** Copies the fixture site into a new temp folder; `extra` maps paths to contents. */
export async function makeSite(extra = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'mediaslim-site-'));
  await cp(siteTemplate, dir, { recursive: true, filter: (src) => !src.endsWith('images.json') });
  const images = JSON.parse(await readFile(join(siteTemplate, 'images.json'), 'utf8'));
  for (const [to, from] of Object.entries(images)) {
    await mkdir(dirname(join(dir, to)), { recursive: true });
    await cp(join(fixtures, from), join(dir, to));
  }
  for (const [to, content] of Object.entries(extra)) {
    await mkdir(dirname(join(dir, to)), { recursive: true });
    await writeFile(join(dir, to), content);
  }
  return dir;
}

/** The images the site copies, site path -> fixture path. */
export async function siteImages() {
  const images = JSON.parse(await readFile(join(siteTemplate, 'images.json'), 'utf8'));
  return Object.fromEntries(Object.entries(images).map(([to, from]) => [to, join(fixtures, from)]));
}

// ---- checks shared by the bundler suites ------------------------------------------------------
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import sharp from 'sharp';

/** sharp's name for each of our formats. */
const SHARP_FORMAT = { jpeg: 'jpeg', png: 'png', webp: 'webp', avif: 'heif' };

/** Every file under `dir`, relative, POSIX separators. */
export async function listFiles(dir, prefix = '') {
  const out = [];
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** Name -> bytes of every file under `dir`. */
export async function snapshot(dir) {
  const files = await listFiles(dir);
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(dir, f))])));
}

/** Decodes `file` with sharp and checks its format and size. Returns sharp's metadata. */
export async function assertImage(file, { format, width, height }, what = file) {
  assert.ok(existsSync(file), `${what}: ${file} does not exist`);
  const m = await sharp(file).metadata();
  assert.equal(m.format, SHARP_FORMAT[format], `${what}: format`);
  if (format === 'avif') assert.equal(m.compression, 'av1', `${what}: AVIF compression`);
  if (width !== undefined) assert.equal(m.width, width, `${what}: width`);
  if (height !== undefined) assert.equal(m.height, height, `${what}: height`);
  // A full decode, not just the header.
  const { info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, m.width);
  return m;
}

/** Splits "url 200w, url 400w" into [{ url, width }]. */
export function parseSrcset(srcset) {
  return srcset.split(', ').map((item) => {
    const m = /^(\S+) (\d+)w$/.exec(item);
    assert.ok(m, `srcset item ${JSON.stringify(item)}`);
    return { url: m[1], width: Number(m[2]) };
  });
}

/**
 * Checks the values the fixture's directive imports evaluate to (`globalThis.__images` of
 * site/main.js): shapes, and every URL, resolved by `resolveUrl` to a file, decoded with sharp
 * at the declared format and size. Returns the variant files seen.
 */
export async function checkImages(images, resolveUrl) {
  const seen = new Set();
  const rocket = { width: 640, height: 427 }; // img/hero.jpg
  const heightAt = (w) => Math.max(1, Math.round((rocket.height * w) / rocket.width));
  const check = async (url, format, width, what) => {
    const file = resolveUrl(url);
    seen.add(file);
    await assertImage(file, { format, width, height: heightAt(width) }, what);
  };

  // ?w=200;400;9999&format=webp;jpeg&as=picture: 9999 collapses into the source width.
  const { hero } = images;
  assert.deepEqual(Object.keys(hero).sort(), ['img', 'placeholder', 'sources']);
  assert.equal(hero.sources.length, 1);
  assert.equal(hero.sources[0].type, 'image/webp');
  const webp = parseSrcset(hero.sources[0].srcset);
  assert.deepEqual(webp.map((s) => s.width), [200, 400, 640]);
  for (const s of webp) await check(s.url, 'webp', s.width, `hero webp ${s.width}w`);
  const jpeg = parseSrcset(hero.img.srcset);
  assert.deepEqual(jpeg.map((s) => s.width), [200, 400, 640]);
  for (const s of jpeg) await check(s.url, 'jpeg', s.width, `hero jpeg ${s.width}w`);
  assert.equal(hero.img.src, jpeg[2].url, 'img.src is the largest fallback');
  assert.equal(hero.img.width, 640);
  assert.equal(hero.img.height, 427);
  await checkPlaceholder(hero.placeholder, 'thumbhash', join(fixtures, 'skimage-rocket.jpg'));

  // ?w=120&format=avif&as=url
  await check(images.thumb, 'avif', 120, 'thumb avif');

  // logo.png?w=64;128&format=webp&as=srcset (hopper, 128 x 128)
  const logo = parseSrcset(images.logoSet);
  assert.deepEqual(logo.map((s) => s.width), [64, 128]);
  for (const s of logo) {
    const file = resolveUrl(s.url);
    seen.add(file);
    await assertImage(file, { format: 'webp', width: s.width, height: s.width }, `logo ${s.width}w`);
  }

  // hero.jpg?as=meta: the source, nothing encoded
  assert.deepEqual({ ...images.heroMeta, placeholder: undefined }, { width: 640, height: 427, format: 'jpeg', placeholder: undefined });
  await checkPlaceholder(images.heroMeta.placeholder, 'thumbhash', join(fixtures, 'skimage-rocket.jpg'));

  // flower.jpg?w=100&format=png&as=meta&placeholder=color (flower2, 300 x 225)
  const { flower } = images;
  assert.equal(flower.format, 'png');
  assert.equal(flower.width, 100);
  assert.equal(flower.height, 75);
  const flowerFile = resolveUrl(flower.src);
  seen.add(flowerFile);
  await assertImage(flowerFile, { format: 'png', width: 100, height: 75 }, 'flower png');
  await checkPlaceholder(flower.placeholder, 'color', join(fixtures, 'flower2.jpg'));
  return seen;
}

/** A placeholder: the average colour close to sharp's mean, and a decodable ThumbHash preview. */
export async function checkPlaceholder(p, kind, sourceFile) {
  assert.ok(p, 'placeholder present');
  assert.match(p.color, /^#[0-9a-f]{6}$/);
  const { channels } = await sharp(sourceFile).stats();
  const want = channels.slice(0, 3).map((c) => c.mean);
  const got = [1, 3, 5].map((i) => parseInt(p.color.slice(i, i + 2), 16));
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(got[c] - want[c]) < 24, `placeholder colour ${p.color} vs mean ${want.map(Math.round)}`);
  if (kind === 'color') {
    assert.deepEqual(Object.keys(p), ['color']);
    return;
  }
  assert.ok(Buffer.from(p.thumbhash, 'base64').length >= 5, 'ThumbHash bytes');
  assert.match(p.dataUrl, /^data:image\/png;base64,/);
  const png = Buffer.from(p.dataUrl.split(',')[1], 'base64');
  const m = await sharp(png).metadata();
  assert.equal(m.format, 'png');
  assert.ok(m.width <= 32 && m.height <= 32, 'a tiny preview');
}

/** Every `src=` / `href=` of an HTML file and every `url()` of a CSS file. */
export function references(text) {
  return [...text.matchAll(/(?:src|href)="([^"]+)"|url\(([^)]+)\)/g)]
    .map((m) => (m[1] ?? m[2]).replace(/^['"]|['"]$/g, ''))
    .filter((ref) => !ref.startsWith('data:'));
}

export async function fileSize(file) {
  return (await stat(file)).size;
}
