// mediaslim: the one public entry. `optimize` shrinks an image, `probe` reads its header.
import { withCore } from './core.js';
import { MediaslimError } from './errors.js';
import { readAll, readHead, type Input } from './input.js';
import type { OptimizeOptions, Optimized, ProbeInfo } from './wasm/mediaslim_core.js';

export { MediaslimError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { Input } from './input.js';
export type {
  ChromaSubsampling,
  Fit,
  Kernel,
  OptimizeOptions,
  Optimized,
  ProbeInfo,
  TargetFormat,
  Timings,
} from './wasm/mediaslim_core.js';

/** What `optimize` resolves to. */
export type OptimizeResult = Omit<Optimized, 'format'> & { format: 'jpeg' | 'png' | 'webp' | 'avif' };

/**
 * Decodes `input`, applies EXIF orientation and colour management, resizes and re-encodes.
 * Rejects with a `MediaslimError` whose `code` says what went wrong.
 */
export async function optimize(input: Input, options: OptimizeOptions = {}): Promise<OptimizeResult> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new MediaslimError('INVALID_OPTION', 'invalid option `options`: must be an object');
  }
  const json = optionsToJson(options);
  const bytes = await readAll(input);
  return withCore((core) => core.optimize(bytes, json) as OptimizeResult);
}

/**
 * The core parses options as JSON so that unknown names are refused. JSON would quietly
 * turn NaN and Infinity into null ("absent"), so those are refused here, by name.
 */
function optionsToJson(options: OptimizeOptions): string {
  try {
    return JSON.stringify(options, (key, value: unknown) => {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        throw new MediaslimError('INVALID_OPTION', `invalid option \`${key}\`: ${value} is not a finite number`);
      }
      if (typeof value === 'bigint') {
        throw new MediaslimError('INVALID_OPTION', `invalid option \`${key}\`: use a number, not a BigInt`);
      }
      return value;
    });
  } catch (err) {
    if (err instanceof MediaslimError) throw err;
    throw new MediaslimError('INVALID_OPTION', `invalid option \`options\`: cannot be read as plain data (${String(err)})`);
  }
}

/** Format, displayed dimensions, orientation, alpha and animation, from headers only. */
export async function probe(input: Input): Promise<ProbeInfo> {
  const head = await readHead(input);
  try {
    return await withCore((core) => core.probe(head.bytes));
  } catch (err) {
    // A header longer than the slice we read (a big ICC profile, say): read it all.
    if (!head.complete && err instanceof MediaslimError && err.code === 'CORRUPT_INPUT') {
      const all = await readAll(input);
      return withCore((core) => core.probe(all));
    }
    throw err;
  }
}
