#!/usr/bin/env node
// Speed of the first-page path, for comparing builds of the core module: a 1600 px JPEG
// (q92, made by sharp from corpus photos) decoded, resized to 800 px and encoded as WebP,
// JPEG and PNG through the built package (one worker, one job at a time); then the same
// photos as Display P3 JPEGs (colour conversion) and as PNGs, to WebP, and as WebPs to JPEG. Prints the median
// in-core timings per row and the output sizes, plus the module sizes.
// MEDIASLIM_PKG=<dir> runs another build of the package (A/B of module variants).
//   node bench/core-speed.mjs [--reps N] [--photos N]
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { packageUrl } from './quality/util.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../shared/corpus/photos', import.meta.url));
const arg = (name, d) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const reps = arg('--reps', 5);
const nPhotos = arg('--photos', 3);
if (!existsSync(CORPUS)) {
  console.log(`no corpus at ${CORPUS}`);
  process.exit(0);
}
const { default: sharp } = await import('sharp');
const PKG = packageUrl();
const { optimize, Pool } = await import(new URL('index.js', PKG).href);
const pool = new Pool({ size: 1 });

const photos = readdirSync(CORPUS).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().slice(0, nPhotos);
const inputs = [];
const p3 = [];
const pngs = [];
const webps = [];
for (const f of photos) {
  const resized = sharp(path.join(CORPUS, f)).resize({ width: 1600 });
  inputs.push(new Uint8Array(await resized.clone().jpeg({ quality: 92 }).toBuffer()));
  p3.push(new Uint8Array(await resized.clone().withIccProfile('p3').jpeg({ quality: 92 }).toBuffer()));
  pngs.push(new Uint8Array(await resized.clone().png().toBuffer()));
  webps.push(new Uint8Array(await resized.clone().webp({ quality: 90 }).toBuffer()));
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
await optimize(inputs[0], { width: 64, format: 'webp', pool }); // load the module
const rows = [];
// PNG output last: it loads mediaslim_plus, and a worker then runs every later job there.
const cases = [
  ['webp', 'webp', inputs],
  ['jpeg', 'jpeg', inputs],
  ['P3 JPEG -> webp', 'webp', p3],
  ['PNG -> webp', 'webp', pngs],
  ['WebP -> jpeg', 'jpeg', webps],
  ['png (mediaslim_plus)', 'png', inputs],
];
for (const [label, format, sources] of cases) {
  const t = { decode: [], resize: [], encode: [], wall: [] };
  let bytes = 0;
  for (const input of sources) {
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const out = await optimize(input, { width: 800, format, pool });
      t.wall.push(performance.now() - t0);
      for (const k of ['decode', 'resize', 'encode']) t[k].push(out.timings[k]);
      if (r === 0) bytes += out.bytes.length;
    }
  }
  rows.push({ format: label, decode: median(t.decode), resize: median(t.resize), encode: median(t.encode), wall: median(t.wall), bytes });
}
console.log(`| input -> output | decode ms | resize ms | encode ms | wall ms | output bytes (${inputs.length} photos) |`);
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.format} | ${r.decode.toFixed(1)} | ${r.resize.toFixed(1)} | ${r.encode.toFixed(1)} | ${r.wall.toFixed(1)} | ${r.bytes} |`);
for (const f of readdirSync(path.join(fileURLToPath(PKG), 'wasm')).filter((f) => f.endsWith('.wasm')).sort()) {
  const b = readFileSync(path.join(fileURLToPath(PKG), 'wasm', f));
  console.log(`${f}: ${b.length} bytes, ${zlib.gzipSync(b, { level: 9 }).length} gzip -9`);
}
pool.terminate();
process.exit(0);
