// Path safety (issue #8): whatever a hostile or odd name says (a glob climbing with `..`, a
// symlinked folder leading elsewhere, `../` in a directive, a cache key, a shared cacheDir),
// mediaslim writes only inside the folder meant for it. Each test runs in a sandbox folder
// and compares a snapshot of everything outside the intended output folder before and after:
// a write that escaped changes the snapshot and fails the test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import sharp from 'sharp';
import mediaslimEsbuild from 'mediaslim/esbuild';
import { DirectiveError, parseDirectives } from '../../pkg/plugin/directives.js';
import { inside } from '../../pkg/plugin/assets.js';
import { DiskCache } from '../../pkg/plugin/cache.js';
import { DevServer } from '../../pkg/plugin/dev.js';
import { FIXTURES } from './_helpers.mjs';

const CLI = fileURLToPath(new URL('../../pkg/cli.js', import.meta.url));
const fixturePath = (name) => fileURLToPath(new URL(name, FIXTURES));

const sandboxes = [];
after(() => {
  for (const d of sandboxes) rmSync(d, { recursive: true, force: true });
});
function sandbox() {
  const dir = mkdtempSync(path.join(tmpdir(), 'mediaslim-paths-'));
  sandboxes.push(dir);
  return dir;
}

function put(from, to) {
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(from, to);
}

/** path -> sha256 (or `-> target` for a symlink) of everything under `dir`, symlinks not followed, minus `except` folders. */
function snapshot(dir, except = []) {
  const out = {};
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (except.includes(p)) continue;
      if (e.isSymbolicLink()) out[path.relative(dir, p)] = `-> ${readlinkSync(p)}`;
      else if (e.isDirectory()) {
        out[`${path.relative(dir, p)}/`] = 'dir';
        walk(p);
      } else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Every file under `dir` (relative), following no symlinks. */
function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

function cli(args, cwd) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--json'], { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, report: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

async function decodes(file) {
  const m = await sharp(file).metadata();
  assert.ok(m.width > 0 && m.height > 0, `${file} decodes`);
}

// ---- CLI ----------------------------------------------------------------------------------------

describe('CLI: outputs stay inside --out', { timeout: 120_000 }, () => {
  test('a glob that climbs past its base with `..` keeps its outputs under --out', async () => {
    const box = sandbox();
    put(fixturePath('hopper.png'), path.join(box, 'secret', 'b.png'));
    put(fixturePath('hopper.jpg'), path.join(box, 'work', 'photos', 'a.jpg'));
    const work = path.join(box, 'work');
    const dist = path.join(work, 'dist');
    const before = snapshot(box);
    const { code, report } = cli(['*/../../secret/*.png', '--out', 'dist'], work);
    assert.equal(code, 0, JSON.stringify(report?.files));
    assert.deepEqual(snapshot(box, [dist]), before, 'nothing outside dist/ was written');
    assert.deepEqual(filesUnder(dist), [path.join('secret', 'b.png')], 'the layout is kept from the folder holding every match');
    await decodes(path.join(dist, 'secret', 'b.png'));
  });

  test('inputs named with `..` or absolute paths land at the top of --out', async () => {
    const box = sandbox();
    put(fixturePath('hopper.png'), path.join(box, 'elsewhere', 'b.png'));
    put(fixturePath('hopper.jpg'), path.join(box, 'elsewhere', 'deep', 'c.jpg'));
    mkdirSync(path.join(box, 'work'));
    const work = path.join(box, 'work');
    const dist = path.join(work, 'dist');
    const before = snapshot(box);
    const { code, report } = cli(['../elsewhere/b.png', path.join(box, 'elsewhere', 'deep', 'c.jpg'), '--out', 'dist'], work);
    assert.equal(code, 0, JSON.stringify(report?.files));
    assert.deepEqual(snapshot(box, [dist]), before);
    assert.deepEqual(filesUnder(dist), ['b.png', 'c.jpg']);
    // A folder named with `..` keeps its own layout under --out.
    const second = cli(['../elsewhere', '--out', 'dist2'], work);
    assert.equal(second.code, 0);
    assert.deepEqual(filesUnder(path.join(work, 'dist2')), ['b.png', path.join('deep', 'c.jpg')]);
    assert.deepEqual(snapshot(box, [dist, path.join(work, 'dist2')]), before);
  });

  test('a symlinked input folder leading outside is read, and its outputs stay under --out', async () => {
    const box = sandbox();
    put(fixturePath('hopper.png'), path.join(box, 'outside', 'c.png'));
    mkdirSync(path.join(box, 'work', 'photos'), { recursive: true });
    symlinkSync(path.join(box, 'outside'), path.join(box, 'work', 'photos', 'linked'));
    const dist = path.join(box, 'work', 'dist');
    const before = snapshot(box);
    const { code } = cli(['photos', '--out', 'dist'], path.join(box, 'work'));
    assert.equal(code, 0);
    assert.deepEqual(snapshot(box, [dist]), before);
    assert.deepEqual(filesUnder(dist), [path.join('linked', 'c.png')]);
  });

  test('--in-place never writes through a symlinked subfolder leading outside the input folder', () => {
    const box = sandbox();
    put(fixturePath('hopper.png'), path.join(box, 'outside', 'c.png'));
    put(fixturePath('hopper.jpg'), path.join(box, 'work', 'photos', 'a.jpg'));
    symlinkSync(path.join(box, 'outside'), path.join(box, 'work', 'photos', 'linked'));
    const outside = snapshot(path.join(box, 'outside'));
    const { code, report } = cli(['photos', '--in-place'], path.join(box, 'work'));
    assert.equal(code, 1, 'the linked file fails, the others are written');
    const linked = report.files.find((f) => f.input.includes('linked'));
    assert.equal(linked.error?.code, 'OUTPUT_CONFLICT');
    assert.match(linked.error.message, /outside the folder it was found in/);
    assert.equal(report.files.find((f) => f.input.endsWith('a.jpg')).error, null);
    assert.deepEqual(snapshot(path.join(box, 'outside')), outside, 'the file behind the symlink is untouched');
  });

  test('a symlinked subfolder inside --out that leads elsewhere is not written through', () => {
    const box = sandbox();
    put(fixturePath('hopper.png'), path.join(box, 'work', 'photos', 'linked', 'c.png'));
    mkdirSync(path.join(box, 'outside'));
    writeFileSync(path.join(box, 'outside', 'keep.txt'), 'mine');
    mkdirSync(path.join(box, 'work', 'dist'));
    symlinkSync(path.join(box, 'outside'), path.join(box, 'work', 'dist', 'linked'));
    const outside = snapshot(path.join(box, 'outside'));
    const { code, report } = cli(['photos', '--out', 'dist'], path.join(box, 'work'));
    assert.equal(code, 1);
    assert.equal(report.files[0].error?.code, 'OUTPUT_CONFLICT');
    assert.match(report.files[0].error.message, /outside the --out folder/);
    assert.deepEqual(snapshot(path.join(box, 'outside')), outside);
  });
});

// ---- build plugin -------------------------------------------------------------------------------

describe('build plugin: names from directives and sources', () => {
  test('directive values carrying a path are refused, naming the directive', () => {
    for (const [query, directive] of [
      ['as=../../evil', 'as'],
      ['format=..%2F..%2Fevil', 'format'],
      ['format=webp;../x', 'format'],
      ['w=../480', 'w'],
      ['h=..%2F1', 'h'],
      ['quality=/etc/passwd', 'quality'],
      ['as=picture&placeholder=../x', 'placeholder'],
      ['..%2F..%2Fevil=1', '../../evil'],
    ]) {
      assert.throws(
        () => parseDirectives('src/hero.jpg', query),
        (err) => err instanceof DirectiveError && err.directive === directive,
        query,
      );
    }
  });

  test('`inside` treats `..` as a segment: `..hero.jpg` is inside, `../hero.jpg` is not', () => {
    const root = path.resolve('/project');
    assert.equal(inside(root, path.join(root, '..hero.jpg')), '..hero.jpg');
    assert.equal(inside(root, path.join(root, 'img', '..', '..', 'hero.jpg')), undefined);
    assert.equal(inside(root, path.resolve('/project-other/hero.jpg')), undefined);
    assert.equal(inside(root, root), undefined);
  });

  test('the dev server answers only registered tokens, never a path', async () => {
    const dev = new DevServer({ variants: () => assert.fail('nothing may be encoded') }, '/');
    for (const url of ['/@mediaslim/../../etc/passwd', '/@mediaslim/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/@mediaslim/..']) {
      const res = { headers: {}, setHeader(k, v) { this.headers[k] = v; }, end(body) { this.body = body; } };
      dev.handle({ url, method: 'GET' }, res, () => assert.fail('prefix requests are ours'));
      assert.equal(res.statusCode, 404, url);
    }
  });
});

describe('build plugin with esbuild: writes stay in outdir and cacheDir', { timeout: 120_000 }, () => {
  /** A sandbox holding project/ (the root, with odd file names) and outside/ (a sentinel). */
  function project(files) {
    const box = sandbox();
    const root = path.join(box, 'project');
    put(fixturePath('hopper.jpg'), path.join(root, 'img', 'hero.jpg'));
    put(fixturePath('hopper.jpg'), path.join(root, 'img', '..hero..jpg'));
    put(fixturePath('hopper.png'), path.join(root, 'img', '..\\..\\evil.png'));
    put(fixturePath('hopper.jpg'), path.join(box, 'outside', 'secret.jpg'));
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root, name), text);
    return { box, root };
  }
  const build = (root, entry, plugin, extra = {}) =>
    esbuild.build({ absWorkingDir: root, entryPoints: [entry], bundle: true, format: 'esm', outdir: path.join(root, 'dist'), logLevel: 'silent', write: true, plugins: [plugin], ...extra });

  test('odd source names give variants inside outdir/assets; the cache stays in cacheDir', async () => {
    const { box, root } = project({
      'main.js': [
        `import a from './img/hero.jpg?w=64;128&format=webp&as=srcset';`,
        `import b from './img/..hero..jpg?w=64&format=webp';`,
        `import c from './img/..\\\\..\\\\evil.png?w=64&format=png';`,
        `export default [a, b, c];`,
      ].join('\n'),
    });
    const before = snapshot(box);
    const cacheDir = path.join(box, 'cache');
    await build(root, 'main.js', mediaslimEsbuild({ report: false, progress: false, cacheDir: '../cache' }));
    const dist = path.join(root, 'dist');
    assert.deepEqual(snapshot(box, [dist, cacheDir]), before, 'nothing written outside dist/ and the cache folder');
    const assets = filesUnder(path.join(dist, 'assets'));
    assert.equal(assets.length, 4, assets.join(', '));
    for (const name of assets) {
      assert.ok(!name.includes(path.sep), `${name} is directly in assets/`);
      await decodes(path.join(dist, 'assets', name));
    }
    assert.ok(filesUnder(cacheDir).length > 0, 'the cache is used');
    for (const name of filesUnder(cacheDir)) assert.match(name, /^[0-9a-f]{2}\/[0-9a-f]{64}$/);
  });

  test('an import outside the root fails the build and writes nothing', async () => {
    const { box, root } = project({ 'main.js': `import u from '../outside/secret.jpg?w=64&format=webp';\nexport default u;\n` });
    const before = snapshot(box);
    await assert.rejects(build(root, 'main.js', mediaslimEsbuild({ report: false, progress: false, cache: false })), /outside the project root/);
    const dist = path.join(root, 'dist');
    assert.deepEqual(snapshot(box, [dist]), before);
    assert.deepEqual(filesUnder(path.join(dist, 'assets')), []);
  });

  test('a hostile directive fails the build and writes nothing', async () => {
    const { box, root } = project({ 'main.js': `import u from './img/hero.jpg?w=64&format=..%2F..%2F..%2Fevil';\nexport default u;\n` });
    const before = snapshot(box);
    await assert.rejects(build(root, 'main.js', mediaslimEsbuild({ report: false, progress: false, cache: false })), /invalid directive `format=\.\.\/\.\.\/\.\.\/evil`/);
    assert.deepEqual(snapshot(box, [path.join(root, 'dist')]), before);
  });

  test('an outdir/assets symlinked elsewhere is refused, not written through', async () => {
    const { box, root } = project({ 'main.js': `import u from './img/hero.jpg?w=64&format=webp';\nexport default u;\n` });
    mkdirSync(path.join(root, 'dist'));
    symlinkSync(path.join(box, 'outside'), path.join(root, 'dist', 'assets'));
    const outside = snapshot(path.join(box, 'outside'));
    await assert.rejects(build(root, 'main.js', mediaslimEsbuild({ report: false, progress: false, cache: false })), /refusing to write/);
    assert.deepEqual(snapshot(path.join(box, 'outside')), outside);
  });

  test('the plugin option assetsDir cannot leave the output folder', () => {
    for (const assetsDir of ['../up', '/abs', 'img/../../up']) {
      assert.throws(() => mediaslimEsbuild({ assetsDir }), /invalid option `assetsDir`/, assetsDir);
    }
  });
});

describe('build plugin cache: only its own files, only inside cacheDir', () => {
  test('a key that is not a sha256 is refused: no path can be smuggled through it', async () => {
    const box = sandbox();
    const cache = new DiskCache(path.join(box, 'cache'), '1');
    await assert.rejects(cache.get('../../outside'), /invalid cache key/);
    await cache.set('../../outside', {}, new Uint8Array([1, 2, 3]));
    await cache.set(`ab/../../../${'a'.repeat(64)}`, {}, new Uint8Array([1]));
    assert.deepEqual(snapshot(box), {}, 'nothing written anywhere');
  });

  test('pruning a shared cacheDir deletes only cache entries, never other files', async () => {
    const box = sandbox();
    const dir = path.join(box, 'shared');
    const cache = new DiskCache(dir, '1', 0);
    const key = cache.key('variant', 'h', { width: 1 });
    await cache.set(key, {}, new Uint8Array(100));
    // Someone else's files in folders whose names look like cache shards.
    mkdirSync(path.join(dir, 'ab'), { recursive: true });
    mkdirSync(path.join(dir, 'de'), { recursive: true });
    writeFileSync(path.join(dir, 'ab', 'notes.txt'), 'keep me');
    writeFileSync(path.join(dir, 'de', 'backup.tmp'), 'keep me too');
    writeFileSync(path.join(dir, 'ab', 'f'.repeat(64)), 'an entry of another shard');
    const { removed } = await cache.prune();
    assert.equal(removed, 1, 'only the entry');
    assert.deepEqual(filesUnder(dir), [path.join('ab', 'f'.repeat(64)), path.join('ab', 'notes.txt'), path.join('de', 'backup.tmp')]);
  });
});
