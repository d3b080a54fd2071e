// Every failure is a MediaslimError with the right code and a message a person can act on;
// one bad file never takes the others (or the wasm instance) down with it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { optimize, probe, MediaslimError } from 'mediaslim';
import { withCore } from '../../pkg/core.js';
import { fixture, meta, rejectsWith } from './_helpers.mjs';

const HOPPER = fixture('hopper.png');

describe('bad input files', () => {
  it('truncated_jpeg.jpg -> CORRUPT_INPUT', async () => {
    await rejectsWith(optimize(fixture('truncated_jpeg.jpg')), 'CORRUPT_INPUT', /jpeg/i);
  });

  it('broken.png -> CORRUPT_INPUT', async () => {
    await rejectsWith(optimize(fixture('broken.png')), 'CORRUPT_INPUT', /png/i);
  });

  it('truncated copies of good files -> CORRUPT_INPUT', async () => {
    for (const name of ['hopper.png', 'hopper.jpg', 'hopper.webp', 'hopper.gif', 'progressive.jpg']) {
      const bytes = fixture(name);
      for (const keep of [0.5, 0.9]) {
        await rejectsWith(optimize(bytes.subarray(0, Math.floor(bytes.length * keep)), { format: 'png' }), 'CORRUPT_INPUT', undefined).catch((e) => {
          throw new Error(`${name} cut to ${keep * 100} %: ${e.message}`);
        });
      }
    }
  });

  it('decompression_bomb.gif is rejected (corrupt or too large), fast', async () => {
    await probe(HOPPER); // warm up
    const t = performance.now();
    const err = await optimize(fixture('decompression_bomb.gif')).then(() => null, (e) => e);
    assert.ok(err instanceof MediaslimError, `rejected with a MediaslimError, got ${err}`);
    assert.ok(['CORRUPT_INPUT', 'TOO_LARGE'].includes(err.code), err.code);
    assert.ok(performance.now() - t < 1000);
  });

  it('random.bin -> UNSUPPORTED_FORMAT', async () => {
    await rejectsWith(optimize(fixture('random.bin')), 'UNSUPPORTED_FORMAT');
  });

  it('zip-renamed.jpg -> UNSUPPORTED_FORMAT naming ZIP', async () => {
    await rejectsWith(optimize(fixture('zip-renamed.jpg')), 'UNSUPPORTED_FORMAT', /ZIP/);
  });

  it('empty and tiny inputs -> UNSUPPORTED_FORMAT', async () => {
    await rejectsWith(optimize(new Uint8Array(0)), 'UNSUPPORTED_FORMAT');
    await rejectsWith(optimize(new Uint8Array([0xff, 0xd8])), 'UNSUPPORTED_FORMAT');
    await rejectsWith(optimize(new ArrayBuffer(0)), 'UNSUPPORTED_FORMAT');
  });
});

describe('limits', () => {
  it('bomb-100000x100000.png -> TOO_LARGE in well under a second, naming the pixel limit', async () => {
    await probe(HOPPER); // load the wasm module first: time the check, not the start-up
    const t = performance.now();
    const err = await rejectsWith(optimize(fixture('bomb-100000x100000.png')), 'TOO_LARGE');
    const ms = performance.now() - t;
    assert.ok(ms < 1000, `took ${ms} ms`);
    assert.match(err.message, /100000000|100 000 000|100,000,000/, 'the message names the limit (100 000 000 pixels)');
    assert.match(err.message, /maxPixels/, 'and the option that raises it');
    assert.match(err.message, /100000/, 'and the image size');
  });

  it('maxPixels: 1000 on hopper.png (16384 px) -> TOO_LARGE naming the limit', async () => {
    const err = await rejectsWith(optimize(HOPPER, { maxPixels: 1000 }), 'TOO_LARGE', [/1000\b/, /maxPixels/]);
    assert.match(err.message, /16384/);
    // and the limit is a limit, not a guess: exactly the image's size passes
    const r = await optimize(HOPPER, { maxPixels: 128 * 128, format: 'png' });
    assert.equal(r.width, 128);
  });

  it('maxPixels also bounds the output: an upscale past it -> TOO_LARGE', async () => {
    await rejectsWith(optimize(HOPPER, { width: 20000, upscale: true }), 'TOO_LARGE', /maxPixels/);
    await rejectsWith(optimize(HOPPER, { width: 200, upscale: true, maxPixels: 20000 }), 'TOO_LARGE', /maxPixels/);
  });

  it('maxInputBytes -> TOO_LARGE naming the option', async () => {
    await rejectsWith(optimize(HOPPER, { maxInputBytes: 100 }), 'TOO_LARGE', [/maxInputBytes/, /100\b/]);
    const r = await optimize(HOPPER, { maxInputBytes: HOPPER.length });
    assert.equal(r.format, 'png');
  });
});

describe('invalid options', () => {
  // [options, the option the message must name, words the message must contain]
  const cases = [
    [{ fit: 'round' }, 'fit', ['inside', 'cover', 'contain', 'fill']],
    [{ quality: 0 }, 'quality', ['1', '100']],
    [{ quality: 101 }, 'quality', ['1', '100']],
    [{ widht: 100 }, 'widht', ['width']],
    [{ format: 'tiff' }, 'format', ['jpeg', 'png', 'webp', 'avif']],
    [{ width: -1 }, 'width', []],
    [{ width: 0 }, 'width', []],
    [{ width: 1.5 }, 'width', []],
    [{ width: '100' }, 'width', []],
    [{ height: -3 }, 'height', []],
    [{ effort: 11 }, 'effort', ['0', '10']],
    [{ kernel: 'cubic' }, 'kernel', ['lanczos3']],
    [{ background: 'red' }, 'background', ['#']],
    [{ background: '#fff' }, 'background', ['#']],
    [{ chromaSubsampling: '4:2:2' }, 'chromaSubsampling', ['4:2:0', '4:4:4']],
    [{ upscale: 'yes' }, 'upscale', ['true or false']],
    [{ keepMetadata: 1 }, 'keepMetadata', ['true or false']],
    [{ neverBigger: 'no' }, 'neverBigger', ['true or false']],
    [{ alphaQuality: 0 }, 'alphaQuality', ['1', '100']],
    [{ maxPixels: 0 }, 'maxPixels', []],
    [{ maxPixels: -1 }, 'maxPixels', []],
  ];
  for (const [options, name, words] of cases) {
    it(`${JSON.stringify(options)} -> INVALID_OPTION naming \`${name}\``, async () => {
      const err = await rejectsWith(optimize(HOPPER, options), 'INVALID_OPTION', new RegExp(`\\b${name}\\b`));
      for (const w of words) assert.ok(err.message.includes(w), `message mentions ${w}: ${err.message}`);
    });
  }

  it('messages speak JavaScript, not Rust (no u8/u32/u64 type names)', async () => {
    const bad = [];
    for (const options of [{ width: -1 }, { width: 1.5 }, { width: '100' }, { height: 1e12 }, { quality: 50.5 }, { maxPixels: -1 }, { effort: -1 }]) {
      const err = await rejectsWith(optimize(HOPPER, options), 'INVALID_OPTION');
      if (/\b[ui](8|16|32|64)\b|\bf64\b/.test(err.message)) bad.push(`${JSON.stringify(options)}: ${err.message}`);
    }
    assert.deepEqual(bad, [], 'messages should state the allowed values (e.g. "a whole number of pixels from 1 to ...")');
  });

  it('non-finite numbers are rejected, not silently dropped (NaN, Infinity)', async () => {
    // JSON.stringify turns these into null or drops them: { width: NaN } must not mean "no width".
    const silent = [];
    for (const [key, value] of [['width', NaN], ['height', Infinity], ['quality', NaN], ['effort', -Infinity]]) {
      const err = await optimize(HOPPER, { format: 'jpeg', [key]: value }).then(() => null, (e) => e);
      if (!(err instanceof MediaslimError && err.code === 'INVALID_OPTION' && err.message.includes(key))) silent.push(`${key}: ${value} -> ${err ? `${err.constructor.name} ${err.code ?? ''} ${err.message}` : 'accepted'}`);
    }
    assert.deepEqual(silent, []);
  });

  it('options that cannot be serialized reject with INVALID_OPTION, not a raw TypeError', async () => {
    const circular = {};
    circular.self = circular;
    for (const options of [{ width: 100n }, circular]) {
      await rejectsWith(optimize(HOPPER, options), 'INVALID_OPTION');
    }
  });

  it('options that are not an object -> INVALID_OPTION', async () => {
    for (const options of [null, 'png', 42, [1, 2]]) {
      await rejectsWith(optimize(HOPPER, options), 'INVALID_OPTION', /options/);
    }
  });

  it('absent values are fine: {} and { width: undefined }', async () => {
    assert.equal((await optimize(HOPPER, {})).width, 128);
    assert.equal((await optimize(HOPPER, { width: undefined })).width, 128);
  });

  it('input of the wrong type -> INVALID_OPTION naming the input and its type', async () => {
    for (const [input, type] of [['hopper.png', 'string'], [42, 'number'], [null, 'null'], [undefined, 'undefined'], [[137, 80, 78, 71], 'Array'], [{}, 'Object']]) {
      await rejectsWith(optimize(input), 'INVALID_OPTION', [/input/, new RegExp(type)]);
      await rejectsWith(probe(input), 'INVALID_OPTION', /input/);
    }
  });
});

describe('isolation', () => {
  it('a batch with a corrupt file in the middle: the others still succeed', async () => {
    const names = ['hopper.jpg', 'transparent.png', 'truncated_jpeg.jpg', 'random.bin', 'hopper.webp', 'broken.png', 'hopper.gif'];
    const results = await Promise.allSettled(names.map((n) => optimize(fixture(n), { width: 64, format: 'webp' })));
    const summary = results.map((r, i) => `${names[i]}: ${r.status === 'fulfilled' ? 'ok' : r.reason.code}`);
    assert.deepEqual(summary, [
      'hopper.jpg: ok', 'transparent.png: ok', 'truncated_jpeg.jpg: CORRUPT_INPUT', 'random.bin: UNSUPPORTED_FORMAT',
      'hopper.webp: ok', 'broken.png: CORRUPT_INPUT', 'hopper.gif: ok',
    ]);
    for (const r of results.filter((x) => x.status === 'fulfilled')) {
      assert.equal((await meta(r.value.bytes)).format, 'webp');
      assert.equal(r.value.width, 64);
    }
  });

  it('parallel calls give the same bytes as sequential ones', async () => {
    const inputs = ['hopper.jpg', 'hopper.png', 'transparent.png', 'flower2.jpg'].map(fixture);
    const seq = [];
    for (const b of inputs) seq.push((await optimize(b, { width: 90, format: 'jpeg' })).bytes);
    const par = await Promise.all(inputs.map((b) => optimize(b, { width: 90, format: 'jpeg' })));
    par.forEach((r, i) => assert.ok(Buffer.from(r.bytes).equals(Buffer.from(seq[i])), `input ${i} differs`));
  });

  it('the input buffer is not modified or detached', async () => {
    const input = fixture('hopper.jpg');
    const copy = input.slice();
    await optimize(input, { format: 'png', width: 50 });
    await probe(input);
    assert.equal(input.byteLength, copy.byteLength);
    assert.ok(Buffer.from(input).equals(Buffer.from(copy)));
  });
});

describe('trap recovery (__trapForTests)', () => {
  it('a trapped instance -> WORKER_CRASHED, and the next calls work on a fresh instance', async () => {
    const before = await optimize(fixture('hopper.jpg'), { width: 40, format: 'png' });
    await rejectsWith(withCore((c) => c.__trapForTests()), 'WORKER_CRASHED');
    const after = await optimize(fixture('hopper.jpg'), { width: 40, format: 'png' });
    assert.deepEqual([after.format, after.width, after.height], ['png', 40, 40]);
    assert.ok(Buffer.from(after.bytes).equals(Buffer.from(before.bytes)), 'the fresh instance gives the same output');
    assert.equal((await probe(fixture('hopper_orientation_6.jpg'))).orientation, 6);
    // errors are still mapped as before on the new instance
    await rejectsWith(optimize(fixture('truncated_jpeg.jpg')), 'CORRUPT_INPUT');
  });

  it('survives repeated traps, and calls queued around a trap settle cleanly', async () => {
    for (let i = 0; i < 3; i++) {
      const around = [
        optimize(fixture('hopper.png'), { width: 32 }),
        withCore((c) => c.__trapForTests()),
        optimize(fixture('hopper.png'), { width: 32 }),
      ];
      const settled = await Promise.allSettled(around);
      assert.equal(settled[1].status, 'rejected');
      assert.equal(settled[1].reason.code, 'WORKER_CRASHED');
      for (const s of [settled[0], settled[2]]) {
        // a neighbour may legitimately be caught in the crash, but only as WORKER_CRASHED
        if (s.status === 'rejected') assert.equal(s.reason.code, 'WORKER_CRASHED', s.reason.message);
        else assert.equal(s.value.width, 32);
      }
      assert.equal((await optimize(fixture('hopper.png'), { width: 32 })).width, 32, `recovered after trap ${i + 1}`);
    }
  });

  it('a call that already holds the instance when it traps still settles correctly', async () => {
    // Both callbacks get the same (old) instance; the second runs right after the trap.
    const [trap, after] = await Promise.allSettled([
      withCore((c) => c.__trapForTests()),
      withCore((c) => c.probe(fixture('hopper_orientation_6.jpg'))),
    ]);
    assert.equal(trap.reason?.code, 'WORKER_CRASHED');
    if (after.status === 'rejected') assert.equal(after.reason.code, 'WORKER_CRASHED', after.reason.message);
    else assert.deepEqual([after.value.format, after.value.orientation, after.value.width], ['jpeg', 6, 128]);
    const r = await optimize(fixture('hopper.jpg'), { width: 32, format: 'png' });
    assert.deepEqual([r.width, (await meta(r.bytes)).width], [32, 32]);
  });
});
