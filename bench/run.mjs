#!/usr/bin/env node
// The mediaslim benchmark: ours (the wasm package, in Node) against sharp (native libvips,
// one thread) and jSquash (Squoosh's codecs in wasm), on the photos of ../shared/corpus as
// JPEG q92 sources resized to 1600 px wide, encoded as JPEG, WebP (lossy), AVIF and PNG.
// See bench/README.md.
//
//   npm run bench                      # builds pkg/ first, then runs this file
//   node bench/run.mjs [--quick] [--reps N] [--photos N] [--avif N] [--png N]
//                      [--no-native] [--no-score] [--no-pool]
//
// Everything runs one job at a time on one thread per tool (sharp.concurrency(1), the
// single-threaded jSquash builds, our wasm without threads); only the SSIMULACRA2 scoring
// after the timings uses both cores. Then the pool's throughput on both cores (bench/pool.mjs,
// run as a child: 1 worker vs 2, and sharp). Results: bench/out/bench.json, bench/out/bench.md and
// bench/out/bench.svg.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../shared/corpus/photos', import.meta.url));
const OUT = path.join(ROOT, 'bench', 'out');
const WIDTH = 1600;

// ---------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const a = { reps: 3, photos: 0, avif: 10, png: 6, native: true, score: true, pool: true, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${k} needs a whole number`);
      return v;
    };
    if (k === '--quick') Object.assign(a, { quick: true, reps: 1, photos: 4, avif: 1, png: 1 });
    else if (k === '--reps') a.reps = Math.max(1, num());
    else if (k === '--photos') a.photos = num();
    else if (k === '--avif') a.avif = num();
    else if (k === '--png') a.png = num();
    else if (k === '--no-native') a.native = false;
    else if (k === '--no-score') a.score = false;
    else if (k === '--no-pool') a.pool = false;
    else if (k === '-h' || k === '--help') {
      console.log('usage: node bench/run.mjs [--quick] [--reps N] [--photos N (0 = all)] [--avif N] [--png N] [--no-native] [--no-score] [--no-pool]');
      process.exit(0);
    } else throw new Error(`unknown argument ${k} (try --help)`);
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));

if (!existsSync(CORPUS)) {
  console.log(`bench: no corpus at ${CORPUS} (it lives in ../shared/corpus/photos beside the repo); nothing to measure.`);
  process.exit(0);
}
if (!existsSync(path.join(ROOT, 'pkg', 'index.js'))) {
  console.error('bench: pkg/ is missing: build it first (npm run build, or use npm run bench).');
  process.exit(1);
}

const log = (...m) => console.error('[bench]', ...m);
const { default: sharp } = await import('sharp');
const { optimize } = await import('../pkg/index.js');
const jsq = await loadJsquash();

sharp.concurrency(1); // one libvips thread, like one wasm instance
sharp.cache(false); // no operation cache: every repetition does the work again

// ---------------------------------------------------------------------------------------
// Small helpers

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const sum = (v) => v.reduce((a, b) => a + b, 0);
const mean = (v) => (v.length ? sum(v) / v.length : NaN);
const geomean = (v) => Math.exp(mean(v.map(Math.log)));
const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const kb = (b) => fmt(b / 1024, 1);
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
const mkdir = (d) => (mkdirSync(d, { recursive: true }), d);
const fnv1a = (bytes) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
};
const table = (head, rows, align) => {
  const al = align ?? head.map((_, i) => (i === 0 ? 'l' : 'r'));
  return [
    `| ${head.join(' | ')} |`,
    `|${al.map((x) => (x === 'l' ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
};
const exactBuffer = (u8) => u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength);
const pkgVersion = (name) => {
  try {
    return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
};

// libwebp's version() encodes va.b.c as 0x0a0b0c.
function decodeLibwebpVersion(v) {
  return Number.isInteger(v) ? `${v >> 16}.${(v >> 8) & 255}.${v & 255}` : '?';
}

// jSquash's packages are ESM built for browsers: in Node each codec's wasm is compiled from
// node_modules and handed to the package's own `init`.
async function loadJsquash() {
  const { simd } = await import('wasm-feature-detect');
  const nm = path.join(ROOT, 'node_modules', '@jsquash');
  const compile = (p) => WebAssembly.compile(readFileSync(path.join(nm, p)));
  const files = {
    jpegDec: 'jpeg/codec/dec/mozjpeg_dec.wasm',
    jpegEnc: 'jpeg/codec/enc/mozjpeg_enc.wasm',
    resize: 'resize/lib/resize/pkg/squoosh_resize_bg.wasm',
    avifEnc: 'avif/codec/enc/avif_enc.wasm', // the single-threaded build (Node never gets _mt)
    // @jsquash/webp's init() picks its glue by wasm-feature-detect's simd(): the SIMD build
    // whenever the engine has wasm SIMD (Node >= 16), so that is the wasm it must be given.
    webpEnc: (await simd()) ? 'webp/codec/enc/webp_enc_simd.wasm' : 'webp/codec/enc/webp_enc.wasm',
    pngEnc: 'png/codec/pkg/squoosh_png_bg.wasm',
    oxipng: 'oxipng/codec/pkg/squoosh_oxipng_bg.wasm',
  };
  const jpegDec = await import('@jsquash/jpeg/decode.js');
  const jpegEnc = await import('@jsquash/jpeg/encode.js');
  const resize = await import('@jsquash/resize');
  const avifEnc = await import('@jsquash/avif/encode.js');
  const webpEnc = await import('@jsquash/webp/encode.js');
  const pngEnc = await import('@jsquash/png/encode.js');
  const oxipng = await import('@jsquash/oxipng/optimise.js');
  await jpegDec.init(await compile(files.jpegDec));
  await jpegEnc.init(await compile(files.jpegEnc));
  await resize.initResize(await compile(files.resize));
  await avifEnc.init(await compile(files.avifEnc));
  const webpModule = await webpEnc.init(await compile(files.webpEnc));
  await pngEnc.init(await compile(files.pngEnc));
  await oxipng.init(await compile(files.oxipng));
  return {
    files: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, path.join(nm, v)])),
    decodeJpeg: jpegDec.default,
    encodeJpeg: jpegEnc.default,
    resize: resize.default,
    encodeAvif: avifEnc.default,
    encodeWebp: webpEnc.default,
    webpSimd: files.webpEnc.includes('_simd'),
    webpVersion: decodeLibwebpVersion(webpModule.version?.()),
    encodePng: pngEnc.default,
    oxipng: oxipng.default,
  };
}

// ---------------------------------------------------------------------------------------
// Tools. Each `run(src)` takes one source (its bytes, as Buffer and as ArrayBuffer) and
// returns { bytes: Uint8Array, width, height, stages? }. Wall time is measured around it.

const targetSize = (w, h) => (w > WIDTH ? [WIDTH, Math.max(1, Math.round((h * WIDTH) / w))] : [w, h]);

const sharpResize = (buf) =>
  sharp(buf).resize({ width: WIDTH, withoutEnlargement: true, kernel: 'lanczos3' });

async function sharpRun(pipeline) {
  const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
  return { bytes: data, width: info.width, height: info.height };
}

async function oursRun(src, options) {
  const r = await optimize(src.u8, { width: WIDTH, neverBigger: false, ...options });
  return { bytes: r.bytes, width: r.width, height: r.height, stages: { ...r.timings } };
}

// decode -> resize (when wider than 1600) -> encode, each stage timed in JS.
async function jsquashPipeline(src, encode) {
  let t = performance.now();
  let img = await jsq.decodeJpeg(src.ab.slice(0));
  const decode = performance.now() - t;
  t = performance.now();
  const [w, h] = targetSize(img.width, img.height);
  if (w !== img.width || h !== img.height) {
    // linearRGB off: sharp and we resize gamma-encoded values, so the same work is asked.
    img = await jsq.resize(img, { width: w, height: h, method: 'lanczos3', premultiply: true, linearRGB: false });
  }
  const resize = performance.now() - t;
  t = performance.now();
  const out = new Uint8Array(await encode(img));
  const enc = performance.now() - t;
  return { bytes: out, width: img.width, height: img.height, stages: { decode, resize, encode: enc } };
}

// The libwebp that libwebp-sys vendors (and we compile into the wasm), from its Cargo.lock entry.
const LIBWEBP_OURS = (() => {
  try {
    const lock = readFileSync(path.join(ROOT, 'Cargo.lock'), 'utf8');
    const v = lock.match(/name = "libwebp-sys"\nversion = "([^"]+)"/)?.[1];
    const home = process.env.CARGO_HOME ?? path.join(os.homedir(), '.cargo');
    for (const reg of readdirSync(path.join(home, 'registry', 'src'))) {
      const h = path.join(home, 'registry', 'src', reg, `libwebp-sys-${v}`, 'vendor', 'src', 'enc', 'vp8i_enc.h');
      if (!existsSync(h)) continue;
      const t = readFileSync(h, 'utf8');
      const n = (k) => t.match(new RegExp(`#define ENC_${k}_VERSION (\\d+)`))?.[1];
      return `${n('MAJ')}.${n('MIN')}.${n('REV')} (libwebp-sys ${v})`;
    }
    return `1.x (libwebp-sys ${v ?? '?'})`;
  } catch {
    return '1.x';
  }
})();

const TOOLS = {
  jpeg: [
    {
      key: 'ours',
      label: 'mediaslim wasm',
      settings: "{width:1600, format:'jpeg', quality:80, chromaSubsampling:'4:2:0', neverBigger:false} (mozjpeg-rs ProgressiveBalanced, effort 4)",
      run: (s) => oursRun(s, { format: 'jpeg', quality: 80, chromaSubsampling: '4:2:0' }),
    },
    {
      key: 'sharp',
      label: 'sharp (turbo)',
      settings: "resize lanczos3 + jpeg({quality:80, chromaSubsampling:'4:2:0'})",
      run: (s) => sharpRun(sharpResize(s.buf).jpeg({ quality: 80, chromaSubsampling: '4:2:0' })),
    },
    {
      key: 'sharp-moz',
      label: 'sharp mozjpeg',
      settings: 'resize lanczos3 + jpeg({quality:80, mozjpeg:true})',
      run: (s) => sharpRun(sharpResize(s.buf).jpeg({ quality: 80, mozjpeg: true })),
    },
    {
      key: 'jsquash',
      label: 'jSquash',
      settings: '@jsquash/jpeg decode, @jsquash/resize lanczos3 (linearRGB:false), @jsquash/jpeg encode {quality:80} (MozJPEG defaults: progressive, trellis, 4:2:0)',
      run: (s) => jsquashPipeline(s, (img) => jsq.encodeJpeg(img, { quality: 80 })),
    },
  ],
  webp: [
    {
      key: 'ours',
      label: 'mediaslim wasm',
      settings: "{width:1600, format:'webp', quality:80, effort:4, neverBigger:false} (lossy; libwebp method 4; libwebp " + LIBWEBP_OURS + ' via libwebp-sys, C compiled by clang to wasm32 without SIMD: libwebp has SSE2/SSE4.1/NEON/MIPS paths but none for wasm simd128)',
      run: (s) => oursRun(s, { format: 'webp', quality: 80, effort: 4 }),
    },
    {
      key: 'sharp',
      label: 'sharp',
      settings: `resize lanczos3 + webp({quality:80, effort:4}) (native libwebp ${sharp.versions.webp}, method 4)`,
      run: (s) => sharpRun(sharpResize(s.buf).webp({ quality: 80, effort: 4 })),
    },
    {
      key: 'jsquash',
      label: 'jSquash',
      settings: `@jsquash/webp encode {quality:80, method:4} (other options at their defaults; libwebp ${jsq.webpVersion}, Emscripten ${jsq.webpSimd ? 'SIMD build webp_enc_simd.wasm' : 'non-SIMD build webp_enc.wasm'})`,
      run: (s) => jsquashPipeline(s, (img) => jsq.encodeWebp(img, { quality: 80, method: 4 })),
    },
  ],
  avif: [
    {
      key: 'ours',
      label: 'mediaslim wasm',
      settings: "{width:1600, format:'avif', quality:60, effort:4, neverBigger:false} (libaom in wasm, cpu-used 7, 8-bit 4:2:0 at this quality)",
      run: (s) => oursRun(s, { format: 'avif', quality: 60, effort: 4 }),
    },
    {
      key: 'sharp',
      label: 'sharp',
      settings: 'resize lanczos3 + avif({quality:50, effort:3}) (libaom, 8-bit, 4:4:4 default)',
      run: (s) => sharpRun(sharpResize(s.buf).avif({ quality: 50, effort: 3 })),
    },
    {
      key: 'jsquash',
      label: 'jSquash',
      settings: '@jsquash/avif encode defaults {quality:50, speed:6, subsample:1 (4:2:0), 8-bit} (libaom)',
      run: (s) => jsquashPipeline(s, (img) => jsq.encodeAvif(img, { quality: 50 })),
    },
    {
      key: 'jsquash-444',
      label: 'jSquash 4:4:4',
      settings: '@jsquash/avif {quality:50, speed:6, subsample:3 (4:4:4)}: same chroma work as ours',
      run: (s) => jsquashPipeline(s, (img) => jsq.encodeAvif(img, { quality: 50, subsample: 3 })),
    },
  ],
  png: [
    {
      key: 'ours',
      label: 'mediaslim wasm',
      settings: "{width:1600, format:'png', effort:4, neverBigger:false} (oxipng level 2)",
      run: (s) => oursRun(s, { format: 'png', effort: 4 }),
    },
    {
      key: 'jsquash',
      label: 'jSquash',
      settings: '@jsquash/png encode, then @jsquash/oxipng optimise {level:2}',
      run: (s) =>
        jsquashPipeline(s, async (img) => jsq.oxipng(await jsq.encodePng(img), { level: 2 })),
    },
  ],
};
const EXT = { jpeg: 'jpg', webp: 'webp', avif: 'avif', png: 'png' };
const OURS_OPTIONS = {
  jpeg: { width: WIDTH, format: 'jpeg', quality: 80, chromaSubsampling: '4:2:0', neverBigger: false },
  webp: { width: WIDTH, format: 'webp', quality: 80, effort: 4, neverBigger: false },
  avif: { width: WIDTH, format: 'avif', quality: 60, effort: 4, neverBigger: false },
  png: { width: WIDTH, format: 'png', effort: 4, neverBigger: false },
};

// ---------------------------------------------------------------------------------------
// Sources: each photo once as JPEG q92 (sRGB, 3 channels, alpha flattened onto white), and a
// common reference for the scores: the source resized by libvips lanczos3 from the full
// decode (fastShrinkOnLoad off), as lossless PNG.

async function prepareSources() {
  const srcDir = mkdir(path.join(OUT, 'sources'));
  const refDir = mkdir(path.join(OUT, 'refs'));
  let photos = readdirSync(CORPUS).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
  const sources = [];
  for (const f of photos) {
    const stem = f.replace(/\.[^.]+$/, '');
    const jpg = path.join(srcDir, `${stem}.jpg`);
    const ref = path.join(refDir, `${stem}.png`);
    const input = path.join(CORPUS, f);
    if (!existsSync(jpg) || statSync(jpg).mtimeMs < statSync(input).mtimeMs) {
      await sharp(input)
        .rotate()
        .flatten({ background: '#ffffff' })
        .toColourspace('srgb')
        .jpeg({ quality: 92, chromaSubsampling: '4:2:0' })
        .toFile(jpg);
    }
    if (!existsSync(ref) || statSync(ref).mtimeMs < statSync(jpg).mtimeMs) {
      await sharp(jpg)
        .resize({ width: WIDTH, withoutEnlargement: true, kernel: 'lanczos3', fastShrinkOnLoad: false })
        .png({ compressionLevel: 1 })
        .toFile(ref);
    }
    const buf = readFileSync(jpg);
    const meta = await sharp(buf).metadata();
    sources.push({
      stem,
      file: jpg,
      ref,
      buf,
      u8: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength),
      ab: exactBuffer(buf),
      width: meta.width,
      height: meta.height,
      channels: meta.channels,
    });
  }
  return sources;
}

// `n` sources spread over the range of pixel counts (smallest to largest).
function spread(sources, n) {
  if (n === 0 || n >= sources.length) return sources;
  const bySize = [...sources].sort((a, b) => a.width * a.height - b.width * b.height);
  const pick = new Set();
  for (let k = 0; k < n; k++) pick.add(bySize[Math.round((k * (bySize.length - 1)) / Math.max(1, n - 1))]);
  return sources.filter((s) => pick.has(s));
}

// ---------------------------------------------------------------------------------------
// Timing

async function timeFormat(format, sources, reps) {
  const tools = TOOLS[format];
  const outDir = path.join(OUT, 'outputs', format);
  const results = {};
  for (const tool of tools) results[tool.key] = [];
  // Warm-up: one untimed run per tool (wasm compilation tiers, libvips init, page faults),
  // on the smallest source so it costs little.
  const smallest = [...sources].sort((a, b) => a.width * a.height - b.width * b.height)[0];
  for (const tool of tools) await tool.run(smallest);
  for (const [i, src] of sources.entries()) {
    const t0 = performance.now();
    // Tools interleaved per repetition, so slow drift (thermal, other load) hits all alike.
    const runs = Object.fromEntries(tools.map((t) => [t.key, []]));
    let last = {};
    for (let r = 0; r < reps; r++) {
      for (const tool of tools) {
        const c0 = process.cpuUsage(); // the whole process: sharp's libuv worker threads too
        const t = performance.now();
        const out = await tool.run(src);
        const total = performance.now() - t;
        const c = process.cpuUsage(c0);
        runs[tool.key].push({ total, cpu: (c.user + c.system) / 1000, ...(out.stages ?? {}) });
        last[tool.key] = out;
      }
    }
    for (const tool of tools) {
      const out = last[tool.key];
      const file = path.join(mkdir(path.join(outDir, tool.key)), `${src.stem}.${EXT[format]}`);
      writeFileSync(file, out.bytes);
      const rr = runs[tool.key];
      const stage = (k) => (rr[0][k] === undefined ? undefined : median(rr.map((x) => x[k])));
      results[tool.key].push({
        stem: src.stem,
        srcWidth: src.width,
        srcHeight: src.height,
        width: out.width,
        height: out.height,
        bytes: out.bytes.length,
        fnv1a: fnv1a(out.bytes),
        file,
        ms: median(rr.map((x) => x.total)),
        cpuMs: median(rr.map((x) => x.cpu)),
        stages: rr[0].decode === undefined ? null : { decode: stage('decode'), resize: stage('resize'), encode: stage('encode') },
        runs: rr,
      });
    }
    log(`${format} ${i + 1}/${sources.length} ${src.stem} (${src.width}x${src.height}) ${fmt(performance.now() - t0)} ms`);
  }
  return results;
}

// ---------------------------------------------------------------------------------------
// Native: the same Rust pipeline through examples/bench_native.rs.

function cargo(argv) {
  return spawnSync('cargo', argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, PATH: `${os.homedir()}/.cargo/bin:${process.env.PATH}` } });
}

function buildExamples() {
  log('building native examples (cargo build --release --example bench_native --example ssimulacra2_score)');
  const r = cargo(['build', '--release', '--quiet', '--example', 'bench_native', '--example', 'ssimulacra2_score']);
  if (r.error || r.status !== 0) {
    log(`native build failed: ${r.error?.message ?? r.stderr.slice(-2000)}`);
    return false;
  }
  return true;
}

const exampleBin = (name) => path.join(ROOT, 'target', 'release', 'examples', name);

function runNative(format, sources, reps) {
  const outDir = mkdir(path.join(OUT, 'outputs', format, 'native'));
  const r = spawnSync(
    exampleBin('bench_native'),
    ['--reps', String(reps), '--warmup', reps > 1 ? '1' : '0', '--out', outDir, JSON.stringify(OURS_OPTIONS[format]), ...sources.map((s) => s.file)],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  if (r.status !== 0) throw new Error(`bench_native failed: ${r.stderr}`);
  const byFile = new Map(
    r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)).map((j) => [j.file, j]),
  );
  return sources.map((s) => {
    const j = byFile.get(s.file);
    return {
      stem: s.stem,
      bytes: j.bytes,
      fnv1a: j.fnv1a,
      ms: j.total,
      stages: { decode: j.decode, resize: j.resize, encode: j.encode },
      runs: j.runs,
    };
  });
}

// ---------------------------------------------------------------------------------------
// Scores: SSIMULACRA2 (examples/ssimulacra2_score.rs) of every output against
//  - the common reference (the source resized by libvips from the full decode), and
//  - the tool's own lossless resize (its decode + resize, no lossy encode): the encoder's loss alone.
// JPEG, WebP and AVIF outputs are decoded by sharp (libjpeg-turbo-style mozjpeg, libwebp, libheif) to PNG
// first: that is how a browser decodes them, and the Rust side has no AVIF decoder.

async function scoreAll(pairs) {
  if (pairs.length === 0) return [];
  const decodedDir = mkdir(path.join(OUT, 'outputs', 'decoded'));
  const decoded = new Map();
  const prepared = [];
  for (const p of pairs) {
    let dist = p.dist;
    if (!dist.endsWith('.png')) {
      if (!decoded.has(dist)) {
        const rel = path.relative(path.join(OUT, 'outputs'), dist).replaceAll(path.sep, '__');
        const png = path.join(decodedDir, `${rel}.png`);
        await sharp(dist).png({ compressionLevel: 1 }).toFile(png);
        decoded.set(dist, png);
      }
      dist = decoded.get(dist);
    }
    prepared.push({ ref: p.ref, dist });
  }
  const r = spawnSync(exampleBin('ssimulacra2_score'), [], {
    input: JSON.stringify(prepared),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`ssimulacra2_score failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

// How close each tool's resize alone is to the reference: its resized pixels, losslessly.
async function losslessResizes(sources) {
  const dir = mkdir(path.join(OUT, 'outputs', 'resize-only'));
  const out = [];
  for (const s of sources) {
    const ours = await optimize(s.u8, { width: WIDTH, format: 'png', effort: 0, neverBigger: false });
    const oursFile = path.join(mkdir(path.join(dir, 'ours')), `${s.stem}.png`);
    writeFileSync(oursFile, ours.bytes);
    const sharpFile = path.join(mkdir(path.join(dir, 'sharp')), `${s.stem}.png`);
    await sharpResize(s.buf).png({ compressionLevel: 1 }).toFile(sharpFile);
    let img = await jsq.decodeJpeg(s.ab.slice(0));
    const [w, h] = targetSize(img.width, img.height);
    if (w !== img.width) img = await jsq.resize(img, { width: w, height: h, method: 'lanczos3', premultiply: true, linearRGB: false });
    const jsqFile = path.join(mkdir(path.join(dir, 'jsquash')), `${s.stem}.png`);
    await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
      raw: { width: img.width, height: img.height, channels: 4 },
    })
      .png({ compressionLevel: 1 })
      .toFile(jsqFile);
    out.push({ stem: s.stem, ref: s.ref, files: { ours: oursFile, sharp: sharpFile, jsquash: jsqFile } });
  }
  return out;
}
// Whose lossless resize a tool's output is compared with, for the "own" score.
const OWN_RESIZE = { ours: 'ours', sharp: 'sharp', 'sharp-moz': 'sharp', jsquash: 'jsquash', 'jsquash-444': 'jsquash' };

// ---------------------------------------------------------------------------------------
// Report

function summarize(format, results, native) {
  const tools = TOOLS[format];
  const rows = {};
  for (const t of tools) {
    const r = results[t.key];
    const scores = r.map((x) => x.score).filter(Number.isFinite);
    const own = r.map((x) => x.scoreOwn).filter(Number.isFinite);
    rows[t.key] = {
      label: t.label,
      settings: t.settings,
      images: r.length,
      medianMs: median(r.map((x) => x.ms)),
      totalMs: sum(r.map((x) => x.ms)),
      cpuOverWall: ratio(sum(r.map((x) => x.cpuMs)), sum(r.map((x) => x.ms))),
      totalBytes: sum(r.map((x) => x.bytes)),
      meanScore: mean(scores),
      meanScoreOwn: mean(own),
      scored: scores.length,
    };
  }
  const ours = results.ours;
  for (const t of tools) {
    if (t.key === 'ours') continue;
    const peer = results[t.key];
    rows[t.key].oursOverPeer = {
      time: ratio(rows.ours.totalMs, rows[t.key].totalMs),
      bytes: ratio(rows.ours.totalBytes, rows[t.key].totalBytes),
      timeGeomean: geomean(ours.map((o, i) => o.ms / peer[i].ms)),
      bytesGeomean: geomean(ours.map((o, i) => o.bytes / peer[i].bytes)),
    };
  }
  let stages = null;
  if (native) {
    const st = (list, k) => sum(list.map((x) => x.stages?.[k] ?? NaN));
    const keys = ['decode', 'resize', 'encode'];
    stages = {
      wasm: Object.fromEntries([...keys.map((k) => [k, st(ours, k)]), ['total', sum(ours.map((x) => x.ms))]]),
      native: Object.fromEntries([...keys.map((k) => [k, st(native, k)]), ['total', sum(native.map((x) => x.ms))]]),
    };
    if (results.jsquash) {
      stages.jsquash = Object.fromEntries([...keys.map((k) => [k, st(results.jsquash, k)]), ['total', sum(results.jsquash.map((x) => x.ms))]]);
    }
    stages.nativeOverWasm = Object.fromEntries(Object.keys(stages.wasm).map((k) => [k, ratio(stages.native[k], stages.wasm[k])]));
    stages.identicalBytes = ours.filter((o, i) => o.fnv1a === native[i].fnv1a).length;
    stages.images = ours.length;
  }
  return { rows, stages };
}

function report(data) {
  const L = [];
  const p = (s = '') => L.push(s);
  p(`# mediaslim benchmark (${data.date})`);
  p();
  p(`Machine: ${data.env.cpu} x${data.env.cores}, Node ${data.env.node}; load average before/after: ${data.env.loadBefore.map((x) => x.toFixed(2)).join(' ')} / ${data.env.loadAfter.map((x) => x.toFixed(2)).join(' ')}.`);
  p(`Sources: ${data.sources.length} photos from ../shared/corpus/photos, re-encoded once as JPEG q92 4:2:0 sRGB (bench/out/sources). Job: decode -> resize to ${WIDTH} px wide (lanczos3; narrower photos keep their size) -> encode. One thread per tool, one job at a time.`);
  p(`Times: wall time per image, median of ${data.args.reps} run(s) for JPEG${data.formats.webp ? ' and WebP' : ''}${data.formats.avif ? `, 1 run for AVIF` : ''}${data.formats.png ? ', 1 run for PNG' : ''}, after one warm-up run per tool. Scores: SSIMULACRA2 (higher is better; ~90 visually lossless, ~70 medium) of the output, decoded by sharp as a browser would, against (ref) the source resized by libvips lanczos3 from the full decode (bench/out/refs) and against (own) the tool's own decode + resize before its lossy encode.`);
  p(`Versions: sharp ${data.env.sharp} (libvips ${data.env.libvips}, mozjpeg ${data.env.mozjpeg}, aom ${data.env.aom}, libwebp ${data.env.libwebp}); ours: libwebp ${LIBWEBP_OURS}; @jsquash/jpeg ${data.env.jsquash.jpeg}, resize ${data.env.jsquash.resize}, webp ${data.env.jsquash.webp} (libwebp ${jsq.webpVersion}), avif ${data.env.jsquash.avif}, png ${data.env.jsquash.png}, oxipng ${data.env.jsquash.oxipng}.`);
  for (const [format, f] of Object.entries(data.formats)) {
    const { rows, stages } = f.summary;
    p();
    p(`## ${format.toUpperCase()}: ${f.images.length} image(s)${f.subsetNote ? ` (${f.subsetNote})` : ''}`);
    p();
    p('Settings:');
    for (const t of TOOLS[format]) p(`- ${t.label}: ${t.settings}`);
    p();
    p(
      table(
        ['tool', 'median ms/image', 'total ms', 'CPU/wall', 'total KB', 'mean SSIMULACRA2 (vs ref / vs own resize)', 'time ours/peer', 'bytes ours/peer'],
        TOOLS[format].map((t) => {
          const r = rows[t.key];
          const o = r.oursOverPeer;
          return [
            r.label,
            fmt(r.medianMs),
            fmt(r.totalMs),
            fmt(r.cpuOverWall, 2),
            kb(r.totalBytes),
            r.scored ? `${fmt(r.meanScore, 2)} / ${fmt(r.meanScoreOwn, 2)}` : 'n/a',
            o ? `${fmt(o.time, 2)} (geo ${fmt(o.timeGeomean, 2)})` : '-',
            o ? `${fmt(o.bytes, 3)} (geo ${fmt(o.bytesGeomean, 3)})` : '-',
          ];
        }),
      ),
    );
    p();
    p('CPU/wall: process CPU time over wall time while the job ran (about 1 = one busy thread; V8 compiler and GC threads count too). Ratios ours/peer: of the totals, with the geometric mean of the per-image ratios in brackets.');
    p();
    p('Per image (ms = median wall time; KB; s2 = SSIMULACRA2 vs ref / vs own resize):');
    p();
    const tools = TOOLS[format];
    p(
      table(
        ['image', 'size', ...tools.flatMap((t) => [`${t.label} ms`, 'KB', 's2']), ...tools.filter((t) => t.key !== 'ours').map((t) => `ours/${t.label} time, bytes`)],
        f.images.map((src, i) => {
          const o = f.results.ours[i];
          return [
            src.stem,
            `${src.width}x${src.height}->${o.width}x${o.height}`,
            ...tools.flatMap((t) => {
              const x = f.results[t.key][i];
              return [fmt(x.ms), kb(x.bytes), `${fmt(x.score, 1)}/${fmt(x.scoreOwn, 1)}`];
            }),
            ...tools
              .filter((t) => t.key !== 'ours')
              .map((t) => {
                const x = f.results[t.key][i];
                return `${fmt(o.ms / x.ms, 2)}, ${fmt(o.bytes / x.bytes, 2)}`;
              }),
          ];
        }),
      ),
    );
    if (stages) {
      p();
      p(`Stages (ms summed over the ${stages.images} images; each a median of the runs). wasm/native ratio = native time / wasm time (goal >= 0.6):`);
      p();
      const cols = ['decode', 'resize', 'encode', 'total'];
      const rowsS = [
        ['ours wasm (Node)', ...cols.map((k) => fmt(stages.wasm[k]))],
        ['ours native', ...cols.map((k) => fmt(stages.native[k]))],
        ['wasm/native ratio', ...cols.map((k) => (stages.wasm[k] < 5 ? 'n/a (< 5 ms)' : `${fmt(stages.nativeOverWasm[k], 2)}${stages.nativeOverWasm[k] >= 0.6 ? '' : ' (below 0.6)'}`))],
      ];
      if (stages.jsquash) {
        rowsS.push(['jSquash (wasm)', ...cols.map((k) => fmt(stages.jsquash[k]))]);
        rowsS.push(['ours wasm / jSquash', ...cols.map((k) => (stages.jsquash[k] < 5 ? 'n/a (< 5 ms)' : fmt(ratio(stages.wasm[k], stages.jsquash[k]), 2)))]);
      }
      p(table(['', ...cols], rowsS));
      p();
      p(`(total = wall time around one optimize() call, including copies in and out of wasm; stage sums exclude those.) Native output identical to wasm output for ${stages.identicalBytes}/${stages.images} images.`);
    }
  }
  if (data.resizeAgreement) {
    p();
    p("## Decode + resize alone vs the reference (each tool's pixels before the lossy encode, as lossless PNG)");
    p();
    p('The ceiling of each tool\'s "vs ref" score: differences here come from the JPEG decoder (IDCT and chroma upsampling rounding) and the resampler, not the encoder.');
    p();
    const ra = data.resizeAgreement;
    const unresized = data.sources.filter((s) => s.width <= WIDTH).map((s) => s.stem);
    const resized = data.sources.filter((s) => s.width > WIDTH).map((s) => s.stem);
    const m = (v, stems) => mean(stems.map((s) => v.perImage[s]).filter(Number.isFinite));
    p(
      table(
        ['tool', 'mean SSIMULACRA2', 'min', `mean, ${unresized.length} photos not resized (decode only)`, `mean, ${resized.length} photos resized`],
        Object.entries(ra).map(([k, v]) => [k, fmt(v.mean, 2), fmt(v.min, 2), fmt(m(v, unresized), 2), fmt(m(v, resized), 2)]),
      ),
    );
  }
  if (data.pool) {
    const { photos, outputs, seconds, speedup, oursOverSharp } = data.pool;
    p();
    p(`## Pool throughput (bench/pool.mjs: ${photos} photos -> ${outputs} outputs, 1600 px, both cores)`);
    p();
    p(table(['run', 'seconds', 'images/s'], [['mediaslim, 1 worker', seconds.one], ['mediaslim, 2 workers', seconds.two], ['sharp, default concurrency', seconds.sharp]].map(([name, s]) => [name, fmt(s, 1), fmt(photos / s, 2)])));
    p();
    p(`2 workers / 1 worker: ${fmt(speedup, 2)}x (goal >= 1.8x); ours (2 workers) / sharp throughput: ${fmt(oursOverSharp, 2)}x`);
  }
  p();
  p('## Module sizes (what a web page downloads for the codec)');
  p();
  p(table(['module', 'raw KB', 'gzip -9 KB'], data.moduleSizes.map((m) => [m.name, kb(m.raw), kb(m.gzip)])));
  return L.join('\n');
}

function chart(data) {
  // Grouped bars: for each format and peer, time and bytes ratios ours/peer (1 = equal).
  const groups = [];
  for (const [format, f] of Object.entries(data.formats)) {
    for (const [key, r] of Object.entries(f.summary.rows)) {
      if (!r.oursOverPeer) continue;
      groups.push({ label: `${format.toUpperCase()} vs ${r.label}`, time: r.oursOverPeer.time, bytes: r.oursOverPeer.bytes });
    }
    if (f.summary.stages) groups.push({ label: `${format.toUpperCase()} wasm speed`, time: f.summary.stages.nativeOverWasm.total, bytes: NaN });
  }
  const W = 120 * groups.length + 120, H = 360, top = 40, bottom = 300, left = 60;
  const max = Math.max(2, ...groups.flatMap((g) => [g.time, g.bytes]).filter(Number.isFinite)) * 1.08;
  const y = (v) => bottom - (v / max) * (bottom - top);
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 40}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">mediaslim / peer: time and bytes (1 = equal; below 1 = ours faster or smaller). native/wasm: wasm speed as a fraction of native (goal 0.6)</text>`,
  ];
  for (let v = 0; v <= max; v += max > 6 ? 1 : 0.5) {
    parts.push(`<line x1="${left}" x2="${W - 20}" y1="${y(v)}" y2="${y(v)}" stroke="${v === 1 ? '#c00' : '#ddd'}" stroke-width="${v === 1 ? 1.5 : 1}"/>`);
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  groups.forEach((g, i) => {
    const x0 = left + 20 + i * 120;
    [['time', g.time, '#4a7bd0'], ['bytes', g.bytes, '#e69a28']].forEach(([name, v, color], j) => {
      if (!Number.isFinite(v)) return;
      const x = x0 + j * 40;
      parts.push(`<rect x="${x}" y="${y(v)}" width="34" height="${bottom - y(v)}" fill="${color}"><title>${esc(g.label)} ${name}: ${v.toFixed(3)}</title></rect>`);
      parts.push(`<text x="${x + 17}" y="${y(v) - 4}" text-anchor="middle">${v.toFixed(2)}</text>`);
    });
    parts.push(`<text x="${x0 + 37}" y="${bottom + 16}" text-anchor="middle">${esc(g.label.split(' vs ')[0])}</text>`);
    parts.push(`<text x="${x0 + 37}" y="${bottom + 30}" text-anchor="middle">${esc(g.label.includes(' vs ') ? 'vs ' + g.label.split(' vs ')[1] : '(native ms / wasm ms)')}</text>`);
  });
  parts.push(`<rect x="${left}" y="${H + 10}" width="12" height="12" fill="#4a7bd0"/><text x="${left + 16}" y="${H + 20}">time ratio (ours/peer; for native/wasm: native time / wasm time)</text>`);
  parts.push(`<rect x="${left + 380}" y="${H + 10}" width="12" height="12" fill="#e69a28"/><text x="${left + 396}" y="${H + 20}">bytes ratio (ours/peer)</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------
// Main

const started = performance.now();
const loadBefore = os.loadavg();
mkdir(OUT);
log('preparing sources (cached in bench/out/sources)');
let sources = await prepareSources();
if (args.photos) sources = spread(sources, args.photos);
const haveNative = (args.native || args.score) && buildExamples();

const plan = [
  ['jpeg', sources, args.reps, null],
  ['webp', sources, args.reps, null],
  ['avif', spread(sources, args.avif), 1, args.avif < sources.length ? `AVIF restricted to ${args.avif} photos spread over the size range: in wasm it takes seconds per image` : null],
  ['png', spread(sources, args.png), 1, args.png < sources.length ? `PNG restricted to ${args.png} photos spread over the size range` : null],
].filter(([format]) => !(format === 'avif' && args.avif === 0) && !(format === 'png' && args.png === 0));
const formats = {};
for (const [format, list, reps, subsetNote] of plan) {
  log(`${format}: ${list.length} image(s), ${reps} run(s) each`);
  const results = await timeFormat(format, list, reps);
  let native = null;
  if (args.native && haveNative) {
    log(`${format}: native`);
    native = runNative(format, list, reps);
  }
  formats[format] = { images: list.map(({ stem, width, height }) => ({ stem, width, height })), subsetNote, reps, results, native };
}

let resizeAgreement = null;
if (args.score && haveNative) {
  log('scoring (SSIMULACRA2, two threads)');
  const lossless = await losslessResizes(sources);
  const ownFile = new Map(lossless.flatMap((l) => Object.entries(l.files).map(([tool, file]) => [`${tool}/${l.stem}`, file])));
  const pairs = [];
  for (const f of Object.values(formats)) {
    for (const [tool, list] of Object.entries(f.results)) {
      for (const x of list) {
        pairs.push({ ref: path.join(OUT, 'refs', `${x.stem}.png`), dist: x.file, target: x, field: 'score' });
        pairs.push({ ref: ownFile.get(`${OWN_RESIZE[tool]}/${x.stem}`), dist: x.file, target: x, field: 'scoreOwn' });
      }
    }
  }
  for (const l of lossless) for (const [tool, file] of Object.entries(l.files)) pairs.push({ ref: l.ref, dist: file, resize: tool, stem: l.stem });
  const scores = await scoreAll(pairs);
  const agreement = {};
  pairs.forEach((p, i) => {
    const s = scores[i];
    if (s.error) log(`score failed for ${p.dist}: ${s.error}`);
    if (p.target) p.target[p.field] = s.score;
    if (p.resize && Number.isFinite(s.score)) (agreement[p.resize] ??= {})[p.stem] = s.score;
  });
  resizeAgreement = Object.fromEntries(
    Object.entries(agreement).map(([k, v]) => [k, { mean: mean(Object.values(v)), min: Math.min(...Object.values(v)), perImage: v }]),
  );
}

for (const [format, f] of Object.entries(formats)) f.summary = summarize(format, f.results, f.native);

const gz = (file) => {
  const raw = readFileSync(file);
  return { raw: raw.length, gzip: zlib.gzipSync(raw, { level: 9 }).length };
};
const moduleSizes = [
  { name: 'mediaslim_probe_bg.wasm (ours: headers only; what probe() runs in the page)', ...gz(path.join(ROOT, 'pkg', 'wasm', 'mediaslim_probe_bg.wasm')) },
  { name: 'mediaslim_core_bg.wasm (ours: JPEG, PNG and WebP decoding, resize, JPEG and WebP output; loaded first)', ...gz(path.join(ROOT, 'pkg', 'wasm', 'mediaslim_core_bg.wasm')) },
  { name: 'mediaslim_plus_bg.wasm (ours: the core plus PNG output, scoring, GIF and BMP input, the AVIF container; loaded when first needed)', ...gz(path.join(ROOT, 'pkg', 'wasm', 'mediaslim_plus_bg.wasm')) },
  { name: 'mediaslim_full_bg.wasm (ours: everything, also the AVIF encoder and video; loaded when first needed)', ...gz(path.join(ROOT, 'pkg', 'wasm', 'mediaslim_full_bg.wasm')) },
  { name: 'jSquash mozjpeg_dec.wasm', ...gz(jsq.files.jpegDec) },
  { name: 'jSquash mozjpeg_enc.wasm', ...gz(jsq.files.jpegEnc) },
  { name: 'jSquash squoosh_resize_bg.wasm', ...gz(jsq.files.resize) },
  { name: `jSquash ${path.basename(jsq.files.webpEnc)}`, ...gz(jsq.files.webpEnc) },
  { name: 'jSquash avif_enc.wasm', ...gz(jsq.files.avifEnc) },
  { name: 'jSquash squoosh_png_bg.wasm', ...gz(jsq.files.pngEnc) },
  { name: 'jSquash squoosh_oxipng_bg.wasm', ...gz(jsq.files.oxipng) },
];
const jsqModules = moduleSizes.filter((m) => m.name.startsWith('jSquash'));
moduleSizes.push({
  name: 'jSquash total for the formats above',
  raw: sum(jsqModules.map((m) => m.raw)),
  gzip: sum(jsqModules.map((m) => m.gzip)),
});

// The pool on both cores, after the one-thread timings (a child process: its own workers).
let pool;
if (args.pool) {
  const photos = args.quick ? ['--photos', '8', '--avif', '2'] : [];
  rmSync(path.join(OUT, 'pool.json'), { force: true });
  const run = spawnSync(process.execPath, [path.join(ROOT, 'bench', 'pool.mjs'), ...photos], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`bench/pool.mjs failed (exit ${run.status})`);
  if (existsSync(path.join(OUT, 'pool.json'))) pool = JSON.parse(readFileSync(path.join(OUT, 'pool.json'), 'utf8'));
}

const data = {
  date: new Date().toISOString(),
  args,
  env: {
    node: process.versions.node,
    cpu: os.cpus()[0]?.model ?? '?',
    cores: os.cpus().length,
    loadBefore,
    loadAfter: os.loadavg(),
    sharp: sharp.versions.sharp,
    libvips: sharp.versions.vips,
    mozjpeg: sharp.versions.mozjpeg,
    aom: sharp.versions.aom,
    libwebp: sharp.versions.webp,
    libwebpOurs: LIBWEBP_OURS,
    jsquashLibwebp: jsq.webpVersion,
    jsquashWebpBuild: path.basename(jsq.files.webpEnc),
    jsquash: Object.fromEntries(['jpeg', 'resize', 'webp', 'avif', 'png', 'oxipng'].map((k) => [k, pkgVersion(`@jsquash/${k}`)])),
  },
  sources: sources.map(({ stem, width, height, channels, buf }) => ({ stem, width, height, channels, bytes: buf.length })),
  formats,
  resizeAgreement,
  moduleSizes,
  pool,
  seconds: (performance.now() - started) / 1e3,
};
const md = report(data) + `\n\n(bench ran for ${fmt(data.seconds)} s)\n`;
writeFileSync(path.join(OUT, 'bench.json'), JSON.stringify(data, null, 1));
writeFileSync(path.join(OUT, 'bench.md'), md);
writeFileSync(path.join(OUT, 'bench.svg'), chart(data));
console.log(md);
log(`wrote bench/out/bench.json, bench/out/bench.md, bench/out/bench.svg`);
