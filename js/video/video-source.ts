// Reading a video file by ranges. MP4/MOV: the top-level box headers are walked with small
// reads, only the index (`moov`, and each `moof` of a fragmented file) goes to the core's
// demuxer, and sample bytes are read by offset and size when needed: a Blob (a File the user
// picked) is never read whole. WebM/Matroska spreads its index through the file (each cluster
// holds its blocks), so it is handed to the core whole. Bytes already in memory are only
// viewed, never copied.
import type { Core } from '../core.js';
import { MediaslimError } from '../errors.js';

type WithCore = <T>(fn: (core: Core) => T) => Promise<T>;

/** Any file read by range (a Node file handle, say): its size and a read of `length` bytes at `offset`. */
export interface RangeFile {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Bytes by range from a Uint8Array, a Blob or a RangeFile. */
export class ByteSource {
  readonly size: number;
  /** A window of the Blob read ahead, so consecutive small samples cost one read. */
  private window?: { start: number; bytes: Uint8Array };

  constructor(private readonly input: Uint8Array | Blob | RangeFile, private readonly readAhead = 4 << 20) {
    this.size = input instanceof Uint8Array ? input.byteLength : input.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new MediaslimError('CORRUPT_INPUT', `corrupt video input: ${length} bytes at offset ${offset} lie past the end of the ${this.size}-byte file`);
    }
    if (this.input instanceof Uint8Array) return this.input.subarray(offset, offset + length);
    if (typeof (this.input as RangeFile).read === 'function') return (this.input as RangeFile).read(offset, length);
    const blob = this.input as Blob;
    const w = this.window;
    if (w && offset >= w.start && offset + length <= w.start + w.bytes.byteLength) {
      return w.bytes.subarray(offset - w.start, offset - w.start + length);
    }
    const end = Math.min(this.size, offset + Math.max(length, this.readAhead));
    const bytes = new Uint8Array(await blob.slice(offset, end).arrayBuffer());
    this.window = { start: offset, bytes };
    return bytes.subarray(0, length);
  }
}

export interface VideoTrackInfo {
  id: number;
  kind: 'video' | 'audio';
  fourcc: string;
  /** WebCodecs codec string, absent when the demuxer cannot name it. */
  codec?: string;
  description?: Uint8Array;
  vpcc?: Uint8Array;
  width: number;
  height: number;
  /** Clockwise degrees a player turns the picture. */
  rotation: number;
  timescale: number;
  duration: number;
  sampleRate: number;
  channels: number;
  editStart: number;
  /** Nanoseconds at the end of the last sample not presented (encoder padding: WebM's
   * DiscardPadding, an MP4 edit that ends early); 0 for none. */
  endPaddingNs: number;
  sampleCount: number;
  keyframes: number;
  /** Bytes of all its samples. */
  bytes: number;
}

export interface VideoSamples {
  offsets: Float64Array;
  sizes: Uint32Array;
  dts: Float64Array;
  pts: Float64Array;
  durations: Uint32Array;
  keyframes: Uint8Array;
}

/** The core's demuxer handle (see src/wasm.rs `VideoDemuxer`). */
export interface VideoDemuxer {
  readonly fragmented: boolean;
  tracks(): VideoTrackInfo[];
  samples(trackId: number, from: number, count: number): VideoSamples;
  keyframeAtOrBefore(trackId: number, pts: number): number | undefined;
  addFragment(moof: Uint8Array, offset: number): void;
  free(): void;
}

type CoreWithDemuxer = Core & { VideoDemuxer: (new (moov: Uint8Array, fileSize: number) => VideoDemuxer) & { fromFile(file: Uint8Array): VideoDemuxer } };

/** WebM/Matroska files start with an EBML header. */
const EBML_MAGIC = [0x1a, 0x45, 0xdf, 0xa3];

/** No sane file has more top-level boxes than this before its index. */
const MAX_TOP_LEVEL_BOXES = 100_000;
/** What a WebM may weigh (it is read whole): the core's input budget, 256 MiB. */
const MAX_WHOLE_FILE_BYTES = 256 << 20;
/** The index of a real file is kilobytes to a few MB; more is refused before reading it. */
export const MAX_INDEX_BYTES = 256 << 20;

/** A top-level box: its kind (4 bytes, also as text), where it starts, its size and header length. */
export interface TopBox {
  kind: string;
  kindBytes: Uint8Array;
  start: number;
  size: number;
  header: number;
}

/** Top-level boxes, from their headers alone. */
export async function topLevelBoxes(source: ByteSource): Promise<TopBox[]> {
  const boxes: TopBox[] = [];
  let at = 0;
  while (at < source.size) {
    if (boxes.length >= MAX_TOP_LEVEL_BOXES) throw new MediaslimError('TOO_LARGE', `input too large: more than ${MAX_TOP_LEVEL_BOXES} top-level MP4 boxes`);
    if (source.size - at < 8) throw new MediaslimError('CORRUPT_INPUT', `corrupt mp4 input: ${source.size - at} stray bytes at offset ${at}, too short for a box header`);
    const head = await source.read(at, Math.min(16, source.size - at));
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const kind = String.fromCharCode(...head.subarray(4, 8));
    let size = view.getUint32(0);
    const header = size === 1 ? 16 : 8;
    if (size === 1) {
      if (head.byteLength < 16) throw new MediaslimError('CORRUPT_INPUT', `corrupt mp4 input: box '${kind}' at ${at} cut before its 64-bit size`);
      size = Number(view.getBigUint64(8));
    } else if (size === 0) {
      size = source.size - at; // to the end of the file
    }
    if (size < 8 || at + size > source.size) {
      throw new MediaslimError('CORRUPT_INPUT', `corrupt mp4 input: box '${kind}' at offset ${at} says ${size} bytes, but ${source.size - at} remain`);
    }
    boxes.push({ kind, kindBytes: head.slice(4, 8), start: at, size, header });
    at += size;
  }
  return boxes;
}

/** Opens an MP4/MOV (its index read by ranges) or a WebM/Matroska file with the core's demuxer. */
export async function openVideo(source: ByteSource, withCore: WithCore): Promise<VideoDemuxer> {
  const first = await source.read(0, Math.min(12, source.size));
  if (EBML_MAGIC.every((b, i) => first[i] === b)) {
    if (source.size > MAX_WHOLE_FILE_BYTES) throw new MediaslimError('TOO_LARGE', `input too large: a WebM file is read whole, and ${source.size} bytes exceeds the limit of ${MAX_WHOLE_FILE_BYTES}`);
    const whole = await source.read(0, source.size);
    return withCore((core) => (core as CoreWithDemuxer).VideoDemuxer.fromFile(whole));
  }
  const brand = String.fromCharCode(...first.subarray(4, 8));
  if (!['ftyp', 'styp', 'moov', 'free', 'wide', 'mdat', 'skip'].includes(brand)) {
    throw new MediaslimError('UNSUPPORTED_FORMAT', 'unsupported format: not an MP4/MOV or WebM/Matroska file');
  }
  const boxes = await topLevelBoxes(source);
  const moov = boxes.find((b) => b.kind === 'moov');
  if (!moov) throw new MediaslimError('CORRUPT_INPUT', "corrupt mp4 input: no 'moov' box (the index)");
  const indexBytes = boxes.filter((b) => b.kind === 'moov' || b.kind === 'moof').reduce((n, b) => n + b.size, 0);
  if (indexBytes > MAX_INDEX_BYTES) throw new MediaslimError('TOO_LARGE', `input too large: an MP4 index of ${indexBytes} bytes exceeds ${MAX_INDEX_BYTES}`);
  const moovBytes = await source.read(moov.start, moov.size);
  const demuxer = await withCore((core) => new (core as CoreWithDemuxer).VideoDemuxer(moovBytes, source.size));
  try {
    for (const moof of boxes.filter((b) => b.kind === 'moof')) {
      const bytes = await source.read(moof.start, moof.size);
      await withCore(() => demuxer.addFragment(bytes, moof.start));
    }
  } catch (err) {
    demuxer.free();
    throw err;
  }
  return demuxer;
}

/** What `demux` answers: every track, each with its whole sample table. */
export interface DemuxedVideo {
  fragmented: boolean;
  tracks: (VideoTrackInfo & { samples: VideoSamples })[];
}

/** The `demux` job: the track list and sample tables (nothing of the media is copied). */
export async function demuxJob(input: Uint8Array | Blob, withCore: WithCore): Promise<DemuxedVideo> {
  const demuxer = await openVideo(new ByteSource(input), withCore);
  try {
    const tracks = await withCore(() => demuxer.tracks().map((t) => ({ ...t, samples: demuxer.samples(t.id, 0, t.sampleCount) })));
    return { fragmented: demuxer.fragmented, tracks };
  } finally {
    demuxer.free();
  }
}
