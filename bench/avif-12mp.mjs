// A 12 MP AVIF encode in wasm: time and peak wasm memory (issue goals: under 10 s, <= 600 MB).
//   node bench/avif-12mp.mjs [photo] [effort,...]
// The photo (default: the corpus' mvtb-parks, 3264x2448) is scaled by sharp to 4000x3000 and
// stored as JPEG q92; each run loads a fresh full module (linear memory never shrinks, so its
// size after the job is the job's high-water mark) and encodes it at full size, quality 60.
import { readFileSync, existsSync } from 'node:fs';
import sharp from 'sharp';

const PKG = new URL('../pkg/wasm/', import.meta.url);
const photo = process.argv[2] ?? new URL('../../shared/corpus/photos/mvtb-parks.png', import.meta.url).pathname;
if (!existsSync(photo)) {
  console.log(`no ${photo}: pass a photo`);
  process.exit(0);
}
const efforts = (process.argv[3] ?? '4,3').split(',').map(Number);
const jpeg = new Uint8Array(await sharp(photo).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer());
const MB = 1e6;
console.log(`input 4000x3000 JPEG, ${(jpeg.length / MB).toFixed(1)} MB; RGBA ${(48).toFixed(0)} MB\n`);
console.log('| effort | output | time | peak wasm memory |\n|---|---|---|---|');
let i = 0;
for (const effort of efforts) {
  const glue = await import(new URL(`mediaslim_full.js?run=${i++}`, PKG).href);
  const { memory } = glue.initSync({ module: readFileSync(new URL('mediaslim_full_bg.wasm', PKG)) });
  const t0 = performance.now();
  const out = glue.optimize(jpeg, JSON.stringify({ format: 'avif', quality: 60, effort, neverBigger: false }));
  const s = (performance.now() - t0) / 1000;
  console.log(`| ${effort} | ${out.width}x${out.height}, ${(out.bytes.length / MB).toFixed(2)} MB | ${s.toFixed(1)} s | ${(memory.buffer.byteLength / MB).toFixed(0)} MB |`);
}
