// The installed tarball in the other server-side runtimes, Deno and Bun (both from npm, as
// devDependencies: `npx deno`, `npx bun`): optimize to every format, probe, a pool of 2.
// A runtime that is not installed is skipped with the reason printed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeApp, packTarball, repoRoot, SMOKE_BODY, SMOKE_EXPECTED } from './helpers.mjs';

const SMOKE = `import * as m from 'mediaslim';\n${SMOKE_BODY}`;
const EXPECTED = SMOKE_EXPECTED;
const HANG_MS = 20_000;

const RUNTIMES = {
  // Deno reads the app's package.json and node_modules; it needs read (files, wasm), env and
  // sys (availableParallelism) permissions, nothing else: no network, no write.
  deno: { bin: join(repoRoot, 'node_modules', '.bin', 'deno'), args: ['run', '--allow-read', '--allow-env', '--allow-sys', 'smoke.mjs'] },
  bun: { bin: join(repoRoot, 'node_modules', '.bin', 'bun'), args: ['smoke.mjs'] },
};

let app;
before(async () => {
  app = await makeApp('runtimes', (await packTarball()).file, { 'smoke.mjs': SMOKE });
});
after(async () => {
  if (app) await rm(app, { recursive: true, force: true });
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
      const { err, stdout, stderr } = await runIn(bin, args);
      if (err?.killed) {
        throw new Error(`${name} ${version.trim().split('\n')[0]}: no answer in ${HANG_MS} ms (hung). stdout: ${stdout} stderr: ${stderr}`);
      }
      assert.equal(err, null, `${name} failed: ${stderr}`);
      const lastLine = stdout.trim().split('\n').pop();
      assert.deepEqual(JSON.parse(lastLine), EXPECTED);
      console.log(`# ${name} ${version.trim().split('\n')[0]}: pass`);
    });
  });
}
