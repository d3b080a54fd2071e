// The installed tarball in the other server-side runtimes, Deno and Bun (both from npm, as
// devDependencies: `npx deno`, `npx bun`): optimize to every format, probe, a pool of 2; and
// video without WebCodecs (neither has it): the calls that need it reject with
// UNSUPPORTED_CODEC, GIF to AV1 (rav1e) and remux work, their output checked by ffprobe.
// A runtime that is not installed is skipped with the reason printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hasFfprobe, probeVideo } from '../ffprobe.mjs';
import { makeApp, packTarball, repoRoot, SMOKE_BODY, SMOKE_EXPECTED, topBoxes, VIDEO_SMOKE_BODY, VIDEO_SMOKE_EXPECTED } from './helpers.mjs';

const SMOKE = `import * as m from 'mediaslim';\n${SMOKE_BODY}`;
const VIDEO_SMOKE = `import * as m from 'mediaslim';\n${VIDEO_SMOKE_BODY}`;
const EXPECTED = SMOKE_EXPECTED;
const HANG_MS = 20_000;

const RUNTIMES = {
  // Deno reads the app's package.json and node_modules; it needs read (files, wasm), env and
  // sys (availableParallelism) permissions, nothing else: no network, no write.
  deno: { bin: join(repoRoot, 'node_modules', '.bin', 'deno'), args: (script) => ['run', '--allow-read', '--allow-env', '--allow-sys', script] },
  bun: { bin: join(repoRoot, 'node_modules', '.bin', 'bun'), args: (script) => [script] },
};

let app;
before(async () => {
  app = await makeApp('runtimes', (await packTarball()).file, { 'smoke.mjs': SMOKE, 'video.mjs': VIDEO_SMOKE });
});
const videoDir = mkdtempSync(join(tmpdir(), 'mediaslim-runtimes-video-'));
after(async () => {
  if (app) await rm(app, { recursive: true, force: true });
  rmSync(videoDir, { recursive: true, force: true });
});

function runIn(bin, args) {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd: app, timeout: HANG_MS, killSignal: 'SIGKILL', env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' } },
      (err, stdout, stderr) => resolve({ err, stdout, stderr }));
  });
}

for (const [name, { bin, args }] of Object.entries(RUNTIMES)) {
  describe(name, { timeout: HANG_MS + 30_000 }, () => {
    test(`${name}: optimize (jpeg, png, webp, avif), probe, a pool of 2, from the installed tarball`, async (t) => {
      if (!existsSync(bin)) return t.skip(`${bin} is not installed (npm devDependency "${name}")`);
      const { stdout: version } = await new Promise((resolve, reject) => execFile(bin, ['--version'], (e, stdout) => (e ? reject(e) : resolve({ stdout }))));
      const { err, stdout, stderr } = await runIn(bin, args('smoke.mjs'));
      if (err?.killed) {
        throw new Error(`${name} ${version.trim().split('\n')[0]}: no answer in ${HANG_MS} ms (hung). stdout: ${stdout} stderr: ${stderr}`);
      }
      assert.equal(err, null, `${name} failed: ${stderr}`);
      const lastLine = stdout.trim().split('\n').pop();
      assert.deepEqual(JSON.parse(lastLine), EXPECTED);
      console.log(`# ${name} ${version.trim().split('\n')[0]}: pass`);
    });

    test(`${name}: video without WebCodecs: UNSUPPORTED_CODEC where a codec is needed; GIF to AV1 (rav1e) and remux work`, async (t) => {
      if (!existsSync(bin)) return t.skip(`${bin} is not installed (npm devDependency "${name}")`);
      const { err, stdout, stderr } = await runIn(bin, args('video.mjs'));
      if (err?.killed) throw new Error(`${name}: no answer in ${HANG_MS} ms (hung). stdout: ${stdout} stderr: ${stderr}`);
      assert.equal(err, null, `${name} failed: ${stderr}`);
      const { out, autoB64, remuxB64 } = JSON.parse(stdout.trim().split('\n').pop());
      assert.deepEqual(out, VIDEO_SMOKE_EXPECTED);
      const remuxed = Buffer.from(remuxB64, 'base64');
      const boxes = topBoxes(remuxed);
      assert.ok(boxes.includes('mdat') && boxes.indexOf('moov') < boxes.indexOf('mdat'), `moov before mdat: ${boxes}`);
      if (!hasFfprobe) return console.log('# SKIPPED ffprobe checks: ffprobe not found (Debian ffmpeg)');
      const gif = probeVideo(Buffer.from(autoB64, 'base64'), videoDir, `${name}-gif.mp4`);
      assert.deepEqual([gif.codec, gif.width, gif.height, gif.frames], ['av1', 100, 100, 5]);
      const clip = probeVideo(remuxed, videoDir, `${name}-remux.mp4`);
      assert.deepEqual([clip.codec, clip.width, clip.height, clip.frames], ['h264', 320, 240, 60]);
    });
  });
}
