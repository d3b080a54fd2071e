// Import directives: `./hero.jpg?w=480;960&format=avif;webp;jpeg&as=picture`.
// Parsed and validated here, before any file is read, so that a typo fails the build with a
// message naming the file, the directive and what it accepts.
import type { Fit, OptimizeOptions } from '../wasm/mediaslim_core.js';

export type OutputFormat = 'avif' | 'webp' | 'jpeg' | 'png' | 'original';
export type As = 'picture' | 'srcset' | 'meta' | 'url' | 'video';
export type PlaceholderKind = 'thumbhash' | 'color' | 'none';

export interface Directives {
  /** Requested widths, ascending, no duplicates; empty: the source width. */
  widths: number[];
  height?: number;
  fit?: Fit;
  /** Best first: `<source>` order; the last is the `<img>` fallback. */
  formats: OutputFormat[];
  quality?: number | 'auto';
  effort?: number;
  as: As;
  placeholder: PlaceholderKind;
  /** `as=video` only: the container (default `mp4`). */
  container?: 'mp4' | 'webm';
  /** True when the import asks for no variant at all (`?as=meta` alone): nothing is encoded. */
  metaOnly: boolean;
}

/** File extensions whose imports may carry directives and that count as plain image assets. */
export const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp'];
const IMAGE_RE = new RegExp(`\\.(${IMAGE_EXTENSIONS.join('|')})$`, 'i');

/** Every directive, with what it accepts (quoted in errors). */
export const DIRECTIVES: Record<string, string> = {
  w: 'widths in pixels, separated by `;` (e.g. `w=480;960;1600`)',
  h: 'one height in pixels (e.g. `h=600`)',
  fit: '`inside`, `cover`, `contain` or `fill`',
  format: '`avif`, `webp`, `jpeg`, `png` or `original`, separated by `;`, best first (e.g. `format=avif;webp;jpeg`)',
  quality: 'a whole number from 1 to 100, or `auto`',
  effort: 'a whole number from 0 (fastest) to 10 (smallest)',
  as: '`picture`, `srcset`, `meta`, `url`, or `video` (animated GIFs)',
  placeholder: '`thumbhash`, `color` or `none`',
  container: '`mp4` or `webm` (with `as=video`)',
};

/** Query keys that bundlers add themselves (Vite's `?import`, `?t=` in dev...): ignored. */
const BUNDLER_KEYS = new Set(['import', 't', 'v', 'used', 'direct']);

const FORMATS: OutputFormat[] = ['avif', 'webp', 'jpeg', 'png', 'original'];
const FITS: Fit[] = ['inside', 'cover', 'contain', 'fill'];
const AS: As[] = ['picture', 'srcset', 'meta', 'url', 'video'];
const PLACEHOLDERS: PlaceholderKind[] = ['thumbhash', 'color', 'none'];
const MAX_SIDE = 65535;

export class DirectiveError extends Error {
  constructor(
    readonly file: string,
    readonly directive: string,
    message: string,
  ) {
    super(`mediaslim: ${file}: ${message}`);
    this.name = 'DirectiveError';
  }
}

/** Splits `id` into file path and query; query is '' when absent. */
export function splitId(id: string): { file: string; query: string } {
  const q = id.indexOf('?');
  return q < 0 ? { file: id, query: '' } : { file: id.slice(0, q), query: id.slice(q + 1) };
}

export function isImagePath(file: string): boolean {
  return IMAGE_RE.test(file);
}

/**
 * Is this import ours? An image path whose query names at least one of our directives.
 * Other queries (`?url`, `?raw`, `?inline`) are left to the bundler.
 */
export function isDirectiveImport(id: string): boolean {
  const { file, query } = splitId(id);
  if (!query || !isImagePath(file)) return false;
  for (const part of query.split('&')) {
    const key = decodeURIComponent(part.split('=')[0]);
    if (key in DIRECTIVES) return true;
  }
  return false;
}

function fail(file: string, key: string, value: string | undefined, why: string): never {
  const shown = value === undefined ? `\`${key}\`` : `\`${key}=${value}\``;
  throw new DirectiveError(file, key, `invalid directive ${shown}: ${why}; allowed: ${DIRECTIVES[key]}`);
}

function wholeNumber(file: string, key: string, raw: string, item: string, min: number, max: number): number {
  if (!/^\d+$/.test(item)) fail(file, key, raw, `\`${item}\` is not a whole number`);
  const n = Number(item);
  if (n < min || n > max) fail(file, key, raw, `${n} is out of range ${min}-${max}`);
  return n;
}

/** Parses the query of a directive import. Throws a DirectiveError on anything unknown. */
export function parseDirectives(file: string, query: string): Directives {
  const seen = new Map<string, string>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? undefined : decodeURIComponent(part.slice(eq + 1));
    if (BUNDLER_KEYS.has(key)) continue;
    if (!(key in DIRECTIVES)) {
      const names = Object.keys(DIRECTIVES).map((k) => `\`${k}\``).join(', ');
      throw new DirectiveError(file, key, `unknown directive \`${key}\`; allowed directives: ${names}`);
    }
    if (value === undefined || value === '') fail(file, key, value, 'needs a value');
    if (seen.has(key)) fail(file, key, value, `given twice (also \`${key}=${seen.get(key)}\`)`);
    seen.set(key, value);
  }

  const list = (key: string) => {
    const raw = seen.get(key)!;
    const items = raw.split(';');
    if (items.some((s) => s === '')) fail(file, key, raw, 'has an empty item');
    return { raw, items };
  };

  let widths: number[] = [];
  if (seen.has('w')) {
    const { raw, items } = list('w');
    widths = [...new Set(items.map((s) => wholeNumber(file, 'w', raw, s, 1, MAX_SIDE)))].sort((a, b) => a - b);
  }
  let height: number | undefined;
  if (seen.has('h')) {
    const raw = seen.get('h')!;
    if (raw.includes(';')) fail(file, 'h', raw, 'takes one height (list widths with `w`)');
    height = wholeNumber(file, 'h', raw, raw, 1, MAX_SIDE);
  }
  let fit: Fit | undefined;
  if (seen.has('fit')) {
    const raw = seen.get('fit')!;
    if (!FITS.includes(raw as Fit)) fail(file, 'fit', raw, `\`${raw}\` is not a fit mode`);
    fit = raw as Fit;
  }
  let formats: OutputFormat[] = ['original'];
  if (seen.has('format')) {
    const { raw, items } = list('format');
    const normalized = items.map((f) => (f === 'jpg' ? 'jpeg' : f));
    for (const f of normalized) if (!FORMATS.includes(f as OutputFormat)) fail(file, 'format', raw, `\`${f}\` is not an output format`);
    if (new Set(normalized).size !== normalized.length) fail(file, 'format', raw, 'lists a format twice');
    formats = normalized as OutputFormat[];
  }
  let quality: number | 'auto' | undefined;
  if (seen.has('quality')) {
    const raw = seen.get('quality')!;
    quality = raw === 'auto' ? 'auto' : wholeNumber(file, 'quality', raw, raw, 1, 100);
  }
  let effort: number | undefined;
  if (seen.has('effort')) {
    const raw = seen.get('effort')!;
    effort = wholeNumber(file, 'effort', raw, raw, 0, 10);
  }
  let as: As = 'url';
  if (seen.has('as')) {
    const raw = seen.get('as')!;
    if (!AS.includes(raw as As)) fail(file, 'as', raw, `\`${raw}\` is not an output shape`);
    as = raw as As;
  }
  const withPlaceholder = as === 'picture' || as === 'meta' || as === 'video';
  let placeholder: PlaceholderKind = withPlaceholder ? 'thumbhash' : 'none';
  if (seen.has('placeholder')) {
    const raw = seen.get('placeholder')!;
    if (!PLACEHOLDERS.includes(raw as PlaceholderKind)) fail(file, 'placeholder', raw, `\`${raw}\` is not a placeholder kind`);
    if (!withPlaceholder) fail(file, 'placeholder', raw, `only \`as=picture\`, \`as=meta\` and \`as=video\` carry a placeholder (this import is \`as=${as}\`)`);
    placeholder = raw as PlaceholderKind;
  }
  if (fit && height === undefined) fail(file, 'fit', seen.get('fit'), '`fit` needs both `w` and `h`');
  if (fit && widths.length === 0) fail(file, 'fit', seen.get('fit'), '`fit` needs both `w` and `h`');

  if (as === 'video') {
    // An MP4 (AV1, made with rav1e: the build runs in Node) and a WebP poster: size and quality only.
    if (!/\.gif$/i.test(file)) fail(file, 'as', 'video', 'only animated GIFs become videos');
    for (const key of ['format', 'fit', 'effort']) if (seen.has(key)) fail(file, key, seen.get(key), '`as=video` takes only `w`, `h`, `quality`, `container` and `placeholder`');
    if (widths.length > 1) fail(file, 'w', seen.get('w'), '`as=video` makes one video: give one width (the largest it may be)');
    if (quality === 'auto') fail(file, 'quality', 'auto', '`as=video` takes a number (no perceptual search for video)');
  }
  let container: 'mp4' | 'webm' | undefined;
  if (seen.has('container')) {
    const raw = seen.get('container')!;
    if (as !== 'video') fail(file, 'container', raw, `only \`as=video\` has a container (this import is \`as=${as}\`)`);
    if (raw !== 'mp4' && raw !== 'webm') fail(file, 'container', raw, `\`${raw}\` is not a video container`);
    container = raw as 'mp4' | 'webm';
  }
  const variantKeys = ['w', 'h', 'format', 'quality', 'effort', 'fit'];
  const metaOnly = as === 'meta' && !variantKeys.some((k) => seen.has(k));
  const count = Math.max(1, widths.length) * formats.length;
  if (as === 'url' && count > 1) {
    const shown = seen.has('as') ? 'as=url' : 'as';
    fail(file, 'as', seen.get('as'), `${shown === 'as' ? 'without `as`, an import gives one URL' : '`as=url` gives one URL'}, but this asks for ${count} variants; use \`as=srcset\` or \`as=picture\``);
  }
  if (as === 'srcset' && formats.length > 1) fail(file, 'as', 'srcset', `a srcset holds one format, but \`format=${seen.get('format')}\` lists ${formats.length}; use \`as=picture\``);
  if (as === 'meta' && count > 1) fail(file, 'as', 'meta', `\`as=meta\` describes one image, but this asks for ${count} variants`);


  return { widths, height, fit, formats, quality, effort, as, placeholder, metaOnly, ...(container ? { container } : {}) };
}

/** One variant to encode: the core's options, canonical (stable key order, no undefined). */
export interface VariantRequest {
  options: Omit<OptimizeOptions, 'quality'> & { quality?: number | 'auto' };
  /** What the `format` directive named (`original` resolves once the source is known). */
  format: OutputFormat;
}

/**
 * The variants of a directive import for a source of `srcWidth` px: widths past the source
 * collapse into the source width (never upscaled), one variant per width x format.
 */
export function variantsFor(d: Directives, srcWidth: number): VariantRequest[][] {
  const widths = d.widths.length ? [...new Set(d.widths.map((w) => Math.min(w, srcWidth)))].sort((a, b) => a - b) : [undefined];
  return d.formats.map((format) =>
    widths.map((width) => {
      const options: VariantRequest['options'] = {};
      if (width !== undefined) options.width = width;
      if (d.height !== undefined) options.height = d.height;
      if (d.fit) options.fit = d.fit;
      options.format = format;
      if (d.quality !== undefined) options.quality = d.quality;
      if (d.effort !== undefined) options.effort = d.effort;
      return { options, format };
    }),
  );
}

/**
 * The size the core will produce (mirrors src/resize.rs `ResizeRequest::plan`), so the dev
 * server can answer width/height without encoding.
 */
export function plannedSize(src: { width: number; height: number }, o: { width?: number; height?: number; fit?: Fit; upscale?: boolean }): { width: number; height: number } {
  const sw = src.width, sh = src.height;
  const r = (v: number) => Math.max(1, Math.round(v));
  const cap = (s: number) => (o.upscale ? s : Math.min(s, 1));
  if (o.width === undefined && o.height === undefined) return { width: sw, height: sh };
  if (o.height === undefined) {
    const s = cap(o.width! / sw);
    return { width: r(sw * s), height: r(sh * s) };
  }
  if (o.width === undefined) {
    const s = cap(o.height / sh);
    return { width: r(sw * s), height: r(sh * s) };
  }
  const bw = o.width, bh = o.height;
  switch (o.fit ?? 'inside') {
    case 'fill':
      return o.upscale ? { width: r(bw), height: r(bh) } : { width: r(Math.min(bw, sw)), height: r(Math.min(bh, sh)) };
    case 'cover': {
      const aspect = bw / bh;
      const [cw, ch] = sw / sh > aspect ? [sh * aspect, sh] : [sw, sw / aspect];
      const s = cap(bw / cw);
      return { width: r(cw * s), height: r(ch * s) };
    }
    case 'contain':
      return { width: bw, height: bh };
    default: {
      const s = cap(Math.min(bw / sw, bh / sh));
      return { width: r(sw * s), height: r(sh * s) };
    }
  }
}

/** The format the core outputs for `original` (GIF and BMP become PNG). */
export function resolveFormat(format: OutputFormat, sourceFormat: string): 'avif' | 'webp' | 'jpeg' | 'png' {
  if (format !== 'original') return format;
  return sourceFormat === 'jpeg' || sourceFormat === 'webp' || sourceFormat === 'png' ? sourceFormat : 'png';
}
