// remux(input, { fastStart: true, output }) streamed: the input read by ranges (a path, a
// FileHandle, a Blob or bytes), the output written to a Node stream or a web WritableStream.
// Judged by ffprobe (every packet's times, flags and MD5, before and after), by the box layout
// (moov before mdat), by equality with the in-memory remux, and by peak RSS in a child process:
// a 400 MB file must not need more memory than a 50 MB one (the 1 GiB figure is
// `npm run bench:video-memory`).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, openAsBlob, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { remux, MediaslimError } from 'mediaslim';
import { ffprobeVerdict, hasFfmpeg, makeLargeMp4, makeSourceClip, measureStreamingRemux, topLevelKinds } from '../../bench/video-memory.mjs';
import { FIXTURES } from './_helpers.mjs';

const MB = 1e6;
const ffmpegHere = hasFfmpeg();
const NO_FFMPEG = !ffmpegHere && 'ffmpeg/ffprobe not found: they make the moov-last inputs and judge the outputs';

/** Every packet as ffprobe reads it: stream, pts, dts, size, flags and the MD5 of its bytes. */
function packets(file) {
  const run = spawnSync('ffprobe', ['-v', 'error', '-show_data_hash', 'MD5', '-show_entries', 'packet=stream_index,pts,dts,size,flags,data_hash', '-of', 'csv=p=0', file], {
    encoding: 'utf8',
    maxBuffer: 256 * MB,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '', 'ffprobe reads it without complaint');
  return run.stdout.trim().split('\n');
}

/** A web WritableStream that keeps what it is given. */
function collector() {
  const chunks = [];
  const stream = new WritableStream({ write: (c) => void chunks.push(new Uint8Array(c)) });
  return { stream, bytes: () => Buffer.concat(chunks) };
}

describe('remux streamed to an output', { skip: NO_FFMPEG }, () => {
  let dir;
  let moovLast;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mediaslim-remux-stream-'));
    moovLast = path.join(dir, 'moov-last.mp4');
    // FFmpeg's default MP4 layout puts moov after mdat.
    const run = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', new URL('clip-h264-aac.mp4', FIXTURES).pathname, '-c', 'copy', moovLast]);
    assert.equal(run.status, 0);
    assert.deepEqual(topLevelKinds(moovLast).slice(-2), ['mdat', 'moov']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the same bytes as the in-memory remux from a path, a FileHandle, a Blob and bytes, every sample intact', async () => {
    const bytes = new Uint8Array(readFileSync(moovLast));
    const inMemory = await remux(bytes, { fastStart: true });
    assert.equal(inMemory.changed, true);
    const expected = Buffer.from(inMemory.bytes);

    const toFile = path.join(dir, 'from-path.mp4');
    const fromPath = await remux(moovLast, { fastStart: true, output: createWriteStream(toFile) });
    assert.deepEqual(fromPath, { changed: true, notes: inMemory.notes, bytesWritten: expected.length });
    assert.ok(readFileSync(toFile).equals(expected), 'path -> Node stream');
    assert.deepEqual(topLevelKinds(toFile), ['ftyp', 'moov', 'mdat']);
    assert.deepEqual(packets(toFile), packets(moovLast), 'every packet: times, flags and MD5 of its bytes');

    const handle = await open(moovLast, 'r');
    const web = collector();
    try {
      const r = await remux(handle, { output: web.stream });
      assert.equal(r.bytesWritten, expected.length);
    } finally {
      await handle.close();
    }
    assert.ok(web.bytes().equals(expected), 'FileHandle -> WritableStream');

    const fromBlob = collector();
    await remux(await openAsBlob(moovLast), { fastStart: true, output: fromBlob.stream });
    assert.ok(fromBlob.bytes().equals(expected), 'Blob -> WritableStream');

    const fromBytes = collector();
    await remux(bytes, { output: fromBytes.stream });
    assert.ok(fromBytes.bytes().equals(expected), 'bytes -> WritableStream');

    // Already fast-start: copied as it is, and said so.
    const again = collector();
    const r = await remux(toFile, { output: again.stream });
    assert.equal(r.changed, false);
    assert.match(r.notes.join(' '), /already precedes/);
    assert.ok(again.bytes().equals(expected));

    // A path without output still answers bytes (read whole, as before).
    const whole = await remux(moovLast);
    assert.ok(Buffer.from(whole.bytes).equals(expected));
  });

  it('refuses bad input and bad options with typed errors, before or while writing, and aborts the output', async () => {
    const notMp4 = collector();
    await assert.rejects(remux(new URL('hopper.png', FIXTURES).pathname, { output: notMp4.stream }), (e) => e instanceof MediaslimError && e.code === 'CORRUPT_INPUT');
    await assert.rejects(remux(moovLast, { output: collector().stream, fastStart: 'yes' }), (e) => e.code === 'INVALID_OPTION');
    await assert.rejects(remux(moovLast, { output: collector().stream, fastStrat: true }), (e) => e.code === 'INVALID_OPTION' && /fastStrat/.test(e.message));
    await assert.rejects(remux(moovLast, { output: {} }), (e) => e.code === 'INVALID_OPTION' && /output/.test(e.message));
    await assert.rejects(remux(path.join(dir, 'missing.mp4'), { output: collector().stream }), (e) => e.code === 'INVALID_OPTION' && /cannot open/.test(e.message));

    // Cut inside the moov: the box list no longer adds up.
    const truncated = path.join(dir, 'truncated.mp4');
    const bytes = readFileSync(moovLast);
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
    let destroyed;
    const sink = new Writable({ write: (_c, _e, cb) => cb(), destroy: (err, cb) => ((destroyed = err ?? true), cb(err)) });
    await assert.rejects(remux(truncated, { output: sink }), (e) => e.code === 'CORRUPT_INPUT');
    assert.ok(destroyed, 'the output stream is destroyed on failure');

    // A destination that fails mid-way: the remux rejects instead of hanging.
    const failing = new Writable({ highWaterMark: 1, write: (_c, _e, cb) => cb(new Error('disk full')) });
    failing.on('error', () => {});
    await assert.rejects(remux(moovLast, { output: failing }), (e) => e.code === 'ABORTED' && /disk full/.test(e.message));
  });

  it('peak memory does not grow with the file: 50 MB and 400 MB inputs', { timeout: 120_000 }, () => {
    const source = makeSourceClip(dir);
    const peaks = [];
    for (const size of [50 * MB, 400 * MB]) {
      const input = makeLargeMp4(source, size, path.join(dir, `in-${size}.mp4`));
      const output = path.join(dir, `out-${size}.mp4`);
      assert.deepEqual(topLevelKinds(input).slice(-2), ['mdat', 'moov'], 'the generated input is not fast-start');
      const r = measureStreamingRemux(input, output);
      assert.equal(r.changed, true);
      assert.equal(r.bytesWritten, statSync(output).size);
      assert.deepEqual(topLevelKinds(output), ['ftyp', 'moov', 'mdat']);
      const verdict = ffprobeVerdict(output);
      assert.ok(verdict.clean, verdict.errors);
      assert.deepEqual(verdict.codecs, ['h264', 'aac']);
      peaks.push({ size: statSync(input).size, rss: r.maxRssBytes, seconds: r.seconds });
      rmSync(input);
      rmSync(output);
    }
    const [small, large] = peaks;
    console.log(`peak RSS: ${(small.size / MB).toFixed(0)} MB input -> ${(small.rss / MB).toFixed(0)} MB (${small.seconds.toFixed(1)} s); ${(large.size / MB).toFixed(0)} MB input -> ${(large.rss / MB).toFixed(0)} MB (${large.seconds.toFixed(1)} s)`);
    assert.ok(large.rss - small.rss < 30 * MB, `peak RSS grew by ${((large.rss - small.rss) / MB).toFixed(0)} MB for 8x the input`);
    assert.ok(large.rss < 300 * MB, `peak RSS ${(large.rss / MB).toFixed(0)} MB`);
  });
});
