// Bytes: what callers pass (bytes, buffers, Blobs/Files) normalized for the core, and the two
// helpers the stages that gather encoded pieces share.
import { MediaslimError } from './errors.js';

export type Input = Uint8Array | ArrayBuffer | Blob;

export async function readAll(input: Input): Promise<Uint8Array> {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (typeof Blob !== 'undefined' && input instanceof Blob) return new Uint8Array(await input.arrayBuffer());
  throw new MediaslimError('INVALID_OPTION', `input must be a Uint8Array, ArrayBuffer or Blob, got ${describe(input)}`);
}

/** Enough leading bytes for any header we parse, without reading a whole Blob. */
const HEADER_BYTES = 256 * 1024;

/**
 * Reads the head of a Blob only; GIFs are read whole since their frame count needs every
 * block header. Returns `complete` so a header parse that ran short can retry with all.
 */
export async function readHead(input: Input): Promise<{ bytes: Uint8Array; complete: boolean }> {
  if (typeof Blob !== 'undefined' && input instanceof Blob && input.size > HEADER_BYTES) {
    const head = new Uint8Array(await input.slice(0, HEADER_BYTES).arrayBuffer());
    const isGif = head[0] === 0x47 && head[1] === 0x49 && head[2] === 0x46;
    if (!isGif) return { bytes: head, complete: false };
  }
  return { bytes: await readAll(input), complete: true };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}

/** `parts` one after another in one new buffer. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A copy of a WebCodecs buffer (the decoder config's description is only lent). */
export function bytesOf(src: AllowSharedBufferSource): Uint8Array {
  return ArrayBuffer.isView(src) ? new Uint8Array(src.buffer, src.byteOffset, src.byteLength).slice() : new Uint8Array(src as ArrayBuffer).slice();
}
