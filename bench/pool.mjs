// Pool throughput: images per second for a batch of photos (1600 px wide JPEG + WebP each,
// AVIF for some), through a pool of 1 worker and of 2, and the same batch through sharp with its
// default concurrency. Prints the table and writes bench/out/pool.json.
//   node bench/pool.mjs [--photos N] [--avif N]   (defaults: 30 photos, AVIF for the first 6)
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import sharp from 'sharp';
import { optimize, Pool } from 'mediaslim';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PHOTOS = arg('photos', 30);
const AVIF = arg('avif', 6);
const corpus = new URL('../../shared/corpus/photos/', import.meta.url);
if (!existsSync(corpus)) {
  console.log('bench/pool: ../shared/corpus/photos is not here; nothing to measure.');
  process.exit(0);
}
const out = new URL('./out/', import.meta.url);
mkdirSync(out, { recursive: true });

// JPEG q92 sources (as in bench/run.mjs), cycled to PHOTOS entries; repeats differ by one
// quality step so the pool's deduplication cannot skip work that sharp would do.
const files = readdirSync(corpus).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
const sources = await Promise.all(files.map(async (f) => ({
  name: f,
  bytes: new Uint8Array(await sharp(new URL(f, corpus).pathname).flatten({ background: '#ffffff' }).toColourspace('srgb').jpeg({ quality: 92 }).toBuffer()),
})));
const batch = Array.from({ length: PHOTOS }, (_, i) => ({ ...sources[i % sources.length], round: Math.floor(i / sources.length) }));
const jobsFor = (item, i) => [
  { format: 'jpeg', quality: 80 - item.round },
  { format: 'webp', quality: 80 - item.round, effort: 4 },
  ...(i < AVIF ? [{ format: 'avif', quality: 60 - item.round, effort: 4 }] : []),
];
const outputs = batch.reduce((n, item, i) => n + jobsFor(item, i).length, 0);

async function ours(size) {
  const pool = new Pool({ size });
  // Warm: start the workers and compile both wasm modules outside the timing.
  await Promise.all(Array.from({ length: size }, (_, i) => optimize(sources[0].bytes, { width: 8 + i, format: 'avif', pool })));
  const t = performance.now();
  await Promise.all(batch.flatMap((item, i) => jobsFor(item, i).map((o) => optimize(item.bytes, { ...o, width: 1600, pool }))));
  const seconds = (performance.now() - t) / 1000;
  pool.terminate();
  return seconds;
}

async function viaSharp() {
  const t = performance.now();
  await Promise.all(batch.flatMap((item, i) => jobsFor(item, i).map((o) => {
    const img = sharp(item.bytes).resize({ width: 1600, withoutEnlargement: true, kernel: 'lanczos3' });
    if (o.format === 'jpeg') return img.jpeg({ quality: o.quality, mozjpeg: true }).toBuffer();
    if (o.format === 'webp') return img.webp({ quality: o.quality, effort: 4 }).toBuffer();
    return img.avif({ quality: 50, effort: 3 }).toBuffer();
  })));
  return (performance.now() - t) / 1000;
}

console.log(`pool throughput: ${PHOTOS} photos -> ${outputs} outputs (JPEG + WebP each, AVIF for ${Math.min(AVIF, PHOTOS)}), 1600 px wide, ${os.availableParallelism()} cores`);
const one = await ours(1);
const two = await ours(2);
const sharpSeconds = await viaSharp();
const rows = [
  ['mediaslim, 1 worker', one],
  ['mediaslim, 2 workers', two],
  [`sharp, default concurrency (${sharp.concurrency()} threads)`, sharpSeconds],
];
console.log('\n| run | seconds | images/s | outputs/s |\n|---|---:|---:|---:|');
for (const [name, s] of rows) console.log(`| ${name} | ${s.toFixed(1)} | ${(PHOTOS / s).toFixed(2)} | ${(outputs / s).toFixed(2)} |`);
console.log(`\nspeed-up 2 workers / 1 worker: ${(one / two).toFixed(2)}x (goal >= 1.8x)`);
console.log(`ours (2 workers) / sharp throughput: ${(sharpSeconds / two).toFixed(2)}x`);
writeFileSync(new URL('pool.json', out), JSON.stringify({ photos: PHOTOS, avif: AVIF, outputs, seconds: { one, two, sharp: sharpSeconds }, speedup: one / two, oursOverSharp: sharpSeconds / two, loadavg: os.loadavg() }, null, 2));
