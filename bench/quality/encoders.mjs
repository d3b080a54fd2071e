// The encoders compared by bench/quality.mjs. Every one gets the same pixels: the reference
// PNG (our own lossless 1600 px render). `encode(ref, q)` resolves to the encoded bytes
// (ours also to our own score of them, from `score: true`, which is the same SSIMULACRA2
// against the same reference pixels as `compare`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fnv1a } from './util.mjs';

export async function loadEncoders({ root, optimize, sharp, pool }) {
  const nm = path.join(root, 'node_modules');
  const version = (name) => JSON.parse(readFileSync(path.join(nm, name, 'package.json'), 'utf8')).version;
  const wasmHash = fnv1a(
    Buffer.concat(['core', 'plus', 'full'].map((m) => readFileSync(path.join(root, 'pkg', 'wasm', `mediaslim_${m}_bg.wasm`)))),
  );

  // jSquash: ESM built for browsers; in Node each codec's wasm is compiled from node_modules
  // and handed to the package's init() (as bench/run.mjs does). Single-threaded builds.
  const { simd } = await import('wasm-feature-detect');
  const compile = (p) => WebAssembly.compile(readFileSync(path.join(nm, '@jsquash', p)));
  const jpegEnc = await import('@jsquash/jpeg/encode.js');
  const webpEnc = await import('@jsquash/webp/encode.js');
  const avifEnc = await import('@jsquash/avif/encode.js');
  await jpegEnc.init(await compile('jpeg/codec/enc/mozjpeg_enc.wasm'));
  const webpSimd = await simd();
  await webpEnc.init(await compile(webpSimd ? 'webp/codec/enc/webp_enc_simd.wasm' : 'webp/codec/enc/webp_enc.wasm'));
  await avifEnc.init(await compile('avif/codec/enc/avif_enc.wasm'));

  const ours = (format, extra = {}) => async (ref, q) => {
    const r = await optimize(ref.png, { format, quality: q, neverBigger: false, score: format !== 'avif', pool, ...extra });
    return { bytes: r.bytes, score: r.score };
  };
  const viaSharp = (f) => async (ref, q) => ({ bytes: await f(sharp(ref.png), q).toBuffer() });
  const viaJsquash = (f) => async (ref, q) => ({ bytes: new Uint8Array(await f(await ref.rgba(), q)) });

  // Qualities swept. JPEG/WebP: dense where the scores cross 70-90; 80 is in (the fixed-q80
  // row of the 'auto' table). AVIF: 5 points, as ours takes seconds per encode; ours reaches a
  // score of 90 only above quality 90, libaom's scale reaches it near 85-90.
  const JPEG_Q = [30, 50, 65, 75, 80, 85, 89, 92, 95, 98];
  const JPEG_Q_444 = [75, 80, 85, 89, 92, 95, 98];
  const WEBP_Q = JPEG_Q;
  const AVIF_Q_OURS = [30, 50, 70, 85, 95];
  const AVIF_Q = [30, 45, 60, 75, 90];
  const sv = sharp.versions;
  const sharpVer = `sharp ${sharp.versions.sharp ?? version('sharp')} vips ${sv.vips}`;

  const encoders = [
    // JPEG
    { key: 'ours-jpeg', format: 'jpeg', peer: false, label: 'mediaslim', settings: "optimize(ref, {format:'jpeg', quality:q, neverBigger:false}) (mozjpeg-rs, effort 4 default, 4:2:0 default)", version: `wasm ${wasmHash}`, grid: JPEG_Q, encode: ours('jpeg') },
    // Ours with 4:4:4 chroma, swept where it can matter (high scores): 'auto' picks 4:2:0 or
    // 4:4:4 per image, and jSquash's MozJPEG switches to 4:4:4 by itself at quality >= 90.
    { key: 'ours-jpeg-444', format: 'jpeg', peer: false, alt: true, label: 'mediaslim 4:4:4', settings: "optimize(ref, {format:'jpeg', quality:q, chromaSubsampling:'4:4:4', neverBigger:false})", version: `wasm ${wasmHash}`, grid: JPEG_Q_444, encode: ours('jpeg', { chromaSubsampling: '4:4:4' }) },
    { key: 'sharp-moz', format: 'jpeg', peer: true, label: 'sharp mozjpeg', settings: `sharp(ref).jpeg({quality:q, mozjpeg:true}) (mozjpeg ${sv.mozjpeg})`, version: sharpVer, grid: JPEG_Q, encode: viaSharp((s, q) => s.jpeg({ quality: q, mozjpeg: true })) },
    { key: 'sharp-turbo', format: 'jpeg', peer: true, label: 'sharp (libjpeg-turbo mode)', settings: `sharp(ref).jpeg({quality:q}) (sharp's mozjpeg build with mozjpeg:false: libjpeg-turbo behaviour: baseline, optimised Huffman, no trellis, standard tables, 4:2:0)`, version: sharpVer, grid: JPEG_Q, encode: viaSharp((s, q) => s.jpeg({ quality: q })) },
    { key: 'jsquash-jpeg', format: 'jpeg', peer: true, label: 'jSquash mozjpeg', settings: `@jsquash/jpeg ${version('@jsquash/jpeg')} encode(rgba, {quality:q}) (MozJPEG defaults: progressive, trellis, optimize_coding, quant_table 3; auto_subsample: 4:2:0 below quality 90, 4:4:4 from 90)`, version: version('@jsquash/jpeg'), grid: JPEG_Q, encode: viaJsquash((img, q) => jpegEnc.default(img, { quality: q })) },
    // WebP
    { key: 'ours-webp', format: 'webp', peer: false, label: 'mediaslim', settings: "optimize(ref, {format:'webp', quality:q, neverBigger:false}) (libwebp in wasm, effort 4 default = method 4)", version: `wasm ${wasmHash}`, grid: WEBP_Q, encode: ours('webp') },
    // Not swept: only a candidate fixed setting for the 'auto' comparison (lossy WebP without
    // sharp YUV cannot reach 80 on some photos at any quality).
    { key: 'ours-webp-sharpyuv', format: 'webp', peer: false, alt: true, label: 'mediaslim sharpYuv', settings: "optimize(ref, {format:'webp', quality:q, sharpYuv:true, neverBigger:false})", version: `wasm ${wasmHash}`, grid: [], encode: ours('webp', { sharpYuv: true }) },
    { key: 'sharp-webp', format: 'webp', peer: true, label: 'sharp libwebp', settings: `sharp(ref).webp({quality:q}) (libwebp ${sv.webp}, effort default 4)`, version: sharpVer, grid: WEBP_Q, encode: viaSharp((s, q) => s.webp({ quality: q })) },
    { key: 'jsquash-webp', format: 'webp', peer: true, label: 'jSquash libwebp', settings: `@jsquash/webp ${version('@jsquash/webp')} encode(rgba, {quality:q}) (method 4 default; ${webpSimd ? 'SIMD' : 'plain'} build)`, version: version('@jsquash/webp'), grid: WEBP_Q, encode: viaJsquash((img, q) => webpEnc.default(img, { quality: q })) },
    // AVIF
    { key: 'ours-avif', format: 'avif', peer: false, label: 'mediaslim', settings: "optimize(ref, {format:'avif', quality:q, neverBigger:false}) (libaom in wasm, effort 4 default = cpu-used 7, 8-bit, 4:2:0 below quality 90, 4:4:4 from 90)", version: `wasm ${wasmHash}`, grid: AVIF_Q_OURS, encode: ours('avif') },
    { key: 'sharp-avif', format: 'avif', peer: true, label: 'sharp libaom', settings: `sharp(ref).avif({quality:q}) (libaom ${sv.aom}, effort default 4, 4:4:4 default, 8-bit)`, version: sharpVer, grid: AVIF_Q, encode: viaSharp((s, q) => s.avif({ quality: q })) },
    { key: 'jsquash-avif', format: 'avif', peer: true, label: 'jSquash libaom', settings: `@jsquash/avif ${version('@jsquash/avif')} encode(rgba, {quality:q}) (libaom, speed 6, 4:2:0, 8-bit defaults)`, version: version('@jsquash/avif'), grid: AVIF_Q, encode: viaJsquash((img, q) => avifEnc.default(img, { quality: q })) },
  ];
  return { encoders, wasmHash };
}
