// Shared by the browser suites: a tiny static file server on 127.0.0.1 (random port) and a
// headless Chromium from Debian (never a downloaded browser). Not a test file itself.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const fixtures = join(repoRoot, 'tests', 'fixtures');
export const outDir = join(repoRoot, 'tests', 'out');

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/**
 * Serves `root` on http://127.0.0.1:<random port>. `routes` maps exact paths to in-memory
 * { type, body } responses. Records every request as { path, status, type }.
 */
export async function serveStatic(root, { routes = {} } = {}) {
  const requests = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const send = (status, type, body) => {
      requests.push({ path, status, type });
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');
    if (routes[path]) return send(200, routes[path].type, routes[path].body);
    let file = normalize(join(root, path));
    if (file !== normalize(root) && !file.startsWith(normalize(root + sep))) return send(403, 'text/plain', 'forbidden');
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        file = join(file, 'index.html');
        info = await stat(file);
      }
      const type = MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
      requests.push({ path, status: 200, type });
      res.writeHead(200, { 'content-type': type, 'content-length': info.size, 'cache-control': 'no-store' });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    } catch {
      send(404, 'text/plain', `not found: ${path}`);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 60_000,
  });
}

/**
 * Collects page errors, console errors/warnings and failed requests, so a test can assert the
 * page ran cleanly. `ignore` filters console text that is expected.
 */
export function watchPage(page, { ignore = [] } = {}) {
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    const text = msg.text();
    if (ignore.some((re) => re.test(text))) return;
    problems.push(`console.${msg.type()}: ${text}`);
  });
  page.on('requestfailed', (req) => {
    // Object URLs revoked while an <img> still loads them are not failures of the page.
    if (req.url().startsWith('blob:')) return;
    problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return problems;
}

/** Source of an in-page function: decodes image bytes with the browser and measures pixels. */
export const ANALYZE_SOURCE = `
globalThis.analyzeImage = async function analyzeImage(bytes, type) {
  const bitmap = await createImageBitmap(new Blob([bytes], { type }));
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const data = ctx.getImageData(0, 0, width, height).data;
  let translucent = 0, transparent = 0, alphaSum = 0, r = 0, g = 0, b = 0;
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3];
    if (a < 255) translucent++;
    if (a === 0) transparent++;
    alphaSum += a;
    r += data[i] * a; g += data[i + 1] * a; b += data[i + 2] * a;
  }
  const pixels = width * height;
  return {
    width, height, pixels,
    translucentFraction: translucent / pixels,
    transparentFraction: transparent / pixels,
    meanAlpha: alphaSum / pixels,
    // Mean colour weighted by alpha: what the image looks like where it is visible.
    meanRgb: alphaSum ? [r / alphaSum, g / alphaSum, b / alphaSum] : [0, 0, 0],
  };
};
`;

/** In-page script defining `window.b64(bytes)`: bytes as base64, to hand outputs back to Node. */
export const BASE64_SCRIPT = "window.b64 = (u8) => { let s = ''; for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000)); return btoa(s); };";

/** The format a file's leading bytes say it is. */
export function sniff(bytes) {
  const b = Uint8Array.from(bytes.slice(0, 16));
  const ascii = (from, to) => String.fromCharCode(...b.slice(from, to));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x89 && ascii(1, 4) === 'PNG') return 'png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(4, 8) === 'ftyp' && /^avi[fs]$/.test(ascii(8, 12))) return 'avif';
  return 'unknown';
}

export function maxChannelDelta(a, b) {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
}

/**
 * Serves the repo with one extra page at `path`, opens it in a fresh Chromium and waits for
 * `window[readyFlag] === true`. Returns what the tests use, plus `close()`.
 */
export async function openTestPage(path, html, { viewport, ignore = [], initScript, readyFlag = 'packageReady' } = {}) {
  const server = await serveStatic(repoRoot, { routes: { [path]: { type: 'text/html; charset=utf-8', body: html } } });
  const browser = await launchBrowser();
  const page = await browser.newPage(viewport ? { viewport } : undefined);
  const problems = watchPage(page, { ignore });
  if (initScript) await page.addInitScript({ content: initScript });
  await page.goto(server.origin + path);
  await page.waitForFunction((flag) => window[flag] === true, readyFlag, { timeout: 30_000 });
  return { server, browser, page, problems, close: async () => { await browser.close(); await server.close(); } };
}

/**
 * The entry of a bundled test app: `window.shrink(url, options)` optimizes and decodes the
 * output in the page, `window.measure(url)` probes. Bundlers build it as a user's code.
 */
export const SHRINK_APP_JS = `import { optimize, probe } from 'mediaslim';
window.shrink = async (url, options) => {
  const input = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const r = await optimize(input, options);
  const bitmap = await createImageBitmap(new Blob([r.bytes], { type: 'image/' + r.format }));
  const decoded = [bitmap.width, bitmap.height];
  bitmap.close();
  return { format: r.format, width: r.width, height: r.height, decoded };
};
window.measure = async (url) => {
  const p = await probe(new Uint8Array(await (await fetch(url)).arrayBuffer()));
  return { format: p.format, width: p.width, height: p.height };
};
document.body.dataset.ready = 'true';
`;

/**
 * In-page script defining `window.play(bytes, type)`: plays an MP4 in a <video> element to its
 * end and resolves with its metadata and the frames presented (at `rate` x speed).
 */
export function playVideoScript({ rate = 1 } = {}) {
  return `window.play = (bytes, type) => new Promise((resolve, reject) => {
    const video = document.createElement('video');
    video.muted = true;
    video.playsInline = true;
    const url = URL.createObjectURL(new Blob([bytes], { type: type.split(';')[0] }));
    let presented = 0;
    const count = (now, meta) => { presented = meta.presentedFrames; video.requestVideoFrameCallback(count); };
    video.requestVideoFrameCallback(count);
    video.onerror = () => reject(new Error('video error ' + (video.error && video.error.message)));
    video.onended = () => {
      URL.revokeObjectURL(url);
      resolve({ duration: video.duration, width: video.videoWidth, height: video.videoHeight, presented, canPlay: video.canPlayType(type) });
    };
    video.playbackRate = ${rate};
    video.src = url;
    video.play().catch(reject);
  });`;
}
