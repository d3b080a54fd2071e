// One browser smoke suite, run in all three engines Debian ships: Chromium (playwright-core),
// Firefox ESR (Gecko, puppeteer-core over WebDriver BiDi) and WebKitGTK (WebKit's own engine,
// the closest to Safari here: WebKitWebDriver under xvfb-run, driven by selenium-webdriver).
// The page imports the package as installed from the tarball (plain ESM, no bundler):
// optimize to each format (decoded by the engine itself), probe, a pool of 2, a lazy page.
// An engine that cannot start is skipped with the reason printed, never passed silently.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BASE64_SCRIPT, launchBrowser } from '../browser/helpers.mjs';
import { hasFfmpeg, hasFfprobe, probeVideo } from '../ffprobe.mjs';
import { makeApp, packTarball, repoRoot, serveDir, topBoxes } from './helpers.mjs';

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
  ${BASE64_SCRIPT}
  // A video call's outcome as JSON: what it made, or the typed error it rejected with.
  window.outcome = (promise, made) => promise.then((r) => ({ ok: true, ...made(r) }), (e) => ({ ok: false, code: e && e.code, message: String(e && e.message) }));
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
  // The engine's own answers, asked before any video call. VideoDecoder first: WebKitGTK's
  // web process dies when its first WebCodecs call is VideoEncoder.isConfigSupported.
  videoSupport: `
    const has = (name) => typeof globalThis[name] === 'function';
    const ask = (cls, config) => has(cls) ? globalThis[cls].isConfigSupported(config).then((r) => !!r.supported, () => false) : false;
    const clip = await window.mediaslim.demux(await window.fixture('clip-h264-aac.mp4'));
    const v = clip.tracks.find((t) => t.kind === 'video');
    const decodeClip = await ask('VideoDecoder', { codec: v.codec, codedWidth: v.width, codedHeight: v.height, description: v.description });
    const enc = (codec) => ask('VideoEncoder', { codec, width: 160, height: 120, bitrate: 300000, framerate: 30 });
    return {
      api: Object.fromEntries(['VideoDecoder', 'VideoEncoder', 'VideoFrame', 'EncodedVideoChunk', 'AudioEncoder', 'OffscreenCanvas', 'ImageDecoder'].map((n) => [n, has(n)])),
      decodeClip, clipCodec: v.codec,
      encode: { h264: await enc('avc1.42001f'), vp9: await enc('vp09.00.10.08'), av1: await enc('av01.0.04M.08') },
    };`,
  transcode: `
    const clip = await window.fixture('clip-h264-aac.mp4');
    return window.outcome(window.mediaslim.transcode(clip, { maxHeight: 120 }), (r) => ({ b64: window.b64(r.video), mimeType: r.mimeType, codec: r.codec, size: [r.width, r.height], frames: r.frames, audio: r.audio }));`,
  gifToVideo: `
    const gif = await window.fixture('dispose_bgnd.gif');
    const made = (r) => ({ b64: window.b64(r.video), encoder: r.encoder, codec: r.codec, size: [r.width, r.height], frames: r.frames });
    return { auto: await window.outcome(window.mediaslim.gifToVideo(gif), made), h264: await window.outcome(window.mediaslim.gifToVideo(gif, { codec: 'h264' }), made) };`,
  posterFrame: `
    const clip = await window.fixture('clip-h264-aac.mp4');
    return window.outcome(window.mediaslim.posterFrame(clip, { width: 160 }), (r) => ({ mimeType: r.mimeType, size: [r.width, r.height], sniffed: window.sniff(r.bytes) }));`,
  remux: `
    const clip = await window.fixture('clip-h264-aac.mp4');
    return window.outcome(window.mediaslim.remux(clip, { fastStart: true }), (r) => ({ b64: window.b64(r.bytes), changed: r.changed }));`,
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

const CLIP_FRAMES = 60; // tests/fixtures/clip-h264-aac.mp4: 320x240 H.264, 60 frames, AAC
const GIF_FRAMES = 5; // tests/fixtures/dispose_bgnd.gif: 100x100
/** FFmpeg's name for a WebCodecs codec string (`avc1.4D4015`, `vp09.00.10.08`, `av01.0.04M.08`). */
const ffprobeName = (codec) => ({ avc1: 'h264', vp09: 'vp9', av01: 'av1' })[codec.slice(0, 4)] ?? codec;
const videoDir = mkdtempSync(join(tmpdir(), 'mediaslim-engines-video-'));

/** FFmpeg's reading of a video the page made (bytes as base64), or null without ffprobe. */
function judge(b64, name) {
  if (!hasFfprobe) return null;
  return probeVideo(Buffer.from(b64, 'base64'), videoDir, name);
}

/** What FFmpeg says while decoding every frame of a video the page made ('' when clean). */
function decodeWarnings(b64, name) {
  const file = join(videoDir, name);
  writeFileSync(file, Buffer.from(b64, 'base64'));
  return spawnSync('ffmpeg', ['-v', 'warning', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' }).stderr.trim();
}

/** A rejection that is the documented fallback: UNSUPPORTED_CODEC naming what is missing. */
function assertFallback(r, missing, what) {
  assert.equal(r.ok, false, `${what}: expected a rejection (${missing} missing), got a result`);
  assert.equal(r.code, 'UNSUPPORTED_CODEC', `${what}: ${r.code}: ${r.message}`);
  assert.match(r.message, missing, `${what}: the message names what is missing`);
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
  rmSync(videoDir, { recursive: true, force: true });
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

    // Video: what the engine's WebCodecs can do decides what each call must do. With the
    // pieces, the output is checked by FFmpeg; without them, the call must reject with
    // UNSUPPORTED_CODEC naming what is missing. remux needs no codec and works everywhere.
    let support;
    const h264Outputs = {}; // name -> base64 MP4, for the clean-decode check
    const needSupport = () => assert.ok(support, 'videoSupport did not run');
    check('videoSupport: what WebCodecs has here (reported)', async () => {
      support = await session.run(CHECKS.videoSupport);
      const yes = (v) => (v ? 'yes' : 'no');
      console.log(`# ${engine} video: decode ${support.clipCodec} ${yes(support.decodeClip)}; encode h264 ${yes(support.encode.h264)}, vp9 ${yes(support.encode.vp9)}, av1 ${yes(support.encode.av1)}; API ${Object.entries(support.api).map(([k, v]) => `${k} ${yes(v)}`).join(', ')}`);
    });

    check('transcode: downscaled to 120 px high where WebCodecs can, UNSUPPORTED_CODEC where not', async () => {
      needSupport();
      const r = await session.run(CHECKS.transcode);
      const anyEncoder = Object.values(support.encode).some(Boolean);
      if (!support.api.VideoDecoder || !support.api.VideoEncoder) return assertFallback(r, /WebCodecs|VideoDecoder|VideoEncoder/, 'transcode');
      if (!support.decodeClip) return assertFallback(r, /VideoDecoder cannot decode/, 'transcode');
      if (!anyEncoder) return assertFallback(r, /no video encoder/, 'transcode');
      assert.equal(r.ok, true, `transcode: ${r.code}: ${r.message}`);
      assert.deepEqual([r.size, r.frames], [[160, 120], CLIP_FRAMES]);
      const p = judge(r.b64, `${engine}-transcode.mp4`);
      if (p) assert.deepEqual([p.codec, p.width, p.height, p.frames], [ffprobeName(r.codec), 160, 120, CLIP_FRAMES], `ffprobe of ${r.mimeType}`);
      if (r.codec.startsWith('avc1')) h264Outputs.transcode = r.b64;
      console.log(`# ${engine} transcode: ${r.mimeType}, audio ${r.audio}`);
    });

    check('gifToVideo: auto always (WebCodecs or rav1e); h264 where an H.264 encoder exists', async () => {
      needSupport();
      const { auto, h264 } = await session.run(CHECKS.gifToVideo);
      assert.equal(auto.ok, true, `auto: ${auto.code}: ${auto.message}`);
      assert.deepEqual([auto.size, auto.frames], [[100, 100], GIF_FRAMES]);
      if (support.encode.h264) assert.deepEqual([auto.encoder, auto.codec.slice(0, 5)], ['webcodecs', 'avc1.'], 'H.264 through WebCodecs when the engine has it');
      else assert.equal(auto.codec.slice(0, 5), 'av01.', `AV1 (WebCodecs or rav1e) without an H.264 encoder, got ${auto.codec} (${auto.encoder})`);
      if (!support.api.VideoEncoder) assert.equal(auto.encoder, 'rav1e', 'no VideoEncoder: rav1e');
      const p = judge(auto.b64, `${engine}-gif-auto.mp4`);
      if (p) assert.deepEqual([p.codec, p.width, p.height, p.frames], [ffprobeName(auto.codec), 100, 100, GIF_FRAMES]);
      if (support.api.VideoEncoder && support.encode.h264) {
        assert.equal(h264.ok, true, `h264: ${h264.code}: ${h264.message}`);
        h264Outputs.gifToVideo = h264.b64;
        const q = judge(h264.b64, `${engine}-gif-h264.mp4`);
        if (q) assert.deepEqual([q.codec, q.frames], ['h264', GIF_FRAMES]);
      } else {
        assertFallback(h264, support.api.VideoEncoder ? /no video encoder for H\.264/ : /needs WebCodecs \(VideoEncoder\)/, 'gifToVideo h264');
      }
      console.log(`# ${engine} gifToVideo: auto -> ${auto.codec} (${auto.encoder}); h264 -> ${h264.ok ? 'ok' : h264.code}`);
    });

    // Firefox ESR 153's VideoEncoder gives an avcC whose SPS and PPS each repeat their NAL
    // header byte (67 67 4d..., 68 68 eb...), which FFmpeg warns about ("sps_id 1 out of
    // range"); js/video/encode-gif.ts decoderDescription repairs it before muxing.
    test('H.264 outputs decode without FFmpeg warnings', (t) => {
      if (!session) return t.skip(`${engine} cannot start: ${whyNot}`);
      if (!hasFfmpeg) return t.skip('ffmpeg not found (Debian ffmpeg)');
      assert.ok(Object.keys(h264Outputs).length > 0 || !support?.encode.h264, 'no H.264 output to check');
      for (const [what, b64] of Object.entries(h264Outputs)) assert.equal(decodeWarnings(b64, `${engine}-${what}-decode.mp4`), '', `${what}: FFmpeg's warnings`);
    });

    check('posterFrame: a WebP of the first key frame where VideoDecoder can, UNSUPPORTED_CODEC where not', async () => {
      needSupport();
      const r = await session.run(CHECKS.posterFrame);
      if (!support.api.VideoDecoder || !support.api.OffscreenCanvas) return assertFallback(r, /WebCodecs|VideoDecoder/, 'posterFrame');
      if (!support.decodeClip) return assertFallback(r, /VideoDecoder cannot decode/, 'posterFrame');
      assert.equal(r.ok, true, `posterFrame: ${r.code}: ${r.message}`);
      assert.deepEqual(r, { ok: true, mimeType: 'image/webp', size: [160, 120], sniffed: 'webp' });
    });

    check('remux: fast start everywhere (no codec needed)', async () => {
      const r = await session.run(CHECKS.remux);
      assert.equal(r.ok, true, `remux: ${r.code}: ${r.message}`);
      const boxes = topBoxes(Buffer.from(r.b64, 'base64'));
      assert.ok(boxes.includes('mdat') && boxes.indexOf('moov') < boxes.indexOf('mdat'), `moov before mdat: ${boxes}`);
      const p = judge(r.b64, `${engine}-remux.mp4`);
      if (p) assert.deepEqual([p.codec, p.width, p.height, p.frames], ['h264', 320, 240, CLIP_FRAMES]);
    });

    check('features (reported, not required)', async () => {
      const f = await session.run(CHECKS.features);
      assert.equal(f.wasmSimd, true, 'wasm SIMD (the package is built with simd128)');
      console.log(`# ${engine} features: ${JSON.stringify(f)}`);
    });
  });
}
