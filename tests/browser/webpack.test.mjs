// A tiny app with `mediaslim` installed in node_modules (as `npm install` would put it), built
// with webpack 5 through its Node API and the smallest config a user would write: entry,
// output, mode 'production'. No rules for wasm or workers: webpack must find the worker through
// `new Worker(new URL(...))`, the wasm files through `new URL(..., import.meta.url)` and the AVIF
// module through `import()`, and the built app must work when served statically.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import webpack from 'webpack';
import { launchBrowser, repoRoot, serveStatic, SHRINK_APP_JS, watchPage } from './helpers.mjs';

const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Runs webpack once with `config`; resolves to its stats (rejects on a fatal error). */
function runWebpack(config) {
  return new Promise((resolve, reject) => {
    const compiler = webpack(config);
    compiler.run((err, stats) => {
      compiler.close((closeErr) => (err || closeErr ? reject(err || closeErr) : resolve(stats)));
    });
  });
}

describe('a webpack 5 app that imports mediaslim, with a minimal config', { timeout: 120_000 }, () => {
  let app;
  let dist;
  let stats;
  let info; // stats.toJson() of the build
  let files; // what webpack emitted
  let wasmKind; // emitted .wasm file -> 'probe' | 'core' | 'plus' | 'full', by content
  let server;
  let browser;

  before(async () => {
    app = await mkdtemp(join(tmpdir(), 'mediaslim-webpack-app-'));
    dist = join(app, 'dist');
    const installed = join(app, 'node_modules', 'mediaslim');
    await mkdir(installed, { recursive: true });
    await cp(join(repoRoot, 'package.json'), join(installed, 'package.json'));
    await cp(join(repoRoot, 'pkg'), join(installed, 'pkg'), { recursive: true });
    await mkdir(join(app, 'src'));
    await writeFile(
      join(app, 'src', 'index.js'),
      SHRINK_APP_JS,
    );

    // The config a user would write. Nothing about wasm, workers or assets.
    stats = await runWebpack({
      context: app,
      entry: './src/index.js',
      output: { path: dist, clean: true },
      mode: 'production',
    });
    info = stats.toJson({ all: false, errors: true, warnings: true, assets: true, chunks: true, chunkRelations: true });

    // webpack makes no HTML without a plugin: a page that loads the main chunk, as a user writes.
    await writeFile(
      join(dist, 'index.html'),
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tiny</title><link rel="icon" href="data:,"></head>
<body><script src="main.js"></script></body></html>`,
    );
    await cp(join(repoRoot, 'tests', 'fixtures', 'skimage-rocket.jpg'), join(dist, 'rocket.jpg'));
    files = info.assets.map((a) => a.name);

    const pkgWasm = {};
    for (const kind of ['probe', 'core', 'plus', 'full']) pkgWasm[sha(await readFile(join(repoRoot, 'pkg', 'wasm', `mediaslim_${kind}_bg.wasm`)))] = kind;
    wasmKind = {};
    for (const f of files.filter((f) => f.endsWith('.wasm'))) wasmKind[f] = pkgWasm[sha(await readFile(join(dist, f)))];

    server = await serveStatic(dist);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (app) await rm(app, { recursive: true, force: true });
  });

  /** The emitted chunks by role: main, the worker's entry, and the lazily loaded AVIF glue. */
  function chunks() {
    const main = info.chunks.find((c) => c.names.includes('main'));
    const worker = info.chunks.filter((c) => c.entry && c !== main);
    const others = info.chunks.filter((c) => c !== main && !worker.includes(c));
    return { main, worker, others };
  }

  test('webpack builds it cleanly: one worker chunk, the four wasm files byte for byte, no stray assets', () => {
    assert.deepEqual(info.errors, [], 'no build errors');
    // The only warnings allowed are webpack's performance hints about the big wasm files.
    const warnings = info.warnings.map((w) => w.message).filter((m) => !/size limit|performance recommendations/i.test(m));
    assert.deepEqual(warnings, [], 'no build warnings beyond the size hints');

    const { main, worker, others } = chunks();
    assert.ok(main, 'a main chunk');
    assert.equal(worker.length, 1, `one worker entry chunk: ${JSON.stringify(info.chunks.map((c) => c.files))}`);
    // The AVIF glue stays out of the main and worker chunks: a chunk of its own, loaded on demand.
    assert.ok(others.length >= 1, 'the AVIF glue is a chunk of its own');

    // Exactly the four wasm modules of the package, unchanged, and nothing else copied raw
    // (no unbundled worker.js, no glue .js, no .d.ts).
    assert.deepEqual(Object.values(wasmKind).sort(), ['core', 'full', 'plus', 'probe'], `wasm: ${JSON.stringify(wasmKind)}`);
    const chunkFiles = new Set(info.chunks.flatMap((c) => c.files));
    const stray = files.filter((f) => !f.endsWith('.wasm') && !chunkFiles.has(f));
    assert.deepEqual(stray, [], 'every emitted file is a chunk or a wasm module');
  });

  test('the emitted JS has no eval and no new Function (production mode)', async () => {
    const js = files.filter((f) => f.endsWith('.js'));
    assert.ok(js.length >= 3, `js files: ${js}`);
    for (const f of js) {
      const source = await readFile(join(dist, f), 'utf8');
      assert.doesNotMatch(source, /\beval\s*\(/, `${f} calls eval`);
      assert.doesNotMatch(source, /\bnew\s+Function\s*\(|\bFunction\s*\(\s*["'`]/, `${f} builds a Function from a string`);
      // Every module of the package is bundled: no import of a relative file left behind.
      assert.doesNotMatch(source, /\bfrom\s*["']\.\.?\//, `${f} still imports a relative path`);
    }
  });

  test('served statically: probe on the probe wasm in the page, jpeg and webp on the core wasm; avif fetches the full wasm only then', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchPage(page);
    const wasmFetched = () =>
      server.requests.filter((r) => r.path.endsWith('.wasm')).map((r) => ({ ...r, kind: wasmKind[r.path.slice(1)] }));
    try {
      await page.goto(server.origin + '/');
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });

      const probed = await page.evaluate(() => window.measure('rocket.jpg'));
      assert.deepEqual(probed, { format: 'jpeg', width: 640, height: 427 });
      assert.deepEqual(wasmFetched().map((r) => r.kind), ['probe'], 'probe fetched the probe module alone');
      const jpeg = await page.evaluate(() => window.shrink('rocket.jpg', { format: 'jpeg', width: 160 }));
      assert.deepEqual(jpeg, { format: 'jpeg', width: 160, height: 107, decoded: [160, 107] });
      const webp = await page.evaluate(() => window.shrink('rocket.jpg', { format: 'webp', width: 100 }));
      assert.deepEqual(webp, { format: 'webp', width: 100, height: 67, decoded: [100, 67] });

      const beforeAvif = wasmFetched();
      assert.ok(beforeAvif.some((r) => r.kind === 'core'), `core wasm fetched before any AVIF job: ${JSON.stringify(beforeAvif)}`);
      assert.ok(!beforeAvif.some((r) => r.kind === 'full'), `full wasm not fetched before the AVIF job: ${JSON.stringify(beforeAvif)}`);
      const { others } = chunks();
      const lazyFiles = new Set(others.flatMap((c) => c.files));
      assert.ok(!server.requests.some((r) => lazyFiles.has(r.path.slice(1))), 'the AVIF glue chunk is not loaded before it is needed');

      // In Chromium AVIF goes through its WebCodecs AV1 encoder with the core module alone;
      // libaom (the full module) is fetched when the wasm encoder is first needed.
      const avif = await page.evaluate(() => window.shrink('rocket.jpg', { format: 'avif', width: 200 }));
      assert.deepEqual(avif, { format: 'avif', width: 200, height: 133, decoded: [200, 133] });
      assert.ok(!wasmFetched().some((r) => r.kind === 'full'), `no full wasm for a WebCodecs AVIF: ${JSON.stringify(wasmFetched())}`);
      const wasmAvif = await page.evaluate(() => window.shrink('rocket.jpg', { format: 'avif', width: 100, avifEncoder: 'wasm' }));
      assert.deepEqual(wasmAvif, { format: 'avif', width: 100, height: 67, decoded: [100, 67] });
      const afterAvif = wasmFetched();
      assert.ok(afterAvif.slice(beforeAvif.length).some((r) => r.kind === 'full'), `full wasm fetched for the wasm AVIF job: ${JSON.stringify(afterAvif)}`);
      assert.ok(afterAvif.every((r) => r.status === 200 && r.type === 'application/wasm'), JSON.stringify(afterAvif));

      // The workers run webpack's worker chunk, not the package's unbundled worker.js.
      const workerFiles = chunks().worker.flatMap((c) => c.files);
      const workers = page.workers().map((w) => new URL(w.url()).pathname.slice(1));
      assert.ok(workers.length >= 1 && workers.every((w) => workerFiles.includes(w)), `workers ${workers} run ${workerFiles}`);
      assert.deepEqual(problems, [], 'no console errors, page errors or failed requests');
    } finally {
      await context.close();
    }
  });

  test('bundle sizes', () => {
    const size = (f) => info.assets.find((a) => a.name === f).size;
    const { main, worker, others } = chunks();
    const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
    const lines = [
      ...main.files.map((f) => `main chunk        ${f}: ${kb(size(f))}`),
      ...worker.flatMap((c) => c.files).map((f) => `worker chunk      ${f}: ${kb(size(f))}`),
      ...others.flatMap((c) => c.files).map((f) => `lazy chunk        ${f}: ${kb(size(f))}`),
      ...Object.entries(wasmKind).map(([f, kind]) => `${kind} wasm`.padEnd(18) + `${f}: ${kb(size(f))}`),
    ];
    console.log(lines.map((l) => `# webpack: ${l}`).join('\n'));
  });
});
