// The Vite dev server with mediaslim/vite: nothing is encoded up front, a directive import
// answers with middleware URLs at once, a variant is encoded on its first request and the
// second request is served from the cache.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createServer } from 'vite';
import mediaslim from 'mediaslim/vite';
import { makeSite, parseSrcset } from '../plugin/helpers.mjs';

describe('vite dev server with mediaslim/vite', { timeout: 120_000 }, () => {
  let dir;
  let server;
  let origin;
  let stats;

  before(async () => {
    dir = await makeSite();
    server = await createServer({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      server: { port: 0, host: '127.0.0.1', ws: false },
      plugins: [mediaslim({ progress: false })],
    });
    await server.listen();
    origin = `http://127.0.0.1:${server.httpServer.address().port}`;
    stats = server.config.plugins.find((p) => p.name === 'mediaslim').api.stats;
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (path) => {
    const res = await fetch(origin + path);
    return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
  };

  /** The directive import URLs the dev server rewrote main.js to. */
  async function importsOfMain() {
    const { res, bytes } = await get('/main.js');
    assert.equal(res.status, 200);
    return [...new TextDecoder().decode(bytes).matchAll(/from "([^"]+\?[^"]+)"/g)].map((m) => m[1]);
  }

  /** Fetches a directive module and evaluates its default export. */
  async function moduleValue(path) {
    const { res, bytes } = await get(path);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /javascript/);
    const code = new TextDecoder().decode(bytes);
    return (await import(`data:text/javascript,${encodeURIComponent(code)}`)).default;
  }

  test('pages load at once: modules answer with URLs, nothing is encoded yet', async () => {
    const imports = await importsOfMain();
    assert.equal(imports.length, 5);
    const t = performance.now();
    const values = await Promise.all(imports.map(moduleValue));
    const ms = performance.now() - t;
    const hero = values[0];
    const webp = parseSrcset(hero.sources[0].srcset);
    assert.deepEqual(webp.map((s) => s.width), [200, 400, 640]);
    for (const s of webp) assert.match(s.url, /^\/@mediaslim\/[0-9a-f]{20}\/hero-\d+w\.webp$/);
    assert.deepEqual([hero.img.width, hero.img.height], [640, 427]);
    assert.ok(hero.placeholder.dataUrl.startsWith('data:image/png;base64,'));
    assert.match(values[1], /^\/@mediaslim\/.*\/hero-120w\.avif$/);
    assert.deepEqual([values[4].width, values[4].height, values[4].format], [100, 75, 'png']);
    assert.equal(stats().encodes, 0, 'no variant encoded by loading the page');
    assert.ok(ms < 10_000, `modules took ${ms} ms`);
  });

  test('a variant is encoded on its first request, then served from the cache', async () => {
    const [heroPath] = await importsOfMain();
    const hero = await moduleValue(heroPath);
    const url = parseSrcset(hero.sources[0].srcset)[1].url; // 400w WebP
    const before = stats();
    const first = await get(url);
    assert.equal(first.res.status, 200);
    assert.equal(first.res.headers.get('content-type'), 'image/webp');
    assert.equal(first.res.headers.get('x-mediaslim-cache'), 'miss');
    const m = await sharp(first.bytes).metadata();
    assert.deepEqual([m.format, m.width, m.height], ['webp', 400, 267]);
    const mid = stats();
    assert.equal(mid.encodes, before.encodes + 1, 'one encode for the first request');

    const second = await get(url);
    assert.equal(second.res.status, 200);
    assert.equal(second.res.headers.get('x-mediaslim-cache'), 'hit');
    assert.ok(Buffer.from(second.bytes).equals(Buffer.from(first.bytes)));
    const end = stats();
    assert.equal(end.encodes, mid.encodes, 'no encode for the second request');
    assert.equal(end.cacheHits, mid.cacheHits + 1, 'the second request is a cache hit');
    assert.equal(end.dev.cached, mid.dev.cached + 1);
  });

  test('the AVIF variant and the PNG one decode at their declared sizes', async () => {
    const imports = await importsOfMain();
    const thumb = await moduleValue(imports[1]);
    const flower = await moduleValue(imports[4]);
    for (const [url, format, w, h] of [[thumb, 'heif', 120, 80], [flower.src, 'png', 100, 75]]) {
      const { res, bytes } = await get(url);
      assert.equal(res.status, 200);
      const m = await sharp(bytes).metadata();
      assert.deepEqual([m.format, m.width, m.height], [format, w, h]);
    }
  });

  test('an unknown variant id is a 404, a changed source is served afresh', async () => {
    const { res } = await get('/@mediaslim/00000000000000000000/x.webp');
    assert.equal(res.status, 404);
    const [heroPath] = await importsOfMain();
    const url = parseSrcset((await moduleValue(heroPath)).sources[0].srcset)[0].url;
    // The file changes under the running server (same URL until the page reloads).
    await writeFile(join(dir, 'img', 'hero.jpg'), await sharp({ create: { width: 300, height: 100, channels: 3, background: '#00ff00' } }).jpeg().toBuffer());
    const { bytes } = await get(url);
    const m = await sharp(bytes).metadata();
    assert.equal(m.width, 200);
    assert.equal(m.height, 67, 'encoded from the new 300 x 100 file');
  });
});
