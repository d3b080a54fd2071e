// Our AVIF encoder's settings on one photo: time, bytes and SSIMULACRA2 per quality, effort
// and chroma subsampling, to choose defaults (scripts/build.sh and src/encode/avif.rs cite it).
//   node bench/avif-settings.mjs <photo> [qualities=80] [efforts=4,3,2,1] [chroma=-|4:2:0|4:4:4,...]
// The photo is resized to 1600 px by sharp and flattened; each output is decoded by sharp and
// scored by the native examples/ssimulacra2_score (built by `npm run bench:avif` or
// `cargo build --release --example ssimulacra2_score`).
import { optimize } from '../pkg/index.js';
import sharp from 'sharp';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const file = process.argv[2];
if (!file) throw new Error('usage: node bench/avif-settings.mjs <photo> [qualities] [efforts] [chroma]');
const qs = (process.argv[3] || '80').split(',').map(Number);
const efforts = (process.argv[4] || '4,3,2,1').split(',').map(Number);
const chromas = (process.argv[5] || '-').split(',');
const { data, info } = await sharp(file).resize({ width: 1600, withoutEnlargement: true }).flatten({ background: '#fff' }).raw().toBuffer({ resolveWithObject: true });
const png = await sharp(data, { raw: info }).png().toBuffer();
writeFileSync('/tmp/_ref.png', png);
await optimize(png, { format: 'avif', quality: 30, neverBigger: false });
for (const q of qs) for (const effort of efforts) for (const chroma of chromas) {
  const t = performance.now();
  const out = await optimize(png, { format: 'avif', quality: q, effort, neverBigger: false, ...(chroma === '-' ? {} : { chromaSubsampling: chroma }) });
  const ms = performance.now() - t;
  const dec = await sharp(out.bytes).png().toBuffer(); writeFileSync('/tmp/_dec.png', dec);
  const score = spawnSync('target/release/examples/ssimulacra2_score', ['/tmp/_ref.png', '/tmp/_dec.png'], { encoding: 'utf8' }).stdout.trim();
  console.log(`${info.width}x${info.height} q${q} effort ${effort} ${chroma}: ${Math.round(ms)} ms ${(out.bytes.length / 1024).toFixed(1)} KB score ${Number(score).toFixed(1)}`);
}
process.exit(0);
