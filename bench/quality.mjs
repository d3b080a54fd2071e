#!/usr/bin/env node
// Bytes at equal visual quality: mediaslim vs sharp (libvips: mozjpeg on/off, libwebp, libaom)
// vs jSquash (mozjpeg, libwebp, libaom in wasm), quality: 'auto' vs fixed qualities, and
// browser-image-compression (in Chromium). See bench/README.md ("Quality").
//
//   npm run bench:quality                  # builds pkg/ first, then runs this file
//   node bench/quality.mjs [--photos N] [--avif-photos N] [--concurrency N] [--fresh]
//                          [--no-sweep] [--no-avif] [--no-auto] [--no-bic]
//
// Every encoder gets the same pixels: our own lossless 1600 px render of each photo
// (optimize(photo, {width:1600, format:'png', neverBigger:false}); narrower photos keep their
// size), so differences come from the encoders alone. Every output is scored with the same
// metric: mediaslim's SSIMULACRA2 (`compare(reference, output)`; AVIF outputs are decoded by
// sharp to PNG first, as our core has no AVIF decoder). Results: bench/out/quality.json,
// bench/out/quality.md, bench/out/quality.svg. Finished points are cached in
// bench/out/quality/cache.json (keyed by the reference pixels and each encoder's version, ours
// by the wasm's hash), so a re-run after a rebuild redoes only our side; --fresh recomputes
// everything (and rewrites those entries).

import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineChart } from './quality/chart.mjs';
import { bytesAtScore, monotone } from './quality/curves.mjs';
import { loadEncoders } from './quality/encoders.mjs';
import { Cache, fmt, fnv1a, geomean, kb, mapLimit, mean, mkdir, pct, sum, table } from './quality/util.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../shared/corpus/photos', import.meta.url));
const OUT = path.join(ROOT, 'bench', 'out');
const WORK = path.join(OUT, 'quality');
const WIDTH = 1600;
const TARGETS = [70, 80, 90];
const GOALS = { jpeg: { peers: ['sharp-moz', 'jsquash-jpeg'], max: 1.02, text: 'JPEG bytes <= mozjpeg + 2%' }, webp: { peers: ['sharp-webp', 'jsquash-webp'], max: 1.01, text: 'WebP bytes <= libwebp + 1%' }, avif: { peers: ['sharp-avif', 'jsquash-avif'], max: 1.05, text: 'AVIF bytes <= libaom + 5%' } };
const DEFAULTS = { photos: 8, avifPhotos: 4, concurrency: 2 };

function parseArgs(argv) {
  const a = { ...DEFAULTS, fresh: false, sweep: true, avif: true, auto: true, bic: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${k} needs a whole number`);
      return v;
    };
    if (k === '--photos') a.photos = num();
    else if (k === '--avif-photos') a.avifPhotos = num();
    else if (k === '--concurrency') a.concurrency = Math.max(1, num());
    else if (k === '--fresh') a.fresh = true;
    else if (k === '--no-sweep') a.sweep = false;
    else if (k === '--no-avif') a.avif = false;
    else if (k === '--no-auto') a.auto = false;
    else if (k === '--no-bic') a.bic = false;
    else if (k === '-h' || k === '--help') {
      console.log(`usage: node bench/quality.mjs [--photos N (0 = all 24; default ${DEFAULTS.photos})] [--avif-photos N (default ${DEFAULTS.avifPhotos})]
       [--concurrency N (default ${DEFAULTS.concurrency})] [--fresh] [--no-sweep] [--no-avif] [--no-auto] [--no-bic]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${k} (try --help)`);
  }
  if (!a.sweep) a.avif = false;
  return a;
}

const args = parseArgs(process.argv.slice(2));
if (!existsSync(CORPUS)) {
  console.log(`bench:quality: no corpus at ${CORPUS} (it lives in ../shared/corpus/photos beside the repo); nothing to measure.`);
  process.exit(0);
}
if (!existsSync(path.join(ROOT, 'pkg', 'index.js'))) {
  console.error('bench:quality: pkg/ is missing: build it first (npm run build, or use npm run bench:quality).');
  process.exit(1);
}

const started = performance.now();
const loadBefore = os.loadavg();
const elapsed = () => `${fmt((performance.now() - started) / 1e3)} s`;
const log = (...m) => console.error(`[quality ${elapsed()}]`, ...m);
const { default: sharp } = await import('sharp');
const { optimize, compare, Pool, defaultPool } = await import('../pkg/index.js');
sharp.concurrency(1); // one libvips thread per operation: the machine is shared; nothing here is timed but 'auto'
sharp.cache(false);
const pool = new Pool({ size: args.concurrency });
const { encoders, wasmHash } = await loadEncoders({ root: ROOT, optimize, sharp, pool });
const cache = new Cache(path.join(WORK, 'cache.json'), !args.fresh);
mkdir(WORK);

// ---------------------------------------------------------------------------------------
// Photos and references

const MIME = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp' };

// `n` photos spread over the range of pixel counts (as bench/run.mjs picks them).
function spread(list, n) {
  if (n === 0 || n >= list.length) return list;
  const bySize = [...list].sort((a, b) => a.pixels - b.pixels);
  const pick = new Set();
  for (let k = 0; k < n; k++) pick.add(bySize[Math.round((k * (bySize.length - 1)) / Math.max(1, n - 1))]);
  return list.filter((s) => pick.has(s));
}

async function listPhotos() {
  const out = [];
  for (const f of readdirSync(CORPUS).sort()) {
    if (!MIME[path.extname(f).toLowerCase()]) continue;
    const file = path.join(CORPUS, f);
    const meta = await sharp(file).metadata();
    out.push({ name: f, stem: f.replace(/\.[^.]+$/, ''), file, type: MIME[path.extname(f).toLowerCase()], srcWidth: meta.width, srcHeight: meta.height, pixels: meta.width * meta.height });
  }
  return out;
}

// The reference: our own lossless render at 1600 px wide (or the photo's size if narrower),
// made opaque (alpha flattened onto white by sharp, pixels otherwise untouched) when it has an
// alpha channel, so every encoder, JPEG included, starts from the same pixels.
async function makeReference(photo, width) {
  const dir = mkdir(path.join(WORK, width ? 'refs' : 'refs-full'));
  const file = path.join(dir, `${photo.stem}.png`);
  const orig = readFileSync(photo.file);
  const origHash = fnv1a(orig);
  const key = `ref|${photo.stem}|${origHash}|w${width ?? 'full'}|${wasmHash}`;
  const hit = cache.get(key);
  if (hit && existsSync(file)) {
    const png = new Uint8Array(readFileSync(file));
    if (fnv1a(png) === hit.hash) return { ...hit, png, file, orig, origHash };
  }
  // Full-size references only score outputs (bic's): fastest PNG effort, same pixels.
  const r = await optimize(orig, { ...(width ? { width } : { effort: 0 }), format: 'png', neverBigger: false, pool });
  let png = r.bytes;
  const meta = await sharp(png).metadata();
  let flattened = false;
  if (meta.hasAlpha) {
    png = new Uint8Array(await sharp(png).flatten({ background: '#ffffff' }).png({ compressionLevel: 9 }).toBuffer());
    flattened = true;
  }
  writeFileSync(file, png);
  const value = { width: r.width, height: r.height, channels: meta.hasAlpha ? meta.channels - 1 : meta.channels, flattened, bytes: png.length, hash: fnv1a(png) };
  cache.set(key, value);
  return { ...value, png, file, orig, origHash };
}

function withRgba(ref) {
  let rgba = null;
  ref.rgba = async () => {
    if (!rgba) {
      const { data, info } = await sharp(ref.png).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      rgba = { data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, colorSpace: 'srgb' };
    }
    return rgba;
  };
  return ref;
}

// SSIMULACRA2 of `bytes` against the reference, with the core's compare(); AVIF (which the
// core cannot decode) goes through sharp to lossless PNG first.
async function score(refPng, bytes, format) {
  let dist = bytes;
  if (format === 'avif') dist = await sharp(bytes).toColourspace('srgb').png({ compressionLevel: 1 }).toBuffer();
  return compare(refPng, dist, { pool });
}

// ---------------------------------------------------------------------------------------
// 1. Rate/quality sweeps

// Scores are memoized by content (reference hash + output hash): encoders that produce the
// same bytes (the three libwebp builds do) are scored once.
const scoring = new Map();
function scoreOnce(ref, bytes, format, known) {
  const key = `score|${ref.hash}|${fnv1a(bytes)}|${bytes.length}`;
  if (!scoring.has(key)) {
    const hit = cache.get(key);
    const p = hit !== undefined ? Promise.resolve(hit) : Number.isFinite(known) ? Promise.resolve(known) : score(ref.png, bytes, format);
    scoring.set(key, p.then((s) => (hit === undefined && cache.set(key, s), s)));
  }
  return scoring.get(key);
}

async function point(enc, ref, q) {
  const key = `pt|${enc.key}|q${q}|${ref.hash}|${enc.version}`;
  const hit = cache.get(key);
  if (hit) return { ...hit, cached: true };
  const out = await enc.encode(ref, q);
  const s = await scoreOnce(ref, out.bytes, enc.format, out.score);
  const value = { bytes: out.bytes.length, hash: fnv1a(out.bytes), score: s };
  cache.set(key, value);
  return value;
}

async function sweep(refs, avifStems) {
  const curves = {}; // encoderKey -> stem -> [{q, bytes, score}]
  for (const enc of encoders) curves[enc.key] = {};
  for (const [i, ref] of refs.entries()) {
    const t0 = performance.now();
    const encs = encoders.filter((e) => e.grid.length && (e.format !== 'avif' || avifStems.has(ref.stem)));
    const jobs = encs.flatMap((enc) => enc.grid.map((q) => ({ enc, q })));
    // AVIF first: the slowest jobs start early and the fast ones fill in around them.
    jobs.sort((a, b) => (b.enc.format === 'avif') - (a.enc.format === 'avif'));
    const results = await mapLimit(jobs, args.concurrency, async ({ enc, q }) => ({ enc, q, ...(await point(enc, ref, q)) }));
    for (const r of results) (curves[r.enc.key][ref.stem] ??= []).push({ q: r.q, bytes: r.bytes, hash: r.hash, score: r.score });
    cache.save();
    const cached = results.filter((r) => r.cached).length;
    log(`sweep ${i + 1}/${refs.length} ${ref.stem} ${ref.width}x${ref.height}: ${results.length} points${cached ? ` (${cached} cached)` : ''} in ${fmt((performance.now() - t0) / 1e3, 1)} s`);
  }
  return curves;
}

const oursOf = (format) => encoders.find((e) => e.format === format && !e.peer && !e.alt);
const BEST_LABEL = 'ours, better chroma per point (4:2:0 or 4:4:4)';

// Ours with the better chroma mode at each score: the smaller of the 4:2:0 and 4:4:4 curves'
// interpolated bytes at that score (either one where only one reaches it). A derived curve:
// `curves[key]` lists the curves it takes the minimum of.
const DERIVED = new Map();
function addBestCurves(curves) {
  for (const format of ['jpeg', 'webp', 'avif']) {
    const alts = encoders.filter((e) => e.format === format && e.alt && e.grid.length && curves[e.key]);
    const ours = oursOf(format);
    if (!alts.length || !curves[ours.key]) continue;
    DERIVED.set(`${ours.key}-best`, [ours.key, ...alts.map((a) => a.key)]);
  }
}

// Interpolated bytes of curve `key` on image `stem` at `score` (NaN where it does not reach it).
function bytesAt(curves, key, stem, score) {
  const parts = DERIVED.get(key);
  if (!parts) return bytesAtScore(curves[key]?.[stem] ?? [], score);
  const v = parts.map((k) => bytesAtScore(curves[k]?.[stem] ?? [], score)).filter(Number.isFinite);
  return v.length ? Math.min(...v) : NaN;
}

function ratioRows(curves, oursKey, peers, stems) {
  const rows = {};
  for (const peer of peers) {
    const perTarget = {};
    for (const t of TARGETS) {
      const perImage = {};
      for (const s of stems) {
        const o = bytesAt(curves, oursKey, s, t);
        const p = bytesAt(curves, peer.key, s, t);
        perImage[s] = { ours: o, peer: p, ratio: o / p };
      }
      const ratios = Object.values(perImage).map((x) => x.ratio).filter(Number.isFinite);
      perTarget[t] = { geomean: geomean(ratios), n: ratios.length, of: stems.length, min: Math.min(...ratios), max: Math.max(...ratios), perImage };
    }
    // Outputs byte-identical to ours at the same quality setting.
    const pairs = stems.flatMap((s) => (curves[oursKey]?.[s] ?? []).map((o) => [o, (curves[peer.key][s] ?? []).find((x) => x.q === o.q)])).filter(([, x]) => x);
    const identical = pairs.filter(([o, x]) => o.hash && o.hash === x.hash && o.bytes === x.bytes).length;
    rows[peer.key] = { label: peer.label, settings: peer.settings, perTarget, identical, compared: pairs.length };
  }
  return rows;
}

function equalScore(curves, refs, avifStems) {
  const out = {};
  for (const format of ['jpeg', 'webp', 'avif']) {
    const ours = oursOf(format);
    const peers = encoders.filter((e) => e.format === format && e.peer);
    const stems = refs.map((r) => r.stem).filter((s) => format !== 'avif' || avifStems.has(s));
    if (!stems.length || !curves[ours.key]) continue;
    const rows = ratioRows(curves, ours.key, peers, stems);
    const bestKey = `${ours.key}-best`;
    const best = DERIVED.has(bestKey) ? ratioRows(curves, bestKey, peers, stems) : null;
    // How far each encoder's sweep reaches: the images whose curve crosses each target.
    const keys = [...encoders.filter((e) => e.format === format && e.grid.length).map((e) => e.key), ...(best ? [bestKey] : [])];
    const reach = Object.fromEntries(keys.map((k) => [k, Object.fromEntries(TARGETS.map((t) => [t, stems.filter((s) => Number.isFinite(bytesAt(curves, k, s, t))).length]))]));
    out[format] = { ours: { key: ours.key, settings: ours.settings }, stems, rows, best, bestKey: best ? bestKey : null, reach };
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// 2. quality: 'auto' (target 'high' = 80) vs fixed qualities

async function autoRun(ref, format) {
  const key = `auto|${format}|high|${ref.hash}|${wasmHash}`;
  const hit = cache.get(key);
  if (hit) return { ...hit, cached: true };
  const t = performance.now();
  const r = await optimize(ref.png, { format, quality: 'auto', target: 'high', neverBigger: false, pool });
  const value = { bytes: r.bytes.length, score: r.score, quality: r.quality, lossless: r.lossless, encodes: r.encodes, ms: performance.now() - t, warnings: r.warnings };
  cache.set(key, value);
  return value;
}

// The lowest fixed quality whose minimum score over the set is >= `target`, for one of our
// encoder settings: bracketed by its sweep when it has one, then bisected over whole qualities
// (assumes the minimum score rises with quality), trying the image that was weakest at the
// last passing quality first, so a failing quality costs few encodes.
async function fixedQualityFor(enc, refs, sweepCurves, target) {
  const at = new Map(); // q -> stem -> {bytes, score}
  const put = (q, stem, v) => (at.has(q) ? at.get(q) : at.set(q, new Map()).get(q)).set(stem, v);
  for (const ref of refs) for (const p of sweepCurves?.[ref.stem] ?? []) put(p.q, ref.stem, p);
  const minAt = (q) => Math.min(...refs.map((r) => at.get(q)?.get(r.stem)?.score ?? NaN));
  let hint = null;
  const passes = async (q) => {
    const known = (stem) => at.get(q)?.get(stem)?.score ?? (hint !== null ? at.get(hint)?.get(stem)?.score : undefined) ?? -1;
    const order = [...refs].sort((a, b) => known(a.stem) - known(b.stem));
    for (const ref of order) {
      if (!at.get(q)?.has(ref.stem)) put(q, ref.stem, await point(enc, ref, q));
      if (!(at.get(q).get(ref.stem).score >= target)) return false;
    }
    hint = q;
    return true;
  };
  const grid = [...enc.grid].sort((a, b) => a - b);
  let hi = grid.find((q) => refs.every((r) => at.get(q)?.has(r.stem)) && minAt(q) >= target);
  if (hi !== undefined) hint = hi;
  else if (await passes(100)) hi = 100;
  if (hi === undefined) {
    // No quality reaches the target on every image: score them all at 100 to name the ones that fail.
    for (const ref of refs) if (!at.get(100)?.has(ref.stem)) put(100, ref.stem, await point(enc, ref, 100));
    cache.save();
    return { q: NaN, at, failing: refs.filter((r) => !(at.get(100)?.get(r.stem)?.score >= target)).map((r) => r.stem) };
  }
  // The highest quality below `hi` known to fail on some image (0 when none was measured).
  let lo = Math.max(0, ...[...at.keys()].filter((q) => q < hi && refs.some((r) => at.get(q).get(r.stem)?.score < target)));
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await passes(mid)) hi = mid;
    else lo = mid;
  }
  await passes(hi); // every image at the answer
  cache.save();
  return { q: hi, at };
}

async function autoVsFixed(refs, curves) {
  const out = {};
  for (const format of ['jpeg', 'webp']) {
    const perImage = [];
    for (const ref of refs) {
      const a = await autoRun(ref, format);
      perImage.push({ stem: ref.stem, auto: a });
      log(`auto ${format} ${ref.stem}: q${a.quality} ${kb(a.bytes)} KB score ${fmt(a.score, 2)}${a.lossless ? ' lossless' : ''}, ${a.encodes} encodes, ${fmt(a.ms)} ms${a.cached ? ' (cached)' : ''}`);
    }
    cache.save();
    // Candidate fixed settings: our default, and the variant ('alt') for the format (JPEG
    // 4:4:4, WebP sharp YUV). The comparison uses the one with the fewest total bytes.
    const ours = oursOf(format);
    const variants = [];
    for (const enc of encoders.filter((e) => e.format === format && !e.peer)) {
      const sweepCurves = curves?.[enc.key] ? Object.fromEntries(refs.map((r) => [r.stem, curves[enc.key][r.stem]])) : null;
      const f = await fixedQualityFor(enc, refs, sweepCurves, 80);
      const rows = Number.isFinite(f.q) ? refs.map((r) => f.at.get(f.q).get(r.stem)) : null;
      variants.push({
        key: enc.key,
        label: enc.label,
        settings: enc.settings,
        q: f.q,
        failing: f.failing ?? [],
        perImage: rows,
        totalBytes: rows ? sum(rows.map((x) => x.bytes)) : NaN,
        minScore: rows ? Math.min(...rows.map((x) => x.score)) : NaN,
        meanScore: rows ? mean(rows.map((x) => x.score)) : NaN,
        autoOverFixedGeomean: rows ? geomean(perImage.map((x, i) => x.auto.bytes / rows[i].bytes)) : NaN,
        autoOverFixedTotal: rows ? sum(perImage.map((x) => x.auto.bytes)) / sum(rows.map((x) => x.bytes)) : NaN,
      });
      log(`fixed ${enc.key}: lowest quality with min score >= 80: ${Number.isFinite(f.q) ? f.q : `none (${f.failing.join(', ')} stay below 80 at q100)`}`);
    }
    const best = variants.filter((v) => Number.isFinite(v.q)).sort((a, b) => a.totalBytes - b.totalBytes)[0] ?? null;
    for (const [i, ref] of refs.entries()) {
      perImage[i].fixed = best ? best.perImage[i] : null;
      perImage[i].q80 = curves?.[ours.key]?.[ref.stem]?.find((x) => x.q === 80) ?? (await point(ours, ref, 80));
    }
    cache.save();
    const r = (k) => perImage.map((x) => x.auto.bytes / x[k]?.bytes);
    out[format] = {
      fixedQ: best?.q ?? NaN,
      fixedVariant: best?.key ?? null,
      variants: variants.map(({ perImage: _, ...v }) => v),
      perImage,
      summary: {
        autoOverFixedGeomean: geomean(r('fixed')),
        autoOverFixedTotal: sum(perImage.map((x) => x.auto.bytes)) / sum(perImage.map((x) => x.fixed?.bytes ?? NaN)),
        autoOverQ80Geomean: geomean(r('q80')),
        autoOverQ80Total: sum(perImage.map((x) => x.auto.bytes)) / sum(perImage.map((x) => x.q80.bytes)),
        autoMinScore: Math.min(...perImage.map((x) => x.auto.score)),
        autoMeanScore: mean(perImage.map((x) => x.auto.score)),
        fixedMinScore: Math.min(...perImage.map((x) => x.fixed?.score ?? NaN)),
        fixedMeanScore: mean(perImage.map((x) => x.fixed?.score ?? NaN)),
        q80MinScore: Math.min(...perImage.map((x) => x.q80.score)),
        q80MeanScore: mean(perImage.map((x) => x.q80.score)),
        meanEncodes: mean(perImage.map((x) => x.auto.encodes)),
        maxEncodes: Math.max(...perImage.map((x) => x.auto.encodes)),
        meanMs: mean(perImage.map((x) => x.auto.ms)),
        cached: perImage.filter((x) => x.auto.cached).length,
      },
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// 3. browser-image-compression (Chromium) vs ours format: 'auto' (webp or jpeg)

const ACCEPT = ['webp', 'jpeg'];

async function oursAuto(input, inputHash, width, target) {
  const key = `fmtauto|${ACCEPT.join(',')}|${inputHash}|w${width ?? '-'}|t${target}|${wasmHash}`;
  const hit = cache.get(key);
  if (hit) return { ...hit, cached: true };
  const t = performance.now();
  const r = await optimize(input, { ...(width ? { width } : {}), format: 'auto', accept: ACCEPT, target, neverBigger: false, pool });
  const value = { bytes: r.bytes.length, format: r.format, quality: r.quality, lossless: r.lossless, score: r.score, encodes: r.encodes, width: r.width, height: r.height, ms: performance.now() - t, warnings: r.warnings };
  cache.set(key, value);
  return value;
}

async function bicBench(photos, refs) {
  const { startBic } = await import('./quality/bic.mjs');
  const files = {};
  for (const [i, p] of photos.entries()) {
    files[`/corpus/${p.name}`] = { type: p.type, body: refs[i].orig };
    files[`/refs/${p.stem}.png`] = { type: 'image/png', body: Buffer.from(refs[i].png) };
  }
  const bic = await startBic({ root: ROOT, files });
  const outDir = mkdir(path.join(WORK, 'bic'));
  const rows = [];
  try {
    for (const [i, p] of photos.entries()) {
      const ref = refs[i];
      const runs = {};
      const variants = [
        { key: 'ref', url: `/refs/${p.stem}.png`, name: `${p.stem}.png`, type: 'image/png', options: {} },
        { key: 'orig', url: `/corpus/${p.name}`, name: p.name, type: p.type, options: {} },
        { key: 'orig1600', url: `/corpus/${p.name}`, name: p.name, type: p.type, options: { maxWidthOrHeight: WIDTH } },
      ];
      for (const v of variants) {
        const inputHash = v.key === 'ref' ? ref.hash : ref.origHash;
        const key = `bic|${v.key}|${JSON.stringify(v.options)}|${inputHash}|${bic.version}|${bic.browserVersion}|${ref.hash}`;
        let r = cache.get(key);
        if (!r) {
          const out = await bic.run(v.url, v.name, v.type, v.options);
          const meta = await sharp(out.bytes).metadata();
          const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' }[out.type] ?? 'bin';
          writeFileSync(path.join(outDir, `${p.stem}.${v.key}.${ext}`), out.bytes);
          // Full-size outputs are scored against our lossless render at full size.
          let refPng = ref.png;
          if (meta.width !== ref.width || meta.height !== ref.height) refPng = (await makeReference(p, null)).png;
          const s = await compare(refPng, out.bytes, { pool });
          r = { bytes: out.bytes.length, type: out.type, width: meta.width, height: meta.height, score: s, ms: out.ms, fullSizeRef: refPng !== ref.png };
          cache.set(key, r);
        }
        runs[v.key] = r;
      }
      // Ours: format 'auto' (webp or jpeg) at target 'high', and at bic's own score when that is
      // higher (so ours is compared at an equal or higher score). From the reference PNG, and
      // from the original at width 1600 (for photos not wider than 1600, the original decodes to
      // exactly the reference's pixels, so the reference is used in its place).
      const ours = {};
      const oursOn = async (which, bicScore) => {
        const fromOrig = which === 'orig1600' && p.srcWidth > WIDTH;
        const input = fromOrig ? ref.orig : ref.png;
        const hash = fromOrig ? ref.origHash : ref.hash;
        const width = fromOrig ? WIDTH : null;
        const high = await oursAuto(input, hash, width, 'high');
        // A numeric target a hair above bic's score (targets are met with >=).
        const match = high.score >= bicScore ? high : await oursAuto(input, hash, width, Math.min(100, Math.ceil(bicScore * 100) / 100));
        return { high, match };
      };
      ours.ref = await oursOn('ref', runs.ref.score);
      ours.orig1600 = await oursOn('orig1600', runs.orig1600.score);
      cache.save();
      rows.push({ stem: p.stem, name: p.name, srcWidth: p.srcWidth, srcHeight: p.srcHeight, inputType: p.type, refBytes: ref.bytes, origBytes: ref.orig.length, bic: runs, ours });
      log(
        `bic ${i + 1}/${photos.length} ${p.stem}: bic(ref) ${runs.ref.type} ${kb(runs.ref.bytes)} KB s2 ${fmt(runs.ref.score, 1)}; ours high ${ours.ref.high.format} ${kb(ours.ref.high.bytes)} KB s2 ${fmt(ours.ref.high.score, 1)}; ours @bic ${ours.ref.match.format} ${kb(ours.ref.match.bytes)} KB s2 ${fmt(ours.ref.match.score, 1)}`,
      );
    }
  } finally {
    await bic.close();
  }
  const summarize = (which) => {
    const high = rows.map((r) => r.ours[which].high.bytes / r.bic[which].bytes);
    const match = rows.map((r) => r.ours[which].match.bytes / r.bic[which].bytes);
    return {
      images: rows.length,
      bicTotal: sum(rows.map((r) => r.bic[which].bytes)),
      bicMeanScore: mean(rows.map((r) => r.bic[which].score)),
      bicMinScore: Math.min(...rows.map((r) => r.bic[which].score)),
      bicTypes: [...new Set(rows.map((r) => r.bic[which].type))],
      highTotal: sum(rows.map((r) => r.ours[which].high.bytes)),
      highMeanScore: mean(rows.map((r) => r.ours[which].high.score)),
      highGeomean: geomean(high),
      highAtOrAbove: rows.filter((r) => r.ours[which].high.score >= r.bic[which].score).length,
      matchTotal: sum(rows.map((r) => r.ours[which].match.bytes)),
      matchMeanScore: mean(rows.map((r) => r.ours[which].match.score)),
      matchGeomean: geomean(match),
      matchAtOrAbove: rows.filter((r) => r.ours[which].match.score >= r.bic[which].score).length,
      formats: Object.fromEntries(['webp', 'jpeg'].map((f) => [f, rows.filter((r) => r.ours[which].match.format === f).length])),
      lossless: rows.filter((r) => r.ours[which].match.lossless).length,
    };
  };
  return {
    version: bic.version,
    browser: bic.browserVersion,
    outsideRequests: bic.outside,
    pageErrors: bic.errors,
    defaults:
      "imageCompression(file, {}) in 2.0.2: maxSizeMB Infinity, maxWidthOrHeight none, initialQuality 1, maxIteration 10, fileType = the input's type, useWebWorker true, preserveExif false. It draws the image on a canvas and encodes it in the input's type at quality 1 (PNG: UPNG.encode quantizing to 4096*quality colours; JPEG/WebP: canvas toBlob/convertToBlob). If that is bigger than the input it lowers quality (x0.95 each step; PNG x0.85) up to 10 times, keeping the size unless maxSizeMB is exceeded. The bench adds only libURL (the same library's UMD build from the local server, instead of jsDelivr) so its Web Worker loads offline.",
    rows,
    summary: { ref: summarize('ref'), orig1600: summarize('orig1600') },
  };
}

// ---------------------------------------------------------------------------------------
// Report

const COLORS = { ours: '#d62728', 'sharp-moz': '#1f77b4', 'sharp-turbo': '#7fb2e5', 'jsquash-jpeg': '#2ca02c', 'sharp-webp': '#1f77b4', 'jsquash-webp': '#2ca02c', 'sharp-avif': '#1f77b4', 'jsquash-avif': '#2ca02c' };

function chart(data, refs) {
  // Top row: one representative photo (the largest of the AVIF set), bits per pixel against
  // score as the tables interpolate it, circles at the measured (monotone) points. Bottom row:
  // over all the panel's images, the geometric mean of bytes(ours)/bytes(peer) at each score,
  // over the images where both curves reach it (drawn where that is at least 60% of them).
  const px = Object.fromEntries(refs.map((r) => [r.stem, r.width * r.height]));
  const avifSet = data.photos.filter((p) => p.avif);
  const rep = [...(avifSet.length ? avifSet : data.photos)].sort((a, b) => b.width * b.height - a.width * a.height)[0].stem;
  const rate = [];
  const ratio = [];
  for (const format of ['jpeg', 'webp', 'avif']) {
    const es = data.equalScore?.[format];
    if (!es) continue;
    const lines = [
      { key: es.ours.key, label: 'mediaslim (ours)', color: COLORS.ours, width: 2.6 },
      ...(es.bestKey ? [{ key: es.bestKey, label: BEST_LABEL, color: COLORS.ours, width: 1.8, dash: '6,3' }] : []),
      ...encoders.filter((e) => e.format === format && e.peer).map((e) => ({ key: e.key, label: e.label, color: COLORS[e.key], width: 1.6, dash: e.key === 'sharp-turbo' ? '5,3' : undefined, peer: true })),
    ];
    if (es.stems.includes(rep)) {
      const series = lines.map((l) => ({
        ...l,
        points: [],
        markerPoints: DERIVED.has(l.key) ? [] : monotone(data.curves[l.key][rep] ?? []).map((p) => [p.score, (p.bytes * 8) / px[rep]]),
      }));
      for (let s = 30; s <= 100; s += 0.25) lines.forEach((l, i) => series[i].points.push([s, (bytesAt(data.curves, l.key, rep, s) * 8) / px[rep]]));
      rate.push({ title: `${format.toUpperCase()}: ${rep} (${refs.find((r) => r.stem === rep).width}x${refs.find((r) => r.stem === rep).height})`, xLabel: 'SSIMULACRA2 (mediaslim compare)', yLabel: 'bits per pixel (log)', logY: true, series });
    }
    const pairs = lines.filter((l) => l.peer).flatMap((peer) => [
      { ours: es.ours.key, peer: peer.key, label: `ours / ${peer.label}`, color: peer.color, width: 1.8, dash: peer.dash },
      ...(es.bestKey && GOALS[format].peers.includes(peer.key) ? [{ ours: es.bestKey, peer: peer.key, label: `ours (better chroma) / ${peer.label}`, color: peer.color, width: 1.4, dash: '6,3' }] : []),
    ]);
    const rseries = pairs.map((x) => ({ ...x, points: [] }));
    const minImages = Math.max(1, Math.ceil(es.stems.length * 0.6));
    for (let s = 40; s <= 95; s += 0.5) {
      pairs.forEach((x, i) => {
        const r = es.stems.map((st) => bytesAt(data.curves, x.ours, st, s) / bytesAt(data.curves, x.peer, st, s)).filter(Number.isFinite);
        if (r.length >= minImages) rseries[i].points.push([s, geomean(r)]);
      });
    }
    ratio.push({
      title: `${format.toUpperCase()}, ${es.stems.length} image${es.stems.length > 1 ? 's' : ''}: bytes ours / peer at equal score`,
      xLabel: 'SSIMULACRA2 (mediaslim compare)',
      yLabel: 'bytes ratio (geometric mean; < 1 = ours smaller)',
      series: rseries,
      yInclude: [0.9, 1.1],
      hlines: [
        { y: 1, color: '#555', label: 'equal bytes' },
        { y: GOALS[format].max, color: '#d62728', label: `goal: ${GOALS[format].text}` },
      ],
    });
  }
  return lineChart({
    title: 'Rate/quality: same reference pixels for every encoder (top: one photo, lower is better; bottom: all photos, ours / peer)',
    subtitle: [
      `Top: ${rep}, bits per pixel at each score as the tables interpolate it (log(bytes) linear in score); circles = measured qualities (monotone part).`,
      `Bottom: geometric mean over the images where both curves reach the score (drawn where that is at least 60% of the panel's images; steps where an image drops out). ${data.date}, mediaslim wasm ${wasmHash}.`,
    ],
    panels: [...rate, ...ratio],
    columns: Math.max(rate.length, 1),
  });
}

function report(data) {
  const L = [];
  const p = (s = '') => L.push(s);
  p(`# mediaslim quality benchmark (${data.date})`);
  p();
  p(`Machine: ${data.env.cpu} x${data.env.cores}, Node ${data.env.node}; load average before/after: ${data.env.loadBefore.map((x) => x.toFixed(2)).join(' ')} / ${data.env.loadAfter.map((x) => x.toFixed(2)).join(' ')}.`);
  p(`Photos: ${data.photos.length} of ${data.corpusSize} from ../shared/corpus/photos${data.photos.length < data.corpusSize ? ` (spread over the size range; --photos 0 for all)` : ''}: ${data.photos.map((x) => x.stem).join(', ')}.`);
  p(`Reference: optimize(photo, {width:${WIDTH}, format:'png', neverBigger:false}) (our lossless render; photos narrower than ${WIDTH} px keep their size${data.photos.some((x) => x.flattened) ? `; alpha flattened onto white for ${data.photos.filter((x) => x.flattened).map((x) => x.stem).join(', ')} (all fully opaque)` : ''}), fed to every encoder. Scores: SSIMULACRA2 from mediaslim's compare(reference, output) (ours: the same metric via score:true); AVIF outputs decoded by sharp to PNG first.`);
  p(`Versions: sharp ${data.env.sharp} (libvips ${data.env.libvips}, mozjpeg ${data.env.mozjpeg}, libwebp ${data.env.libwebp}, aom ${data.env.aom}); @jsquash/jpeg ${data.env.jsquash.jpeg}, webp ${data.env.jsquash.webp}, avif ${data.env.jsquash.avif}; mediaslim wasm ${wasmHash}.`);
  if (data.equalScore) {
    p();
    p('## Bytes at equal score (ours / peer)');
    p();
    p(`Per image, each encoder's (bytes, score) points are made monotone and log(bytes) is interpolated linearly in score at ${TARGETS.join(' / ')}; the table gives the geometric mean over images of bytes(ours)/bytes(peer), with (n) images where both curves reach that score. Below 1 = ours smaller.`);
    for (const [format, es] of Object.entries(data.equalScore)) {
      const g = GOALS[format];
      p();
      p(`### ${format.toUpperCase()}: ${es.stems.length} image(s); goal: ${g.text}${format === 'avif' && data.args.avifPhotos && es.stems.length < data.photos.length ? ` (AVIF on ${es.stems.length} photos only, ${encoders.find((e) => e.key === 'ours-avif').grid.length} qualities: our wasm AVIF takes seconds per encode; --avif-photos N)` : ''}`);
      p();
      const grids = [...new Set(encoders.filter((e) => e.format === format && e.grid.length).map((e) => e.grid.join(', ')))];
      const swept = encoders.filter((e) => e.format === format && e.grid.length);
      p(`Qualities swept: ${grids.length === 1 ? grids[0] : swept.map((e) => `${e.label} ${e.grid.join(', ')}`).join('; ')}. Ours: ${es.ours.settings}.`);
      p();
      const goalTable = (rows) =>
        table(
          ['peer', ...TARGETS.map((t) => `@${t}`), 'goal met?'],
          Object.entries(rows).map(([key, r]) => {
            const goal = g.peers.includes(key);
            const cells = TARGETS.map((t) => {
              const x = r.perTarget[t];
              return `${fmt(x.geomean, 3)} (${pct(x.geomean)}, n=${x.n})`;
            });
            const met = goal ? (TARGETS.every((t) => !(r.perTarget[t].geomean > g.max)) ? 'yes' : `no (${TARGETS.filter((t) => r.perTarget[t].geomean > g.max).map((t) => '@' + t).join(' ')})`) : '(not a goal)';
            return [r.label, ...cells, met];
          }),
        );
      p(goalTable(es.rows));
      if (es.best) {
        p();
        p(`Ours with the better chroma mode at each score (${BEST_LABEL}: at each score the smaller of our 4:2:0 and 4:4:4 curves; quality: 'auto' chooses between the two per image, and jSquash's MozJPEG switches to 4:4:4 by itself from quality 90):`);
        p();
        p(goalTable(es.best));
      }
      p();
      const ident = Object.values(es.rows).filter((r) => r.identical);
      if (ident.length) p(`Byte-identical to ours at the same quality: ${ident.map((r) => `${r.label} ${r.identical}/${r.compared} outputs`).join('; ')}.`);
      if (ident.length) p();
      p(`Images whose sweep reaches each score: ${Object.entries(es.reach).map(([k, v]) => `${k} ${TARGETS.map((t) => v[t]).join('/')}`).join('; ')}.`);
      p();
      p('Settings:');
      for (const [, r] of Object.entries(es.rows)) p(`- ${r.label}: ${r.settings}`);
    }
  }
  if (data.auto) {
    p();
    p("## quality: 'auto' (target 'high' = 80) vs fixed quality (ours, same format)");
    p();
    p("Fixed Q = the lowest whole quality whose minimum score over these photos is >= 80 (bracketed by the sweep, then bisected), for our default settings and for one variant per format (JPEG 4:4:4, WebP sharpYuv); the comparison uses the candidate with the fewest total bytes (the strongest fixed setting). Ratios: geometric mean of per-image bytes(auto)/bytes(fixed), and total bytes in brackets. Goal: auto >= 25% fewer bytes than that fixed Q (ratio <= 0.75). Time: wall time of one optimize() call on the reference PNG (decode + search), while the machine was shared.");
    p();
    p(
      table(
        ['format', 'fixed Q', 'auto/fixed Q', 'auto/q80', 'auto score min / mean', 'fixed Q score min / mean', 'q80 score min / mean', 'encodes mean / max', 'auto ms mean', 'goal met?'],
        Object.entries(data.auto).map(([format, a]) => {
          const s = a.summary;
          return [
            format.toUpperCase(),
            Number.isFinite(a.fixedQ) ? `${fmt(a.fixedQ)} (${encoders.find((e) => e.key === a.fixedVariant).label})` : 'none',
            `${fmt(s.autoOverFixedGeomean, 3)} (${fmt(s.autoOverFixedTotal, 3)})`,
            `${fmt(s.autoOverQ80Geomean, 3)} (${fmt(s.autoOverQ80Total, 3)})`,
            `${fmt(s.autoMinScore, 2)} / ${fmt(s.autoMeanScore, 2)}`,
            `${fmt(s.fixedMinScore, 2)} / ${fmt(s.fixedMeanScore, 2)}`,
            `${fmt(s.q80MinScore, 2)} / ${fmt(s.q80MeanScore, 2)}`,
            `${fmt(s.meanEncodes, 1)} / ${s.maxEncodes}`,
            fmt(s.meanMs),
            s.autoOverFixedGeomean <= 0.75 ? 'yes' : `no (${pct(s.autoOverFixedGeomean)})`,
          ];
        }),
      ),
    );
    p();
    p('Fixed-quality candidates (lowest quality with minimum score >= 80 over the set):');
    p();
    p(
      table(
        ['format', 'setting', 'Q', 'total KB', 'score min / mean', 'auto/fixed: geomean (total)'],
        Object.entries(data.auto).flatMap(([format, a]) =>
          a.variants.map((v) => [
            format.toUpperCase(),
            v.settings,
            Number.isFinite(v.q) ? fmt(v.q) : `none: ${v.failing.join(', ')} < 80 at q100`,
            kb(v.totalBytes),
            `${fmt(v.minScore, 2)} / ${fmt(v.meanScore, 2)}`,
            `${fmt(v.autoOverFixedGeomean, 3)} (${fmt(v.autoOverFixedTotal, 3)})`,
          ]),
        ),
      ),
    );
    for (const [format, a] of Object.entries(data.auto)) {
      p();
      p(`${format.toUpperCase()} per image:`);
      p();
      p(
        table(
          ['image', 'auto q', 'auto KB', 'auto score', 'encodes', 'ms', `fixed q${fmt(a.fixedQ)} KB`, `fixed q${fmt(a.fixedQ)} score`, 'q80 KB', 'q80 score', 'auto/fixed Q', 'auto/q80'],
          a.perImage.map((x) => [x.stem, `${fmt(x.auto.quality)}${x.auto.lossless ? ' lossless' : ''}`, kb(x.auto.bytes), fmt(x.auto.score, 2), x.auto.encodes, fmt(x.auto.ms), kb(x.fixed?.bytes), fmt(x.fixed?.score, 2), kb(x.q80.bytes), fmt(x.q80.score, 2), fmt(x.auto.bytes / x.fixed?.bytes, 3), fmt(x.auto.bytes / x.q80.bytes, 3)]),
        ),
      );
    }
  }
  if (data.bic) {
    const b = data.bic;
    p();
    p(`## browser-image-compression ${b.version} (Chromium ${b.browser}) vs ours format: 'auto' (accept webp, jpeg)`);
    p();
    p(`Defaults: ${b.defaults}`);
    p();
    p("Ours: optimize(input, {format:'auto', accept:['webp','jpeg'], target, neverBigger:false}) with target 'high' (80), and with target = bic's own score when that is higher, so ours is compared at an equal or higher score. Goal: >= 40% fewer bytes than bic at an equal or higher score (ratio <= 0.60). Scores against the reference (full-size bic outputs against our full-size lossless render).");
    p();
    const sm = (name, s) => [
      name,
      s.bicTypes.join(', '),
      `${kb(s.bicTotal)} / ${fmt(s.bicMeanScore, 1)}`,
      `${kb(s.highTotal)} / ${fmt(s.highMeanScore, 1)}`,
      `${fmt(s.highGeomean, 3)} (${fmt(s.highTotal / s.bicTotal, 3)}), ${s.highAtOrAbove}/${s.images}`,
      `${kb(s.matchTotal)} / ${fmt(s.matchMeanScore, 1)}`,
      `${fmt(s.matchGeomean, 3)} (${fmt(s.matchTotal / s.bicTotal, 3)}), ${s.matchAtOrAbove}/${s.images}`,
      `webp ${s.formats.webp} (${s.lossless} lossless), jpeg ${s.formats.jpeg}`,
      s.matchGeomean <= 0.6 && s.matchAtOrAbove === s.images ? 'yes' : `no (${pct(s.matchGeomean)})`,
    ];
    p(
      table(
        ['bic input, options', 'bic output', 'bic total KB / mean score', "ours 'high' total KB / mean score", "ours 'high'/bic: geomean (total), score >= bic", 'ours @bic score total KB / mean score', 'ours @bic/bic: geomean (total), score >= bic', 'ours formats (@bic)', 'goal met?'],
        [sm("1600 px reference PNG, {}", b.summary.ref), [`original file, {maxWidthOrHeight:${WIDTH}}`, ...sm('', b.summary.orig1600).slice(1)]],
      ),
    );
    p();
    p('Per image (KB / score):');
    p();
    p(
      table(
        ['image', 'input', 'bic(ref PNG, {})', "ours 'high'", 'ours @bic', 'ratio @bic', 'bic(original, {})', `bic(original, {maxWidthOrHeight:${WIDTH}})`, `ours @bic (original)`, 'ratio'],
        b.rows.map((r) => [
          r.stem,
          `${r.srcWidth}x${r.srcHeight} ${r.inputType.replace('image/', '')} ${kb(r.origBytes)} KB`,
          `${r.bic.ref.type.replace('image/', '')} ${kb(r.bic.ref.bytes)} / ${fmt(r.bic.ref.score, 1)}`,
          `${r.ours.ref.high.format} ${kb(r.ours.ref.high.bytes)} / ${fmt(r.ours.ref.high.score, 1)}`,
          `${r.ours.ref.match.format}${r.ours.ref.match.lossless ? ' lossless' : ''} ${kb(r.ours.ref.match.bytes)} / ${fmt(r.ours.ref.match.score, 1)}`,
          fmt(r.ours.ref.match.bytes / r.bic.ref.bytes, 3),
          `${r.bic.orig.type.replace('image/', '')} ${r.bic.orig.width}x${r.bic.orig.height} ${kb(r.bic.orig.bytes)} / ${fmt(r.bic.orig.score, 1)}`,
          `${r.bic.orig1600.type.replace('image/', '')} ${kb(r.bic.orig1600.bytes)} / ${fmt(r.bic.orig1600.score, 1)}`,
          `${r.ours.orig1600.match.format}${r.ours.orig1600.match.lossless ? ' lossless' : ''} ${kb(r.ours.orig1600.match.bytes)} / ${fmt(r.ours.orig1600.match.score, 1)}`,
          fmt(r.ours.orig1600.match.bytes / r.bic.orig1600.bytes, 3),
        ]),
      ),
    );
    if (b.outsideRequests.length || b.pageErrors.length) {
      p();
      p(`Outside requests blocked: ${b.outsideRequests.length}; page errors: ${b.pageErrors.join('; ') || 'none'}.`);
    }
  }
  if (data.equalScore) {
    p();
    p('## Per image: bytes ratio ours/peer at equal score');
    for (const [format, es] of Object.entries(data.equalScore)) {
      p();
      p(`${format.toUpperCase()}:`);
      p();
      const peers = [...Object.entries(es.rows), ...Object.entries(es.best ?? {}).filter(([k]) => GOALS[format].peers.includes(k)).map(([k, r]) => [k, { ...r, label: `(better chroma) ${r.label}` }])];
      p(
        table(
          ['image', ...peers.flatMap(([, r]) => TARGETS.map((t) => `${r.label} @${t}`))],
          es.stems.map((s) => [s, ...peers.flatMap(([, r]) => TARGETS.map((t) => fmt(r.perTarget[t].perImage[s].ratio, 3)))]),
        ),
      );
    }
  }
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------
// Main

let photos = await listPhotos();
const corpusSize = photos.length;
photos = spread(photos, args.photos);
const avifStems = new Set(args.avif ? spread(photos, args.avifPhotos).map((p) => p.stem) : []);
log(`${photos.length} photo(s); AVIF on ${avifStems.size}; concurrency ${args.concurrency}; cache ${cache.enabled ? 'on' : 'off'}`);
const refs = [];
for (const p of photos) {
  const ref = withRgba(await makeReference(p, WIDTH));
  refs.push({ ...ref, stem: p.stem, rgba: ref.rgba });
  Object.assign(p, { width: ref.width, height: ref.height, flattened: ref.flattened });
}
cache.save();
log('references ready');

const data = { date: new Date().toISOString(), args, corpusSize };
if (args.sweep) {
  data.curves = await sweep(refs, avifStems);
  addBestCurves(data.curves);
  data.derivedCurves = Object.fromEntries(DERIVED);
  data.equalScore = equalScore(data.curves, refs, avifStems);
}
if (args.auto) data.auto = await autoVsFixed(refs, data.curves);
if (args.bic) data.bic = await bicBench(photos, refs);
cache.save();

data.env = {
  node: process.versions.node,
  cpu: os.cpus()[0]?.model ?? '?',
  cores: os.cpus().length,
  loadBefore,
  loadAfter: os.loadavg(),
  sharp: sharp.versions.sharp,
  libvips: sharp.versions.vips,
  mozjpeg: sharp.versions.mozjpeg,
  libwebp: sharp.versions.webp,
  aom: sharp.versions.aom,
  jsquash: Object.fromEntries(['jpeg', 'webp', 'avif'].map((k) => [k, JSON.parse(readFileSync(path.join(ROOT, 'node_modules', '@jsquash', k, 'package.json'), 'utf8')).version])),
  wasmHash,
};
data.photos = photos.map(({ name, stem, srcWidth, srcHeight, width, height, flattened }) => ({ name, stem, srcWidth, srcHeight, width, height, flattened, avif: avifStems.has(stem) }));
data.encoders = encoders.map(({ key, format, label, settings, grid, version }) => ({ key, format, label, settings, grid, version }));
data.cacheHits = cache.hits;
data.seconds = (performance.now() - started) / 1e3;
const md = `${report(data)}\n\n(quality bench ran for ${fmt(data.seconds)} s${cache.hits ? `; ${cache.hits} results came from bench/out/quality/cache.json` : ''})\n`;
writeFileSync(path.join(OUT, 'quality.json'), JSON.stringify(data, null, 1));
writeFileSync(path.join(OUT, 'quality.md'), md);
if (data.equalScore) writeFileSync(path.join(OUT, 'quality.svg'), chart(data, refs));
console.log(md);
log('wrote bench/out/quality.json, bench/out/quality.md' + (data.equalScore ? ', bench/out/quality.svg' : ''));
await pool.terminate();
defaultPool().terminate();
