// Fast-start remux streamed: the input is read by ranges (a Blob, a Node file handle, bytes),
// the core plans the output from the top-level box list and the `moov` alone (the new index is
// complete before any media byte is written, since every chunk offset is known), then the
// media is copied range by range to a WritableStream or Node stream. Memory holds the index
// and one copy chunk, whatever the file's size.
import { MediaslimError } from '../errors.js';
import type { ByteSink } from './byte-sink.js';
import { ByteSource, MAX_INDEX_BYTES, topLevelBoxes } from './video-source.js';

/** What the core's `fastStartPlan` answers. */
export interface FastStartPlan {
  moov: Uint8Array;
  /** (start, end) input ranges in output order; (-1, -1) where `moov` goes. */
  pieces: ArrayLike<number>;
  changed: boolean;
  notes: string[];
  size: number;
}

/** The box list as the core's `fastStartPlan` takes it (JSON between pool and worker). */
export interface BoxLayout {
  kinds: number[];
  starts: number[];
  sizes: number[];
  headers: number[];
}

/** What a streamed `remux` resolves to: the output went to the stream, so no bytes, their count. */
export interface RemuxStreamed {
  /** False when the input was already laid out as asked (it was then copied as it is). */
  changed: boolean;
  notes: string[];
  /** Bytes written to the output stream. */
  bytesWritten: number;
}

/** Bytes copied per read and write: large enough for few calls, small next to any budget. */
const COPY_CHUNK = 1 << 20;

export async function remuxToSink(
  source: ByteSource,
  sink: ByteSink,
  fastStart: boolean,
  plan: (moov: Uint8Array, layout: BoxLayout) => Promise<FastStartPlan>,
  run: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<RemuxStreamed> {
  try {
    const first = await source.read(0, Math.min(8, source.size));
    const brand = String.fromCharCode(...first.subarray(4, 8));
    if (brand !== 'ftyp' && brand !== 'styp') throw new MediaslimError('CORRUPT_INPUT', "corrupt mp4 input: not an MP4/MOV file (no 'ftyp' box first)");
    let answer: FastStartPlan;
    if (fastStart) {
      const boxes = await topLevelBoxes(source);
      const moov = boxes.find((b) => b.kind === 'moov');
      if (!moov) throw new MediaslimError('CORRUPT_INPUT', "corrupt mp4 input: no 'moov' box (the index)");
      if (moov.size > MAX_INDEX_BYTES) throw new MediaslimError('TOO_LARGE', `input too large: an MP4 index of ${moov.size} bytes exceeds ${MAX_INDEX_BYTES}`);
      const layout: BoxLayout = {
        kinds: boxes.flatMap((b) => Array.from(b.kindBytes)),
        starts: boxes.map((b) => b.start),
        sizes: boxes.map((b) => b.size),
        headers: boxes.map((b) => b.header),
      };
      answer = await plan((await source.read(moov.start, moov.size)).slice(), layout);
    } else {
      answer = { moov: new Uint8Array(0), pieces: [0, source.size], changed: false, notes: ['nothing asked'], size: source.size };
    }
    let written = 0;
    for (let i = 0; i + 1 < answer.pieces.length; i += 2) {
      const start = answer.pieces[i]!;
      const end = answer.pieces[i + 1]!;
      if (start < 0) {
        await sink.write(answer.moov);
        written += answer.moov.byteLength;
        continue;
      }
      for (let at = start; at < end; at += COPY_CHUNK) {
        if (run.signal?.aborted) throw new MediaslimError('ABORTED', `remux aborted: ${String(run.signal.reason ?? 'aborted')}`);
        const n = Math.min(COPY_CHUNK, end - at);
        await sink.write(await source.read(at, n));
        written += n;
        run.onProgress?.(written, answer.size);
      }
    }
    if (written !== answer.size) throw new MediaslimError('CORRUPT_INPUT', `corrupt mp4 input: planned ${answer.size} bytes, wrote ${written}`);
    await sink.close();
    return { changed: answer.changed, notes: answer.notes, bytesWritten: written };
  } catch (err) {
    await sink.abort(err).catch(() => undefined);
    throw err;
  }
}
