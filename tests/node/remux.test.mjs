// remux(input, { fastStart: true }) through the package in Node: moov ends up before mdat and
// the media bytes are untouched (the mdat payloads hash the same), on the corpus videos when
// present and on a generated file otherwise.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { remux, MediaslimError } from 'mediaslim';
import { CORPUS, corpusFile, fixture, hasCorpus } from './_helpers.mjs';

/** Top-level boxes: [{ type, start, size }]. */
function boxes(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  for (let at = 0; at + 8 <= bytes.length; ) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (size === 1) size = Number(view.getBigUint64(at + 8));
    if (size === 0) size = bytes.length - at;
    out.push({ type, start: at, size });
    at += size;
  }
  return out;
}
const sha = (b) => createHash('sha256').update(b).digest('hex');
const mdatHashes = (bytes) => boxes(bytes).filter((b) => b.type === 'mdat').map((b) => sha(bytes.subarray(b.start + 8, b.start + b.size)));

describe('remux (fast start)', () => {
  const videos = hasCorpus ? readdirSync(fileURLToPath(new URL('video/', CORPUS))).filter((f) => f.endsWith('.mp4')) : [];

  it('moves moov before mdat and keeps the media bytes identical', { skip: videos.length === 0 && 'no corpus videos here (the Rust suite covers generated files)' }, async () => {
    for (const name of videos) {
      const input = corpusFile(`video/${name}`);
      const before = boxes(input).map((b) => b.type);
      assert.ok(before.indexOf('moov') > before.indexOf('mdat'), `${name} starts with moov last`);
      const out = await remux(input, { fastStart: true });
      assert.equal(out.changed, true, name);
      const after = boxes(out.bytes).map((b) => b.type);
      assert.ok(after.indexOf('moov') < after.indexOf('mdat'), `${name}: ${after}`);
      assert.deepEqual(mdatHashes(out.bytes), mdatHashes(input), `${name}: media bytes`);
      const again = await remux(out.bytes);
      assert.equal(again.changed, false);
      assert.match(again.notes.join(' '), /already precedes/);
    }
  });

  it('refuses what is not an MP4, and truncated files, with CORRUPT_INPUT', async () => {
    await assert.rejects(remux(fixture('hopper.png')), (e) => e instanceof MediaslimError && e.code === 'CORRUPT_INPUT' && /ftyp/.test(e.message));
    if (videos.length) {
      const input = corpusFile(`video/${videos[0]}`);
      await assert.rejects(remux(input.subarray(0, input.length - 100)), (e) => e.code === 'CORRUPT_INPUT');
    }
    await assert.rejects(remux(fixture('hopper.png'), { fastStart: 'yes' }), (e) => e.code === 'INVALID_OPTION');
  });
});
