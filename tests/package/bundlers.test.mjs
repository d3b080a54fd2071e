// The packed tarball, installed with `npm install <tarball>` into fixture apps that
// `import { optimize } from 'mediaslim'`, built with Vite, webpack 5, Rollup and esbuild through
// their Node APIs and the smallest config a user writes, then loaded in Chromium: probe, JPEG,
// and AVIF (WebCodecs, then libaom in wasm: the lazily loaded module), every output decoded by the browser. Also: per-bundler
// cost of the built app, tree-shaking (a `probe`-only app carries no plugin or CLI code, no worker
// and no wasm but the small probe module: `probe` runs in the page), and the Vite app under a
// strict Content-Security-Policy.
//
// Rollup and esbuild do not follow `new Worker(new URL('./worker.js', import.meta.url))` or
// `new URL('x.wasm', import.meta.url)`: they bundle the main thread and leave those URLs pointing
// next to the bundle. With mediaslim's own plugin in the build (`mediaslim/rollup`,
// `mediaslim/esbuild`, which a site uses for its images anyway) the worker runtime is emitted
// there; without it, the documented copy step (README, "Works everywhere") is needed: both are
// tested.
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import * as esbuild from 'esbuild';
import { rollup } from 'rollup';
import { build as viteBuild } from 'vite';
import webpack from 'webpack';
import { launchBrowser, SHRINK_APP_JS, watchPage } from '../browser/helpers.mjs';
import { kib, listFiles, makeApp, packTarball, repoRoot, serveDir } from './helpers.mjs';

const FULL_APP = SHRINK_APP_JS;
const PROBE_APP = `import { probe } from 'mediaslim';
window.measure = async (url) => {
  const p = await probe(new Uint8Array(await (await fetch(url)).arrayBuffer()));
  return { format: p.format, width: p.width, height: p.height };
};
document.body.dataset.ready = 'true';
`;
const page = (src) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fixture</title><link rel="icon" href="data:,"></head>
<body><script type="module" src="${src}"></script></body></html>`;

// Strings that exist only in the build plugin and in the CLI: none may reach a browser bundle.
const SERVER_ONLY = {
  plugin: 'invalid option `workers`',
  cli: 'Make images smaller: resize and re-encode',
  unplugin: 'createUnplugin',
  commander: 'commander',
};
// The worker's runtime: what a Rollup or esbuild user copies next to the bundle.
const WORKER_RUNTIME = ['worker.js', 'core.js', 'errors.js', 'input.js', 'webcodecs', 'video', 'wasm'];

function runWebpack(config) {
  return new Promise((resolve, reject) => {
    const compiler = webpack(config);
    compiler.run((err, stats) => compiler.close((e2) => (err || e2 ? reject(err || e2) : stats.hasErrors() ? reject(new Error(stats.toString('errors-only'))) : resolve(stats))));
  });
}

const BUNDLERS = {
  async vite(app, entry, out) {
    await writeFile(join(app, `${entry}.html`), page(`/src/${entry}.js`));
    await viteBuild({ root: app, configFile: false, logLevel: 'error', build: { outDir: out, emptyOutDir: true, rollupOptions: { input: join(app, `${entry}.html`) } } });
    await cp(join(out, `${entry}.html`), join(out, 'index.html'));
  },
  async webpack(app, entry, out) {
    await runWebpack({ context: app, entry: `./src/${entry}.js`, output: { path: out, clean: true }, mode: 'production', performance: { hints: false } });
    await writeFile(join(out, 'index.html'), page('main.js').replace(' type="module"', ''));
  },
  async rollup(app, entry, out, { plugin = true } = {}) {
    const plugins = [nodeResolve({ browser: true })];
    if (plugin) plugins.push((await installedPlugin(app, 'rollup'))({ report: false }));
    const bundle = await rollup({ input: join(app, 'src', `${entry}.js`), plugins, onwarn: () => {} });
    await bundle.write({ dir: out, format: 'es', entryFileNames: 'main.js' });
    await bundle.close();
    await writeFile(join(out, 'index.html'), page('main.js'));
  },
  async esbuild(app, entry, out, { plugin = true } = {}) {
    const plugins = plugin ? [(await installedPlugin(app, 'esbuild'))({ report: false })] : [];
    await esbuild.build({ entryPoints: { main: join(app, 'src', `${entry}.js`) }, bundle: true, format: 'esm', splitting: true, minify: true, outdir: out, absWorkingDir: app, logLevel: 'silent', plugins });
    await writeFile(join(out, 'index.html'), page('main.js'));
  },
};
/** Bundlers that emit the worker runtime only through mediaslim's plugin. */
const PLUGIN_EMITS_RUNTIME = new Set(['rollup', 'esbuild']);

/** `mediaslim/<bundler>` as the fixture app installed it (from the tarball). */
async function installedPlugin(app, bundler) {
  const manifest = JSON.parse(await readFile(join(app, 'node_modules', 'mediaslim', 'package.json'), 'utf8'));
  const file = join(app, 'node_modules', 'mediaslim', manifest.exports[`./${bundler}`].default);
  return (await import(pathToFileURL(file).href)).default;
}

let tarball;
let app;
let browser;
const sizes = {}; // bundler -> { full, probe }
let probeWasm; // the tarball's pkg/wasm/mediaslim_probe_bg.wasm

/** JS and wasm bytes of a built app. */
async function measure(dir) {
  const files = (await listFiles(dir)).filter((f) => f !== 'index.html' && !f.endsWith('.html'));
  let js = 0, jsGz = 0, wasm = 0, wasmGz = 0;
  const wasmFiles = [];
  const wasmBytes = [];
  for (const f of files) {
    const bytes = await readFile(join(dir, f));
    if (f.endsWith('.js')) { js += bytes.length; jsGz += gzipSync(bytes).length; }
    if (f.endsWith('.wasm')) { wasm += bytes.length; wasmGz += gzipSync(bytes).length; wasmFiles.push(f); wasmBytes.push(bytes); }
  }
  return { files, js, jsGz, wasm, wasmGz, wasmFiles, wasmBytes };
}

async function copyWorkerRuntime(out) {
  const pkg = join(app, 'node_modules', 'mediaslim', 'pkg');
  for (const f of WORKER_RUNTIME) await cp(join(pkg, f), join(out, f), { recursive: true, filter: (p) => !p.endsWith('.d.ts') });
}

before(async () => {
  tarball = await packTarball();
  app = await makeApp('bundlers', tarball.file, { 'src/full.js': FULL_APP, 'src/probe.js': PROBE_APP });
  probeWasm = await readFile(join(app, 'node_modules', 'mediaslim', 'pkg', 'wasm', 'mediaslim_probe_bg.wasm'));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (app) await rm(app, { recursive: true, force: true });
  if (Object.keys(sizes).length) {
    const rows = Object.entries(sizes).map(([b, s]) =>
      `# ${b.padEnd(8)} full app: JS ${kib(s.full.js)} (${kib(s.full.jsGz)} gz), wasm ${kib(s.full.wasm)} (${kib(s.full.wasmGz)} gz) in ${s.full.wasmFiles.length} file(s)` +
      ` | probe-only: JS ${kib(s.probe.js)} (${kib(s.probe.jsGz)} gz), wasm ${kib(s.probe.wasm)} (${kib(s.probe.wasmGz)} gz) in ${s.probe.wasmFiles.length} file(s)${PLUGIN_EMITS_RUNTIME.has(b) ? ' | incl. the runtime the plugin emitted' : ''}`);
    console.log(rows.join('\n'));
  }
});

async function openApp(dir, { headers } = {}) {
  await cp(join(repoRoot, 'tests', 'fixtures', 'skimage-rocket.jpg'), join(dir, 'rocket.jpg'));
  const server = await serveDir(dir, { headers });
  const context = await browser.newContext();
  const pg = await context.newPage();
  const problems = watchPage(pg);
  await pg.goto(server.origin + '/');
  await pg.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });
  return { server, page: pg, problems, close: async () => { await context.close(); await server.close(); } };
}

for (const [name, build] of Object.entries(BUNDLERS)) {
  describe(`${name}: an app built from the tarball, minimal config`, { timeout: 180_000 }, () => {
    let full;
    let probeOnly;

    before(async () => {
      full = join(app, `dist-${name}`);
      probeOnly = join(app, `dist-${name}-probe`);
      await build(app, 'full', full);
      await build(app, 'probe', probeOnly);
    });

    if (PLUGIN_EMITS_RUNTIME.has(name)) {
      test('mediaslim\'s plugin emitted the worker runtime next to the bundle (only the probe wasm for a probe-only app)', async () => {
        const files = await listFiles(full);
        for (const f of ['worker.js', 'core.js', 'errors.js', 'input.js', 'webcodecs/avif.js', 'video/encode-gif.js', 'wasm/mediaslim_probe_bg.wasm', 'wasm/mediaslim_core_bg.wasm', 'wasm/mediaslim_plus_bg.wasm', 'wasm/mediaslim_full_bg.wasm']) {
          assert.ok(files.includes(f), `${f} emitted in ${full}: ${files}`);
        }
        assert.ok(!files.some((f) => f.endsWith('.d.ts')), 'no type declarations emitted');
        const probeFiles = await listFiles(probeOnly);
        // Besides the bundle's own chunks: the probe wasm, and no worker runtime.
        assert.deepEqual(probeFiles.filter((f) => f !== 'index.html' && !f.endsWith('.js')), ['wasm/mediaslim_probe_bg.wasm'], `probe-only app: ${probeFiles}`);
        assert.ok(!probeFiles.includes('worker.js'), `probe-only app: ${probeFiles}`);
      });

      test('without the plugin the bundle points at ./worker.js but lacks it; the documented copy step is enough', async () => {
        const plain = join(app, `dist-${name}-plain`);
        await build(app, 'full', plain, { plugin: false });
        const files = await listFiles(plain);
        assert.ok(!files.includes('worker.js'), `emitted: ${files}`);
        const js = (await Promise.all(files.filter((f) => f.endsWith('.js')).map((f) => readFile(join(plain, f), 'utf8')))).join('\n');
        assert.match(js, /worker\.js/, 'the bundle refers to worker.js');
        await copyWorkerRuntime(plain);
        const s = await openApp(plain);
        try {
          assert.deepEqual(await s.page.evaluate(() => window.measure('rocket.jpg')), { format: 'jpeg', width: 640, height: 427 });
          assert.deepEqual(s.problems, []);
        } finally {
          await s.close();
        }
      });
    } else {
      test('the bundler emitted the worker and the four wasm modules by itself', async () => {
        const m = await measure(full);
        assert.equal(m.wasmFiles.length, 4, `wasm: ${m.wasmFiles}`);
        assert.ok(m.files.filter((f) => f.endsWith('.js')).length >= 2, `a worker chunk besides the main one: ${m.files}`);
      });
    }

    test('no eval / new Function, and no plugin or CLI code in a browser bundle', async () => {
      for (const dir of [full, probeOnly]) {
        for (const f of (await listFiles(dir)).filter((f) => f.endsWith('.js'))) {
          const source = await readFile(join(dir, f), 'utf8');
          assert.doesNotMatch(source, /\beval\s*\(/, `${f} calls eval`);
          assert.doesNotMatch(source, /\bnew\s+Function\s*\(/, `${f} builds a Function`);
          for (const [what, marker] of Object.entries(SERVER_ONLY)) assert.ok(!source.includes(marker), `${name} ${f} contains ${what} code (${marker})`);
        }
      }
    });

    test('in Chromium: probe, jpeg and avif (decoded by the browser at the right size)', async () => {
      const s = await openApp(full);
      try {
        assert.deepEqual(await s.page.evaluate(() => window.measure('rocket.jpg')), { format: 'jpeg', width: 640, height: 427 });
        assert.deepEqual(await s.page.evaluate(() => window.shrink('rocket.jpg', { format: 'jpeg', width: 160 })), { format: 'jpeg', width: 160, height: 107, decoded: [160, 107] });
        const fetched = () => [...new Set(s.server.requests.filter((r) => r.path.endsWith('.wasm')).map((r) => r.path))];
        assert.equal(fetched().length, 2, `only the probe and core wasm so far: ${fetched()}`);
        // AVIF through Chromium's WebCodecs AV1 encoder: the plus module wraps its frame (AVIF
        // container), the wasm AVIF encoder is not fetched.
        assert.deepEqual(await s.page.evaluate(() => window.shrink('rocket.jpg', { format: 'avif', width: 200 })), { format: 'avif', width: 200, height: 133, decoded: [200, 133] });
        assert.equal(fetched().length, 3, `probe, core and plus: ${fetched()}`);
        // libaom in wasm: the full module loads on this first request.
        assert.deepEqual(await s.page.evaluate(() => window.shrink('rocket.jpg', { format: 'avif', width: 200, avifEncoder: 'wasm' })), { format: 'avif', width: 200, height: 133, decoded: [200, 133] });
        const wasm = s.server.requests.filter((r) => r.path.endsWith('.wasm'));
        assert.equal(new Set(wasm.map((r) => r.path)).size, 4, `four wasm modules fetched: ${JSON.stringify(wasm)}`);
        assert.ok(wasm.every((r) => r.status === 200 && r.type === 'application/wasm'));
        assert.deepEqual(s.problems, []);
      } finally {
        await s.close();
      }
    });

    test('a probe-only app holds the probe wasm only and no worker; in Chromium it probes in the page', async () => {
      const m = await measure(probeOnly);
      assert.equal(m.wasmFiles.length, 1, `wasm: ${m.wasmFiles}`);
      assert.ok(Buffer.from(m.wasmBytes[0]).equals(probeWasm), `${m.wasmFiles[0]} is the probe module`);
      assert.ok(!m.files.some((f) => /worker/i.test(f)), `no worker file: ${m.files}`);
      for (const f of m.files.filter((f) => f.endsWith('.js'))) {
        const source = await readFile(join(probeOnly, f), 'utf8');
        assert.doesNotMatch(source, /new Worker\b/, `${f} starts no worker`);
        assert.ok(!source.includes('mediaslim_core') && !source.includes('mediaslim_full'), `${f} names no other wasm module`);
      }
      const s = await openApp(probeOnly);
      try {
        assert.deepEqual(await s.page.evaluate(() => window.measure('rocket.jpg')), { format: 'jpeg', width: 640, height: 427 });
        const wasm = s.server.requests.filter((r) => r.path.endsWith('.wasm'));
        assert.equal(wasm.length, 1, `one wasm fetched: ${JSON.stringify(wasm)}`);
        assert.ok(wasm[0].status === 200 && wasm[0].type === 'application/wasm', JSON.stringify(wasm));
        assert.ok(!s.server.requests.some((r) => /worker/i.test(r.path)), JSON.stringify(s.server.requests));
        assert.deepEqual(s.problems, []);
      } finally {
        await s.close();
      }
      sizes[name] = { full: await measure(full), probe: m };
      assert.ok(sizes[name].probe.js <= sizes[name].full.js, `probe-only JS ${sizes[name].probe.js} <= full ${sizes[name].full.js}`);
    });

    if (name === 'vite') {
      const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";
      test(`under CSP "${CSP}" (no blob:, no unsafe-eval) it still works`, async () => {
        const s = await openApp(full, { headers: { 'content-security-policy': CSP } });
        try {
          await s.page.evaluate(() => {
            window.violations = [];
            document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
          });
          assert.deepEqual(await s.page.evaluate(() => window.shrink('rocket.jpg', { format: 'webp', width: 100 })), { format: 'webp', width: 100, height: 67, decoded: [100, 67] });
          assert.deepEqual(await s.page.evaluate(() => window.shrink('rocket.jpg', { format: 'avif', width: 100 })), { format: 'avif', width: 100, height: 67, decoded: [100, 67] });
          assert.deepEqual(await s.page.evaluate(() => window.violations), []);
          // The fixture page's own `<link rel="icon" href="data:,">` is blocked by img-src: not ours.
          assert.deepEqual(s.problems.filter((p) => !p.includes("Loading the image 'data:,'")), []);
        } finally {
          await s.close();
        }
      });

      test("control: the same CSP without 'wasm-unsafe-eval' does block the wasm (the CSP is enforced)", async () => {
        const s = await openApp(full, { headers: { 'content-security-policy': "default-src 'self'; script-src 'self'; worker-src 'self'" } });
        try {
          const outcome = await s.page.evaluate(() =>
            Promise.race([
              window.shrink('rocket.jpg', { format: 'jpeg', width: 100 }).then(() => 'worked', (e) => `failed: ${e.code ?? ''} ${e.message}`),
              new Promise((r) => setTimeout(() => r('timed out'), 15_000)),
            ]));
          assert.notEqual(outcome, 'worked');
        } finally {
          await s.close();
        }
      });
    }
  });
}

test('pkg/ itself has no eval( or new Function', async () => {
  for (const f of (await listFiles(join(repoRoot, 'pkg'))).filter((f) => f.endsWith('.js'))) {
    const source = await readFile(join(repoRoot, 'pkg', f), 'utf8');
    assert.doesNotMatch(source, /\beval\s*\(|\bnew\s+Function\s*\(/, f);
  }
  assert.ok((await stat(join(repoRoot, 'pkg', 'index.js'))).isFile());
});
