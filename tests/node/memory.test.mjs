// Memory discipline of one wasm instance: many sequential jobs reach a steady high-water
// mark (nothing leaks per job), and a 24 MP photo peaks within a bounded multiple of its RGBA
// size. Loads the wasm glue directly (one instance, no pool) so the figures are the core's.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { fixture } from './_helpers.mjs';

const PKG = new URL('../../pkg/wasm/', import.meta.url);

/** A fresh instance of a module, `core` or `full` (a query string makes Node load a new copy). */
async function freshCore(tag, flavor = 'core') {
  const glue = await import(new URL(`mediaslim_${flavor}.js?memory=${tag}`, PKG).href);
  const exports = glue.initSync({ module: readFileSync(new URL(`mediaslim_${flavor}_bg.wasm`, PKG)) });
  return { glue, memory: exports.memory };
}

const MiB = 1024 * 1024;

describe('wasm memory', () => {
  let core;
  before(async () => {
    // The full module: it has every encoder the list below uses (the core has no PNG output).
    core = await freshCore('steady', 'full');
  });

  it('1000 sequential optimizations keep a steady high-water mark', () => {
    const inputs = [fixture('hopper.png'), fixture('hopper.jpg'), fixture('hopper.webp'), fixture('transparent.png')];
    const options = [
      { format: 'jpeg', width: 100 },
      { format: 'webp' },
      { format: 'png', width: 64, effort: 1 },
      { format: 'original' },
      { format: 'webp', lossless: true, width: 90 },
    ].map((o) => JSON.stringify(o));
    const marks = [];
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) {
      const out = core.glue.optimize(inputs[i % inputs.length], options[i % options.length]);
      // A kept original comes back from the glue as byte ranges of the input (js/worker.ts cuts them).
      assert.ok(out.bytes.length > 0 || (out.keptOriginal && out.originalRanges.length >= 2));
      // Failures must not leak either: an error every 10 jobs.
      if (i % 10 === 0) assert.throws(() => core.glue.optimize(fixture('truncated_jpeg.jpg'), '{}'));
      marks.push(core.memory.buffer.byteLength);
    }
    const took = performance.now() - t0;
    const [at100, at500, at1000] = [marks[99], marks[499], marks[999]];
    console.log(
      `1000 jobs in ${(took / 1000).toFixed(1)} s; wasm memory after 1: ${(marks[0] / MiB).toFixed(1)} MiB, ` +
        `100: ${(at100 / MiB).toFixed(1)} MiB, 500: ${(at500 / MiB).toFixed(1)} MiB, 1000: ${(at1000 / MiB).toFixed(1)} MiB`,
    );
    // Linear memory only grows; a leak of even a few KB per job shows as growth after warm-up.
    assert.equal(at1000, at100, `memory grew from ${at100} to ${at1000} bytes between jobs 100 and 1000`);
  });

  // One photo-like 24 MP JPEG (smooth gradients plus noise, so it is realistically sized) for both cases.
  let jpeg24;
  const [w, h] = [6000, 4000];
  const rgba = w * h * 4;
  async function photo24() {
    const noise = await sharp({ create: { width: w / 8, height: h / 8, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .png()
      .toBuffer();
    jpeg24 ??= new Uint8Array(await sharp(noise).resize(w, h, { kernel: 'cubic' }).jpeg({ quality: 85 }).toBuffer());
    return jpeg24;
  }
  async function peakOf(name, options, limit, input) {
    const jpeg = input ?? (await photo24());
    const fresh = await freshCore(name);
    const start = fresh.memory.buffer.byteLength;
    const t0 = performance.now();
    const out = fresh.glue.optimize(jpeg, JSON.stringify(options));
    const took = performance.now() - t0;
    const peak = fresh.memory.buffer.byteLength;
    console.log(
      `24 MP ${input ? 'PNG' : 'JPEG'} (${(jpeg.length / MiB).toFixed(1)} MiB) -> ${out.width}x${out.height} ${out.format} in ${(took / 1000).toFixed(1)} s: ` +
        `wasm memory ${(start / MiB).toFixed(1)} -> ${(peak / MiB).toFixed(1)} MiB = ${(peak / rgba).toFixed(2)}x the RGBA size (${(rgba / MiB).toFixed(0)} MiB)`,
    );
    assert.ok(peak <= limit * rgba, `peak ${(peak / MiB).toFixed(0)} MiB is over ${limit}x the ${(rgba / MiB).toFixed(0)} MiB RGBA size`);
    return out;
  }

  it('a 24 MP photo resized to 1600 px peaks within 3x its RGBA size (fresh instance)', async () => {
    const out = await peakOf('24mp', { width: 1600, format: 'webp' }, 3);
    assert.equal(out.width, 1600);
  });

  // An RGBA PNG whose alpha is 255 everywhere is resized without a premultiplied copy of its
  // pixels (src/resize.rs), and the core frees the input file (here ~1x the RGBA size: noise,
  // fast deflate) once decoded (src/pipeline.rs): 2.05x, was 3.40x.
  it('a 24 MP RGBA PNG with an all-opaque alpha channel resized to 1600 px peaks within 2.3x its RGBA size', async () => {
    const png = new Uint8Array(await sharp(await photo24()).ensureAlpha(1).png({ compressionLevel: 1 }).toBuffer());
    const out = await peakOf('24mp-png-opaque', { width: 1600, format: 'webp' }, 2.3, png);
    assert.equal(out.width, 1600);
  });

  // A transparent one needs the premultiplied copy; it is made before the output buffer, so it
  // reuses the room of the freed input file (src/resize.rs): 2.40x, was 3.41x.
  it('a 24 MP transparent PNG resized to 1600 px peaks within 2.6x its RGBA size', async () => {
    const noise = await sharp({ create: { width: w / 8, height: h / 8, channels: 4, noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
    const png = new Uint8Array(await sharp(noise).resize(w, h, { kernel: 'cubic' }).png({ compressionLevel: 1 }).toBuffer());
    const out = await peakOf('24mp-png-alpha', { width: 1600, format: 'webp' }, 2.6, png);
    assert.equal(out.width, 1600);
    const { info } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 4, 'the output keeps its alpha');
  });

  // Full size is the worst case: the whole image is held as RGB, as Y'CbCr planes and as
  // coefficients. It was 5.16x before the JPEG encoder took planes built two rows at a time,
  // dropped DC trellis for big images (src/encode/jpeg.rs) and an unresized image stopped being
  // copied (src/resize.rs): 2.41x now.
  it('a 24 MP photo re-encoded at full size peaks within 3x its RGBA size (fresh instance)', async () => {
    const out = await peakOf('24mp-full', { format: 'jpeg' }, 3);
    assert.equal(out.width, w);
  });
});
