// Sweeps ../shared/corpus (when present): every file either optimizes to something sharp
// reads back, or rejects with a MediaslimError of a known code, quickly, without crashing
// the wasm instance. Files sharp also decodes must look the same as sharp decodes them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, relative, sep } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { optimize, probe, MediaslimError } from 'mediaslim';
import { CORPUS, hasCorpus, corpusFile, rgba, meta, diff, SHARP_FORMAT, sniff } from './_helpers.mjs';

const CLEAN_CODES = new Set(['UNSUPPORTED_FORMAT', 'CORRUPT_INPUT', 'TOO_LARGE']);
const PER_FILE_MS = 2000;

function list(sub) {
  const dir = fileURLToPath(new URL(sub, CORPUS));
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => sub + relative(dir, join(e.parentPath ?? e.path, e.name)).split(sep).join('/'))
    .sort();
}

/** Runs `fn`, classifying the outcome; returns a problem string or null. */
async function outcome(what, fn) {
  const t = performance.now();
  let value, err;
  try {
    value = await fn();
  } catch (e) {
    err = e;
  }
  const ms = performance.now() - t;
  if (ms > PER_FILE_MS) return { problem: `${what}: took ${Math.round(ms)} ms` };
  if (err) {
    if (!(err instanceof MediaslimError)) return { problem: `${what}: threw ${err?.constructor?.name}: ${err?.message}` };
    if (!CLEAN_CODES.has(err.code)) return { problem: `${what}: ${err.code}: ${err.message}` };
    if (!err.message) return { problem: `${what}: ${err.code} with an empty message` };
    return { err };
  }
  return { value };
}

describe('corpus sweep', { skip: !hasCorpus && 'no ../shared/corpus' }, () => {
  for (const sub of ['formats/', 'malformed/']) {
    it(`${sub}: every file optimizes (width 64) or rejects cleanly, within ${PER_FILE_MS} ms`, async () => {
      const files = list(sub);
      assert.ok(files.length > (sub === 'formats/' ? 400 : 30), `${files.length} files found`);
      await probe(corpusFile('formats/hopper.png')); // warm up: time the files, not the start-up
      const problems = [];
      let ok = 0;
      for (const rel of files) {
        const input = corpusFile(rel);
        const o = await outcome(`${rel} optimize`, () => optimize(input, { width: 64 }));
        if (o.problem) { problems.push(o.problem); continue; }
        const p = await outcome(`${rel} probe`, () => probe(input));
        if (p.problem) problems.push(p.problem);
        if (o.err) continue;
        ok++;
        const r = o.value;
        if (o.value && p.err) problems.push(`${rel}: optimize works but probe rejects (${p.err.code}: ${p.err.message})`);
        if (!['jpeg', 'png', 'webp', 'avif'].includes(r.format)) { problems.push(`${rel}: format ${r.format}`); continue; }
        if (sniff(r.bytes) !== r.format) problems.push(`${rel}: bytes are not ${r.format}`);
        if (r.width > 64) problems.push(`${rel}: width ${r.width} > 64`);
        try {
          const m = await meta(r.bytes);
          if (m.format !== SHARP_FORMAT[r.format] || m.width !== r.width || m.height !== r.height) {
            problems.push(`${rel}: reported ${r.format} ${r.width}x${r.height}, sharp reads ${m.format} ${m.width}x${m.height}`);
          }
          await sharp(Buffer.from(r.bytes)).raw().toBuffer();
        } catch (e) {
          problems.push(`${rel}: sharp cannot read our output: ${e.message}`);
        }
      }
      assert.deepEqual(problems, [], `${problems.length} problems`);
      if (sub === 'formats/') assert.ok(ok > 400, `${ok} files optimized`);
    });
  }

  it('the wasm instance is still healthy after the sweep', async () => {
    const r = await optimize(corpusFile('formats/hopper.png'), { width: 32, format: 'png' });
    assert.equal(r.width, 32);
  });
});

// Files where our decode legitimately differs from libvips', with the reason.
const TOLERATED = {
  'formats/pil_sample_cmyk.jpg': [8, 'no profile: libvips assumes SWOP CMYK, we convert naively'],
  'formats/app13.jpg': [40, '4x4 JPEG with 2x2 chroma samples: chroma upsampling differs (see report)'],
  'formats/icc_profile_big.jpg': [3, 'profile conversion by a different CMM'],
};
// Covered by their own failing tests (orientation.test.mjs, below).
const REPORTED = new Set([2, 3, 4, 5, 6, 7, 8].map((n) => `formats/hopper_orientation_${n}.webp`).concat(['formats/1_trns.png']));

describe('corpus fidelity', { skip: !hasCorpus && 'no ../shared/corpus' }, () => {
  it('JPEG/PNG/GIF/WebP files that sharp decodes look the same through us (lossless WebP out)', async () => {
    const problems = [];
    let compared = 0;
    for (const rel of list('formats/')) {
      if (REPORTED.has(rel)) continue;
      const input = corpusFile(rel);
      let ref;
      try {
        const m = await meta(input);
        if (!['jpeg', 'png', 'gif', 'webp'].includes(m.format)) continue;
        ref = await rgba(input);
      } catch {
        continue; // sharp cannot read it either
      }
      let r;
      try {
        r = await optimize(input, { format: 'webp', lossless: true, neverBigger: false });
      } catch {
        continue; // rejections are judged by the sweep above
      }
      compared++;
      if (r.width !== ref.width || r.height !== ref.height) {
        problems.push(`${rel}: ${r.width}x${r.height}, sharp ${ref.width}x${ref.height}`);
        continue;
      }
      const d = diff(await rgba(r.bytes), ref);
      const limit = TOLERATED[rel]?.[0] ?? 1.5;
      if (d.worst >= limit) problems.push(`${rel}: ${d.text} (limit ${limit})`);
    }
    assert.ok(compared > 400, `${compared} files compared`);
    assert.deepEqual(problems, []);
  });

  it('formats/1_trns.png (1-bit grey, tRNS) has the same transparency as in libvips', async () => {
    const input = corpusFile('formats/1_trns.png');
    const r = await optimize(input, { format: 'png', neverBigger: false });
    const alphaOf = (img) => ({ ...img, data: img.data.map((v, i) => (i % 4 === 3 ? v : 0)) });
    const d = diff(alphaOf(await rgba(r.bytes)), alphaOf(await rgba(input)));
    assert.ok(d.worst < 1, `alpha channel: ${d.text}`);
  });
});

// A self-contained version of the 1_trns.png case (runs without the corpus).
describe('PNG tRNS on low bit depths', () => {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc32 = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  /** 8x2 1-bit greyscale, alternating black/white, with a tRNS grey value. */
  const onebit = (trns) => {
    const ihdr = Buffer.from([0, 0, 0, 8, 0, 0, 0, 2, 1, 0, 0, 0, 0]);
    const rows = Buffer.from([0, 0b10101010, 0, 0b10101010]);
    return new Uint8Array(Buffer.concat([
      Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('tRNS', Buffer.from(trns)),
      chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0)),
    ]));
  };
  const alphas = async (png) => {
    const img = await rgba((await optimize(png, { format: 'png', neverBigger: false })).bytes);
    return Array.from({ length: 8 }, (_, x) => img.data[x * 4 + 3]);
  };

  it('tRNS grey value 1 makes the white pixels transparent', async () => {
    assert.deepEqual(await alphas(onebit([0, 1])), [0, 255, 0, 255, 0, 255, 0, 255]);
  });

  it('tRNS grey value 0x00ff at bit depth 1 is masked to 1 (PNG spec: decoders must mask the unused bits)', async () => {
    const png = onebit([0, 255]);
    const theirs = await rgba(png);
    assert.deepEqual(Array.from({ length: 8 }, (_, x) => theirs.data[x * 4 + 3]), [0, 255, 0, 255, 0, 255, 0, 255], 'libvips masks');
    assert.deepEqual(await alphas(png), [0, 255, 0, 255, 0, 255, 0, 255]);
  });
});
