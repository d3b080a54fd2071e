// Plain images a build emits without directives (CSS `url()`, `<img src>` in HTML, `new URL()`
// assets, the public folder): re-compressed in place, same format, never bigger.
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import type { Engine } from './engine.js';
import type { ReportFile } from './report.js';

/** Formats re-compressed in place. GIF and BMP are left alone: the core would turn them into PNG. */
const PLAIN_RE = /\.(jpe?g|png|webp)$/i;

export function isPlainImage(name: string): boolean {
  return PLAIN_RE.test(name.split('?')[0]);
}

/** `include` / `exclude` globs (picomatch), matched against paths relative to the root. */
export function createFilter(include: string | string[] | undefined, exclude: string | string[] | undefined): (path: string) => boolean {
  const inc = include === undefined ? () => true : picomatch(include, { dot: true });
  const exc = exclude === undefined ? () => false : picomatch(exclude, { dot: true });
  return (path) => {
    const p = toPosix(path);
    return inc(p) && !exc(p);
  };
}

export function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** `file` relative to `root` in POSIX form, or undefined when it lies outside `root`. */
export function inside(root: string, file: string): string | undefined {
  const rel = relative(root, file);
  // `..` as a whole segment only: `..hero.jpg` is a file name inside the root.
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return toPosix(rel);
}

/** The real path of `p`, following symlinks as far as the path exists. */
function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    const parent = dirname(p);
    return parent === p ? p : join(realPath(parent), basename(p));
  }
}

/**
 * True when writing `file` (a temp file next to it, then a rename) stays inside `dir` once
 * symlinks are followed: a symlinked subfolder of the output folder may lead anywhere.
 */
export function writesInside(dir: string, file: string): boolean {
  if (inside(dir, file) === undefined) return false;
  const realDir = realPath(dir);
  const folder = realPath(dirname(file));
  return folder === realDir || inside(realDir, folder) !== undefined;
}

/** The format from magic bytes (never from the name). */
export function sniffFormat(b: Uint8Array): 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | undefined {
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x89 && ascii(1, 4) === 'PNG') return 'png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 3) === 'GIF') return 'gif';
  if (ascii(4, 8) === 'ftyp') return 'avif';
  return undefined;
}

/** Animated WebP (VP8X animation flag) or APNG (`acTL` before the first `IDAT`): left alone. */
export function isAnimated(b: Uint8Array): boolean {
  const format = sniffFormat(b);
  if (format === 'webp') return String.fromCharCode(...b.subarray(12, 16)) === 'VP8X' && (b[20] & 0x02) !== 0;
  if (format === 'png') {
    let i = 8;
    while (i + 8 <= b.length) {
      const len = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
      const type = String.fromCharCode(...b.subarray(i + 4, i + 8));
      if (type === 'acTL') return true;
      if (type === 'IDAT') return false;
      i += 12 + len;
    }
  }
  return false;
}

/**
 * Re-compresses one plain image. Returns the smaller bytes, or undefined to keep the original
 * (not smaller, an animation, not an image we re-encode in place). Never throws for a bad
 * image: a plain asset the core cannot read is left as it is, with a warning.
 */
export async function recompress(
  engine: Engine,
  name: string,
  bytes: Uint8Array,
  kind: 'asset' | 'public',
  defaults: { quality?: number | 'auto'; effort?: number },
  warn: (message: string) => void,
): Promise<{ bytes?: Uint8Array; report?: ReportFile }> {
  const format = sniffFormat(bytes);
  if (format !== 'jpeg' && format !== 'png' && format !== 'webp') return {};
  if (isAnimated(bytes)) return {};
  const src = { file: name, bytes, hash: createHash('sha256').update(bytes).digest('hex') };
  try {
    const [v] = await engine.variants(src, [{ format: 'original', ...defaults }]);
    const smaller = !v.keptOriginal && v.format === format && v.bytes.length < bytes.length;
    return {
      bytes: smaller ? v.bytes : undefined,
      report: { source: name, output: name, kind, format, width: v.width, height: v.height, before: bytes.length, after: smaller ? v.bytes.length : bytes.length, cached: v.cached, keptOriginal: !smaller },
    };
  } catch (err) {
    warn(`could not re-compress ${name}, kept as it is: ${(err as Error).message}`);
    return {};
  }
}

/** Runs `fn` over `items` with at most `limit` in flight (the pool queues the rest anyway;
 * this bounds how many sources sit in memory at once). */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
