// Video in Node: demux works (bytes and Blobs read by range, checked against ffprobe's
// counts), while transcode and posterFrame, which need WebCodecs, reject with typed errors
// that say so; bad options and inputs are refused by name.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { demux, posterFrame, transcode, MediaslimError, Pool } from 'mediaslim';
import { corpusFile, fixture, hasCorpus, CORPUS, FIXTURES } from './_helpers.mjs';

const pool = new Pool({ size: 1 });
after(() => pool.terminate());

const is = (code, re) => (e) => e instanceof MediaslimError && e.code === code && (!re || re.test(e.message));

/** ffprobe's packets per stream: [{ count, keys, bytes }], or undefined without ffprobe. */
function ffprobeCounts(path) {
  try {
    const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=stream_index,size,flags', '-of', 'csv=p=0', path], { encoding: 'utf8' });
    const streams = [];
    for (const line of out.trim().split('\n')) {
      const [index, size, flags] = line.split(',');
      const s = (streams[Number(index)] ??= { count: 0, keys: 0, bytes: 0 });
      s.count += 1;
      s.bytes += Number(size);
      if (flags.startsWith('K')) s.keys += 1;
    }
    return streams;
  } catch {
    return undefined;
  }
}

function summary(d) {
  return d.tracks.map((t) => ({ count: t.samples.sizes.length, keys: t.samples.keyframes.reduce((a, b) => a + b, 0), bytes: t.samples.sizes.reduce((a, b) => a + b, 0) }));
}

describe('video in Node', () => {
  it('demux: track list and sample tables of the fixture, also from a Blob', async () => {
    const bytes = fixture('clip-h264-aac.mp4');
    const d = await demux(bytes, { pool });
    const [video, audio] = d.tracks;
    assert.equal(d.fragmented, false);
    assert.match(video.codec, /^avc1\.64/);
    assert.deepEqual([video.kind, video.width, video.height, video.rotation, video.sampleCount, video.keyframes], ['video', 320, 240, 0, 60, 2]);
    assert.equal(video.description[0], 1, 'avcC');
    assert.deepEqual([audio.kind, audio.codec, audio.sampleRate, audio.channels, audio.editStart], ['audio', 'mp4a.40.2', 44100, 1, 1024]);
    assert.ok(video.samples.pts.some((p, i) => p !== video.samples.dts[i]), 'B-frames: pts differs from dts');
    // The Blob path reads the file by range: same answer.
    const fromBlob = await demux(new Blob([bytes]), { pool });
    assert.deepEqual(summary(fromBlob), summary(d));
    assert.deepEqual(Array.from(fromBlob.tracks[0].samples.pts), Array.from(video.samples.pts));
    const theirs = ffprobeCounts(fileURLToPath(new URL('clip-h264-aac.mp4', FIXTURES)));
    if (theirs) assert.deepEqual(summary(d), theirs);
    const rotated = await demux(fixture('clip-rotated-cw90.mp4'), { pool });
    assert.equal(rotated.tracks[0].rotation, 90);
  });

  it('an MP4 Blob is read by ranges: box headers and the index, not the media', async () => {
    // The worker-side reader, driven directly with a Blob that counts what is read.
    const { ByteSource, openVideo } = await import('../../pkg/video/video-source.js');
    const { withCore } = await import('../../pkg/core.js');
    const bytes = hasCorpus ? corpusFile('video/bigbuckbunny.mp4') : fixture('clip-h264-aac.mp4');
    const blob = new Blob([bytes]);
    let read = 0;
    const counting = { size: blob.size, slice: (a, b) => ((read += b - a), blob.slice(a, b)) };
    const demuxer = await openVideo(new ByteSource(counting, 4096), (fn) => withCore(fn, 'full')); // video is in the full module
    const tracks = demuxer.tracks();
    demuxer.free();
    assert.ok(tracks.length >= 1);
    const moov = Buffer.from(bytes).indexOf('moov') - 4;
    const moovSize = new DataView(bytes.buffer, bytes.byteOffset).getUint32(moov);
    assert.ok(read < moovSize + 4 * 4096 + 64, `${read} bytes read for a ${moovSize}-byte index in a ${bytes.length}-byte file`);
    console.log(`range reading: ${read} of ${bytes.length} bytes read to index ${tracks.length} tracks`);
  });

  it('demux: WebM (read whole: its index is spread through the file)', async () => {
    const d = await demux(new Blob([fixture('clip-vp9-opus.webm')]), { pool });
    const [video, audio] = d.tracks;
    assert.deepEqual([video.codec, video.width, video.height, video.sampleCount, video.timescale], ['vp09.00.10.08', 160, 120, 50, 1000]);
    assert.deepEqual([audio.codec, audio.sampleRate, audio.channels], ['opus', 48000, 1]);
    assert.equal(audio.endPaddingNs, 13_500_000, 'the last packet\'s DiscardPadding: 648 samples at 48 kHz');
    const theirs = ffprobeCounts(fileURLToPath(new URL('clip-vp9-opus.webm', FIXTURES)));
    if (theirs) assert.deepEqual(summary(d), theirs);
  });

  it('demux: corpus clips agree with ffprobe', { skip: !hasCorpus && 'no corpus here' }, async () => {
    for (const name of ['bigbuckbunny.mp4', 'bikes.mp4', 'test.mp4', 'test.webm', 'test.mkv']) {
      const d = await demux(corpusFile(`video/${name}`), { pool });
      const theirs = ffprobeCounts(fileURLToPath(new URL(`video/${name}`, CORPUS)));
      if (theirs) assert.deepEqual(summary(d), theirs, name);
    }
  });

  it('transcode and posterFrame need WebCodecs: UNSUPPORTED_CODEC says so', async () => {
    const clip = fixture('clip-h264-aac.mp4');
    await assert.rejects(transcode(clip, { pool }), is('UNSUPPORTED_CODEC', /WebCodecs/));
    await assert.rejects(transcode(new Blob([clip]), { pool, maxHeight: 480 }), is('UNSUPPORTED_CODEC', /WebCodecs/));
    await assert.rejects(posterFrame(clip, { pool }), is('UNSUPPORTED_CODEC', /WebCodecs/));
    // An output stream (moved to the worker) is aborted with the reason, not left open.
    let abortedWith;
    const output = new WritableStream({ abort: (reason) => void (abortedWith = String(reason)) });
    await assert.rejects(transcode(clip, { pool, output }), is('UNSUPPORTED_CODEC', /WebCodecs/));
    for (let i = 0; i < 50 && abortedWith === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(abortedWith ?? 'not aborted', /WebCodecs/);
    await assert.rejects(transcode(clip, { pool, output: {} }), is('INVALID_OPTION', /output/));
  });

  it('bad options and inputs: typed errors, fast', async () => {
    const clip = fixture('clip-h264-aac.mp4');
    const started = performance.now();
    await assert.rejects(transcode(clip, { pool, codec: 'vp8' }), is('INVALID_OPTION', /codec/));
    await assert.rejects(transcode(clip, { pool, maxWidht: 10 }), is('INVALID_OPTION', /`maxWidht`: unknown/));
    await assert.rejects(transcode(clip, { pool, audio: 'aac' }), is('INVALID_OPTION', /audio/));
    await assert.rejects(transcode(clip, { pool, container: 'mkv' }), is('INVALID_OPTION', /`container`: must be "mp4" or "webm"/));
    await assert.rejects(transcode(clip, { pool, container: 'webm', codec: 'h264' }), is('INVALID_OPTION', /"h264" cannot go into a WebM/));
    await assert.rejects(transcode(clip, { pool, maxHeight: 0 }), is('INVALID_OPTION', /maxHeight/));
    await assert.rejects(transcode(clip, { pool, bitrate: Infinity }), is('INVALID_OPTION', /bitrate/));
    await assert.rejects(posterFrame(clip, { pool, format: 'gif' }), is('INVALID_OPTION', /format/));
    await assert.rejects(demux(fixture('hopper.png'), { pool }), is('UNSUPPORTED_FORMAT'));
    await assert.rejects(demux(clip.subarray(0, 3000), { pool }), is('CORRUPT_INPUT'));
    // A moov whose size field lies.
    const lying = clip.slice();
    const at = Buffer.from(lying).indexOf('moov') - 4;
    new DataView(lying.buffer).setUint32(at, 0x7fffffff);
    await assert.rejects(demux(lying, { pool }), is('CORRUPT_INPUT', /moov/));
    const ms = performance.now() - started;
    assert.ok(ms < 2000, `typed errors took ${ms.toFixed(0)} ms`);
  });
});

describe('H.264 decoder descriptions (avcC) from WebCodecs encoders', async () => {
  // The worker-side helper, from the built package (not a public export).
  const { decoderDescription } = await import(new URL('../../pkg/video/encode-gif.js', import.meta.url).href);
  // avcC: version 1, profile/compat/level from the SPS, 4-byte lengths, one SPS, one PPS.
  const sps = [0x67, 0x4d, 0x40, 0x1e, 0x95, 0xa0, 0x50];
  const pps = [0x68, 0xeb, 0xe3, 0xcb];
  const avcc = (s, p) => Uint8Array.from([1, s[1], s[2], s[3], 0xff, 0xe1, 0, s.length, ...s, 1, 0, p.length, ...p]);

  it("repairs Firefox ESR's doubled NAL header bytes (SPS 67 67 ..., PPS 68 68 ...)", () => {
    const firefox = Uint8Array.from([1, 0x67, 0x4d, 0x40, 0xff, 0xe1, 0, sps.length + 1, 0x67, ...sps, 1, 0, pps.length + 1, 0x68, ...pps]);
    assert.deepEqual([...decoderDescription(firefox)], [...avcc(sps, pps)]);
  });

  it('leaves correct avcC, a legitimate 68 68 PPS and non-H.264 descriptions as they are', () => {
    const good = avcc(sps, pps);
    assert.deepEqual([...decoderDescription(good)], [...good]);
    const pps6868 = [0x68, 0x68, 0xce, 0x3c, 0x80];
    assert.deepEqual([...decoderDescription(avcc(sps, pps6868))], [...avcc(sps, pps6868)]);
    const av1C = Uint8Array.from([0x81, 0x00, 0x0c, 0x00, 0x0a, 0x0b, 0x00, 0x00, 0x00]);
    assert.deepEqual([...decoderDescription(av1C)], [...av1C]);
    // Truncated records are copied, not read past their end.
    assert.deepEqual([...decoderDescription(good.subarray(0, 9))], [...good.subarray(0, 9)]);
  });
});
