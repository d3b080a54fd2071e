#!/usr/bin/env node
// AVIF: time, bytes and SSIMULACRA2 of every AV1 encoder we could use, on the same pixels.
//
//   npm run bench:avif                  # builds pkg/ first, then runs this file
//   node bench/avif.mjs [--photos N] [--spread] [--full N] [--no-browser] [--no-wasm] [--auto] [--matched] [--only key,...] [--quick]
//   node bench/avif.mjs --calibrate [--photos N] [--width W]   # fits js/webcodecs/avif.ts tables
//
// Tools, one job at a time, one thread each where the tool allows it:
//   ours-wasm        optimize({format:'avif', quality, avifEncoder:'wasm'}) in Node: libaom in
//                    wasm, 8-bit, 4:2:0 below quality 90 and 4:4:4 from 90, cpu-used 7 (effort 4)
//   ours-webcodecs   the same call in headless Chromium with avifEncoder:'webcodecs': the
//                    browser's libaom through WebCodecs (js/webcodecs/avif.ts)
//   jsquash          @jsquash/avif encode in Node (libaom in wasm, single-threaded build),
//                    speed 6, 4:2:0 (its defaults)
//   sharp            sharp(...).avif({quality, effort: 4}) (native libaom through libheif,
//                    4:4:4), sharp.concurrency(1)
//   avifenc          Debian's libavif-bin (native libaom), -j 1 -s 6, 4:4:4, --min/--max Q
//
// Inputs: photos from ../shared/corpus/photos, flattened onto white, resized once by libvips
// (lanczos3) to 1600 px wide (smaller ones keep their size) and stored as PNG; every tool
// encodes exactly those pixels (no resize), so scores measure the encoder alone. By default
// the 4 largest (near 1600 px wide; --spread: N spread over all sizes), and the 2 largest also
// at full size (--full N). Each output is decoded by sharp (libheif) and scored with the
// native examples/ssimulacra2_score against the input PNG.
//
// Every tool runs at several quality settings; the report interpolates each tool's bytes and
// time at SSIMULACRA2 70 and 80 (log-bytes linear in score between the two settings around
// it) and gives ours/peer ratios as geometric means over the photos both reach.
// Results: bench/out/avif.json and bench/out/avif.md.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, kb, median, mkdir, packageUrl, table } from './quality/util.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../shared/corpus/photos', import.meta.url));
const OUT = path.join(ROOT, 'bench', 'out');
const WORK = path.join(OUT, 'avif');
const WIDTH = 1600;

function parseArgs(argv) {
  const a = { photos: 4, full: 2, spread: false, browser: true, wasm: true, auto: false, calibrate: false, width: 1024, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${k} needs a whole number`);
      return v;
    };
    if (k === '--photos') a.photos = num();
    else if (k === '--full') a.full = num();
    else if (k === '--width') a.width = num();
    else if (k === '--spread') a.spread = true;
    else if (k === '--no-browser') a.browser = false;
    else if (k === '--no-wasm') a.wasm = false;
    else if (k === '--auto') a.auto = true;
    else if (k === '--matched') a.matched = true;
    else if (k === '--only') a.only = String(argv[++i] ?? '').split(',');
    else if (k === '--calibrate') a.calibrate = true;
    else if (k === '--report') a.report = true;
    else if (k === '--quick') Object.assign(a, { quick: true, photos: 2, full: 0 });
    else if (k === '-h' || k === '--help') {
      console.log('usage: node bench/avif.mjs [--photos N] [--spread] [--full N] [--no-browser] [--no-wasm] [--auto] [--matched] [--only key,...] [--quick] | --calibrate [--photos N] [--width W]');
      process.exit(0);
    } else throw new Error(`unknown argument ${k} (try --help)`);
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
const log = (...m) => console.error('[bench:avif]', ...m);

if (!existsSync(CORPUS)) {
  console.log(`bench:avif: no corpus at ${CORPUS}; nothing to measure.`);
  process.exit(0);
}
if (!existsSync(path.join(ROOT, 'pkg', 'index.js'))) {
  console.error('bench:avif: pkg/ is missing: build it first (npm run build, or use npm run bench:avif).');
  process.exit(1);
}

const { default: sharp } = await import('sharp');
// MEDIASLIM_PKG=<dir>: the Node tools run another build of the package (A/B of encoder builds).
const PKG = packageUrl();
const { optimize, Pool } = await import(new URL('index.js', PKG).href);
sharp.concurrency(1);
sharp.cache(false);

const geomean = (v) => (v.length ? Math.exp(v.reduce((a, b) => a + Math.log(b), 0) / v.length) : NaN);
const pkgVersion = (name) => {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
};

// ---------------------------------------------------------------------------------------
// Sources

async function prepareSources() {
  const dir = mkdir(path.join(WORK, 'sources'));
  const photos = readdirSync(CORPUS).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
  const out = [];
  for (const f of photos) {
    const stem = f.replace(/\.[^.]+$/, '');
    const input = path.join(CORPUS, f);
    for (const label of ['1600', 'full']) {
      const file = path.join(dir, `${stem}-${label}.png`);
      if (!existsSync(file) || statSync(file).mtimeMs < statSync(input).mtimeMs) {
        let p = sharp(input).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb');
        if (label === '1600') p = p.resize({ width: WIDTH, withoutEnlargement: true, kernel: 'lanczos3', fastShrinkOnLoad: false });
        await p.png({ compressionLevel: 1 }).toFile(file);
      }
      const meta = await sharp(file).metadata();
      out.push({ stem, label, file, width: meta.width, height: meta.height });
    }
  }
  return out;
}

/** `n` sources spread over the size range (all of them for n >= the count). */
function spread(sources, n) {
  if (n === 0) return [];
  if (n >= sources.length) return sources;
  const bySize = [...sources].sort((a, b) => a.width * a.height - b.width * b.height);
  const pick = new Set();
  for (let k = 0; k < n; k++) pick.add(bySize[Math.round((k * (bySize.length - 1)) / Math.max(1, n - 1))]);
  return sources.filter((s) => pick.has(s));
}

// ---------------------------------------------------------------------------------------
// Tools

const pool = new Pool({ size: 1 });

async function loadJsquashAvif() {
  const enc = await import('@jsquash/avif/encode.js');
  await enc.init(await WebAssembly.compile(readFileSync(path.join(ROOT, 'node_modules/@jsquash/avif/codec/enc/avif_enc.wasm'))));
  return enc.default;
}

const haveAvifenc = spawnSync('avifenc', ['--version'], { encoding: 'utf8' });
const avifencVersion = haveAvifenc.status === 0 ? haveAvifenc.stdout.split('\n').find((l) => l.startsWith('Version'))?.trim() : null;

let browser; // { page, close }
async function openBrowser() {
  const { BASE64_SCRIPT, launchBrowser, serveStatic } = await import('../tests/browser/helpers.mjs');
  const html = `<!doctype html><title>bench avif</title><script type="module">
    import * as m from '/pkg/index.js';
    window.m = m;
    window.pool = new m.Pool({ size: 1 });
    ${BASE64_SCRIPT}
    window.ready = true;
  </script>`;
  const server = await serveStatic(ROOT, { routes: { '/__bench_avif__.html': { type: 'text/html; charset=utf-8', body: html } } });
  const b = await launchBrowser();
  const page = await b.newPage();
  await page.goto(server.origin + '/__bench_avif__.html');
  await page.waitForFunction(() => window.ready === true, null, { timeout: 60_000 });
  return { page, version: b.version(), close: async () => { await b.close(); await server.close(); } };
}

/** One encode in the page: the input is fetched before the clock starts. */
async function inBrowser(src, options) {
  const url = '/' + path.relative(ROOT, src.file).replaceAll(path.sep, '/');
  const r = await browser.page.evaluate(
    async ({ url, options }) => {
      const input = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const t = performance.now();
      const out = await window.m.optimize(input, { ...options, pool: window.pool });
      const ms = performance.now() - t;
      return { ms, b64: window.b64(out.bytes), encoder: out.encoder, warnings: out.warnings, quality: out.quality, score: out.score, encodes: out.encodes };
    },
    { url, options },
  );
  return { ...r, bytes: Buffer.from(r.b64, 'base64') };
}

let jsquashEncode;
const rawCache = new Map();
async function rawOf(src) {
  if (!rawCache.has(src.file)) {
    const { data, info } = await sharp(src.file).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    rawCache.clear(); // one at a time: full-size rasters are large
    rawCache.set(src.file, { data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height });
  }
  return rawCache.get(src.file);
}

/** One timed `optimize` of the photo to AVIF on our wasm encoder, with `options` on top. */
async function oursWasm(src, options) {
  const buf = readFileSync(src.file);
  const t = performance.now();
  const r = await optimize(buf, { format: 'avif', avifEncoder: 'wasm', neverBigger: false, pool, ...options });
  return { ms: performance.now() - t, bytes: r.bytes, encoder: r.encoder };
}

const TOOLS = [
  {
    key: 'ours-wasm',
    label: 'ours wasm (libaom)',
    settings: [50, 65, 80, 88, 94],
    note: "optimize({format:'avif', quality, avifEncoder:'wasm', neverBigger:false}) in Node: libaom cpu-used 7 (effort 4), all-intra, 8-bit, 4:2:0 below quality 90 and 4:4:4 from 90",
    enabled: () => args.wasm,
    run: (src, quality) => oursWasm(src, { quality }),
  },
  // sharp's effort 4 is libaom cpu-used 5 (libheif: 9 - effort), ours is effort 6: the same
  // speed preset, so these rows (--matched) separate the encoder from the speed/bytes trade-off.
  ...[['ours-wasm-e6', '4:2:0 below quality 90', undefined], ['ours-wasm-e6-444', '4:4:4, as sharp', '4:4:4']].map(([key, chroma, chromaSubsampling]) => ({
    key,
    label: `ours wasm (libaom), effort 6, ${chroma}`,
    settings: [50, 65, 80, 88, 94],
    note: `as ours-wasm with effort: 6 (libaom cpu-used 5, the preset sharp's effort 4 selects), ${chroma}`,
    enabled: () => args.wasm && args.matched,
    run: (src, quality) => oursWasm(src, { quality, effort: 6, chromaSubsampling }),
  })),
  {
    key: 'ours-webcodecs',
    label: 'ours WebCodecs (Chromium libaom)',
    settings: [50, 65, 80, 88],
    note: "the same call in headless Chromium with avifEncoder:'webcodecs' (js/webcodecs/avif.ts): below quality 87 4:2:0 variable bitrate, from 87 4:4:4 quantizer",
    enabled: () => args.browser,
    run: (src, q) => inBrowser(src, { format: 'avif', quality: q, avifEncoder: 'webcodecs', neverBigger: false }),
  },
  {
    key: 'jsquash',
    label: 'jSquash (libaom wasm)',
    settings: [40, 55, 70, 80],
    note: () => `@jsquash/avif ${pkgVersion('@jsquash/avif')} encode(imageData, {quality, speed: 6}) in Node, single-threaded build, 4:2:0 (defaults); PNG decode not timed`,
    enabled: () => true,
    async run(src, q) {
      jsquashEncode ??= await loadJsquashAvif();
      const img = await rawOf(src);
      const t = performance.now();
      const out = await jsquashEncode(img, { quality: q, speed: 6 });
      return { ms: performance.now() - t, bytes: new Uint8Array(out) };
    },
  },
  {
    key: 'sharp',
    label: 'sharp (libaom native)',
    settings: [40, 55, 70, 80],
    note: () => `sharp ${pkgVersion('sharp')} (libvips ${sharp.versions.vips}, aom ${sharp.versions.aom ?? '?'}, heif ${sharp.versions.heif ?? '?'}) .avif({quality, effort: 4}), 4:4:4, concurrency(1)`,
    enabled: () => true,
    async run(src, q) {
      const t = performance.now();
      const bytes = await sharp(src.file).avif({ quality: q, effort: 4 }).toBuffer();
      return { ms: performance.now() - t, bytes };
    },
  },
  {
    key: 'avifenc',
    label: 'avifenc (libaom native)',
    settings: [40, 30, 22, 14],
    settingName: (q) => `Q${q}`,
    note: () => `${avifencVersion ?? 'avifenc'}: avifenc -j 1 -s 6 -d 8 -y 444 --min Q --max Q (0-63, lower is better); process start and PNG decode timed`,
    enabled: () => !!avifencVersion,
    async run(src, q) {
      const out = path.join(mkdir(path.join(WORK, 'tmp')), 'avifenc.avif');
      const t = performance.now();
      const r = spawnSync('avifenc', ['-j', '1', '-s', '6', '-d', '8', '-y', '444', '--min', String(q), '--max', String(q), src.file, out], { encoding: 'utf8' });
      const ms = performance.now() - t;
      if (r.status !== 0) throw new Error(`avifenc failed: ${r.stderr || r.stdout}`);
      return { ms, bytes: readFileSync(out) };
    },
  },
];

// ---------------------------------------------------------------------------------------
// Scores: each output decoded by sharp (libheif) to PNG, then examples/ssimulacra2_score.

function cargo(argv) {
  return spawnSync('cargo', argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, PATH: `${os.homedir()}/.cargo/bin:${process.env.PATH}` } });
}

async function scoreAll(pairs) {
  if (pairs.length === 0) return [];
  const bin = path.join(ROOT, 'target', 'release', 'examples', 'ssimulacra2_score');
  log('building examples/ssimulacra2_score (release)');
  const b = cargo(['build', '--release', '--quiet', '--example', 'ssimulacra2_score']);
  if (b.status !== 0) throw new Error(`cannot build ssimulacra2_score: ${b.stderr.slice(-2000)}`);
  const prepared = [];
  for (const p of pairs) {
    const png = p.dist.replace(/\.avif$/, '.decoded.png');
    await sharp(p.dist).png({ compressionLevel: 1 }).toFile(png);
    prepared.push({ ref: p.ref, dist: png });
  }
  const r = spawnSync(bin, [], { input: JSON.stringify(prepared), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ssimulacra2_score failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

// ---------------------------------------------------------------------------------------
// Interpolation at a score

/** Bytes and time at `score`, from (score, bytes, ms) points of one tool on one photo. */
function atScore(points, score) {
  const p = points.filter((x) => Number.isFinite(x.score)).sort((a, b) => a.score - b.score);
  for (let i = 1; i < p.length; i++) {
    const [a, b] = [p[i - 1], p[i]];
    if (a.score <= score && score <= b.score) {
      const t = b.score === a.score ? 0 : (score - a.score) / (b.score - a.score);
      return { bytes: Math.exp(Math.log(a.bytes) + t * (Math.log(b.bytes) - Math.log(a.bytes))), ms: a.ms + t * (b.ms - a.ms) };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Calibration: quality -> score for the wasm encoder (libaom) and for the WebCodecs path, at the same qualities.

async function calibrate(sources) {
  const qualities = [30, 40, 50, 60, 70, 80, 84, 85, 88, 90, 93, 95, 98];
  const dir = mkdir(path.join(WORK, 'calibrate'));
  const rows = [];
  browser = await openBrowser();
  try {
    for (const src of sources) {
      const input = path.join(dir, `${src.stem}-${args.width}.png`);
      if (!existsSync(input)) await sharp(src.file).resize({ width: args.width, withoutEnlargement: true }).png({ compressionLevel: 1 }).toFile(input);
      const s = { ...src, file: input };
      for (const q of qualities) {
        const w = await optimize(readFileSync(input), { format: 'avif', quality: q, avifEncoder: 'wasm', score: true, neverBigger: false, pool });
        const c = await inBrowser(s, { format: 'avif', quality: q, avifEncoder: 'webcodecs', score: true });
        rows.push({ stem: src.stem, q, wasm: { bytes: w.bytes.length, score: w.score }, webcodecs: { bytes: c.bytes.length, score: c.score } });
        log(`${src.stem} q${q}: wasm ${kb(w.bytes.length)} KB ${fmt(w.score, 1)} | webcodecs ${kb(c.bytes.length)} KB ${fmt(c.score, 1)}`);
      }
    }
  } finally {
    await browser.close();
  }
  const summary = qualities.map((q) => {
    const r = rows.filter((x) => x.q === q);
    return {
      q,
      rav1eScore: median(r.map((x) => x.wasm.score)),
      webcodecsScore: median(r.map((x) => x.webcodecs.score)),
      bytesRatio: geomean(r.map((x) => x.webcodecs.bytes / x.wasm.bytes)),
    };
  });
  const md = table(
    ['quality', 'wasm score (median)', 'WebCodecs score (median)', 'bytes WebCodecs/wasm (geomean)'],
    summary.map((s) => [s.q, fmt(s.rav1eScore, 1), fmt(s.webcodecsScore, 1), fmt(s.bytesRatio, 2)]),
  );
  console.log(`\nCalibration at ${args.width} px on ${sources.length} photos (scores: libaom's reconstruction; WebCodecs: Chromium's decode):\n\n${md}\n`);
  writeFileSync(path.join(OUT, 'avif-calibration.json'), JSON.stringify({ width: args.width, rows, summary }, null, 2));
}

// ---------------------------------------------------------------------------------------
// Main

const all = await prepareSources();
// At 1600 px: the largest photos (those near 1600 px wide) unless --spread asks for the size range.
const candidates = all.filter((s) => s.label === '1600');
const at1600 = args.spread
  ? spread(candidates, args.photos)
  : [...candidates].sort((a, b) => b.width * b.height - a.width * a.height).slice(0, args.photos).sort((a, b) => a.stem.localeCompare(b.stem));
// Full size: the largest photos (only those bigger than 1600 px wide differ from the 1600 set).
const full = all
  .filter((s) => s.label === 'full' && s.width > WIDTH)
  .sort((a, b) => b.width * b.height - a.width * a.height)
  .slice(0, args.full);

if (args.report) {
  // Re-print the report of a saved run (older files kept full-size runs in `runs` too).
  const j = JSON.parse(readFileSync(path.join(OUT, 'avif.json'), 'utf8'));
  const runs = j.runs.filter((r) => r.label !== 'full');
  const dims = (list) => [...new Map(list.map((r) => [r.stem, { stem: r.stem, width: r.width, height: r.height }])).values()];
  const env = { date: j.env.date ?? j.date, cpus: j.env.cpus, cpuModel: j.env.cpuModel ?? '?', load: j.env.load, chromium: j.env.chromium, avifenc: j.env.avifenc };
  console.log(report({ runs, fullRuns: j.full, tools: j.tools, at1600: j.photos ?? dims(runs), full: j.fullPhotos ?? dims(j.full), env }));
  process.exit(0);
}
if (args.calibrate) {
  await calibrate(at1600);
  await pool.terminate();
  process.exit(0);
}

const tools = TOOLS.filter((t) => t.enabled() && (!args.only || args.only.includes(t.key)));
if (args.browser) browser = await openBrowser();
const outDir = mkdir(path.join(WORK, 'outputs'));
const runs = [];
const started = Date.now();

async function runOne(tool, src, q, into = runs) {
  const r = await tool.run(src, q);
  const name = `${src.stem}-${src.label}-${tool.key}-${typeof q === 'string' ? q : (tool.settingName?.(q) ?? `q${q}`)}.avif`;
  const file = path.join(outDir, name);
  writeFileSync(file, r.bytes);
  const run = { tool: tool.key, stem: src.stem, label: src.label, width: src.width, height: src.height, setting: q, bytes: r.bytes.length, ms: r.ms, file, ref: src.file, encoder: r.encoder, warnings: r.warnings };
  into.push(run);
  log(`${tool.key} ${src.stem}-${src.label} ${q}: ${kb(run.bytes)} KB in ${fmt(run.ms)} ms${r.encoder ? ` (${r.encoder})` : ''}`);
  return run;
}

try {
  // Warm-up: wasm compilation tiers, libaom start-up, the browser's worker.
  const smallest = [...at1600].sort((a, b) => a.width * a.height - b.width * b.height)[0];
  for (const tool of tools) await tool.run(smallest, tool.settings[1]);
  // 1600 px: every setting of every tool, tools taking turns per photo.
  for (const src of at1600) for (const tool of tools) for (const q of tool.settings) await runOne(tool, src, q);
  if (args.browser) {
    // quality 'auto' (target 80) through WebCodecs: its search, time and result.
    const tool = { ...TOOLS.find((t) => t.key === 'ours-webcodecs'), key: 'ours-webcodecs-auto', run: (src) => inBrowser(src, { format: 'avif', quality: 'auto', avifEncoder: 'webcodecs', neverBigger: false }) };
    for (const src of at1600) await runOne(tool, src, 'auto');
  }
  if (args.auto && args.wasm) {
    const tool = { ...TOOLS.find((t) => t.key === 'ours-wasm'), key: 'ours-wasm-auto', run: (src) => oursWasm(src, { quality: 'auto' }) };
    for (const src of at1600) await runOne(tool, src, 'auto');
  }
} catch (e) {
  await browser?.close();
  await pool.terminate();
  throw e;
}

// Scores for the 1600 px runs, then pick each tool's setting nearest 80 for full size.
let scores = await scoreAll(runs.map((r) => ({ ref: r.ref, dist: r.file })));
runs.forEach((r, i) => (r.score = scores[i]?.score));
const nearest80 = Object.fromEntries(
  tools.map((t) => {
    const med = t.settings.map((q) => ({ q, s: median(runs.filter((r) => r.tool === t.key && r.setting === q).map((r) => r.score)) }));
    return [t.key, med.sort((a, b) => Math.abs(a.s - 80) - Math.abs(b.s - 80))[0]?.q];
  }),
);
const fullRuns = [];
try {
  for (const src of full) {
    for (const tool of tools) {
      const q = nearest80[tool.key];
      try {
        await runOne(tool, src, q, fullRuns);
      } catch (e) {
        log(`${tool.key} full ${src.stem}: ${e.message}`);
      }
    }
  }
} finally {
  await browser?.close();
  await pool.terminate();
}
scores = await scoreAll(fullRuns.map((r) => ({ ref: r.ref, dist: r.file })));
fullRuns.forEach((r, i) => (r.score = scores[i]?.score));

// ---------------------------------------------------------------------------------------
// Report (also from a saved bench/out/avif.json: node bench/avif.mjs --report)

function report({ runs, fullRuns, tools, at1600, full, env, seconds }) {
  const lines = [];
  const p = (s = '') => lines.push(s);
  p('# AVIF encoders: time, bytes and SSIMULACRA2');
  p();
  p(`${env.date.slice(0, 10)}, ${env.cpus} cores (${env.cpuModel}), load average ${env.load.map((x) => x.toFixed(1)).join(' ')} at the end${env.chromium ? `, Chromium ${env.chromium}` : ''}. ${at1600.length} photos at 1600 px (${at1600.map((s) => `${s.stem} ${s.width}x${s.height}`).join(', ')}); full size: ${full.map((s) => `${s.stem} ${s.width}x${s.height}`).join(', ') || 'none'}.`);
  p();
  p('Tools:');
  for (const t of tools) p(`- **${t.label}**: ${t.note}. Settings: ${t.settings.map((q) => (t.key === 'avifenc' ? `Q${q}` : q)).join(', ')}.`);
  if (!env.avifenc) p('- avifenc: not installed (Debian libavif-bin): skipped.');
  p();
  p('Scores: SSIMULACRA2 of the output decoded by sharp (libheif) against the PNG every tool was given. Times: wall time per encode, one run, after a warm-up.');
  p();
  const keys = tools.map((t) => t.key);
  const photos = at1600.map((s) => s.stem);
  for (const S of [70, 80]) {
    p(`## At SSIMULACRA2 ${S} (interpolated between settings)`);
    p();
    const per = {};
    for (const k of keys) {
      per[k] = {};
      for (const stem of photos) {
        const v = atScore(runs.filter((r) => r.tool === k && r.stem === stem && typeof r.setting === 'number'), S);
        if (v) per[k][stem] = v;
      }
    }
    p(table(['photo', ...keys], at1600.map((src) => [`${src.stem} ${src.width}x${src.height}`, ...keys.map((k) => (per[k][src.stem] ? `${kb(per[k][src.stem].bytes)} KB, ${fmt(per[k][src.stem].ms)} ms` : 'n/a'))])));
    p();
    const ratioRows = [];
    // Each of our variants (also --matched's ours-wasm-e6*) against every tool after it (the
    // peers follow ours in TOOLS), so two of ours are compared once.
    for (const [i, ours] of keys.entries()) {
      if (!ours.startsWith('ours-')) continue;
      for (const peer of keys.slice(i + 1)) {
        const common = photos.filter((s) => per[ours][s] && per[peer][s]);
        if (!common.length) continue;
        ratioRows.push([
          `${ours} / ${peer}`,
          fmt(geomean(common.map((s) => per[ours][s].bytes / per[peer][s].bytes)), 2),
          fmt(geomean(common.map((s) => per[ours][s].ms / per[peer][s].ms)), 2),
          `${common.length}/${photos.length}`,
        ]);
      }
    }
    p(table(['ratio', 'bytes (geomean)', 'time (geomean)', 'photos'], ratioRows));
    p();
  }
  p('## Every run at 1600 px');
  p();
  p(table(['tool', 'setting', 'median KB', 'median ms', 'median score', 'min score'], tools.flatMap((t) =>
    t.settings.map((q) => {
      const r = runs.filter((x) => x.tool === t.key && x.setting === q);
      return [t.key, t.key === 'avifenc' ? `Q${q}` : q, kb(median(r.map((x) => x.bytes))), fmt(median(r.map((x) => x.ms))), fmt(median(r.map((x) => x.score)), 1), fmt(Math.min(...r.map((x) => x.score)), 1)];
    }),
  )));
  p();
  const autoRuns = runs.filter((r) => r.setting === 'auto');
  if (autoRuns.length) {
    p("## quality: 'auto' (target 80)");
    p();
    p(table(['tool', 'photo', 'KB', 'ms', 'score (sharp decode)', 'encoder'], autoRuns.map((r) => [r.tool, r.stem, kb(r.bytes), fmt(r.ms), fmt(r.score, 1), r.encoder ?? ''])));
    p();
  }
  if (fullRuns.length) {
    p('## Full size (each tool at its setting whose median 1600 px score is nearest 80)');
    p();
    p(table(['photo', 'tool', 'setting', 'KB', 'ms', 'score'], fullRuns.map((r) => [`${r.stem} ${r.width}x${r.height}`, r.tool, r.setting, kb(r.bytes), fmt(r.ms), fmt(r.score, 1)])));
    p();
  }
  if (seconds) p(`Total bench time ${fmt(seconds)} s.`);
  return lines.join('\n');
}

const env = {
  date: new Date().toISOString(),
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model.trim(),
  load: os.loadavg(),
  chromium: browser?.version,
  avifenc: avifencVersion,
  sharp: pkgVersion('sharp'),
  jsquashAvif: pkgVersion('@jsquash/avif'),
};
const toolInfo = tools.map((t) => ({ key: t.key, label: t.label, settings: t.settings, note: typeof t.note === 'function' ? t.note() : t.note }));
const md = report({ runs, fullRuns, tools: toolInfo, at1600, full, env, seconds: (Date.now() - started) / 1000 });
console.log(md);
writeFileSync(path.join(OUT, 'avif.md'), md + '\n');
writeFileSync(
  path.join(OUT, 'avif.json'),
  JSON.stringify(
    {
      env,
      args,
      tools: toolInfo,
      photos: at1600.map(({ stem, width, height }) => ({ stem, width, height })),
      fullPhotos: full.map(({ stem, width, height }) => ({ stem, width, height })),
      runs: runs.map(({ file, ref, ...r }) => ({ ...r, file: path.relative(ROOT, file) })),
      full: fullRuns.map(({ file, ref, ...r }) => ({ ...r, file: path.relative(ROOT, file) })),
    },
    null,
    2,
  ),
);
log(`wrote bench/out/avif.md and bench/out/avif.json in ${fmt((Date.now() - started) / 1000)} s`);
process.exit(0);
