// Peak wasm memory for 24 MP inputs (not a test: `node tests/node/measure-memory.mjs [--slow]`,
// about 1 minute; 2 more with --slow). Each case runs in a fresh instance of the core module
// (the plus module for PNG output); linear memory never shrinks, so its size after the job is
// the job's high-water mark. Figures go in the report of the hardening issue; memory.test.mjs
// checks the common cases.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';

const PKG = new URL('../../pkg/wasm/', import.meta.url);
const MiB = 1024 * 1024;
const [w, h] = [6000, 4000];
const rgba = w * h * 4;

const noise = await sharp({ create: { width: w / 8, height: h / 8, channels: 4, noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
const big = sharp(noise).resize(w, h, { kernel: 'cubic' });
const opaque = big.clone().flatten({ background: '#808080' });
const inputs = {
  jpeg: new Uint8Array(await opaque.clone().jpeg({ quality: 85 }).toBuffer()),
  'jpeg (EXIF orientation 6)': new Uint8Array(await opaque.clone().jpeg({ quality: 85 }).withMetadata({ orientation: 6 }).toBuffer()),
  'png (RGBA)': new Uint8Array(await big.clone().png({ compressionLevel: 1 }).toBuffer()),
  // An alpha channel that is 255 everywhere (common in PNGs): resized without premultiplying.
  'png (RGBA, all opaque)': new Uint8Array(await opaque.clone().ensureAlpha(1).png({ compressionLevel: 1 }).toBuffer()),
  'webp (lossy, alpha)': new Uint8Array(await big.clone().webp({ quality: 80 }).toBuffer()),
};
if (process.argv.includes('--slow')) {
  // Opaque in the middle, fading out at the edges: a cut-out product photo's alpha.
  const vignette = `<svg width="${w}" height="${h}"><defs><radialGradient id="g"><stop offset="70%" stop-color="white"/><stop offset="100%" stop-color="black"/></radialGradient></defs><ellipse cx="${w / 2}" cy="${h / 2}" rx="${w / 2}" ry="${h / 2}" fill="url(#g)"/></svg>`;
  const alpha = await sharp(Buffer.from(vignette)).extractChannel(0).raw().toBuffer();
  inputs['png (RGB + soft alpha edge)'] = new Uint8Array(
    await opaque.clone().joinChannel(alpha, { raw: { width: w, height: h, channels: 1 } }).png({ compressionLevel: 1 }).toBuffer(),
  );
}
const cases = [
  ['jpeg', { width: 1600, format: 'webp' }],
  ['jpeg', { width: 1600, format: 'jpeg' }],
  ['jpeg', { format: 'original' }],
  ['jpeg (EXIF orientation 6)', { width: 1600, format: 'jpeg' }],
  ['png (RGBA)', { width: 1600, format: 'webp' }],
  ['png (RGBA, all opaque)', { width: 1600, format: 'webp' }],
  ['png (RGBA)', { width: 1600, format: 'png' }],
  ['webp (lossy, alpha)', { width: 1600, format: 'jpeg' }],
  // Lossy WebP with alpha at full size: libwebp's lossless alpha encoder dominates.
  ...(process.argv.includes('--slow') ? [['png (RGBA)', { format: 'webp' }], ['png (RGB + soft alpha edge)', { format: 'webp' }]] : []),
];
console.log(`24 MP = ${w}x${h}; RGBA size ${(rgba / MiB).toFixed(0)} MiB\n`);
console.log('| input | options | output | time | peak wasm memory | x RGBA |\n|---|---|---|---|---|---|');
let i = 0;
for (const [name, opts] of cases) {
  const bytes = inputs[name];
  const flavor = opts.format === 'png' ? 'plus' : 'core';
  const glue = await import(new URL(`mediaslim_${flavor}.js?measure=${i++}`, PKG).href);
  const { memory } = glue.initSync({ module: readFileSync(new URL(`mediaslim_${flavor}_bg.wasm`, PKG)) });
  const t0 = performance.now();
  let out;
  try {
    out = glue.optimize(bytes, JSON.stringify(opts));
  } catch (e) {
    out = { error: `${e.code}: ${e.message}` };
  }
  const peak = memory.buffer.byteLength;
  const result = out.error ?? `${out.width}x${out.height} ${out.format}`;
  console.log(
    `| ${name}, ${(bytes.length / MiB).toFixed(1)} MiB | \`${JSON.stringify(opts)}\` | ${result} | ${((performance.now() - t0) / 1000).toFixed(1)} s | ${(peak / MiB).toFixed(0)} MiB | ${(peak / rgba).toFixed(2)} |`,
  );
}
