// Perceptual scores: `score: true` on optimize and `compare()`, against each other and
// against what sharp's own encodes say about quality.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { compare, optimize, MediaslimError } from 'mediaslim';

const fixture = (name) => new Uint8Array(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));

describe('SSIMULACRA2 scores', () => {
  it('optimize reports a score on request that rises with quality, and compare() agrees', async () => {
    const photo = fixture('flower2.jpg');
    const low = await optimize(photo, { format: 'webp', quality: 20, score: true, neverBigger: false });
    const high = await optimize(photo, { format: 'webp', quality: 95, score: true, neverBigger: false });
    assert.ok(low.score < high.score, `q20 ${low.score} < q95 ${high.score}`);
    assert.ok(high.score > 80 && low.score < 75, `${low.score} / ${high.score}`);
    const again = await compare(photo, high.bytes);
    assert.ok(Math.abs(again - high.score) < 0.01, `${again} vs ${high.score}`);
    assert.equal((await optimize(photo, { format: 'jpeg' })).score, undefined, 'no score unless asked');
  });

  it('compare() ranks independent (libvips) encodes by their quality', async () => {
    const photo = fixture('skimage-rocket.jpg');
    const scores = [];
    for (const quality of [10, 50, 95]) scores.push(await compare(photo, new Uint8Array(await sharp(photo).jpeg({ quality }).toBuffer())));
    assert.ok(scores[0] < scores[1] && scores[1] < scores[2], `${scores}`);
    assert.ok(Math.abs((await compare(photo, photo)) - 100) < 0.01, 'identical images score 100');
    // A resized output is scored against the source resized to match (different resizers
    // disagree a little: libvips' lanczos3 vs ours), and a degraded one scores far lower.
    const resized = new Uint8Array(await sharp(photo).resize(200).png().toBuffer());
    const degraded = new Uint8Array(await sharp(photo).resize(200).jpeg({ quality: 5 }).toBuffer());
    const [clean, bad] = [await compare(photo, resized), await compare(photo, degraded)];
    assert.ok(clean > 60 && bad < clean - 20, `clean resize ${clean}, q5 ${bad}`);
  });

  it('refuses what cannot be scored, by code', async () => {
    await assert.rejects(compare(fixture('random.bin'), fixture('hopper.png')), (e) => e instanceof MediaslimError && e.code === 'UNSUPPORTED_FORMAT');
    const tiny = new Uint8Array(await sharp(fixture('hopper.png')).resize(4, 4).png().toBuffer());
    await assert.rejects(compare(fixture('hopper.png'), tiny), (e) => e.code === 'INVALID_OPTION' && /8x8/.test(e.message));
  });
});
