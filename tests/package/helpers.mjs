// Shared by the package suites: the tarball users get (`npm pack`), fixture apps that install it
// the way users do (`npm install <tarball>`, offline from the npm cache), and timing/size helpers.
// Not a test file itself.
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../browser/helpers.mjs';

export { repoRoot };
export const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * Packs the repo with `npm pack` (pkg/ must be built) into a fresh temp dir. With
 * $MEDIASLIM_PACK_DIR set (scripts/test.sh does), packs there once and every suite reuses it.
 * Returns { file, size, unpackedSize, files: [{ path, size }] }.
 */
export async function packTarball() {
  const shared = process.env.MEDIASLIM_PACK_DIR;
  if (shared && existsSync(join(shared, 'pack.json'))) return JSON.parse(await readFile(join(shared, 'pack.json'), 'utf8'));
  const dest = shared || (await mkdtemp(join(tmpdir(), 'mediaslim-pack-')));
  if (!shared) process.once('exit', () => rmSync(dest, { recursive: true, force: true }));
  await mkdir(dest, { recursive: true });
  const { stdout } = await run(NPM, ['pack', '--json', '--pack-destination', dest], { cwd: repoRoot, maxBuffer: 16 << 20 });
  const [info] = JSON.parse(stdout);
  const packed = { file: join(dest, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.files.map(({ path, size }) => ({ path, size })) };
  if (shared) await writeFile(join(shared, 'pack.json'), JSON.stringify(packed));
  return packed;
}

/**
 * A fresh app dir with its own package.json and `files` ({ relPath: text }), and the tarball
 * installed into node_modules by npm itself (offline: its dependencies come from the npm cache
 * that `npm ci` filled). Returns the app dir.
 */
export async function makeApp(name, tarball, files = {}, { type = 'module' } = {}) {
  const app = await mkdtemp(join(tmpdir(), `mediaslim-${name}-`));
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: `fixture-${name}`, private: true, type }, null, 2));
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(app, rel, '..'), { recursive: true });
    await writeFile(join(app, rel), text);
  }
  await run(NPM, ['install', tarball, '--offline', '--no-audit', '--no-fund', '--no-save', '--loglevel=error'], { cwd: app, maxBuffer: 16 << 20 });
  return app;
}

export const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

/**
 * Serves `root` on 127.0.0.1 (random port) with extra response `headers` (a CSP, say) on every
 * response. Records requests as { path, status, type }.
 */
export async function serveDir(root, { headers = {} } = {}) {
  const { createServer } = await import('node:http');
  const { createReadStream } = await import('node:fs');
  const { stat } = await import('node:fs/promises');
  const { extname, normalize, sep } = await import('node:path');
  const { MIME } = await import('../browser/helpers.mjs');
  const requests = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = normalize(join(root, path));
    const deny = (status, text) => {
      requests.push({ path, status });
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(text);
    };
    if (file !== normalize(root) && !file.startsWith(normalize(root + sep))) return deny(403, 'forbidden');
    try {
      let info = await stat(file);
      if (info.isDirectory()) info = await stat((file = join(file, 'index.html')));
      const type = MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
      requests.push({ path, status: 200, type });
      res.writeHead(200, { 'content-type': type, 'content-length': info.size, 'cache-control': 'no-store', ...headers });
      createReadStream(file).pipe(res);
    } catch {
      deny(404, `not found: ${path}`);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/** Every file under `dir`, as paths relative to it. */
export async function listFiles(dir) {
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1)).sort();
}

/**
 * The body of the runtime smoke test (`m` is the imported package): optimize to every format,
 * probe, a pool of 2; prints one JSON line that must equal SMOKE_EXPECTED.
 */
export const SMOKE_BODY = `
const fs = await import('node:fs');
const bytes = fs.readFileSync(${JSON.stringify(join(repoRoot, 'tests', 'fixtures', 'skimage-rocket.jpg'))});
const out = {};
for (const format of ['jpeg', 'png', 'webp', 'avif']) {
  const r = await m.optimize(bytes, { format, width: 200 });
  out[format] = [r.format, r.width, r.height, r.bytes.length > 0];
}
out.probe = await m.probe(bytes).then((p) => [p.format, p.width, p.height]);
const pool = new m.Pool({ size: 2 });
const many = await Promise.all([120, 140, 160, 180].map((width) => m.optimize(bytes, { format: 'webp', width, pool })));
out.pool = [pool.size, many.map((r) => r.width), pool.stats().done];
pool.terminate();
console.log(JSON.stringify(out));
`;
export const SMOKE_EXPECTED = {
  jpeg: ['jpeg', 200, 133, true],
  png: ['png', 200, 133, true],
  webp: ['webp', 200, 133, true],
  avif: ['avif', 200, 133, true],
  probe: ['jpeg', 640, 427],
  pool: [2, [120, 140, 160, 180], 4],
};

/** Top-level MP4 box types in file order. */
export function topBoxes(bytes) {
  const types = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    const size = bytes.readUInt32BE(at);
    types.push(bytes.toString('latin1', at + 4, at + 8));
    if (size < 8) break;
    at += size;
  }
  return types;
}

/**
 * The body of the runtime video smoke (`m` is the imported package), for runtimes without
 * WebCodecs: transcode, posterFrame and gifToVideo H.264 must reject with UNSUPPORTED_CODEC
 * naming WebCodecs; gifToVideo 'auto' encodes AV1 with rav1e; remux works. Prints one JSON
 * line (the videos as base64, for ffprobe).
 */
export const VIDEO_SMOKE_BODY = `
const fs = await import('node:fs');
const clip = fs.readFileSync(${JSON.stringify(join(repoRoot, 'tests', 'fixtures', 'clip-h264-aac.mp4'))});
const gif = fs.readFileSync(${JSON.stringify(join(repoRoot, 'tests', 'fixtures', 'dispose_bgnd.gif'))});
const pool = new m.Pool({ size: 1 });
const rejection = (p) => p.then(() => 'resolved', (e) => [e.code, /WebCodecs/.test(e.message) ? 'names WebCodecs' : e.message]);
const { Buffer } = await import('node:buffer');
const b64 = (u8) => Buffer.from(u8).toString('base64');
const out = {
  transcode: await rejection(m.transcode(clip, { pool, maxHeight: 120 })),
  posterFrame: await rejection(m.posterFrame(clip, { pool })),
  gifToVideoH264: await rejection(m.gifToVideo(gif, { pool, codec: 'h264' })),
};
const auto = await m.gifToVideo(gif, { pool });
out.gifToVideoAuto = [auto.encoder, auto.codec.slice(0, 5), auto.width, auto.height, auto.frames];
const remuxed = await m.remux(clip, { fastStart: true }, { pool });
pool.terminate();
console.log(JSON.stringify({ out, autoB64: b64(auto.video), remuxB64: b64(remuxed.bytes) }));
`;
export const VIDEO_SMOKE_EXPECTED = {
  transcode: ['UNSUPPORTED_CODEC', 'names WebCodecs'],
  posterFrame: ['UNSUPPORTED_CODEC', 'names WebCodecs'],
  gifToVideoH264: ['UNSUPPORTED_CODEC', 'names WebCodecs'],
  gifToVideoAuto: ['rav1e', 'av01.', 100, 100, 5],
};
