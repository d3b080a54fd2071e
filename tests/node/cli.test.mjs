// The `mediaslim` command, spawned for real (`node pkg/cli.js ...`) on folders of real images
// copied into a temp dir. Outputs are judged by sharp (libvips), a decoder independent of ours:
// format, dimensions, and pixels close to the source resized by sharp.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertClose, CORPUS, FIXTURES, hasCorpus, meta, rgba, SHARP_FORMAT } from './_helpers.mjs';

const CLI = fileURLToPath(new URL('../../pkg/cli.js', import.meta.url));
const fixturePath = (name) => fileURLToPath(new URL(name, FIXTURES));
const corpusPath = (rel) => fileURLToPath(new URL(rel, CORPUS));

let tmp;
before(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'mediaslim-cli-'));
});
after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs the CLI; stdout/stderr as text. Not a TTY, so no progress bar is expected. */
function cli(args, { cwd = tmp } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A folder of good images: fixtures, plus a few corpus photos when ../shared is there. */
function goodImages(dir) {
  const put = (from, to) => {
    mkdirSync(path.dirname(path.join(dir, to)), { recursive: true });
    copyFileSync(from, path.join(dir, to));
    chmodSync(path.join(dir, to), 0o644); // the corpus is read-only
  };
  put(fixturePath('skimage-rocket.jpg'), 'rocket.jpg');
  put(fixturePath('flower2.jpg'), 'flower2.jpg');
  put(fixturePath('transparent.png'), 'transparent.png');
  put(fixturePath('hopper.gif'), 'sub/hopper.gif');
  put(fixturePath('display-p3.jpg'), 'sub/deeper/display-p3.jpg');
  if (hasCorpus) {
    put(corpusPath('photos/skimage-chelsea.png'), 'corpus/chelsea.png');
    put(corpusPath('photos/skimage-coffee.png'), 'corpus/coffee.png');
    put(corpusPath('photos/skimage-hubble_deep_field.jpg'), 'corpus/hubble.jpg');
  }
  return dir;
}

function listFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))],
  ).sort();
}

function hashes(dir) {
  return Object.fromEntries(listFiles(dir).map((f) => [f, createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')]));
}

/** The output decodes with sharp as `format` at `width`, and looks like the input resized. */
async function assertGoodOutput(inputFile, outputFile, { format, width, limit = 6 }) {
  const src = new Uint8Array(readFileSync(inputFile));
  const out = new Uint8Array(readFileSync(outputFile));
  const m = await meta(out);
  assert.equal(m.format, SHARP_FORMAT[format], `${outputFile}: format`);
  const srcMeta = await meta(src);
  const expectedWidth = Math.min(width ?? srcMeta.width, srcMeta.width); // never upscaled
  assert.equal(m.width, expectedWidth, `${outputFile}: width`);
  assert.ok(Math.abs(m.height - (srcMeta.height * expectedWidth) / srcMeta.width) <= 1, `${outputFile}: height ${m.height} keeps the aspect ratio`);
  const got = await rgba(out);
  const want = await rgba(src, { resize: { width: m.width, height: m.height, fit: 'fill' } });
  assertClose(got, want, limit, `${outputFile} vs its source resized by sharp`);
  return m;
}

describe('mediaslim CLI', () => {
  it('a folder with a corrupt file and non-images: the rest written, every failure reported, exit 1', async () => {
    const input = goodImages(path.join(tmp, 'mixed'));
    // A truncated JPEG (cut at 60 %), a text file in the folder, and a non-image named explicitly.
    const rocket = readFileSync(fixturePath('skimage-rocket.jpg'));
    writeFileSync(path.join(input, 'sub', 'truncated.jpg'), rocket.subarray(0, Math.floor(rocket.length * 0.6)));
    writeFileSync(path.join(input, 'notes.txt'), 'not an image\n');
    const explicit = path.join(tmp, 'readme.jpg');
    writeFileSync(explicit, 'this is text, whatever its name says\n');
    const before = hashes(input);

    const out = path.join(tmp, 'mixed-out');
    const r = cli([input, explicit, '--out', out, '--width', '200', '--format', 'webp', '--json']);
    assert.equal(r.code, 1, `exit code 1 when a file failed (stderr: ${r.stderr})`);
    const report = JSON.parse(r.stdout); // stdout is the report and nothing else
    const byInput = new Map(report.files.map((f) => [path.resolve(tmp, f.input), f]));

    const truncated = byInput.get(path.join(input, 'sub', 'truncated.jpg'));
    assert.ok(truncated, 'the truncated JPEG is in the report');
    assert.equal(truncated.error?.code, 'CORRUPT_INPUT', JSON.stringify(truncated));
    assert.match(truncated.error.message, /jpeg/i);
    assert.equal(truncated.output, null);
    assert.equal(byInput.get(explicit)?.error?.code, 'UNSUPPORTED_FORMAT', 'a non-image named explicitly is an error');
    assert.ok(!byInput.has(path.join(input, 'notes.txt')), 'a non-image inside a folder is skipped, not an error');
    assert.ok(report.skipped.some((s) => s.endsWith('notes.txt')), 'and listed as skipped');
    assert.match(r.stderr, /truncated\.jpg: CORRUPT_INPUT/, 'failures are named on stderr');
    assert.match(r.stderr, /readme\.jpg: UNSUPPORTED_FORMAT/);

    const good = report.files.filter((f) => !f.error);
    const expected = listFiles(input).filter((f) => !/truncated|notes/.test(f));
    assert.equal(good.length, expected.length, `every good image succeeded: ${JSON.stringify(report.files.filter((f) => f.error))}`);
    assert.equal(report.totals.failed, 2);
    assert.equal(report.totals.ok, expected.length);
    for (const rel of expected) {
      const entry = byInput.get(path.join(input, rel));
      const wantOut = path.join(out, rel.replace(/\.[^.]+$/, '.webp')); // layout kept, extension follows the format
      assert.equal(path.resolve(tmp, entry.output), wantOut);
      assert.equal(entry.format, 'webp');
      assert.equal(entry.outputBytes, statSync(wantOut).size);
      assert.equal(entry.inputBytes, statSync(path.join(input, rel)).size);
      assert.equal(entry.keptOriginal, false);
      assert.deepEqual(entry.warnings, []);
      const m = await assertGoodOutput(path.join(input, rel), wantOut, { format: 'webp', width: 200 });
      assert.equal(entry.width, m.width);
      assert.equal(entry.height, m.height);
    }
    assert.deepEqual(listFiles(out), expected.map((f) => f.replace(/\.[^.]+$/, '.webp')).sort(), 'nothing else written (no temp files left)');
    assert.deepEqual(hashes(input), before, 'inputs untouched');
  });

  it('all good: exit 0, smaller outputs (or the original kept), layout kept, a table, quiet stderr', async () => {
    const input = goodImages(path.join(tmp, 'good'));
    const before = hashes(input);
    const out = path.join(tmp, 'good-out');
    const r = cli(['good', '--out', 'good-out', '--effort', '4']); // relative paths, from the cwd
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no progress bar or noise when stderr is not a TTY');
    const inputs = listFiles(input);
    // GIF becomes PNG with format "original"; the rest keep format and extension.
    const outputs = inputs.map((f) => f.replace(/\.gif$/, '.png'));
    assert.deepEqual(listFiles(out), outputs.sort());
    for (const [i, rel] of inputs.entries()) {
      const src = path.join(input, rel);
      const dst = path.join(out, outputs[i]);
      const a = statSync(src).size;
      const b = statSync(dst).size;
      if (b === a) assert.deepEqual(readFileSync(dst), readFileSync(src), `${rel}: same size means the original was kept`);
      else assert.ok(b < a, `${rel}: ${b} bytes, not smaller than ${a}`);
      const format = { '.jpg': 'jpeg', '.png': 'png' }[path.extname(dst)];
      await assertGoodOutput(src, dst, { format, limit: 6 });
      assert.ok(r.stdout.includes(path.join('good', rel)), `the table names ${rel}`);
    }
    assert.match(r.stdout, /file\s+before\s+after\s+saved\s+size\s+format\s+time/);
    assert.match(r.stdout, new RegExp(`${inputs.length} files: ${inputs.length} ok, 0 failed; .* -> .* \\(saved \\d+\\.\\d%\\)`));
    assert.deepEqual(hashes(input), before, 'inputs untouched without --in-place');
  });

  it('--widths: one output per width from one input, named <name>-<width>', async () => {
    const out = path.join(tmp, 'widths-out');
    const src = fixturePath('skimage-rocket.jpg'); // 640 wide
    const r = cli([src, '--out', out, '--widths', '160,320,1000', '--format', 'jpeg', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.files.map((f) => [f.requestedWidth, f.width]), [[160, 160], [320, 320], [1000, 640]]);
    assert.deepEqual(listFiles(out), ['skimage-rocket-1000.jpg', 'skimage-rocket-160.jpg', 'skimage-rocket-320.jpg']);
    for (const w of [160, 320, 1000]) await assertGoodOutput(src, path.join(out, `skimage-rocket-${w}.jpg`), { format: 'jpeg', width: w });
  });

  it('usage errors exit 2 with a message naming the flag, and write nothing', () => {
    const input = goodImages(path.join(tmp, 'usage'));
    const before = hashes(input);
    const cases = [
      [['usage'], /--out <dir>.*--in-place/],
      [['usage', '--out', 'u-out', '--format', 'gif'], /--format.*'gif'.*original, auto, jpeg, png, webp, avif/],
      [['usage', '--out', 'u-out', '--width', 'abc'], /--width.*'abc'.*whole number of pixels from 1/],
      [['usage', '--out', 'u-out', '--width', '0'], /--width.*whole number of pixels from 1/],
      [['usage', '--out', 'u-out', '--quality', '101'], /--quality.*from 1 to 100, or auto/],
      [['usage', '--out', 'u-out', '--concurrency', 'many'], /--concurrency/],
      [['usage', '--out', 'u-out', '--bogus'], /unknown option '--bogus'/],
      [['usage', '--out', 'u-out', '--in-place'], /either --out <dir> or --in-place/],
      [['--out', 'u-out'], /missing required argument/],
      // --out at the inputs' own folder would overwrite them: refused before reading anything.
      [['usage', '--out', 'usage'], /refusing to overwrite[\s\S]*--in-place/],
      [['usage', '--out', './usage/../usage/'], /refusing to overwrite/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: exit code (stderr: ${r.stderr})`);
      assert.match(r.stderr, message, `${args.join(' ')}: message`);
      assert.equal(r.stdout, '', `${args.join(' ')}: nothing on stdout`);
    }
    assert.ok(!existsSync(path.join(tmp, 'u-out')), 'no output folder made');
    assert.deepEqual(hashes(input), before, 'inputs untouched');
    const help = cli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Examples:[\s\S]*mediaslim photos --out dist/);
    const version = cli(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });

  it('--in-place rewrites the inputs themselves (smaller, same format and size), leaving nothing else', async () => {
    const dir = path.join(tmp, 'inplace');
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    const originals = path.join(tmp, 'inplace-originals');
    mkdirSync(originals);
    for (const [from, to] of [['skimage-rocket.jpg', 'rocket.jpg'], ['flower2.jpg', 'sub/flower2.jpg'], ['transparent.png', 'transparent.png']]) {
      copyFileSync(fixturePath(from), path.join(dir, to));
      copyFileSync(fixturePath(from), path.join(originals, path.basename(to)));
    }
    const before = hashes(dir);
    const r = cli(['inplace', '--in-place', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(listFiles(dir), Object.keys(before), 'same files, no new ones, no temp files');
    for (const entry of report.files) {
      assert.equal(entry.output, entry.input, 'written over the input');
      const file = path.resolve(tmp, entry.input);
      const original = path.join(originals, path.basename(file));
      assert.ok(statSync(file).size < statSync(original).size, `${entry.input}: smaller than before`);
      assert.notEqual(hashes(dir)[path.relative(dir, file)], before[path.relative(dir, file)]);
      await assertGoodOutput(original, file, { format: path.extname(file) === '.png' ? 'png' : 'jpeg', limit: 6 });
    }
  });

  it('--quality auto --target, --format auto --accept and --max-bytes reach the core', async () => {
    const out = path.join(tmp, 'auto-out');
    const src = fixturePath('skimage-rocket.jpg');
    const r = cli([src, '--out', out, '--quality', 'auto', '--format', 'webp', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const [entry] = JSON.parse(r.stdout).files;
    assert.equal(entry.error, null);
    assert.ok(entry.score >= 80, `score ${entry.score} meets the default target`);
    await assertGoodOutput(src, path.join(out, 'skimage-rocket.webp'), { format: 'webp' });

    const out2 = path.join(tmp, 'auto-out-2');
    const r2 = cli([src, '--out', out2, '--format', 'auto', '--accept', 'jpeg', '--target', 'medium', '--max-bytes', '20000', '--width', '320', '--json']);
    assert.equal(r2.code, 0, r2.stderr);
    const [e2] = JSON.parse(r2.stdout).files;
    assert.equal(e2.format, 'jpeg');
    assert.ok(e2.outputBytes <= 20000, `${e2.outputBytes} bytes`);
    const bad = cli([src, '--out', out2, '--target', 'ultra']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--target/);
  });
});
