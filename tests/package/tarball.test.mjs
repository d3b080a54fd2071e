// The tarball users get from `npm pack`, checked as a file list, then installed with
// `npm install <tarball>` (offline, from the npm cache) into a fresh app and used from Node the
// three ways a user can: `import` (ESM), `require` (CommonJS) and the `mediaslim` bin.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { kib, makeApp, packTarball, repoRoot, run, SMOKE_BODY, SMOKE_EXPECTED } from './helpers.mjs';

const fixture = (name) => join(repoRoot, 'tests', 'fixtures', name);

let tarball;
let app;

before(async () => {
  tarball = await packTarball();
  app = await makeApp('node', tarball.file);
});

after(async () => {
  if (app) await rm(app, { recursive: true, force: true });
});

describe('npm pack', () => {
  test('ships the built package and nothing else', async () => {
    const paths = tarball.files.map((f) => f.path);
    console.log(`# tarball ${kib(tarball.size)} packed, ${kib(tarball.unpackedSize)} unpacked, ${paths.length} files`);
    for (const p of paths) {
      assert.ok(/^(pkg\/.*\.(js|d\.ts|wasm)|package\.json|README\.md|LICENSE[^/]*)$/.test(p), `unexpected file in the tarball: ${p}`);
    }
    for (const p of ['pkg/index.js', 'pkg/index.d.ts', 'pkg/worker.js', 'pkg/cli.js', 'pkg/wasm/mediaslim_probe_bg.wasm', 'pkg/wasm/mediaslim_core_bg.wasm', 'pkg/wasm/mediaslim_plus_bg.wasm', 'pkg/wasm/mediaslim_full_bg.wasm']) {
      // npm pack honours a .gitignore inside pkg/ even with "files": wasm-pack writes one (`*`)
      // into pkg/wasm/, which scripts/build.sh removes. If it is back, the wasm is missing here.
      assert.ok(paths.includes(p), `${p} is in the tarball${existsSync(join(repoRoot, 'pkg', 'wasm', '.gitignore')) ? ' (pkg/wasm/.gitignore excludes it)' : ''}`);
    }
    assert.ok(!paths.some((p) => /^(src|tests|js|bench|www|scripts|fuzz|target)\//.test(p)), 'no sources, tests or build dirs');
    // Every export and the bin point at a file that is in the tarball, with its types.
    const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'string') continue;
      for (const file of Object.values(target)) assert.ok(paths.includes(file.replace(/^\.\//, '')), `exports[${entry}] -> ${file}`);
      assert.ok(target.types, `exports[${entry}] has types`);
    }
    assert.ok(paths.includes(manifest.bin.mediaslim.replace(/^\.\//, '')));
    // Four wasm builds of the core (probe, core, plus, full: a page fetches only those its jobs
    // need) are ~95% of it; 2.5 MiB before the `plus` module (PNG output and scoring without
    // the AVIF encoder) was split out of `full`.
    assert.ok(tarball.size < 3.5 * 1024 * 1024, `packed size ${kib(tarball.size)} < 3.5 MiB`);
  });

  test('the installed copy resolves its runtime dependencies from its own node_modules', async () => {
    const installed = JSON.parse(await readFile(join(app, 'node_modules', 'mediaslim', 'package.json'), 'utf8'));
    for (const dep of Object.keys(installed.dependencies)) {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `console.log(import.meta.resolve(${JSON.stringify(dep)}))`], { cwd: app });
      assert.ok(stdout.trim().startsWith(`file://${app}/node_modules/`), `${dep} -> ${stdout.trim()}`);
    }
  });
});

describe('Node, from the installed tarball', { timeout: 120_000 }, () => {
  const SMOKE = SMOKE_BODY;
  const EXPECTED = SMOKE_EXPECTED;

  test('ESM: import from "mediaslim": optimize every format, probe, a pool of 2', async () => {
    // A file, not \`node --input-type=module -e\`: workers inherit execArgv, and Node refuses
    // --input-type in a worker (the pool's workers then die: a known limitation).
    await writeFile(join(app, 'smoke.mjs'), `import * as m from 'mediaslim';\n${SMOKE}`);
    const { stdout } = await run(process.execPath, ['smoke.mjs'], { cwd: app });
    assert.deepEqual(JSON.parse(stdout), EXPECTED);
  });

  test('CommonJS: require("mediaslim") works (Node >= 20.19 / 22.12 load ESM through require)', async (t) => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    const hasRequireEsm = major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19);
    await writeFile(join(app, 'smoke.cjs'), `const m = require('mediaslim');\n(async () => {${SMOKE}})().catch((e) => { console.error(e); process.exit(1); });`);
    if (!hasRequireEsm) {
      // Older Node cannot require an ES module at all: the documented answer is `await import()`.
      await assert.rejects(run(process.execPath, ['smoke.cjs'], { cwd: app }), /ERR_REQUIRE_ESM/);
      t.skip(`Node ${process.versions.node} has no require(esm): use await import('mediaslim')`);
      return;
    }
    const { stdout, stderr } = await run(process.execPath, ['smoke.cjs'], { cwd: app });
    assert.deepEqual(JSON.parse(stdout), EXPECTED);
    assert.doesNotMatch(stderr, /Error/, stderr);
    // The build plugins load through require too (a CommonJS vite/webpack config).
    const { stdout: kinds } = await run(process.execPath, ['-e',
      `console.log(JSON.stringify(['vite','rollup','webpack','esbuild'].map((k) => typeof require('mediaslim/' + k).default)))`], { cwd: app });
    assert.deepEqual(JSON.parse(kinds), ['function', 'function', 'function', 'function']);
  });

  test('the mediaslim bin runs from node_modules/.bin', async () => {
    const { stdout } = await run(join(app, 'node_modules', '.bin', 'mediaslim'), ['--help'], { cwd: app });
    assert.match(stdout, /Usage: mediaslim/);
  });
});

describe('TypeScript, against the installed .d.ts', { timeout: 60_000 }, () => {
  const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');

  test('a browser app type-checks with strict, skipLibCheck off and no Node types', async () => {
    await writeFile(join(app, 'browser.ts'), `import { optimize, probe, Pool, MediaslimError, lazyOptimize, type OptimizeOptions } from 'mediaslim';
const opts: OptimizeOptions = { format: 'webp', width: 100 };
const r = await optimize(new Uint8Array(4), opts);
const width: number = r.width;
const info = await probe(new Blob([]));
const format: string = info.format;
new Pool({ size: 2 }).terminate();
// @ts-expect-error: gif is not an output format
await optimize(new Uint8Array(4), { format: 'gif' });
void [MediaslimError, lazyOptimize, width, format];
`);
    await writeFile(join(app, 'tsconfig.browser.json'), JSON.stringify({
      compilerOptions: { module: 'esnext', moduleResolution: 'bundler', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: [], lib: ['es2022', 'dom'] },
      files: ['browser.ts'],
    }));
    await run(tsc, ['-p', 'tsconfig.browser.json'], { cwd: app }).catch((e) => assert.fail(e.stdout || e.message));
  });

  test('a build config importing every plugin entry type-checks (nodenext, with @types/node)', async () => {
    await writeFile(join(app, 'plugins.ts'), `import vite from 'mediaslim/vite';
import webpack from 'mediaslim/webpack';
import rollup from 'mediaslim/rollup';
import esbuild from 'mediaslim/esbuild';
void [vite({ quality: 80 }), webpack(), rollup(), esbuild()];
`);
    await writeFile(join(app, 'tsconfig.plugins.json'), JSON.stringify({
      // skipLibCheck as in every bundler's starter template: unplugin's own .d.ts name the
      // optional peers (rspack, farm, ...) a user does not install.
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, typeRoots: [join(repoRoot, 'node_modules', '@types')], types: ['node'] },
      files: ['plugins.ts'],
    }));
    await run(tsc, ['-p', 'tsconfig.plugins.json'], { cwd: app }).catch((e) => assert.fail(e.stdout || e.message));
  });
});
