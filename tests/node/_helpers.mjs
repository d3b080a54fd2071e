// Shared helpers for the node:test suites. Not a test file itself (node --test only picks
// up *.test.mjs here). Everything that judges our output decodes it with sharp (libvips),
// a decoder independent of the one in the wasm core.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { MediaslimError } from 'mediaslim';

export const FIXTURES = new URL('../fixtures/', import.meta.url);
/**
 * The shared corpus, when this checkout sits next to it (absent on other machines).
 * MEDIASLIM_NO_CORPUS=1 runs the suite as if it were absent.
 */
export const CORPUS = new URL('../../../shared/corpus/', import.meta.url);
export const hasCorpus = !process.env.MEDIASLIM_NO_CORPUS && existsSync(fileURLToPath(CORPUS));

export function fixture(name) {
  return new Uint8Array(readFileSync(new URL(name, FIXTURES)));
}
export function corpusFile(rel) {
  return new Uint8Array(readFileSync(new URL(rel, CORPUS)));
}

/** sharp's `metadata().format` for each of our output formats. */
export const SHARP_FORMAT = { jpeg: 'jpeg', png: 'png', webp: 'webp', avif: 'heif' };

/** Leading bytes that identify each output format. */
export function sniff(bytes) {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'))) return 'png';
  if (b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  if (b.toString('latin1', 4, 8) === 'ftyp' && /avi[fs]/.test(b.toString('latin1', 8, 32))) return 'avif';
  return 'unknown';
}

/**
 * Decodes to 8-bit RGBA with sharp. By default the embedded ICC profile is applied (sharp
 * converts to sRGB) and EXIF orientation is applied (`autoOrient`), so this is what a
 * colour-managed, orientation-aware viewer shows.
 * Options: resize (sharp resize options, e.g. { width, height, fit }), flatten (a colour),
 * ignoreIcc, autoOrient.
 */
export async function rgba(input, { autoOrient = true, ignoreIcc = false, resize, flatten } = {}) {
  let img = sharp(Buffer.from(input.buffer, input.byteOffset, input.byteLength), { ignoreIcc });
  if (autoOrient) img = img.autoOrient();
  if (resize) {
    // Decode at full size first: resizing straight from the file lets libvips use
    // shrink-on-load (libjpeg/libwebp scaled decoding), a coarser reference.
    const full = await img.toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    img = sharp(full.data, { raw: { width: full.info.width, height: full.info.height, channels: 4 } }).resize(resize);
  }
  if (flatten) img = img.flatten({ background: flatten });
  const { data, info } = await img.toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 4);
  return { data, width: info.width, height: info.height };
}

export async function meta(bytes) {
  return sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).metadata();
}

/**
 * Mean absolute difference per channel, on alpha-premultiplied colour so that the colour
 * hidden under fully transparent pixels does not count: [r, g, b, a], 0-255 scale.
 */
export function diff(a, b) {
  assert.equal(a.width, b.width, 'widths differ');
  assert.equal(a.height, b.height, 'heights differ');
  const A = a.data, B = b.data;
  const sum = [0, 0, 0, 0];
  let max = 0;
  for (let i = 0; i < A.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = Math.abs((A[i + c] * A[i + 3]) / 255 - (B[i + c] * B[i + 3]) / 255);
      sum[c] += d;
      if (d > max) max = d;
    }
    const da = Math.abs(A[i + 3] - B[i + 3]);
    sum[3] += da;
    if (da > max) max = da;
  }
  const n = A.length / 4;
  const mae = sum.map((s) => s / n);
  return { mae, worst: Math.max(...mae), max: Math.round(max), text: `mae [${mae.map((x) => x.toFixed(2)).join(', ')}] max ${Math.round(max)}` };
}

/** Asserts that the mean absolute difference of every channel is below `limit`. */
export function assertClose(a, b, limit, what) {
  const d = diff(a, b);
  assert.ok(d.worst < limit, `${what}: ${d.text}, want every channel < ${limit}`);
  return d;
}

/** Asserts byte-exact RGBA equality (after premultiplication: hidden colour is ignored). */
export function assertSamePixels(a, b, what) {
  const d = diff(a, b);
  assert.ok(d.max <= 0.5, `${what}: expected identical pixels, got ${d.text}`);
}

/** Lowest alpha value, and how many pixels are not fully opaque. */
export function alphaStats(img) {
  let min = 255, translucent = 0;
  for (let i = 3; i < img.data.length; i += 4) {
    if (img.data[i] < min) min = img.data[i];
    if (img.data[i] < 255) translucent++;
  }
  return { min, translucent };
}

/**
 * Awaits a promise that must reject with a MediaslimError of `code`; returns the error.
 * `message` (a RegExp or an array of them) must all match the message.
 */
export async function rejectsWith(promise, code, message) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a rejection with ${code}, but it resolved`);
  assert.ok(err instanceof MediaslimError, `expected a MediaslimError, got ${err?.constructor?.name}: ${err?.message}`);
  assert.ok(err instanceof Error);
  assert.equal(err.name, 'MediaslimError');
  assert.equal(err.code, code, `wrong code (message: ${err.message})`);
  for (const re of [message ?? []].flat()) assert.match(err.message, re);
  return err;
}

export function sameBytes(a, b) {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}
