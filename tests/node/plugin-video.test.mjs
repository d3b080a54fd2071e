// `import clip from './anim.gif?as=video'` in a real `vite build`: the module gets the MP4's
// URL, its type, a WebP poster at the video's size, duration and placeholder; the emitted MP4
// is read by ffprobe (AV1, size, frames, duration); a second build reads it from the cache;
// directives that make no sense for a video fail the build naming the file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { build, createLogger, createServer } from 'vite';
import mediaslim from 'mediaslim/vite';
import { parseDirectives } from '../../pkg/plugin/directives.js';
import { hasFfprobe } from '../ffprobe.mjs';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const temps = [];
after(() => Promise.all(temps.map((d) => rm(d, { recursive: true, force: true }))));

async function site(mainJs) {
  const dir = await mkdtemp(join(tmpdir(), 'mediaslim-plugin-video-'));
  temps.push(dir);
  await copyFile(new URL('dispose_bgnd.gif', FIXTURES), join(dir, 'anim.gif'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>\n');
  await writeFile(join(dir, 'main.js'), mainJs);
  return dir;
}

/** Warnings of the last `viteBuild`. */
let warnings = [];

async function viteBuild(root) {
  let report;
  warnings = [];
  const customLogger = createLogger('silent');
  customLogger.warn = (message) => warnings.push(message);
  await build({
    root,
    configFile: false,
    logLevel: 'silent',
    customLogger,
    build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false } },
    plugins: [mediaslim({ report: false, progress: false, onReport: (r) => (report = r) })],
  });
  return report;
}

describe('build plugin: as=video', () => {
  test('an animated GIF import becomes an MP4, a poster and a placeholder', async () => {
    const root = await site("import clip from './anim.gif?w=64&quality=70&as=video';\nwindow.clip = clip;\n");
    const report = await viteBuild(root);
    const assets = await readdir(join(root, 'dist', 'assets'));
    const mp4 = assets.find((f) => f.endsWith('.mp4'));
    const webp = assets.find((f) => f.endsWith('.webp'));
    assert.ok(mp4 && webp, `emitted: ${assets}`);
    const js = (await Promise.all(assets.filter((f) => f.endsWith('.js')).map((f) => readFile(join(root, 'dist', 'assets', f), 'utf8')))).join('\n');
    assert.ok(js.includes(`/assets/${mp4}`) && js.includes(`/assets/${webp}`), 'the module points at both files');
    assert.match(js, /video\/mp4; codecs=\\?"av01\.0\.\d\dM\.08\\?"/);
    assert.match(js, /duration:5\b/);
    assert.match(js, /data:image\/png;base64,/, 'ThumbHash placeholder');
    const poster = await sharp(join(root, 'dist', 'assets', webp)).metadata();
    assert.deepEqual([poster.format, poster.width, poster.height], ['webp', 64, 64], 'poster at the video size');
    // This 1.4 KB flat GIF makes a bigger MP4: the build says so, naming the file.
    const mp4Bytes = (await readFile(join(root, 'dist', 'assets', mp4))).length;
    assert.ok(mp4Bytes > 1450, `${mp4Bytes} B`);
    assert.ok(warnings.some((w) => /anim\.gif: the MP4 \(\d+ B\) is not smaller than the GIF \(1450 B\)/.test(w)), warnings.join('\n'));
    const mp4Entry = report.files.find((f) => f.format === 'mp4');
    assert.ok(mp4Entry && !mp4Entry.cached && mp4Entry.output === `assets/${mp4}`, JSON.stringify(report.files));
    if (!hasFfprobe) {
      console.log('SKIPPED ffprobe checks: ffprobe not found (install Debian ffmpeg; scripts/setup.sh does)');
    } else {
      const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames:format=duration', '-of', 'csv=p=0', join(root, 'dist', 'assets', mp4)], { encoding: 'utf8' });
      assert.deepEqual(out.trim().split('\n'), ['av1,64,64,5', '5.000000']);
    }
    const again = await viteBuild(root);
    assert.equal(again.encodes, 0, 'the second build reads the video from the cache');
    assert.ok(again.files.find((f) => f.format === 'mp4').cached);
  });

  test('container=webm: the GIF becomes an AV1 WebM', async () => {
    const root = await site("import clip from './anim.gif?w=64&container=webm&as=video';\nwindow.clip = clip;\n");
    const report = await viteBuild(root);
    const assets = await readdir(join(root, 'dist', 'assets'));
    const webm = assets.find((f) => f.endsWith('.webm'));
    assert.ok(webm && !assets.some((f) => f.endsWith('.mp4')), `emitted: ${assets}`);
    const js = (await Promise.all(assets.filter((f) => f.endsWith('.js')).map((f) => readFile(join(root, 'dist', 'assets', f), 'utf8')))).join('\n');
    assert.ok(js.includes(`/assets/${webm}`));
    assert.match(js, /video\/webm; codecs=\\?"av01\.0\.\d\dM\.08\\?"/);
    assert.ok(report.files.some((f) => f.format === 'webm' && f.output === `assets/${webm}`), JSON.stringify(report.files));
    if (hasFfprobe) {
      const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames:format=format_name,duration', '-of', 'csv=p=0', join(root, 'dist', 'assets', webm)], { encoding: 'utf8' });
      assert.deepEqual(out.trim().split('\n'), ['av1,64,64,5', '"matroska,webm",5.000000']);
    }
  });

  test('the dev server answers the import with URLs it serves from memory', async () => {
    const root = await site("import clip from './anim.gif?as=video';\nwindow.clip = clip;\n");
    const server = await createServer({ root, configFile: false, logLevel: 'silent', server: { port: 0, host: '127.0.0.1', ws: false }, plugins: [mediaslim({ progress: false })] });
    try {
      await server.listen();
      const origin = `http://127.0.0.1:${server.httpServer.address().port}`;
      // `?import`: what Vite rewrites the import in main.js to (the bare URL serves the GIF).
      const code = await (await fetch(`${origin}/anim.gif?import&as=video`)).text();
      const clip = (await import(`data:text/javascript,${encodeURIComponent(code)}`)).default;
      assert.match(clip.src, /^\/@mediaslim\/[0-9a-f]{20}\/anim\.mp4$/);
      assert.match(clip.poster, /^\/@mediaslim\/[0-9a-f]{20}\/anim-poster\.webp$/);
      assert.deepEqual([clip.width, clip.height, clip.frames, clip.duration], [100, 100, 5, 5]);
      const video = await fetch(origin + clip.src);
      assert.equal(video.headers.get('content-type'), 'video/mp4');
      const bytes = new Uint8Array(await video.arrayBuffer());
      assert.equal(String.fromCharCode(...bytes.subarray(4, 8)), 'ftyp');
      const poster = await fetch(origin + clip.poster);
      assert.equal((await sharp(Buffer.from(await poster.arrayBuffer())).metadata()).format, 'webp');
    } finally {
      await server.close();
    }
  });

  test('directives a video cannot take fail naming the file and the directive', () => {
    assert.throws(() => parseDirectives('src/hero.jpg', 'as=video'), /src\/hero\.jpg: invalid directive `as=video`: only animated GIFs become videos/);
    assert.throws(() => parseDirectives('src/a.gif', 'format=webp&as=video'), /`format=webp`: `as=video` takes only/);
    assert.throws(() => parseDirectives('src/a.gif', 'w=100;200&as=video'), /give one width/);
    assert.throws(() => parseDirectives('src/a.gif', 'quality=auto&as=video'), /takes a number/);
    assert.throws(() => parseDirectives('src/a.gif', 'container=mkv&as=video'), /`container=mkv`: `mkv` is not a video container/);
    assert.throws(() => parseDirectives('src/a.jpg', 'container=webm&as=picture'), /only `as=video` has a container/);
    assert.equal(parseDirectives('src/a.gif', 'container=webm&as=video').container, 'webm');
    const d = parseDirectives('src/a.gif', 'w=320&h=200&quality=60&as=video');
    assert.deepEqual([d.as, d.widths, d.height, d.quality, d.placeholder], ['video', [320], 200, 60, 'thumbhash']);
  });
});
