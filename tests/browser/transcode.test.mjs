// transcode() and posterFrame() in headless Chromium: WebCodecs decodes the MP4 or WebM, frames
// are scaled and re-encoded (H.264 MP4 or VP9 WebM at 480p), the core muxes them with the
// audio copied (AAC, Opus) or re-encoded (Opus).
// Each output is judged independently of how it was made: FFmpeg's ffprobe (codec, size,
// frame count, duration, audio packets bit-exact against the source's, rotation), the page
// plays it in a <video>, and SSIMULACRA2 (the package's `compare`) scores a middle frame
// against the source frame scaled the same way by FFmpeg.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compare, Pool } from 'mediaslim';
import { fixtures, openTestPage, repoRoot, playVideoScript } from './helpers.mjs';
import { framesAt, hasFfmpeg, psnrY } from '../ffprobe.mjs';

const CORPUS_VIDEO = join(repoRoot, '..', 'shared', 'corpus', 'video');
const hasCorpus = !process.env.MEDIASLIM_NO_CORPUS && existsSync(CORPUS_VIDEO);


const PAGE = '/__mediaslim_transcode_test__.html';
const HTML = `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>mediaslim transcode test</title><link rel="icon" href="data:,">
<script type="module">
  import * as mediaslim from '/pkg/index.js';
  window.mediaslim = mediaslim;
  window.pool = new mediaslim.Pool({ size: 2 });
  window.toBase64 = (bytes) => {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  ${playVideoScript({ rate: 4 })}
  // Every video frame and audio packet of a file decoded back with WebCodecs: an independent
  // check that what the muxer wrote is what decoders take (the core's demuxer only finds them).
  window.decodeBack = async (bytes) => {
    const { tracks } = await window.mediaslim.demux(bytes, { pool: window.pool });
    const out = {};
    for (const t of tracks) {
      const errors = [];
      let decoded = 0;
      let audioFrames = 0;
      const video = t.kind === 'video';
      const Decoder = video ? VideoDecoder : AudioDecoder;
      const decoder = new Decoder({
        output: (f) => { decoded++; if (!video) audioFrames += f.numberOfFrames; f.close(); },
        error: (e) => errors.push(String(e)),
      });
      decoder.configure(video
        ? { codec: t.codec, codedWidth: t.width, codedHeight: t.height, ...(t.description ? { description: t.description } : {}) }
        : { codec: t.codec, sampleRate: t.sampleRate, numberOfChannels: t.channels, ...(t.description ? { description: t.description } : {}) });
      const s = t.samples;
      for (let i = 0; i < s.sizes.length; i++) {
        const data = bytes.subarray(s.offsets[i], s.offsets[i] + s.sizes[i]);
        const Chunk = video ? EncodedVideoChunk : EncodedAudioChunk;
        decoder.decode(new Chunk({ type: s.keyframes[i] ? 'key' : 'delta', timestamp: Math.round((s.pts[i] * 1e6) / t.timescale), data }));
      }
      await decoder.flush().catch((e) => errors.push(String(e)));
      decoder.close();
      out[t.kind] = { codec: t.codec, samples: s.sizes.length, decoded, errors, ...(video ? {} : { seconds: audioFrames / t.sampleRate }) };
    }
    return out;
  };
  window.packageReady = true;
</script>
</html>`;

let page;
let problems;
let close;
const nodePool = new Pool({ size: 1 });
const dir = mkdtempSync(join(tmpdir(), 'mediaslim-transcode-browser-'));

before(async () => {
  ({ page, problems, close } = await openTestPage(PAGE, HTML));
});

after(async () => {
  await close?.();
  nodePool.terminate();
  rmSync(dir, { recursive: true, force: true });
});

const run = (args) => execFileSync(args[0], args.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();

function probe(file) {
  const json = JSON.parse(run(['ffprobe', '-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', file]));
  const video = json.streams.find((s) => s.codec_type === 'video');
  const audio = json.streams.find((s) => s.codec_type === 'audio');
  const rotation = video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0;
  return { video, audio, rotation, duration: Number(json.format.duration), frames: Number(video.nb_read_frames) };
}

/** "00:00:02.007000000" -> 2.007 */
const seconds = (hms = '') => hms.split(':').reduce((t, part) => t * 60 + Number(part), 0);

/** MD5 of the audio stream's packets, copied out by FFmpeg: equal means bit-exact samples. */
const audioMd5 = (file) => run(['ffmpeg', '-v', 'error', '-i', file, '-map', '0:a:0', '-c', 'copy', '-f', 'md5', '-']);

/** Frame `n` (presentation order) of `file` as PNG bytes, scaled to w x h by FFmpeg (bicubic). */
const frameAt = (file, n, w, h, prefix) => new Uint8Array(readFileSync(framesAt(file, [n], prefix, { width: w, height: h })[0]));

/** Transcodes `bytes` in the page (as a Blob when `asBlob`); returns the result and playback. */
function transcodeInPage(bytes, options, { asBlob = false, stream = false } = {}) {
  return page.evaluate(
    async ({ b64, options, asBlob, stream }) => {
      const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const input = asBlob ? new Blob([raw], { type: 'video/mp4' }) : raw;
      const progress = [];
      // With `stream`: the output goes to a WritableStream, each write kept as it arrives.
      const writes = [];
      const output = stream ? new WritableStream({ write: (chunk) => void writes.push(chunk) }) : undefined;
      const started = performance.now();
      const r = await window.mediaslim.transcode(input, { ...options, ...(output ? { output } : {}), pool: window.pool, onProgress: (e) => e.done !== undefined && progress.push([e.done, e.total]) });
      const ms = performance.now() - started;
      const streamed = stream ? { writes: writes.length, bytesWritten: r.bytesWritten, hasVideo: 'video' in r && r.video !== undefined } : undefined;
      const video = stream ? new Uint8Array(await new Blob(writes).arrayBuffer()) : r.video;
      const played = await window.play(video, r.mimeType);
      const decodedBack = await window.decodeBack(video);
      const { video: _, timings, ...rest } = r;
      return { ...rest, ms, progress, played, decodedBack, streamed, videoB64: window.toBase64(video), outputBytes: video.length };
    },
    { b64: Buffer.from(bytes).toString('base64'), options, asBlob, stream },
  );
}

async function checkTranscode(name, path, { options = { maxHeight: 480, codec: 'h264' }, width, height, asBlob = false, audio, natural = false, minPsnr = 28, scored = true, stream = false }) {
  const input = readFileSync(path);
  const r = await transcodeInPage(input, options, { asBlob, stream });
  const webm = options.container === 'webm';
  const outFile = join(dir, `${name}.${webm ? 'webm' : 'mp4'}`);
  writeFileSync(outFile, Buffer.from(r.videoB64, 'base64'));
  assert.match(r.mimeType, webm ? /^video\/webm; codecs="vp09\./ : /^video\/mp4; codecs="avc1\./, name);
  // Every frame (and audio packet) decodes back with WebCodecs.
  assert.deepEqual([r.decodedBack.video.decoded, r.decodedBack.video.errors], [r.frames, []], `${name}: frames decoded back`);
  if (r.decodedBack.audio) assert.deepEqual([r.decodedBack.audio.decoded, r.decodedBack.audio.errors], [r.decodedBack.audio.samples, []], `${name}: audio decoded back`);
  assert.deepEqual([r.width, r.height], [width, height], name);
  assert.equal(r.progress.at(-1)?.[0], r.frames, `${name}: progress reached the last frame`);
  // (a) the browser plays it to the end at the new size.
  assert.equal(r.played.canPlay, 'probably', `${name}: ${r.mimeType}`);
  const quarter = r.rotation % 180 === 90;
  assert.deepEqual([r.played.width, r.played.height], quarter ? [height, width] : [width, height], `${name}: <video> size (rotation applied by the player)`);
  assert.ok(r.played.presented >= r.frames * 0.5, `${name}: ${r.played.presented} of ${r.frames} frames presented at 4x`);
  let score;
  let psnr;
  if (!hasFfmpeg) {
    console.log('SKIPPED ffprobe checks: ffmpeg not found (install Debian ffmpeg; scripts/setup.sh does)');
  } else {
    // (b) FFmpeg agrees: codec, size, every frame, duration within one frame, rotation, audio.
    const src = probe(path);
    const out = probe(outFile);
    const frame = 1 / Number(eval(src.video.avg_frame_rate)); // "30/1" or "30000/1001"
    assert.deepEqual([out.video.codec_name, out.video.width, out.video.height], [webm ? 'vp9' : 'h264', width, height], name);
    assert.equal(out.frames, src.frames, `${name}: frame count`);
    const duration = (v) => Number(v.duration) || seconds(v.tags?.DURATION); // Matroska: a tag
    // Our WebM states no per-track duration: where its last video frame ends (FFmpeg's packets).
    const videoEnd = (file) => Math.max(...run(['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file])
      .split('\n').map((l) => l.split(',').map(Number)).map(([pts, d]) => pts + (Number.isFinite(d) ? d : 0)));
    const [srcDuration, outDuration] = [duration(src.video), webm ? videoEnd(outFile) : duration(out.video)];
    assert.ok(Math.abs(outDuration - srcDuration) <= frame + 1e-6, `${name}: video ${outDuration} s vs ${srcDuration} s`);
    // WebM has no rotation: the frames themselves were turned.
    assert.equal(out.rotation, webm ? 0 : src.rotation, `${name}: rotation`);
    // Every frame at its source time (ms, presentation order; frames before 0 are never shown).
    const times = (file) => run(['ffprobe', '-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file])
      .split('\n').map((l) => Math.round(Number(l.replace(/,$/, '')) * 1000)).filter((t) => t >= 0).sort((a, b) => a - b);
    // WebM counts milliseconds: a source time between two is rounded to the nearest.
    const [ours, theirs] = [times(outFile), times(path)];
    if (webm) assert.deepEqual(ours.map((t, i) => Math.abs(t - (theirs[i] ?? -1)) <= 1), theirs.map(() => true), `${name}: frame times ${ours} vs ${theirs}`);
    else assert.deepEqual(ours, theirs, `${name}: frame times`);
    if (audio === 'copied') {
      assert.equal(r.audio, 'copied', name);
      assert.equal(out.audio?.codec_name, src.audio.codec_name, `${name}: audio present`);
      assert.equal(audioMd5(outFile), audioMd5(path), `${name}: ${src.audio.codec_name} packets bit-exact`);
      // The priming edit / pre-skip kept: FFmpeg presents the first packet at the same time
      // (to the ms: WebM counts milliseconds, an MP4 48 kHz samples for Opus).
      const firstAudio = (file) => Number(run(['ffprobe', '-v', 'error', '-select_streams', 'a:0', '-read_intervals', '%+#1', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file]).split('\n')[0].replace(/,$/, ''));
      assert.ok(Math.abs(firstAudio(outFile) - firstAudio(path)) <= 0.001, `${name}: first audio packet at ${firstAudio(outFile)} s vs ${firstAudio(path)} s`);
      if (webm && path.endsWith('.webm')) {
        // And the encoder's padding at the end: FFmpeg trims the same samples off the last packet.
        const endPadding = (file) => run(['ffprobe', '-v', 'error', '-select_streams', 'a:0', '-show_entries', 'packet_side_data=discard_padding', '-of', 'csv=p=0', file])
          .split(/\s+/).filter((v) => v && v !== '0').join(',');
        assert.equal(endPadding(outFile), endPadding(path), `${name}: DiscardPadding of the last Opus packet`);
      }
      if (stream && src.audio.codec_name === 'aac') {
        // In a fragmented file FFmpeg applies the edit list by time only: the AAC priming packet
        // keeps its negative time (unflagged), so it must sit exactly where the source's does.
        const firstAudioPts = (file) => Number(run(['ffprobe', '-v', 'error', '-select_streams', 'a:0', '-show_entries', 'packet=pts', '-read_intervals', '%+#1', '-of', 'csv=p=0', file]).split('\n')[0].replace(/,$/, ''));
        assert.equal(out.audio.start_pts, firstAudioPts(path), `${name}: audio priming edit kept`);
      }
    } else if (audio === 'reencoded') {
      assert.equal(r.audio, 'reencoded', name);
      assert.equal(out.audio?.codec_name, r.audioCodec === 'opus' ? 'opus' : 'aac', `${name}: audio present`);
      // Decodable, and as long as the source's audio (within one 20 ms packet, plus its pre-skip).
      const srcSeconds = Number(src.audio.duration) || seconds(src.audio.tags?.DURATION) || src.duration;
      assert.ok(Math.abs(r.decodedBack.audio.seconds - srcSeconds) <= 0.03, `${name}: ${r.decodedBack.audio.seconds} s of audio decoded back vs ${srcSeconds} s`);
    } else {
      assert.equal(out.audio, undefined, `${name}: no audio`);
    }
    // (c) every frame against the source's scaled to the same size (FFmpeg's PSNR, luma), and
    // SSIMULACRA2 of a middle frame. The synthetic fixtures' per-frame noise squares make
    // SSIMULACRA2 meaningless there (it scores -4 for frames 45 dB apart): asserted on the
    // natural corpus clips only.
    // (`scored: false` skips it where another test already scores the same encoder and clip.)
    const [dw, dh] = quarter ? [height, width] : [width, height];
    if (scored) {
      psnr = psnrY(path, outFile, dw, dh);
      assert.ok(psnr > minPsnr, `${name}: mean luma PSNR ${psnr.toFixed(1)} dB`);
      const n = Math.floor(src.frames / 2);
      score = await compare(frameAt(path, n, dw, dh, join(dir, `${name}-ref`)), frameAt(outFile, n, dw, dh, join(dir, `${name}-out`)), { pool: nodePool });
      if (natural) assert.ok(score > 30, `${name}: SSIMULACRA2 ${score.toFixed(1)} of frame ${n}`);
    }
  }
  if (natural) assert.ok(r.outputBytes < input.length, `${name}: ${r.outputBytes} B is not smaller than the ${input.length} B source`);
  console.log(
    `${name}: ${r.source.codec} ${r.source.width}x${r.source.height} ${input.length} B -> ${r.codec} ${r.width}x${r.height} ${r.outputBytes} B ` +
      `(${((100 * r.outputBytes) / input.length).toFixed(0)}%), ${r.frames} frames, ${r.duration.toFixed(3)} s, audio ${r.audio}, ` +
      `${r.hardwareAcceleration}, in ${(r.ms / 1000).toFixed(2)} s${score !== undefined ? `, PSNR-Y ${psnr.toFixed(1)} dB, SSIMULACRA2 ${score.toFixed(1)} (middle frame)` : ''}`,
  );
  return r;
}

describe('transcode in Chromium (WebCodecs)', () => {
  test('fixture (B-frames + AAC) -> H.264 with the AAC copied bit-exact, plays back', async () => {
    await checkTranscode('clip', join(fixtures, 'clip-h264-aac.mp4'), { width: 320, height: 240, audio: 'copied' });
  });

  test('a Blob is read by range; maxWidth fits the picture; audio drop', async () => {
    await checkTranscode('clip-blob', join(fixtures, 'clip-h264-aac.mp4'), { options: { maxWidth: 160, codec: 'h264', audio: 'drop' }, width: 160, height: 120, asBlob: true });
  });

  test('rotation is kept as the tkhd matrix; the box applies to the displayed picture', async () => {
    // 160x120 coded, shown 120x160: maxHeight 80 fits the displayed height -> coded 80x60.
    const r = await checkTranscode('rotated', join(fixtures, 'clip-rotated-cw90.mp4'), { options: { maxHeight: 80, codec: 'h264' }, width: 80, height: 60 });
    assert.equal(r.rotation, 90);
  });

  test('WebM (VP9 + Opus) -> H.264 MP4 with the Opus copied bit-exact (Opus sample entry)', async () => {
    const r = await checkTranscode('webm', join(fixtures, 'clip-vp9-opus.webm'), { width: 160, height: 120, audio: 'copied' });
    assert.match(r.mimeType, /, opus"$/);
    if (!hasCorpus) return;
    // A 4.7 KB flat clip: the re-encode is larger, and the result says so.
    const small = await checkTranscode('test-webm', join(CORPUS_VIDEO, 'test.webm'), { width: 720, height: 480, audio: 'copied' });
    assert.equal(small.notes.some((n) => /not smaller than the input/.test(n)), small.outputBytes >= small.inputBytes, small.notes.join('; '));
  });

  test('fragmented MP4 (moof/trun, read by range) -> H.264 with the AAC copied', async (t) => {
    if (!hasFfmpeg) return t.skip('ffmpeg not found');
    const fragmented = join(dir, 'fragmented-source.mp4');
    run(['ffmpeg', '-v', 'error', '-y', '-i', join(fixtures, 'clip-h264-aac.mp4'), '-c', 'copy', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', fragmented]);
    await checkTranscode('fragmented', fragmented, { width: 320, height: 240, audio: 'copied', asBlob: true });
  });

  test('output: a WritableStream receives a fragmented MP4 as it is encoded (init segment, a fragment per GOP, mfra)', async () => {
    const r = await checkTranscode('streamed', join(fixtures, 'clip-h264-aac.mp4'), {
      options: { maxHeight: 480, codec: 'h264', keyFrameInterval: 15 },
      width: 320,
      height: 240,
      audio: 'copied',
      asBlob: true,
      stream: true,
    });
    assert.equal(r.streamed.hasVideo, false, 'no bytes in the result');
    assert.equal(r.streamed.bytesWritten, r.outputBytes);
    const bytes = Buffer.from(r.videoB64, 'base64');
    const kinds = [];
    for (let at = 0; at < bytes.length; at += bytes.readUInt32BE(at)) kinds.push(bytes.toString('latin1', at + 4, at + 8));
    assert.deepEqual(kinds.slice(0, 2), ['ftyp', 'moov']);
    assert.equal(kinds.at(-1), 'mfra');
    const fragments = kinds.filter((k) => k === 'moof').length;
    assert.ok(fragments >= 4, `${fragments} fragments for ${r.frames} frames, a key frame every 15`);
    assert.equal(r.streamed.writes, fragments + 2, 'init segment, each fragment, mfra: one write each');
  });

  test('output: a WritableStream receives a WebM written once through (header with the duration, clusters per GOP, Cues last); audio copied or re-encoded on the way', async () => {
    const r = await checkTranscode('streamed-webm', join(fixtures, 'clip-vp9-opus.webm'), {
      options: { container: 'webm', maxHeight: 480, keyFrameInterval: 15 },
      width: 160,
      height: 120,
      audio: 'copied',
      asBlob: true,
      stream: true,
    });
    assert.equal(r.streamed.hasVideo, false, 'no bytes in the result');
    assert.equal(r.streamed.bytesWritten, r.outputBytes);
    // Top-level layout: EBML header, then a Segment of unknown size whose children end with the Cues.
    const bytes = Buffer.from(r.videoB64, 'base64');
    const vint = (at) => {
      const len = Math.clz32(bytes[at]) - 23;
      let v = BigInt(bytes[at] & (0xff >> len));
      for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(bytes[at + i]);
      return { v, len, unknown: v === (1n << BigInt(7 * len)) - 1n };
    };
    const element = (at) => {
      const id = bytes.readUIntBE(at, Math.clz32(bytes[at]) - 23);
      const size = vint(at + (Math.clz32(bytes[at]) - 23));
      const start = at + (Math.clz32(bytes[at]) - 23) + size.len;
      return { id, start, end: size.unknown ? bytes.length : start + Number(size.v), unknown: size.unknown };
    };
    const ebml = element(0);
    const segment = element(ebml.end);
    assert.deepEqual([ebml.id, segment.id, segment.unknown], [0x1a45dfa3, 0x18538067, true]);
    const level1 = [];
    for (let at = segment.start; at < bytes.length; at = element(at).end) level1.push(element(at).id);
    const clusters = level1.filter((id) => id === 0x1f43b675).length;
    assert.deepEqual([level1[0], level1[1], level1.at(-1)], [0x1549a966, 0x1654ae6b, 0x1c53bb6b], 'Info, Tracks, ..., Cues');
    assert.ok(clusters >= 4, `${clusters} clusters for ${r.frames} frames, a key frame every 15`);
    if (hasFfmpeg) {
      // The length is in the header: FFmpeg reads it without the Cues or a scan.
      const length = (file) => Number(run(['ffprobe', '-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]));
      const [ours, theirs] = [length(join(dir, 'streamed-webm.webm')), length(join(fixtures, 'clip-vp9-opus.webm'))];
      assert.ok(Math.abs(ours - theirs) <= 0.001, `duration ${ours} s vs the source's ${theirs} s`);
    }
    // AAC has no place in a WebM: re-encoded to Opus first, then streamed with the video.
    const aac = await checkTranscode('streamed-webm-aac', join(fixtures, 'clip-h264-aac.mp4'), {
      options: { container: 'webm', maxHeight: 480 },
      width: 320,
      height: 240,
      audio: 'reencoded',
      stream: true,
    });
    assert.ok(aac.notes.some((n) => /re-encoded: a WebM cannot hold aac/.test(n)), aac.notes.join('; '));
    // Opus from a WebM into a streamed MP4: copied bit-exact (re-timed to 48 kHz samples);
    // then that MP4's Opus (48 kHz already) into another streamed MP4, read by range.
    await checkTranscode('streamed-opus-mp4', join(fixtures, 'clip-vp9-opus.webm'), { options: { codec: 'h264' }, width: 160, height: 120, audio: 'copied', stream: true });
    await checkTranscode('streamed-opus-mp4-again', join(dir, 'streamed-opus-mp4.mp4'), { options: { codec: 'h264' }, width: 160, height: 120, audio: 'copied', stream: true });
    // And `reencode` asked for with a stream.
    await checkTranscode('streamed-reencode', join(fixtures, 'clip-h264-aac.mp4'), { options: { codec: 'h264', audio: 'reencode' }, width: 320, height: 240, audio: 'reencoded', stream: true });
    // WebM has no rotation: streamed frames are turned upright too.
    const turned = await checkTranscode('streamed-webm-rotated', join(fixtures, 'clip-rotated-cw90.mp4'), {
      options: { container: 'webm', maxHeight: 480 },
      width: 120,
      height: 160,
      minPsnr: 22,
      stream: true,
    });
    assert.equal(turned.rotation, 0);
  });

  test('fps: frames dropped evenly to the asked rate, the duration kept, invalid rates refused', async (t) => {
    if (!hasFfmpeg) return t.skip('ffmpeg not found');
    const path = join(fixtures, 'clip-h264-aac.mp4');
    const src = probe(path);
    const srcFps = src.frames / src.duration;
    const r = await transcodeInPage(readFileSync(path), { codec: 'h264', fps: srcFps / 2 }, {});
    const outFile = join(dir, 'fps-half.mp4');
    writeFileSync(outFile, Buffer.from(r.videoB64, 'base64'));
    const out = probe(outFile);
    // Every second frame: half the frames (rounded up), same length to within one output frame.
    assert.equal(out.frames, Math.ceil(src.frames / 2), `${out.frames} frames from ${src.frames}`);
    assert.equal(r.frames, out.frames);
    assert.ok(Math.abs(out.duration - src.duration) <= 2 / srcFps, `duration ${out.duration} s vs ${src.duration} s`);
    assert.ok(Math.abs(r.played.duration - src.duration) <= 2 / srcFps, `plays for ${r.played.duration} s`);
    assert.deepEqual([r.decodedBack.video.decoded, r.decodedBack.video.errors], [r.frames, []]);
    // A rate above the source's changes nothing.
    const same = await transcodeInPage(readFileSync(path), { codec: 'h264', fps: 120 }, {});
    assert.equal(same.frames, src.frames);
    const refused = await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      try {
        await window.mediaslim.transcode(bytes, { fps: 0, pool: window.pool });
        return 'resolved';
      } catch (e) {
        return `${e.code}: ${e.message}`;
      }
    }, readFileSync(path).toString('base64'));
    assert.match(refused, /^INVALID_OPTION: invalid option `fps`/);
  });

  test('corpus clips -> 480p H.264 when present', async () => {
    if (!hasCorpus) return console.log('SKIPPED corpus clips: no ../shared/corpus/video here');
    await checkTranscode('bigbuckbunny', join(CORPUS_VIDEO, 'bigbuckbunny.mp4'), { width: 852, height: 480, audio: 'copied', natural: true });
    await checkTranscode('bikes', join(CORPUS_VIDEO, 'bikes.mp4'), { width: 640, height: 272, natural: true });
    await checkTranscode('carphone_pristine', join(CORPUS_VIDEO, 'carphone_pristine.mp4'), { width: 176, height: 144, natural: true });
  });

  test('-> VP9 WebM: Opus copied bit-exact, AAC re-encoded to Opus (said in notes), rotation turned into the frames', async () => {
    const webm = { container: 'webm', maxHeight: 480 };
    const opus = await checkTranscode('webm-webm', join(fixtures, 'clip-vp9-opus.webm'), { options: webm, width: 160, height: 120, audio: 'copied' });
    assert.equal(opus.audioCodec, 'opus');
    const aac = await checkTranscode('mp4-webm', join(fixtures, 'clip-h264-aac.mp4'), { options: webm, width: 320, height: 240, audio: 'reencoded' });
    assert.match(aac.notes.join(' '), /audio \(mp4a\.40\.2\) re-encoded: a WebM cannot hold aac/);
    // 160x120 coded, shown 120x160 (a 90 degree matrix): the WebM's frames are 120x160 upright.
    // (VP9 at the default rate on this noise clip scores ~26 dB, as it does in an MP4 with the
    // matrix; a frame turned the wrong way scores ~2 dB.)
    const turned = await checkTranscode('rotated-webm', join(fixtures, 'clip-rotated-cw90.mp4'), { options: webm, width: 120, height: 160, minPsnr: 22 });
    assert.equal(turned.rotation, 0);
    if (hasFfmpeg) {
      // Upright for real: the output's frame against the source's as FFmpeg turns it (autorotate).
      const ref = join(dir, 'rotated-ref.png');
      const got = join(dir, 'rotated-got.png');
      run(['ffmpeg', '-v', 'error', '-y', '-i', join(fixtures, 'clip-rotated-cw90.mp4'), '-vf', 'select=eq(n\\,12)', '-frames:v', '1', ref]);
      run(['ffmpeg', '-v', 'error', '-y', '-i', join(dir, 'rotated-webm.webm'), '-vf', 'select=eq(n\\,12)', '-frames:v', '1', got]);
      const psnr = spawnSync('ffmpeg', ['-v', 'info', '-i', got, '-i', ref, '-lavfi', '[0:v]format=yuv420p[a];[1:v]format=yuv420p[b];[a][b]psnr', '-f', 'null', '-'], { encoding: 'utf8' }).stderr;
      const y = Number(/PSNR y:([\d.]+|inf)/.exec(psnr)?.[1]);
      assert.ok(y > 18, `rotated WebM frame 12 vs the source turned by FFmpeg: PSNR-Y ${y} dB (turned the wrong way: ~2 dB)`);
    }
  });

  test("audio: 'reencode' into MP4 (AAC where the browser encodes it, else Opus in MP4)", async () => {
    const r = await checkTranscode('reencode-mp4', join(fixtures, 'clip-h264-aac.mp4'), { options: { codec: 'h264', audio: 'reencode' }, width: 320, height: 240, audio: 'reencoded' });
    console.log(`reencode into MP4: ${r.audioCodec}; ${r.notes.join('; ') || 'no notes'}`);
  });

  test('corpus clips -> 480p VP9 WebM when present', async () => {
    if (!hasCorpus) return console.log('SKIPPED corpus clips to WebM: no ../shared/corpus/video here');
    const webm = { container: 'webm', maxHeight: 480 };
    await checkTranscode('bigbuckbunny-webm', join(CORPUS_VIDEO, 'bigbuckbunny.mp4'), { options: webm, width: 852, height: 480, audio: 'reencoded', natural: true });
    // Scored once (bigbuckbunny): the rest check the container, times, audio and decoding.
    await checkTranscode('bikes-webm', join(CORPUS_VIDEO, 'bikes.mp4'), { options: webm, width: 640, height: 272, scored: false });
    await checkTranscode('carphone-webm', join(CORPUS_VIDEO, 'carphone_pristine.mp4'), { options: webm, width: 176, height: 144, scored: false });
    await checkTranscode('test-webm-webm', join(CORPUS_VIDEO, 'test.webm'), { options: webm, width: 720, height: 480, audio: 'copied', scored: false });
  });

  test('auto and vp9/av1 choices encode what the browser has', async () => {
    const bytes = readFileSync(join(fixtures, 'clip-rotated-cw90.mp4'));
    for (const [codec, re, ff] of [['auto', /^avc1\./, 'h264'], ['vp9', /^vp09\./, 'vp9'], ['av1', /^av01\./, 'av1']]) {
      const r = await transcodeInPage(bytes, { codec });
      assert.match(r.codec, re, codec);
      assert.equal(r.played.canPlay === 'probably' || r.played.canPlay === 'maybe', true, `${codec}: ${r.mimeType}`);
      if (hasFfmpeg) {
        const file = join(dir, `choice-${codec}.mp4`);
        writeFileSync(file, Buffer.from(r.videoB64, 'base64'));
        const p = probe(file);
        assert.deepEqual([p.video.codec_name, p.frames, p.rotation], [ff, 25, -90], codec);
      }
      console.log(`codec ${codec}: ${r.codec}, ${r.outputBytes} B, ${r.notes.join('; ') || 'no notes'}`);
    }
  });

  test('aborting mid-transcode rejects with ABORTED promptly and the pool keeps serving', async () => {
    const path = hasCorpus ? join(CORPUS_VIDEO, 'bigbuckbunny.mp4') : join(fixtures, 'clip-h264-aac.mp4');
    const result = await page.evaluate(async (b64) => {
      const input = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const controller = new AbortController();
      let abortedAt = 0;
      let total = 0;
      const job = window.mediaslim.transcode(input, {
        pool: window.pool,
        maxHeight: 480,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.done >= 3 && !abortedAt) {
            total = e.total;
            abortedAt = performance.now();
            controller.abort(new Error('user cancelled'));
          }
        },
      });
      const outcome = await job.then(() => ({ code: 'resolved' }), (e) => ({ code: e.code, message: e.message }));
      const rejectMs = performance.now() - abortedAt;
      // The worker stops its loop: the pool must be free for the next jobs soon after.
      const freedStart = performance.now();
      while (window.pool.stats().running > 0 && performance.now() - freedStart < 5000) await new Promise((r) => setTimeout(r, 10));
      const freedMs = performance.now() - freedStart;
      const next = await window.mediaslim.transcode(input.subarray(0), { pool: window.pool, maxHeight: 120, audio: 'drop' }).then((r) => r.frames, (e) => e.code);
      return { ...outcome, rejectMs, freedMs, total, next, stats: window.pool.stats() };
    }, readFileSync(path).toString('base64'));
    assert.equal(result.code, 'ABORTED');
    assert.match(result.message, /user cancelled/);
    assert.ok(result.rejectMs < 100, `rejected ${result.rejectMs.toFixed(0)} ms after abort`);
    assert.ok(result.freedMs < 2000, `worker free ${result.freedMs.toFixed(0)} ms after the rejection`);
    assert.equal(typeof result.next, 'number', `the next job: ${result.next}`);
    assert.equal(result.stats.replaced, 0, 'no worker was replaced');
    console.log(`abort: rejected in ${result.rejectMs.toFixed(0)} ms, worker free ${result.freedMs.toFixed(0)} ms later; the next transcode gave ${result.next} frames`);
  });

  test('posterFrame: the key frame at or before `time`, upright, as WebP/JPEG with a placeholder', async () => {
    const r = await page.evaluate(async () => {
      const clip = new Uint8Array(await (await fetch('/tests/fixtures/clip-h264-aac.mp4')).arrayBuffer());
      const rotated = new Uint8Array(await (await fetch('/tests/fixtures/clip-rotated-cw90.mp4')).arrayBuffer());
      const decode = async (p) => {
        const bitmap = await createImageBitmap(new Blob([p.bytes], { type: p.mimeType }));
        const out = { width: p.width, height: p.height, decoded: [bitmap.width, bitmap.height], mimeType: p.mimeType, time: p.time, bytes: p.bytes.length, placeholder: p.placeholder.slice(0, 22) };
        bitmap.close();
        return out;
      };
      const pool = window.pool;
      return {
        first: await decode(await window.mediaslim.posterFrame(clip, { pool })),
        later: await decode(await window.mediaslim.posterFrame(new Blob([clip]), { pool, time: 1.5, format: 'jpeg', width: 100 })),
        rotated: await decode(await window.mediaslim.posterFrame(rotated, { pool })),
      };
    });
    assert.deepEqual(r.first, { ...r.first, width: 320, height: 240, decoded: [320, 240], mimeType: 'image/webp', time: 0, placeholder: 'data:image/png;base64,' });
    assert.deepEqual(r.later, { ...r.later, width: 100, height: 75, decoded: [100, 75], mimeType: 'image/jpeg', time: 1 }, 'the key frame at 1 s');
    assert.deepEqual([r.rotated.width, r.rotated.height, ...r.rotated.decoded], [120, 160, 120, 160], 'upright');
    console.log(`posterFrame: ${JSON.stringify(r)}`);
  });

  test('typed errors', async () => {
    const codes = await page.evaluate(async () => {
      const clip = new Uint8Array(await (await fetch('/tests/fixtures/clip-h264-aac.mp4')).arrayBuffer());
      const png = new Uint8Array(await (await fetch('/tests/fixtures/hopper.png')).arrayBuffer());
      const code = (p) => p.then(() => 'resolved', (e) => e.code);
      const pool = window.pool;
      return {
        codec: await code(window.mediaslim.transcode(clip, { pool, codec: 'vp8' })),
        h264InWebm: await code(window.mediaslim.transcode(clip, { pool, codec: 'h264', container: 'webm' })),
        container: await code(window.mediaslim.transcode(clip, { pool, container: 'mkv' })),
        audioMode: await code(window.mediaslim.transcode(clip, { pool, audio: 'mute' })),
        typo: await code(window.mediaslim.transcode(clip, { pool, maxWidht: 10 })),
        png: await code(window.mediaslim.transcode(png, { pool })),
        cut: await code(window.mediaslim.transcode(clip.subarray(0, 2000), { pool })),
        posterTime: await code(window.mediaslim.posterFrame(clip, { pool, time: -1 })),
      };
    });
    assert.deepEqual(codes, { codec: 'INVALID_OPTION', h264InWebm: 'INVALID_OPTION', container: 'INVALID_OPTION', audioMode: 'INVALID_OPTION', typo: 'INVALID_OPTION', png: 'UNSUPPORTED_FORMAT', cut: 'CORRUPT_INPUT', posterTime: 'INVALID_OPTION' });
    if (hasCorpus) {
      // HEVC: transcoded where this Chromium decodes it, else UNSUPPORTED_CODEC naming the codec.
      const hevc = await page.evaluate(async (b64) => {
        const input = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        return window.mediaslim.transcode(input, { pool: window.pool }).then((r) => ({ code: 'resolved', frames: r.frames }), (e) => ({ code: e.code, message: e.message }));
      }, readFileSync(join(CORPUS_VIDEO, 'test.mkv')).toString('base64'));
      if (hevc.code === 'resolved') assert.equal(hevc.frames, 29);
      else assert.deepEqual([hevc.code, /hvc1\./.test(hevc.message)], ['UNSUPPORTED_CODEC', true], hevc.message);
      console.log(`test.mkv (HEVC): ${JSON.stringify(hevc)}`);
    }
    assert.deepEqual(problems, []);
  });
});
