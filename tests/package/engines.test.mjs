// One browser smoke suite, run in all three engines Debian ships: Chromium (playwright-core),
// Firefox ESR (Gecko, puppeteer-core over WebDriver BiDi) and WebKitGTK (WebKit's own engine,
// the closest to Safari here: WebKitWebDriver under xvfb-run, driven by selenium-webdriver).
// The page imports the package as installed from the tarball (plain ESM, no bundler):
// optimize to each format (decoded by the engine itself), probe, a pool of 2, a lazy page.
// An engine that cannot start is skipped with the reason printed, never passed silently.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchBrowser } from '../browser/helpers.mjs';
import { makeApp, packTarball, repoRoot, serveDir } from './helpers.mjs';

const FIREFOX = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu'].map((d) => `${d}/webkit2gtk-4.1/MiniBrowser`).find(existsSync);

const SMOKE_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>engine smoke</title><link rel="icon" href="data:,"></head><body>
<script type="module">
  import * as mediaslim from '/node_modules/mediaslim/pkg/index.js';
  window.mediaslim = mediaslim;
  window.fixture = async (name) => new Uint8Array(await (await fetch('/fixtures/' + name)).arrayBuffer());
  window.sniff = (b) => b[0] === 0xff && b[1] === 0xd8 ? 'jpeg' : b[1] === 0x50 && b[2] === 0x4e ? 'png'
    : String.fromCharCode(...b.slice(8, 12)) === 'WEBP' ? 'webp' : String.fromCharCode(...b.slice(4, 8)) === 'ftyp' ? 'avif' : 'unknown';
  window.decode = async (bytes, type) => {
    const bitmap = await createImageBitmap(new Blob([bytes], { type }));
    const size = [bitmap.width, bitmap.height];
    bitmap.close();
    return size;
  };
  window.ready = true;
</script></body></html>`;

const LAZY_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>engine lazy</title><link rel="icon" href="data:,">
<style>body { margin: 0 } .spacer { height: 1500px } img { display: block; width: 200px; height: 300px }</style></head><body>
<div class="spacer">above the fold</div>
${Array.from({ length: 12 }, (_, i) => `<img alt="image ${i}" data-i="${i}" data-src="/fixtures/hopper.png?i=${i}">`).join('\n')}
<script type="module">
  import { lazyOptimize, Pool } from '/node_modules/mediaslim/pkg/index.js';
  window.pool = new Pool({ size: 1 });
  window.encoded = [];
  lazyOptimize('img', { format: 'webp', width: 100, pool: window.pool, rootMargin: '0px',
    onOptimized: (img) => window.encoded.push(Number(img.dataset.i)) });
  window.ready = true;
</script></body></html>`;

// Bodies of async functions run in the page; each returns JSON-able data.
const CHECKS = {
  optimize: `
    const input = await window.fixture('skimage-rocket.jpg');
    const out = {};
    for (const format of ['jpeg', 'png', 'webp', 'avif']) {
      const r = await window.mediaslim.optimize(input, { format, width: 200 });
      out[format] = { format: r.format, sniffed: window.sniff(r.bytes), reported: [r.width, r.height], decoded: await window.decode(r.bytes, 'image/' + format) };
    }
    return out;`,
  probe: `
    const { probe } = window.mediaslim;
    const rocket = await probe(await window.fixture('skimage-rocket.jpg'));
    const png = await probe(new Blob([await window.fixture('transparent.png')]));
    return { rocket: [rocket.format, rocket.width, rocket.height, rocket.hasAlpha], png: [png.format, png.width, png.height, png.hasAlpha] };`,
  pool: `
    const { optimize, Pool } = window.mediaslim;
    const pool = new Pool({ size: 2 });
    const input = await window.fixture('hopper.jpg');
    const results = await Promise.all([40, 50, 60, 70].map((width) => optimize(input, { format: 'webp', width, pool })));
    const stats = pool.stats();
    pool.terminate();
    return { size: pool.size, widths: results.map((r) => r.width), workers: stats.workers, done: stats.done };`,
  lazy: `
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    const settle = async () => {
      let last = -1, since = Date.now();
      for (const end = Date.now() + 60000; Date.now() < end; await wait(100)) {
        const s = window.pool.stats(); const n = window.encoded.length;
        if (n !== last || s.queued + s.running > 0) { last = n; since = Date.now(); } else if (Date.now() - since > 800) return;
      }
      throw new Error('the lazy page did not settle');
    };
    await wait(300); await settle();
    const before = window.encoded.slice();
    window.scrollTo(0, 1500 + 300 * 2);
    await settle();
    const near = window.encoded.slice();
    const img = document.querySelector('img[data-i="' + near[0] + '"]');
    if (img && !img.complete) await new Promise((r) => { img.onload = r; img.onerror = r; });
    return { before, near, firstSrc: img ? img.currentSrc.slice(0, 5) : null, firstNatural: img ? img.naturalWidth : null };`,
  features: `
    return {
      wasmSimd: WebAssembly.validate(new Uint8Array([0,97,115,109,1,0,0,0,1,5,1,96,0,1,123,3,2,1,0,10,10,1,8,0,65,0,253,15,253,98,11])),
      VideoEncoder: typeof VideoEncoder === 'function', ImageDecoder: typeof ImageDecoder === 'function',
      OffscreenCanvas: typeof OffscreenCanvas === 'function', moduleWorkers: true,
    };`,
};

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms); })]).finally(() => clearTimeout(timer));
}

/** Engine drivers: start() -> { open(url), run(body), close() } or throws why it cannot start. */
const ENGINES = {
  chromium: {
    async start() {
      const browser = await launchBrowser();
      const page = await browser.newPage();
      return {
        open: async (url) => { await page.goto(url); await page.waitForFunction(() => window.ready === true, null, { timeout: 30_000 }); },
        run: (body) => page.evaluate(`(async () => { ${body} })()`),
        close: () => browser.close(),
      };
    },
  },
  firefox: {
    async start() {
      if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} not found (Debian package firefox-esr)`);
      const { default: puppeteer } = await import('puppeteer-core');
      const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, timeout: 60_000 });
      const page = await browser.newPage();
      return {
        open: async (url) => { await page.goto(url); await page.waitForFunction(() => window.ready === true, { timeout: 30_000 }); },
        run: (body) => page.evaluate(`(async () => { ${body} })()`),
        close: () => browser.close(),
      };
    },
  },
  webkit: {
    async start() {
      if (!MINIBROWSER) throw new Error('MiniBrowser not found (Debian package libwebkit2gtk-4.1-0)');
      for (const bin of ['WebKitWebDriver', 'xvfb-run']) {
        if (!process.env.PATH.split(':').some((d) => existsSync(join(d, bin)))) throw new Error(`${bin} not found (Debian packages webkit2gtk-driver, xvfb)`);
      }
      const port = await freePort();
      // Its own process group, so close() ends xvfb-run, Xvfb and the driver together.
      const driverProc = spawn('xvfb-run', ['-a', 'WebKitWebDriver', `--port=${port}`], { detached: true, stdio: 'ignore' });
      const stop = () => { try { process.kill(-driverProc.pid, 'SIGTERM'); } catch {} };
      try {
        const { Builder } = await import('selenium-webdriver');
        let driver;
        for (const end = Date.now() + 20_000; !driver; ) {
          try {
            driver = await withTimeout(new Builder().usingServer(`http://127.0.0.1:${port}`).withCapabilities({
              browserName: 'MiniBrowser',
              'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
            }).build(), 30_000, 'WebKitGTK session');
          } catch (err) {
            if (Date.now() > end || !/ECONNREFUSED/.test(String(err))) throw err;
            await new Promise((r) => setTimeout(r, 250));
          }
        }
        await driver.manage().setTimeouts({ script: 120_000, pageLoad: 30_000 });
        return {
          open: async (url) => {
            await driver.get(url);
            await driver.wait(() => driver.executeScript('return window.ready === true'), 30_000);
          },
          run: async (body) => {
            const r = await driver.executeAsyncScript(`const done = arguments[arguments.length - 1];
              (async () => { ${body} })().then((ok) => done({ ok }), (e) => done({ err: String(e && (e.stack || e.message) || e) }));`);
            if (r.err) throw new Error(r.err);
            return r.ok;
          },
          close: async () => { try { await withTimeout(driver.quit(), 10_000, 'quit'); } finally { stop(); } },
        };
      } catch (err) {
        stop();
        throw err;
      }
    },
  },
};

let app;
let server;
const matrix = {}; // engine -> check -> 'pass' | 'fail' | 'skip: why'

before(async () => {
  const tarball = await packTarball();
  app = await makeApp('engines', tarball.file, { 'index.html': SMOKE_PAGE, 'lazy.html': LAZY_PAGE });
  await cp(join(repoRoot, 'tests', 'fixtures'), join(app, 'fixtures'), { recursive: true });
  server = await serveDir(app);
});

after(async () => {
  await server?.close();
  if (app) await rm(app, { recursive: true, force: true });
  const rows = Object.entries(matrix).map(([engine, checks]) => `# ${engine.padEnd(9)} ${Object.entries(checks).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  if (rows.length) console.log(rows.join('\n'));
  if (process.env.MEDIASLIM_MATRIX_OUT) await writeFile(process.env.MEDIASLIM_MATRIX_OUT, JSON.stringify(matrix, null, 2));
});

for (const [engine, { start }] of Object.entries(ENGINES)) {
  describe(`${engine}: the installed package in a plain page`, { timeout: 300_000 }, () => {
    let session;
    let whyNot;
    const results = (matrix[engine] = {});

    before(async () => {
      try {
        session = await withTimeout(start(), 90_000, `${engine} start`);
        await session.open(server.origin + '/');
      } catch (err) {
        whyNot = err.message.split('\n')[0];
        console.log(`# ${engine}: SKIPPED, cannot start: ${whyNot}`);
        await session?.close().catch(() => {});
        session = undefined;
      }
    });
    after(async () => { await session?.close(); });

    const check = (name, fn) => test(name, async (t) => {
      const key = name.split(/[:( ]/)[0];
      if (!session) {
        results[key] = `skip (${whyNot})`;
        return t.skip(`${engine} cannot start: ${whyNot}`);
      }
      try {
        await fn();
        results[key] = 'pass';
      } catch (err) {
        results[key] = 'FAIL';
        throw err;
      }
    });

    check('optimize: jpeg, png, webp, avif decode in this engine at the reported size', async () => {
      const out = await session.run(CHECKS.optimize);
      for (const format of ['jpeg', 'png', 'webp', 'avif']) {
        assert.deepEqual(out[format], { format, sniffed: format, reported: [200, 133], decoded: [200, 133] }, format);
      }
    });

    check('probe', async () => {
      assert.deepEqual(await session.run(CHECKS.probe), { rocket: ['jpeg', 640, 427, false], png: ['png', 200, 150, true] });
    });

    check('pool: 2 workers', async () => {
      const r = await session.run(CHECKS.pool);
      assert.deepEqual([r.size, r.widths, r.done], [2, [40, 50, 60, 70], 4]);
      assert.ok(r.workers >= 1 && r.workers <= 2, `workers ${r.workers}`);
    });

    check('lazy page: nothing below the fold, then what is scrolled near', async () => {
      await session.open(server.origin + '/lazy.html');
      const r = await session.run(CHECKS.lazy);
      assert.deepEqual(r.before, [], 'nothing encoded before scrolling');
      assert.ok(r.near.length >= 1 && r.near.length < 12, `encoded after scrolling: ${r.near}`);
      assert.equal(r.firstSrc, 'blob:', 'the image now shows the optimized blob');
      assert.equal(r.firstNatural, 100);
      await session.open(server.origin + '/');
    });

    check('features (reported, not required)', async () => {
      const f = await session.run(CHECKS.features);
      assert.equal(f.wasmSimd, true, 'wasm SIMD (the package is built with simd128)');
      console.log(`# ${engine} features: ${JSON.stringify(f)}`);
    });
  });
}
