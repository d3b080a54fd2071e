// The same fixture site (tests/plugin/site/main.js) through webpack 5 and Rollup (fully: the
// built JS is run, every URL resolves to a variant that decodes at its width and format, plain
// images are re-compressed, a second build encodes nothing) and esbuild (a smoke build).
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import * as esbuild from 'esbuild';
import { rollup } from 'rollup';
import sharp from 'sharp';
import webpack from 'webpack';
import mediaslimEsbuild from 'mediaslim/esbuild';
import mediaslimRollup from 'mediaslim/rollup';
import mediaslimWebpack from 'mediaslim/webpack';
import { assertImage, checkImages, makeSite, references, siteImages, snapshot } from '../plugin/helpers.mjs';

const temps = [];
after(() => Promise.all(temps.map((d) => rm(d, { recursive: true, force: true }))));
async function site(extra) {
  const dir = await makeSite(extra);
  temps.push(dir);
  return dir;
}

/** Plain images in a build's output: not bigger than their source, same size, decodable. */
async function checkPlain(report, outDir, expected) {
  const sources = await siteImages();
  const plain = report.files.filter((f) => f.kind !== 'variant');
  assert.deepEqual(plain.map((f) => f.source).sort(), expected);
  for (const f of plain) {
    const before = await readFile(sources[f.source]);
    const out = join(outDir, f.output);
    const after = await readFile(out);
    assert.ok(after.length < before.length, `${f.source}: ${after.length} >= ${before.length}`);
    const m = await sharp(before).metadata();
    await assertImage(out, { format: m.format, width: m.width, height: m.height }, f.source);
  }
}

// ---- webpack 5 ----------------------------------------------------------------------------------

function runWebpack(config) {
  return new Promise((resolve, reject) => {
    const compiler = webpack(config);
    compiler.run((err, stats) => compiler.close((closeErr) => (err || closeErr ? reject(err || closeErr) : resolve(stats))));
  });
}

/** A usual webpack 5 config: an asset rule for images (which directive imports must survive)
 * and webpack's own CSS support for `url()`. */
function webpackConfig(dir, pluginOptions) {
  return {
    mode: 'production',
    context: dir,
    entry: { main: './main.js', style: './style.css' },
    output: { path: join(dir, 'dist'), publicPath: '/', clean: true },
    experiments: { css: true },
    module: { rules: [{ test: /\.(png|jpe?g|webp)$/i, type: 'asset/resource' }] },
    plugins: [mediaslimWebpack({ report: false, progress: false, ...pluginOptions })],
    infrastructureLogging: { level: 'error' },
  };
}

/** Runs a webpack browser bundle in a VM with just enough of a page around it. */
function runBundle(code) {
  const context = vm.createContext({ URL, self: { location: { href: 'http://localhost/' } } });
  vm.runInContext(code, context);
  return context.__images;
}

describe('webpack 5 with mediaslim/webpack', { timeout: 180_000 }, () => {
  let dir;
  let dist;
  let report;
  let coldFiles;

  before(async () => {
    dir = await site();
    dist = join(dir, 'dist');
    const stats = await runWebpack(webpackConfig(dir, { onReport: (r) => (report = r) }));
    assert.ok(!stats.hasErrors(), stats.toString({ all: false, errors: true }));
    coldFiles = await snapshot(dist);
  });

  test('the JS gets the picture objects; every variant decodes at its width and format', async () => {
    const images = runBundle(await readFile(join(dist, 'main.js'), 'utf8'));
    const seen = await checkImages(images, (url) => {
      assert.match(url, /^\/assets\/(hero|logo|flower)-\d+w-[0-9a-f]{8}\.(webp|jpg|png|avif)$/, 'publicPath + content-hashed name');
      return join(dist, url);
    });
    assert.equal(seen.size, 10);
  });

  test('CSS url() and new URL() assets are emitted and re-compressed in place', async () => {
    const css = await readFile(join(dist, 'style.css'), 'utf8');
    const urls = references(css);
    assert.equal(urls.length, 1);
    const bg = urls[0].startsWith('/') ? join(dist, urls[0]) : join(dist, urls[0]);
    await assertImage(bg, { format: 'jpeg', width: 300, height: 225 });
    const images = runBundle(await readFile(join(dist, 'main.js'), 'utf8'));
    await assertImage(join(dist, new URL(images.plainUrl).pathname), { format: 'jpeg', width: 100, height: 100 });
    await checkPlain(report, dist, ['img/bg.jpg', 'img/plain.jpg']);
  });

  test('report and a second build with zero encodes', async () => {
    assert.equal(report.variants, 10);
    assert.equal(report.encodes, 12);
    let warm;
    const stats = await runWebpack(webpackConfig(dir, { onReport: (r) => (warm = r) }));
    assert.ok(!stats.hasErrors());
    assert.equal(warm.encodes, 0);
    assert.equal(warm.poolJobs, 0);
    const files = await snapshot(dist);
    assert.deepEqual(Object.keys(files), Object.keys(coldFiles));
    for (const [name, bytes] of Object.entries(files)) assert.ok(bytes.equals(coldFiles[name]), `${name} differs`);
  });

  test('a bad directive fails the build naming the file, the directive and the allowed values', async () => {
    const bad = await site({ 'main.js': `import u from './img/logo.png?w=64&format=gif';\nconsole.log(u);\n` });
    const stats = await runWebpack({ ...webpackConfig(bad), entry: './main.js' });
    assert.ok(stats.hasErrors());
    const text = stats.toString({ all: false, errors: true });
    assert.match(text, /img\/logo\.png: invalid directive `format=gif`: `gif` is not an output format; allowed: `avif`, `webp`, `jpeg`, `png` or `original`/);
  });
});

// ---- Rollup -------------------------------------------------------------------------------------

/** What @rollup/plugin-url would do for a plain image: emit it as an asset. */
function emitPlain(dir) {
  return {
    name: 'emit-plain',
    async buildStart() {
      this.emitFile({ type: 'asset', name: 'bg.jpg', originalFileName: 'img/bg.jpg', source: await readFile(join(dir, 'img/bg.jpg')) });
    },
  };
}

async function runRollup(dir, pluginOptions) {
  const bundle = await rollup({ input: join(dir, 'main.js'), plugins: [emitPlain(dir), mediaslimRollup({ root: dir, report: false, progress: false, ...pluginOptions })] });
  try {
    await bundle.write({ dir: join(dir, 'dist'), format: 'es' });
  } finally {
    await bundle.close();
  }
}

describe('Rollup with mediaslim/rollup', { timeout: 180_000 }, () => {
  let dir;
  let report;
  let coldFiles;

  before(async () => {
    dir = await site();
    await runRollup(dir, { onReport: (r) => (report = r) });
    coldFiles = await snapshot(join(dir, 'dist'));
  });

  test('the ES module exports the picture objects; every variant decodes', async () => {
    const { default: images } = await import(pathToFileURL(join(dir, 'dist', 'main.js')).href);
    const seen = await checkImages(images, (url) => {
      assert.match(url, /^file:.*\/dist\/assets\/(hero|logo|flower)-\d+w-[\w-]{8}\.\w+$/, 'import.meta.ROLLUP_FILE_URL_ resolved next to the chunk');
      return fileURLToPath(url);
    });
    assert.equal(seen.size, 10);
  });

  test('plain assets in the bundle are re-compressed; a second build encodes nothing', async () => {
    await checkPlain(report, join(dir, 'dist'), ['img/bg.jpg']);
    assert.equal(report.encodes, 11);
    let warm;
    await runRollup(dir, { onReport: (r) => (warm = r) });
    assert.equal(warm.encodes, 0);
    const files = await snapshot(join(dir, 'dist'));
    for (const [name, bytes] of Object.entries(files)) assert.ok(bytes.equals(coldFiles[name]), `${name} differs`);
  });
});

// ---- esbuild ------------------------------------------------------------------------------------

describe('esbuild with mediaslim/esbuild', { timeout: 120_000 }, () => {
  test('a bundle whose URLs resolve to decodable variants', async () => {
    const dir = await site();
    let report;
    const outdir = join(dir, 'dist');
    const result = await esbuild.build({
      absWorkingDir: dir,
      entryPoints: ['main.js'],
      bundle: true,
      format: 'esm',
      outdir,
      logLevel: 'silent',
      plugins: [mediaslimEsbuild({ report: false, progress: false, onReport: (r) => (report = r) })],
    });
    assert.equal(result.errors.length, 0);
    const { default: images } = await import(pathToFileURL(join(outdir, 'main.js')).href);
    const seen = await checkImages(images, (url) => fileURLToPath(url));
    assert.equal(seen.size, 10);
    for (const f of seen) assert.equal(dirname(f), join(outdir, 'assets'));
    assert.equal(report.variants, 10);
  });

  test('images esbuild copies with its file loader are re-compressed in place', async () => {
    const dir = await site({ 'plain.js': `import bg from './img/bg.jpg';\nexport default bg;\n` });
    let report;
    const outdir = join(dir, 'dist');
    await esbuild.build({
      absWorkingDir: dir,
      entryPoints: ['plain.js'],
      bundle: true,
      format: 'esm',
      outdir,
      loader: { '.jpg': 'file' },
      logLevel: 'silent',
      plugins: [mediaslimEsbuild({ report: false, progress: false, onReport: (r) => (report = r) })],
    });
    const { default: url } = await import(pathToFileURL(join(outdir, 'plain.js')).href);
    assert.match(url, /^\.\/bg-\w+\.jpg$/);
    assert.equal(report.files[0].output, url.slice(2));
    await checkPlain(report, outdir, ['img/bg.jpg']);
  });

  test('a bad directive fails the build', async () => {
    const dir = await site();
    await writeFile(join(dir, 'main.js'), `import u from './img/hero.jpg?w=100&as=image';\nconsole.log(u);\n`);
    await assert.rejects(
      esbuild.build({ absWorkingDir: dir, entryPoints: ['main.js'], bundle: true, format: 'esm', outdir: join(dir, 'dist'), logLevel: 'silent', plugins: [mediaslimEsbuild({ report: false })] }),
      /img\/hero\.jpg: invalid directive `as=image`.*allowed: `picture`, `srcset`, `meta`, `url`, or `video`/,
    );
  });
});
