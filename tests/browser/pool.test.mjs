// The worker pool in Chromium: a plain page imports /pkg/index.js (no bundler) and drives
// Pools of real module workers, each running the real wasm. Then a tiny app that installs the
// package like an npm user would (a copy in node_modules) is built and served with Vite's
// defaults, no config at all: the worker and the wasm must be bundled and load from there.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build, createServer } from 'vite';
import { openTestPage, repoRoot, serveStatic, watchPage } from './helpers.mjs';

const PAGE = '/__mediaslim_pool_test__.html';
const HTML = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>mediaslim pool test</title><link rel="icon" href="data:,">
<script type="module">
  import * as mediaslim from '/pkg/index.js';
  window.mediaslim = mediaslim;
  const cache = new Map();
  window.fixture = async (name) => {
    if (!cache.has(name)) {
      const res = await fetch('/tests/fixtures/' + name);
      if (!res.ok) throw new Error('fixture ' + name + ': HTTP ' + res.status);
      cache.set(name, new Uint8Array(await res.arrayBuffer()));
    }
    return cache.get(name);
  };
  // The same picture with one trailing byte more (ignored after the JPEG end marker), so that
  // jobs on it are not deduplicated as identical.
  window.variant = async (name, n) => {
    const bytes = await window.fixture(name);
    const out = new Uint8Array(bytes.length + n);
    out.set(bytes);
    return out;
  };
  window.packageReady = true;
</script>
</html>`;

let server;
let browser;
let page;
let problems;

before(async () => {
  // The trap test's panic hook logs the deliberate panic; anything else is a problem.
  ({ server, browser, page, problems } = await openTestPage(PAGE, HTML, { ignore: [/deliberate trap \(test hook\)/] }));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

describe('Pool in a page (module workers, unbundled)', { timeout: 120_000 }, () => {
  test('new Pool({ size: 2 }) runs 6 jobs two at a time; every output decodes at its size', async () => {
    const got = await page.evaluate(async () => {
      const { optimize, Pool } = window.mediaslim;
      const pool = new Pool({ size: 2 });
      const jobs = [
        ['skimage-rocket.jpg', { format: 'jpeg', width: 160 }],
        ['skimage-rocket.jpg', { format: 'avif', width: 200 }],
        ['flower2.jpg', { format: 'png', width: 150 }],
        ['transparent.png', { format: 'webp', width: 100 }],
        ['hopper.png', { format: 'avif', width: 64 }],
        ['hopper.jpg', { format: 'png' }],
      ];
      let running = 0;
      let maxRunning = 0;
      const onProgress = (e) => {
        if (e.stage === 'running') maxRunning = Math.max(maxRunning, ++running);
        if (e.stage === 'done' || e.stage === 'failed') running--;
      };
      try {
        const inputs = await Promise.all(jobs.map(([name]) => window.fixture(name)));
        const results = await Promise.all(jobs.map(([, options], i) => optimize(inputs[i], { ...options, pool, onProgress })));
        const decoded = await Promise.all(
          results.map(async (r) => {
            const bitmap = await createImageBitmap(new Blob([r.bytes], { type: `image/${r.format}` }));
            const size = [bitmap.width, bitmap.height];
            bitmap.close();
            return size;
          }),
        );
        const inBytes = inputs.reduce((n, b) => n + b.length, 0);
        const outBytes = results.reduce((n, r) => n + r.bytes.length, 0);
        return {
          formats: results.map((r) => r.format),
          reported: results.map((r) => [r.width, r.height]),
          decoded,
          maxRunning,
          stats: pool.stats(),
          inBytes,
          outBytes,
        };
      } finally {
        pool.terminate();
      }
    });
    const sizes = [[160, 107], [200, 133], [150, 113], [100, 75], [64, 64], [128, 128]];
    assert.deepEqual(got.formats, ['jpeg', 'avif', 'png', 'webp', 'avif', 'png']);
    assert.deepEqual(got.reported, sizes, 'reported sizes');
    assert.deepEqual(got.decoded, sizes, 'sizes Chromium decodes');
    assert.equal(got.maxRunning, 2, 'two jobs ran at once, never more');
    assert.equal(got.stats.workers, 2);
    assert.equal(got.stats.done, 6);
    assert.equal(got.stats.failed, 0);
    assert.equal(got.stats.queued, 0);
    assert.equal(got.stats.running, 0);
    assert.equal(got.stats.deduplicated, 0);
    assert.equal(got.stats.bytesIn, got.inBytes);
    assert.equal(got.stats.bytesOut, got.outBytes);
    assert.equal(got.stats.bytesSaved, got.inBytes - got.outBytes);
    assert.ok(got.stats.wasmMemoryBytes > 0, 'wasm memory is reported');
  });

  test('size 1: queued jobs run by priority, FIFO within one; a raised job moves up', async () => {
    const got = await page.evaluate(async () => {
      const { optimize, Pool } = window.mediaslim;
      const pool = new Pool({ size: 1 });
      try {
        const rocket = await window.fixture('skimage-rocket.jpg');
        const hopper = await window.fixture('hopper.png');
        // The blocker holds the only worker (a full-size AVIF encode by rav1e in wasm: the
        // browser's WebCodecs encoder would finish too soon) while the rest queue.
        let blockerRunning;
        const started = new Promise((resolve) => (blockerRunning = resolve));
        const blocker = optimize(rocket, {
          format: 'avif',
          avifEncoder: 'wasm',
          pool,
          priority: 'background',
          onProgress: (e) => e.stage === 'running' && blockerRunning(),
        });
        await started;
        const priorities = ['background', 'user', 'prefetch', 'visible', 'user', 'background', 'visible', 'prefetch'];
        const order = [];
        const queued = priorities.map((priority, i) =>
          optimize(hopper, { format: 'png', width: 20 + i, pool, priority }).then((r) => {
            order.push(i);
            return r.width;
          }),
        );
        // A ninth job through pool.run(), queued at background.
        const raisedJob = pool.run('optimize', hopper, JSON.stringify({ format: 'png', width: 50 }), { priority: 'background' });
        const raisedDone = raisedJob.then(() => order.push(8));
        // Let every job reach the queue (inputs are hashed first), then raise the ninth to
        // visible: it moves to the end of the visible lane.
        for (let i = 0; i < 100 && pool.stats().queued < 9; i++) await new Promise((r) => setTimeout(r, 10));
        const whileBlocked = pool.stats();
        const raised = pool.raise(raisedJob, 'visible');
        const raisedTwice = pool.raise(raisedJob, 'prefetch'); // never lowers
        const widths = await Promise.all(queued);
        await Promise.all([blocker, raisedDone]);
        return { order, widths, raised, raisedTwice, whileBlocked, stats: pool.stats() };
      } finally {
        pool.terminate();
      }
    });
    assert.equal(got.raised, true, 'raise() found the queued job');
    assert.equal(got.raisedTwice, false, 'raise() never lowers a priority');
    assert.equal(got.whileBlocked.running, 1);
    assert.equal(got.whileBlocked.queued, 9, 'all nine waited behind the blocker');
    assert.deepEqual(got.widths, [20, 21, 22, 23, 24, 25, 26, 27]);
    // user 1, 4; visible 3, 6, then the raised job (it joins the end of the visible lane);
    // prefetch 2, 7; background 0, 5.
    assert.deepEqual(got.order, [1, 4, 3, 6, 8, 2, 7, 0, 5]);
    assert.equal(got.stats.workers, 1);
    assert.equal(got.stats.done, 10);
  });

  test('aborting a queued job rejects with ABORTED at once; the pool keeps serving', async () => {
    const got = await page.evaluate(async () => {
      const { optimize, MediaslimError, Pool } = window.mediaslim;
      const pool = new Pool({ size: 1 });
      try {
        const rocket = await window.fixture('skimage-rocket.jpg');
        const hopper = await window.fixture('hopper.jpg');
        let blockerSettled = false;
        let blockerRunning;
        const started = new Promise((resolve) => (blockerRunning = resolve));
        const blocker = optimize(rocket, { format: 'avif', avifEncoder: 'wasm', pool, onProgress: (e) => e.stage === 'running' && blockerRunning() });
        blocker.finally(() => (blockerSettled = true)).catch(() => {});
        await started;
        const controller = new AbortController();
        const stages = [];
        const queued = optimize(hopper, { format: 'webp', pool, signal: controller.signal, onProgress: (e) => stages.push(e.stage) });
        for (let i = 0; i < 100 && pool.stats().queued < 1; i++) await new Promise((r) => setTimeout(r, 10));
        const queuedBefore = pool.stats().queued;
        const t0 = performance.now();
        controller.abort(new Error('scrolled away'));
        const error = await queued.then(
          () => null,
          (e) => ({ isMediaslimError: e instanceof MediaslimError, code: e.code, message: e.message }),
        );
        const rejectMs = performance.now() - t0;
        const atRejection = { blockerSettled, stats: pool.stats() };
        // An already aborted signal is refused before anything is queued.
        const early = await optimize(hopper, { pool, signal: AbortSignal.abort() }).then(
          () => null,
          (e) => e.code,
        );
        const blockerResult = await blocker;
        const after = await optimize(hopper, { format: 'webp', width: 64, pool });
        return {
          queuedBefore,
          error,
          rejectMs,
          stages,
          atRejection,
          early,
          blocker: [blockerResult.format, blockerResult.width],
          after: [after.format, after.width, after.height],
          stats: pool.stats(),
        };
      } finally {
        pool.terminate();
      }
    });
    assert.equal(got.queuedBefore, 1);
    assert.deepEqual(got.error && { ...got.error, message: undefined }, { isMediaslimError: true, code: 'ABORTED', message: undefined });
    assert.match(got.error.message, /scrolled away/);
    assert.ok(got.rejectMs < 100, `rejected ${got.rejectMs.toFixed(1)} ms after abort()`);
    assert.equal(got.atRejection.blockerSettled, false, 'rejected while the blocker was still encoding');
    assert.equal(got.atRejection.stats.queued, 0, 'the aborted job left the queue');
    assert.equal(got.atRejection.stats.running, 1);
    assert.deepEqual(got.stages, ['queued'], 'the aborted job never ran');
    assert.equal(got.early, 'ABORTED');
    assert.deepEqual(got.blocker, ['avif', 640]);
    assert.deepEqual(got.after, ['webp', 64, 64]);
    assert.equal(got.stats.done, 2);
    assert.ok(got.stats.aborted >= 1);
  });

  test('a trapped wasm instance: that job rejects with WORKER_CRASHED, the next succeeds', async () => {
    const got = await page.evaluate(async () => {
      const { optimize, MediaslimError, Pool } = window.mediaslim;
      const pool = new Pool({ size: 1 });
      try {
        const hopper = await window.fixture('hopper.jpg');
        // A job first, so that the worker that traps is a warm one.
        const before = await optimize(hopper, { format: 'png', width: 32, pool });
        const crash = await pool.__trapForTests().then(
          () => null,
          (e) => ({ isMediaslimError: e instanceof MediaslimError, code: e.code }),
        );
        const next = await optimize(hopper, { format: 'webp', width: 48, pool });
        const bitmap = await createImageBitmap(new Blob([next.bytes], { type: 'image/webp' }));
        return { before: before.width, crash, next: [next.format, bitmap.width, bitmap.height], stats: pool.stats() };
      } finally {
        pool.terminate();
      }
    });
    assert.equal(got.before, 32);
    assert.deepEqual(got.crash, { isMediaslimError: true, code: 'WORKER_CRASHED' });
    assert.deepEqual(got.next, ['webp', 48, 48]);
    assert.equal(got.stats.replaced, 1);
    assert.equal(got.stats.workers, 1, 'the crashed worker was replaced, not added to');
    assert.equal(got.stats.done, 2);
    assert.equal(got.stats.failed, 1);
  });

  test('the main thread stays responsive while an AVIF encode runs in the pool', async () => {
    const got = await page.evaluate(async () => {
      const { optimize, Pool } = window.mediaslim;
      const pool = new Pool({ size: 1 });
      try {
        const rocket = await window.fixture('skimage-rocket.jpg');
        await optimize(await window.fixture('hopper.jpg'), { format: 'png', pool }); // worker warm
        let ticks = 0;
        let last = performance.now();
        let maxGap = 0;
        const timer = setInterval(() => {
          const now = performance.now();
          maxGap = Math.max(maxGap, now - last);
          last = now;
          ticks++;
        }, 10);
        let frames = 0;
        let counting = true;
        const frame = () => {
          frames++;
          if (counting) requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
        const t0 = performance.now();
        last = t0;
        const result = await optimize(rocket, { format: 'avif', avifEncoder: 'wasm', pool, priority: 'user' });
        const wallMs = performance.now() - t0;
        clearInterval(timer);
        counting = false;
        return { wallMs, encodeMs: result.timings.encode, ticks, maxGap, frames, format: result.format };
      } finally {
        pool.terminate();
      }
    });
    assert.equal(got.format, 'avif');
    assert.ok(got.encodeMs > 300, `the encode is long enough to notice a blocked thread (${got.encodeMs.toFixed(0)} ms)`);
    // A 10 ms interval on a free thread; allow for timer clamping and a busy 2-core machine.
    assert.ok(got.ticks >= got.wallMs / 40, `${got.ticks} interval ticks in ${got.wallMs.toFixed(0)} ms`);
    assert.ok(got.maxGap < 250, `longest pause between ticks ${got.maxGap.toFixed(0)} ms`);
    assert.ok(got.frames >= got.wallMs / 100, `${got.frames} animation frames in ${got.wallMs.toFixed(0)} ms`);
  });

  test('the page logged no errors, and every worker and wasm load came from pkg/', () => {
    assert.deepEqual(problems, []);
    const wasm = server.requests.filter((r) => r.path.endsWith('.wasm'));
    assert.ok(wasm.length >= 1);
    for (const r of wasm) {
      assert.match(r.path, /^\/pkg\/wasm\/mediaslim_[a-z]+_bg\.wasm$/);
      assert.deepEqual({ status: r.status, type: r.type }, { status: 200, type: 'application/wasm' });
    }
    assert.ok(server.requests.some((r) => r.path === '/pkg/worker.js' && r.status === 200));
  });
});

// ---- a tiny app with `mediaslim` installed in node_modules, Vite with no config ---------

describe('a Vite app that imports mediaslim, with Vite defaults', { timeout: 120_000 }, () => {
  let app;

  before(async () => {
    app = await mkdtemp(join(tmpdir(), 'mediaslim-vite-app-'));
    // What `npm install mediaslim` puts there: package.json and the built pkg/.
    const installed = join(app, 'node_modules', 'mediaslim');
    await mkdir(installed, { recursive: true });
    await cp(join(repoRoot, 'package.json'), join(installed, 'package.json'));
    await cp(join(repoRoot, 'pkg'), join(installed, 'pkg'), { recursive: true });
    await writeFile(
      join(app, 'index.html'),
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tiny</title><link rel="icon" href="data:,"></head>
<body><script type="module" src="./main.js"></script></body></html>`,
    );
    await writeFile(
      join(app, 'main.js'),
      `import { optimize, MediaslimError } from 'mediaslim';
window.shrink = async (url, options) => {
  const input = new Uint8Array(await (await fetch(url)).arrayBuffer());
  try {
    const r = await optimize(input, options);
    const bitmap = await createImageBitmap(new Blob([r.bytes], { type: 'image/' + r.format }));
    return { format: r.format, width: r.width, height: r.height, decoded: [bitmap.width, bitmap.height] };
  } catch (err) {
    return { error: err instanceof MediaslimError ? err.code : String(err) };
  }
};
document.body.dataset.ready = 'true';
`,
    );
    await mkdir(join(app, 'public'));
    await cp(join(repoRoot, 'tests', 'fixtures', 'skimage-rocket.jpg'), join(app, 'public', 'rocket.jpg'));
    await cp(join(repoRoot, 'tests', 'fixtures', 'zip-renamed.jpg'), join(app, 'public', 'zip.jpg'));
  });

  after(async () => {
    if (app) await rm(app, { recursive: true, force: true });
  });

  async function exercise(origin) {
    const context = await browser.newContext();
    const appPage = await context.newPage();
    const appProblems = watchPage(appPage);
    try {
      await appPage.goto(origin + '/');
      await appPage.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });
      const avif = await appPage.evaluate(() => window.shrink('rocket.jpg', { format: 'avif', width: 200 }));
      const webp = await appPage.evaluate(() => window.shrink('rocket.jpg', { format: 'webp', width: 100 }));
      const bad = await appPage.evaluate(() => window.shrink('zip.jpg', {}));
      const workers = appPage.workers().map((w) => new URL(w.url()).pathname);
      return { avif, webp, bad, workers, problems: appProblems };
    } finally {
      await context.close();
    }
  }

  test('vite build: the worker and the wasm are bundled, and optimize() works from dist/', async () => {
    const outDir = join(app, 'dist');
    await build({ root: app, configFile: false, logLevel: 'error', build: { outDir, emptyOutDir: true } });
    const assets = await readdir(join(outDir, 'assets'));
    assert.equal(assets.filter((f) => /^worker-.*\.js$/.test(f)).length, 1, `one worker chunk in ${assets.join(', ')}`);
    // Every wasm module of the package, emitted byte for byte (never inlined).
    const pkgWasm = (await readdir(join(repoRoot, 'pkg', 'wasm'))).filter((f) => f.endsWith('.wasm'));
    const distWasm = assets.filter((f) => f.endsWith('.wasm'));
    const sha = async (p) => createHash('sha256').update(await readFile(p)).digest('hex');
    assert.deepEqual(
      (await Promise.all(distWasm.map((f) => sha(join(outDir, 'assets', f))))).sort(),
      (await Promise.all(pkgWasm.map((f) => sha(join(repoRoot, 'pkg', 'wasm', f))))).sort(),
      `${distWasm} are ${pkgWasm}`,
    );
    const entry = assets.find((f) => /^index-.*\.js$/.test(f));
    const entrySource = await readFile(join(outDir, 'assets', entry), 'utf8');
    assert.doesNotMatch(entrySource, /data:text\/javascript/, 'no unbundled copy of the worker inlined in the page bundle');

    const dist = await serveStatic(outDir);
    try {
      const got = await exercise(dist.origin);
      assert.deepEqual(got.avif, { format: 'avif', width: 200, height: 133, decoded: [200, 133] });
      assert.deepEqual(got.webp, { format: 'webp', width: 100, height: 67, decoded: [100, 67] });
      assert.deepEqual(got.bad, { error: 'UNSUPPORTED_FORMAT' });
      assert.ok(got.workers.length >= 1 && got.workers.every((p) => /^\/assets\/worker-.*\.js$/.test(p)), `workers: ${got.workers}`);
      assert.deepEqual(got.problems, []);
      const wasm = dist.requests.filter((r) => r.path.endsWith('.wasm'));
      assert.ok(wasm.length >= 1 && wasm.every((r) => r.status === 200 && r.type === 'application/wasm'), JSON.stringify(wasm));
    } finally {
      await dist.close();
    }
  });

  test('vite dev server (dependency pre-bundling included): optimize() works', async () => {
    const dev = await createServer({ root: app, configFile: false, logLevel: 'error', server: { host: '127.0.0.1', port: 0 } });
    await dev.listen();
    try {
      const origin = dev.resolvedUrls.local[0].replace(/\/$/, '');
      const got = await exercise(origin);
      assert.deepEqual(got.avif, { format: 'avif', width: 200, height: 133, decoded: [200, 133] });
      assert.deepEqual(got.webp, { format: 'webp', width: 100, height: 67, decoded: [100, 67] });
      assert.deepEqual(got.bad, { error: 'UNSUPPORTED_FORMAT' });
      assert.ok(got.workers.length >= 1 && got.workers.every((p) => p.endsWith('/mediaslim/pkg/worker.js')), `workers: ${got.workers}`);
      assert.deepEqual(got.problems, []);
    } finally {
      await dev.close();
    }
  });
});
