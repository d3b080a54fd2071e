// The build plugin in a real `vite build` of the fixture site (tests/plugin/site): the JS gets
// the picture objects, every variant decodes (sharp) at the right width and format, HTML and
// CSS references resolve, plain and public images are re-compressed and never bigger, a
// second build encodes nothing, a damaged cache entry is re-encoded, concurrent and killed
// builds leave a cache later builds can trust, and bad imports fail with useful messages.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { build } from 'vite';
import mediaslim from 'mediaslim/vite';
import { DiskCache } from '../../pkg/plugin/cache.js';
import { assertImage, checkImages, fixtures, listFiles, makeSite, references, siteImages, snapshot } from '../plugin/helpers.mjs';

const buildChild = fileURLToPath(new URL('../plugin/build-child.mjs', import.meta.url));
const temps = [];
after(() => Promise.all(temps.map((d) => rm(d, { recursive: true, force: true }))));

async function site(extra) {
  const dir = await makeSite(extra);
  temps.push(dir);
  return dir;
}

/** One `vite build` of `root` with the plugin; resolves to the plugin's report. */
async function viteBuild(root, pluginOptions = {}) {
  let report;
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false } },
    plugins: [mediaslim({ report: false, progress: false, ...pluginOptions, onReport: (r) => (report = r) })],
  });
  return report;
}

/** Cache entries (name -> path) under `dir`. */
async function cacheEntries(dir) {
  const out = {};
  for (const shard of await readdir(dir).catch(() => [])) {
    for (const name of await readdir(join(dir, shard))) out[name] = join(dir, shard, name);
  }
  return out;
}

/** Runs tests/plugin/build-child.mjs: a build in its own process. */
function child(args, { onStdout } = {}) {
  const proc = spawn(process.execPath, [buildChild, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => {
    out += d;
    onStdout?.(out, proc);
  });
  proc.stderr.on('data', (d) => (err += d));
  const done = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, out, err })));
  return { proc, done };
}

describe('vite build with mediaslim/vite', { timeout: 240_000 }, () => {
  let dir;
  let dist;
  let cold;
  let coldFiles;

  before(async () => {
    dir = await site();
    dist = join(dir, 'dist');
    cold = await viteBuild(dir);
    coldFiles = await snapshot(dist);
  });

  test('the JS gets the picture objects; every variant decodes at its width and format', async () => {
    const [entry] = (await readdir(join(dist, 'assets'))).filter((f) => f.endsWith('.js'));
    delete globalThis.__images;
    await import(pathToFileURL(join(dist, 'assets', entry)).href);
    const images = globalThis.__images;
    assert.ok(images, 'the built module ran');
    const seen = await checkImages(images, (url) => {
      assert.match(url, /^\/assets\/[\w-]+\.(webp|jpg|png|avif)$/, 'an absolute URL under the base');
      return join(dist, url);
    });
    assert.equal(seen.size, 10, 'ten distinct variants');
    for (const file of seen) assert.match(file, /assets\/(hero|logo|flower)-\d+w-[\w-]{8}\.\w+$/, 'content-hashed names');
    // new URL('./img/plain.jpg', import.meta.url) in the JS
    const plain = new URL(images.plainUrl).pathname;
    assert.ok(existsSync(join(dist, plain)), `${plain} was emitted`);
  });

  test('HTML and CSS references resolve to emitted files', async () => {
    const html = await readFile(join(dist, 'index.html'), 'utf8');
    const refs = references(html);
    assert.ok(refs.length >= 4, `found ${refs}`);
    for (const ref of refs) assert.ok(existsSync(join(dist, ref)), `index.html refers to ${ref}`);
    const css = (await readdir(join(dist, 'assets'))).filter((f) => f.endsWith('.css'));
    assert.equal(css.length, 1);
    const urls = references(await readFile(join(dist, 'assets', css[0]), 'utf8'));
    assert.equal(urls.length, 1);
    assert.ok(existsSync(join(dist, urls[0])), `the CSS refers to ${urls[0]}`);
  });

  test('plain images (HTML, CSS, JS, public/) are re-compressed in place, never bigger', async () => {
    const sources = await siteImages();
    const plain = cold.files.filter((f) => f.kind !== 'variant');
    assert.deepEqual(plain.map((f) => f.source).sort(), ['img/bg.jpg', 'img/plain.jpg', 'public/static/photo.png']);
    let smaller = 0;
    for (const f of plain) {
      const before = await readFile(sources[f.source]);
      const out = join(dist, f.output);
      const after = await readFile(out);
      assert.ok(after.length <= before.length, `${f.source}: ${after.length} > ${before.length}`);
      assert.equal(f.after, after.length, 'the report tells the truth');
      if (after.length < before.length) smaller++;
      const src = await sharp(before).metadata();
      await assertImage(out, { format: src.format, width: src.width, height: src.height }, f.source);
    }
    assert.equal(smaller, 3, 'all three fixtures shrink');
    // PNG re-compression is lossless: the public PNG keeps every visible pixel (the colour
    // under fully transparent pixels may be cleared).
    const a = await sharp(sources['public/static/photo.png']).ensureAlpha().raw().toBuffer();
    const b = await sharp(join(dist, 'static/photo.png')).ensureAlpha().raw().toBuffer();
    assert.equal(a.length, b.length);
    let changed = 0;
    for (let i = 0; i < a.length; i += 4) {
      if (a[i + 3] !== b[i + 3] || (a[i + 3] > 0 && (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]))) changed++;
    }
    assert.equal(changed, 0, 'public PNG: visible pixels changed');
  });

  test('the report: counts, bytes, encodes', () => {
    assert.equal(cold.sources, 3);
    assert.equal(cold.variants, 10);
    assert.equal(cold.assets, 3);
    assert.equal(cold.encodes, 13, '10 variants + 3 plain images encoded');
    assert.ok(cold.poolJobs > 0);
    assert.ok(cold.bytesAfter < cold.bytesBefore);
    assert.equal(cold.bytesAfter, cold.files.reduce((s, f) => s + f.after, 0));
    assert.ok(cold.files.every((f) => f.output), 'every file knows where it went');
    assert.ok(cold.cacheDir.endsWith(join('node_modules', '.cache', 'mediaslim')));
  });

  test('a second build with no changes encodes nothing and emits the same files', async () => {
    const warm = await viteBuild(dir);
    assert.equal(warm.encodes, 0);
    assert.equal(warm.poolJobs, 0, 'no worker was even started');
    assert.ok(warm.cacheHits >= 13);
    const files = await snapshot(dist);
    assert.deepEqual(Object.keys(files), Object.keys(coldFiles));
    for (const [name, bytes] of Object.entries(files)) assert.ok(bytes.equals(coldFiles[name]), `${name} differs`);
  });

  test('a damaged cache entry is not trusted: that one variant is encoded again', async () => {
    const entries = await cacheEntries(cold.cacheDir);
    // The largest entry is a variant (probes and placeholders are small).
    const sizes = await Promise.all(Object.values(entries).map(async (p) => [p, (await readFile(p)).length]));
    const [victim] = sizes.sort((a, b) => b[1] - a[1])[0];
    const bytes = await readFile(victim);
    bytes[bytes.length - 100] ^= 0x55;
    await writeFile(victim, bytes);
    const again = await viteBuild(dir);
    assert.equal(again.encodes, 1);
    const files = await snapshot(dist);
    for (const [name, b] of Object.entries(files)) assert.ok(b.equals(coldFiles[name]), `${name} differs after the re-encode`);
  });

  test('cacheDir: a folder of its own (shared by CI runs, say)', async () => {
    const shared = await mkdtemp(join(tmpdir(), 'mediaslim-shared-cache-'));
    temps.push(shared);
    const r = await viteBuild(dir, { cacheDir: shared });
    assert.equal(r.cacheDir, shared);
    assert.equal(r.encodes, 13, 'a new folder starts empty');
    assert.ok(Object.keys(await cacheEntries(shared)).length >= 13);
    const other = await site();
    const r2 = await viteBuild(other, { cacheDir: shared });
    assert.equal(r2.encodes, 0, 'another checkout of the same site hits the shared cache');
  });

  test('cacheMaxBytes bounds the folder', async () => {
    const small = await mkdtemp(join(tmpdir(), 'mediaslim-small-cache-'));
    temps.push(small);
    await viteBuild(dir, { cacheDir: small, cacheMaxBytes: 40_000 });
    const sizes = await Promise.all(Object.values(await cacheEntries(small)).map(async (p) => (await readFile(p)).length));
    const total = sizes.reduce((s, n) => s + n, 0);
    assert.ok(total <= 40_000, `${total} bytes in the cache`);
    assert.ok(sizes.length > 0);
  });
});

describe('vite build: builds in parallel and killed builds share one cache safely', { timeout: 240_000 }, () => {
  test('two builds at once with one cacheDir both succeed; a third encodes nothing', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'mediaslim-concurrent-'));
    temps.push(cacheDir);
    const [a, b] = [await site(), await site()];
    const runs = await Promise.all([a, b].map((root) => child([root, cacheDir]).done));
    for (const r of runs) assert.equal(r.code, 0, r.err);
    const reports = runs.map((r) => JSON.parse(r.out.trim().split('\n').pop()));
    assert.ok(reports.every((r) => r.variants === 10));
    const c = await site();
    const third = await viteBuild(c, { cacheDir });
    assert.equal(third.encodes, 0);
    const [entry] = (await readdir(join(c, 'dist', 'assets'))).filter((f) => f.endsWith('.js'));
    delete globalThis.__images;
    await import(pathToFileURL(join(c, 'dist', 'assets', entry)).href);
    await checkImages(globalThis.__images, (url) => join(c, 'dist', url));
  });

  test('a build killed while writing the cache leaves no entry a later build trusts wrongly', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'mediaslim-killed-'));
    temps.push(cacheDir);
    const root = await site();
    // Kill it as soon as it has written a few entries (mid-build, workers busy).
    const run = child([root, cacheDir, '--watch-cache'], {
      onStdout: (out, proc) => {
        // Probes and placeholders come first (5 entries), then variants.
        const n = Number(/entries: (\d+)\n$/.exec(out)?.[1] ?? 0);
        if (n >= 8) proc.kill('SIGKILL');
      },
    });
    const killed = await run.done;
    assert.equal(killed.signal, 'SIGKILL', `the build finished before it could be killed: ${killed.out}`);
    // Whatever it left: each entry verifies or is refused (never wrong data).
    const cache = new DiskCache(cacheDir, 'any');
    for (const name of Object.keys(await cacheEntries(cacheDir))) {
      if (name.endsWith('.tmp')) continue;
      const got = await cache.get(name);
      assert.ok(got, `${name} was left damaged`);
    }
    const report = await viteBuild(root, { cacheDir });
    assert.ok(report.encodes < 13, 'the finished entries were reused');
    const [entry] = (await readdir(join(root, 'dist', 'assets'))).filter((f) => f.endsWith('.js'));
    delete globalThis.__images;
    await import(pathToFileURL(join(root, 'dist', 'assets', entry)).href);
    await checkImages(globalThis.__images, (url) => join(root, 'dist', url));
  });
});

describe('vite build: bad imports fail the build, naming the file and what is allowed', { timeout: 120_000 }, () => {
  const failing = async (main, pluginOptions) => {
    const root = await site({ 'main.js': main });
    try {
      await viteBuild(root, pluginOptions);
    } catch (err) {
      return err;
    }
    assert.fail('the build succeeded');
  };

  test('bad width', async () => {
    const err = await failing(`import u from './img/hero.jpg?w=48O&format=webp';\nconsole.log(u);\n`);
    assert.match(err.message, /img\/hero\.jpg/);
    assert.match(err.message, /invalid directive `w=48O`/);
    assert.match(err.message, /allowed: widths in pixels/);
  });
  test('bad format', async () => {
    const err = await failing(`import u from './img/hero.jpg?w=480&format=heic';\nconsole.log(u);\n`);
    assert.match(err.message, /img\/hero\.jpg: invalid directive `format=heic`: `heic` is not an output format; allowed: `avif`, `webp`, `jpeg`, `png` or `original`/);
  });
  test('unknown directive', async () => {
    const err = await failing(`import u from './img/hero.jpg?width=480&format=webp';\nconsole.log(u);\n`);
    assert.match(err.message, /img\/hero\.jpg: unknown directive `width`; allowed directives: `w`, `h`/);
  });
  test('a corrupt image names the file and the core error code', async () => {
    const root = await site({ 'main.js': `import u from './img/broken.jpg?w=100&format=webp';\nconsole.log(u);\n` });
    await writeFile(join(root, 'img', 'broken.jpg'), await readFile(join(fixtures, 'truncated_jpeg.jpg')));
    await assert.rejects(viteBuild(root), (err) => {
      assert.match(err.message, /img\/broken\.jpg: CORRUPT_INPUT: .*truncated/);
      return true;
    });
  });
  test('an image outside the project root is refused', async () => {
    const err = await failing(`import u from './img/hero.jpg?w=100&format=webp';\nconsole.log(u);\n`, { root: join(tmpdir(), 'mediaslim-nowhere') });
    assert.match(err.message, /img\/hero\.jpg: refusing to read an image outside the project root/);
  });
});

describe('vite build: options', { timeout: 120_000 }, () => {
  test('include/exclude choose the plain images; assets: false leaves them all', async () => {
    const dir = await site();
    const sources = await siteImages();
    const r = await viteBuild(dir, { exclude: ['img/bg.jpg', 'public/**'] });
    assert.deepEqual(r.files.filter((f) => f.kind !== 'variant').map((f) => f.source), ['img/plain.jpg']);
    assert.ok((await readFile(join(dir, 'dist/static/photo.png'))).equals(await readFile(sources['public/static/photo.png'])), 'public/ left as it is');
    const only = await viteBuild(dir, { include: 'public/**' });
    assert.deepEqual(only.files.filter((f) => f.kind !== 'variant').map((f) => f.source), ['public/static/photo.png']);
    const none = await viteBuild(dir, { assets: false });
    assert.equal(none.assets, 0);
    const files = await listFiles(join(dir, 'dist'));
    const bg = files.find((f) => /assets\/bg-.*\.jpg$/.test(f));
    assert.ok((await readFile(join(dir, 'dist', bg))).equals(await readFile(sources['img/bg.jpg'])), 'bg.jpg left as it is');
  });
  test("a relative base ('./'): URLs resolve next to the chunk", async () => {
    const dir = await site();
    await build({
      root: dir,
      base: './',
      configFile: false,
      logLevel: 'silent',
      build: { outDir: 'dist', modulePreload: { polyfill: false } },
      plugins: [mediaslim({ report: false, progress: false })],
    });
    const [entry] = (await readdir(join(dir, 'dist', 'assets'))).filter((f) => f.endsWith('.js'));
    delete globalThis.__images;
    await import(pathToFileURL(join(dir, 'dist', 'assets', entry)).href);
    await checkImages(globalThis.__images, (url) => {
      assert.match(url, /^file:/, 'new URL(..., import.meta.url)');
      return fileURLToPath(url);
    });
  });
  test('quality=auto and quality=<n> reach the core (different variants, both decode)', async () => {
    const dir = await site({
      'main.js': `import a from './img/hero.jpg?w=300&format=webp&quality=auto';\nimport b from './img/hero.jpg?w=300&format=webp&quality=30';\nglobalThis.__q = { a, b };\n`,
    });
    const r = await viteBuild(dir);
    assert.equal(r.variants, 2);
    const [entry] = (await readdir(join(dir, 'dist', 'assets'))).filter((f) => f.endsWith('.js'));
    await import(pathToFileURL(join(dir, 'dist', 'assets', entry)).href);
    const { a, b } = globalThis.__q;
    assert.notEqual(a, b);
    const [fa, fb] = [join(dir, 'dist', a), join(dir, 'dist', b)];
    await assertImage(fa, { format: 'webp', width: 300, height: 200 });
    await assertImage(fb, { format: 'webp', width: 300, height: 200 });
    assert.ok((await readFile(fb)).length < (await readFile(fa)).length, 'quality 30 is smaller than the auto choice');
  });
  test('unknown plugin options are refused', () => {
    assert.throws(() => mediaslim({ cachedir: 'x' }), /unknown option `cachedir`; allowed: .*`cacheDir`/);
    assert.throws(() => mediaslim({ quality: 0 }), /invalid option `quality`/);
    assert.throws(() => mediaslim({ assetsDir: '../outside' }), /invalid option `assetsDir`.*inside the output folder/);
    assert.throws(() => mediaslim({ assetsDir: '/abs' }), /invalid option `assetsDir`/);
  });
});
