// The build plugin, written once on unplugin and exported for Vite, Rollup, webpack and
// esbuild (see vite.ts, rollup.ts, webpack.ts, esbuild.ts).
//
// Directive imports (`./hero.jpg?w=480;960&format=avif;webp&as=picture`) load as JS modules
// whose URLs point at emitted, content-hashed variants (in the dev server: at a middleware
// that encodes on first request). Plain images the bundle emits are re-compressed in place.
// Everything goes through one Engine: disk cache first, then the worker pool.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, normalize, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createUnplugin, type UnpluginContextMeta, type UnpluginOptions } from 'unplugin';
import { glob } from 'tinyglobby';
import type { Pool } from '../pool.js';
import type { OptimizeOptions } from '../wasm/mediaslim_core.js';
import { createFilter, inside, isPlainImage, mapLimit, recompress, toPosix, writesInside } from './assets.js';
import { DiskCache, sha256 } from './cache.js';
import { DEV_PREFIX, DevServer } from './dev.js';
import { isDirectiveImport, parseDirectives, plannedSize, resolveFormat, splitId, variantsFor, type Directives } from './directives.js';
import { Engine, PluginError, type PlaceholderValue, type Source, type Variant, type VideoOptions } from './engine.js';
import { Progress, reportLine, summarize, type Report, type ReportFile } from './report.js';
import { bundleNeed, runtimeFiles, type RuntimeNeed } from './runtime.js';

export type { Report, ReportFile } from './report.js';
export type { PlaceholderValue } from './engine.js';
export { DirectiveError } from './directives.js';

export interface MediaslimPluginOptions {
  /** Plain images to re-compress (picomatch globs, relative to the project root). Default: all. */
  include?: string | string[];
  /** Plain images to leave alone (picomatch globs, relative to the project root). */
  exclude?: string | string[];
  /** Re-compress plain images the bundle emits (CSS `url()`, `<img src>`, `new URL()`). Default true. */
  assets?: boolean;
  /** Vite: re-compress images copied from the `public/` folder too. Default true. */
  publicDir?: boolean;
  /** Quality for every encode unless a directive says otherwise: 1-100 or `auto`. Default: the core's. */
  quality?: number | 'auto';
  /** Effort 0-10 for every encode unless a directive says otherwise. Default: the core's (4). */
  effort?: number;
  /** Persistent cache on disk. Default true. */
  cache?: boolean;
  /** Cache folder (e.g. one shared by CI runs). Default `node_modules/.cache/mediaslim` under the root. */
  cacheDir?: string;
  /** The cache is trimmed to this size after each build, least recently used first. Default 512 MiB. */
  cacheMaxBytes?: number;
  /** Worker threads. Default: one per core. */
  workers?: number;
  /** Run in this pool instead of one of the plugin's own (left running at the end). */
  pool?: Pool;
  /** Directive imports must lie inside this folder. Default: the bundler's root (Vite `root`, webpack `context`, the working directory). */
  root?: string;
  /** Folder for emitted variants under webpack and esbuild (Vite and Rollup use their own `assetFileNames`). Default `assets`. */
  assetsDir?: string;
  /**
   * Rollup and esbuild: when the bundle holds mediaslim's browser API, emit its worker and wasm
   * next to the bundle file that loads them (those bundlers do not follow
   * `new URL('./worker.js', import.meta.url)`). Vite and webpack 5 do it themselves. Default true.
   */
  runtime?: boolean;
  /** Show a progress line on a terminal during long builds. Default: when stderr is a TTY. */
  progress?: boolean;
  /** Print the report at the end of a build. Default true. */
  report?: boolean;
  /** Receives the report at the end of every build. */
  onReport?: (report: Report) => void;
}

const OPTION_NAMES = ['include', 'exclude', 'assets', 'publicDir', 'quality', 'effort', 'cache', 'cacheDir', 'cacheMaxBytes', 'workers', 'pool', 'root', 'assetsDir', 'progress', 'report', 'onReport'];
export const PLUGIN_NAME = 'mediaslim';

/** `?w=...`-style queries the load hook needs to see (the handler checks precisely). */
const DIRECTIVE_ID_RE = /\.(jpe?g|png|webp|gif|bmp)\?(.*&)?(w|h|fit|format|quality|effort|as|placeholder)(=|&|$)/i;
export const DIRECTIVE_QUERY_RE = /(^\?|&)(w|h|fit|format|quality|effort|as|placeholder)(=|&|$)/;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function validateOptions(options: MediaslimPluginOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('mediaslim: the plugin options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) throw new TypeError(`mediaslim: unknown option \`${key}\`; allowed: ${OPTION_NAMES.map((k) => `\`${k}\``).join(', ')}`);
  }
  const { quality, effort, cacheMaxBytes, workers } = options;
  if (quality !== undefined && quality !== 'auto' && !(Number.isInteger(quality) && quality >= 1 && quality <= 100)) {
    throw new TypeError(`mediaslim: invalid option \`quality\`: ${String(quality)}; allowed: a whole number from 1 to 100, or 'auto'`);
  }
  if (effort !== undefined && !(Number.isInteger(effort) && effort >= 0 && effort <= 10)) {
    throw new TypeError(`mediaslim: invalid option \`effort\`: ${String(effort)}; allowed: a whole number from 0 to 10`);
  }
  if (cacheMaxBytes !== undefined && !(Number.isFinite(cacheMaxBytes) && cacheMaxBytes >= 0)) {
    throw new TypeError(`mediaslim: invalid option \`cacheMaxBytes\`: ${String(cacheMaxBytes)}; allowed: a number of bytes`);
  }
  const { assetsDir } = options;
  if (assetsDir !== undefined && (typeof assetsDir !== 'string' || isAbsolute(assetsDir) || assetsDir.split(/[\\/]/).includes('..'))) {
    throw new TypeError(`mediaslim: invalid option \`assetsDir\`: ${String(assetsDir)}; allowed: a folder inside the output folder, e.g. 'assets' or 'img/generated'`);
  }
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) {
    throw new TypeError(`mediaslim: invalid option \`workers\`: ${String(workers)}; allowed: a whole number from 1`);
  }
}

// ---- the JS modules directive imports turn into ---------------------------------------------

/** A JS expression inside generated code (a bundler-specific URL). */
class Expr {
  constructor(readonly code: string) {}
}
/** A string built from literal pieces and expressions. */
class Concat {
  constructor(readonly parts: (string | Expr)[]) {}
}
type Url = string | Expr;
type Value = string | number | boolean | undefined | Expr | Concat | Value[] | { [k: string]: Value };

function toCode(v: Value): string {
  if (v instanceof Expr) return v.code;
  if (v instanceof Concat) {
    const merged: (string | Expr)[] = [];
    for (const p of v.parts) {
      const last = merged[merged.length - 1];
      if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
      else merged.push(p);
    }
    return merged.map((p) => (typeof p === 'string' ? JSON.stringify(p) : `(${p.code})`)).join(' + ') || '""';
  }
  if (Array.isArray(v)) return `[${v.map(toCode).join(', ')}]`;
  if (v && typeof v === 'object') {
    return `{ ${Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}: ${toCode(x)}`)
      .join(', ')} }`;
  }
  return JSON.stringify(v);
}

interface Made {
  url: Url;
  width: number;
  height: number;
  format: string;
}

function srcsetOf(list: Made[]): Concat {
  const parts: (string | Expr)[] = [];
  list.forEach((m, i) => parts.push(...(i ? [', '] : []), m.url, ` ${m.width}w`));
  return new Concat(parts);
}

function moduleValue(d: Directives, groups: Made[][], placeholder: PlaceholderValue | undefined): Value {
  const fallback = groups[groups.length - 1];
  const largest = fallback[fallback.length - 1];
  switch (d.as) {
    case 'url':
      return new Concat([largest.url]);
    case 'srcset':
      return srcsetOf(fallback);
    case 'meta':
      return { src: new Concat([largest.url]), width: largest.width, height: largest.height, format: largest.format, placeholder: placeholder as Value };
    case 'video':
      throw new Error('mediaslim: as=video is made by loadVideo'); // unreachable: load() branches first
    case 'picture':
      return {
        sources: groups.slice(0, -1).map((list) => ({ type: `image/${list[0].format}`, srcset: srcsetOf(list) })),
        img: { src: new Concat([largest.url]), srcset: srcsetOf(fallback), width: largest.width, height: largest.height },
        placeholder: placeholder as Value,
      };
  }
}

const EXT: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' };

// ---- the factory ------------------------------------------------------------------------------

export const unpluginFactory = (rawOptions: MediaslimPluginOptions | undefined, meta: UnpluginContextMeta): UnpluginOptions => {
  const options = rawOptions ?? {};
  validateOptions(options);
  const framework = meta.framework;
  const version = packageVersion();
  const defaults: { quality?: number | 'auto'; effort?: number } = {};
  if (options.quality !== undefined) defaults.quality = options.quality;
  if (options.effort !== undefined) defaults.effort = options.effort;
  const assetsDir = (options.assetsDir ?? 'assets').replace(/^\/+|\/+$/g, '');
  const filter = createFilter(options.include, options.exclude);
  const progress = new Progress(options.progress ?? (!!process.stderr.isTTY && !process.env.CI));

  let root = resolve(options.root ?? process.cwd());
  const rootFixed = options.root !== undefined;
  let command: 'build' | 'serve' = 'build';
  let engine: Engine | undefined;
  let cache: DiskCache | undefined;
  let dev: DevServer | undefined;
  let startedAt = performance.now();
  let started = false;
  let failed = false;
  /** Report entries of this build, variants keyed by cache identity (one file each). */
  let files = new Map<string, ReportFile>();
  /** Vite/Rollup: emitted reference -> report key, to learn final file names. */
  let refs = new Map<string, string>();
  let log: (line: string) => void = (line) => console.log(line);
  let warn: (line: string) => void = (line) => console.warn(`mediaslim: ${line}`);
  // Vite specifics.
  let viteBase = '/';
  let vitePublicDir: string | undefined;
  let viteOutDir: string | undefined;
  let viteCopyPublic = true;
  // esbuild specifics.
  let esbuildOut: { outdir: string; publicPath?: string; esm: boolean; write: boolean } | undefined;

  function setRoot(r: string): void {
    if (rootFixed) return;
    root = resolve(r);
  }

  function getEngine(): Engine {
    if (!engine) {
      if (options.cache !== false) {
        const dir = options.cacheDir ? resolve(root, options.cacheDir) : join(root, 'node_modules', '.cache', 'mediaslim');
        cache = new DiskCache(dir, version, options.cacheMaxBytes ?? 512 * 1024 * 1024);
      }
      engine = new Engine(cache, { workers: options.workers, pool: options.pool }, (n) => progress.tick(n));
    }
    return engine;
  }

  function startBuild(): void {
    if (started) return;
    started = true;
    failed = false;
    startedAt = performance.now();
    files = new Map();
    refs = new Map();
    const e = getEngine();
    e.forgetSources();
    e.counters.encodes = 0;
    e.counters.cacheHits = 0;
    e.counters.poolJobs = 0;
  }

  /** End of a build: report once, trim the cache, stop the workers. */
  async function finishBuild(): Promise<void> {
    if (!started) return;
    started = false;
    progress.end();
    const e = getEngine();
    e.close();
    if (failed) {
      // A failed build reports nothing: the bundler shows the error.
      failed = false;
      return;
    }
    e.forgetSources();
    const report = summarize([...files.values()], e.counters, performance.now() - startedAt, cache?.dir);
    if (options.report !== false) log(reportLine(report));
    options.onReport?.(report);
    await cache?.prune();
  }

  function fileOf(id: string): string {
    let file = splitId(id).file;
    if (file.startsWith('\0')) file = file.slice(1);
    return normalize(file);
  }

  /** Checks the path, parses the directives, reads the source, probes it. */
  async function prepare(id: string, addWatchFile: (f: string) => void) {
    const file = fileOf(id);
    const rel = inside(root, file);
    if (rel === undefined) {
      throw new PluginError(file, 'OUTSIDE_ROOT', `mediaslim: ${file}: refusing to read an image outside the project root ${root} (set the plugin's \`root\` option to allow it)`);
    }
    const directives = parseDirectives(rel, splitId(id).query);
    addWatchFile(file);
    const e = getEngine();
    const src = command === 'serve' ? await readFresh(file, rel) : await e.read(file, rel);
    const info = await e.probe(src);
    return { file, rel, directives, src, info };
  }

  async function placeholderOf(src: Source, kind: Directives['placeholder']): Promise<PlaceholderValue | undefined> {
    if (kind === 'none') return undefined;
    const p = await getEngine().placeholder(src);
    return kind === 'color' ? { color: p.color } : p;
  }

  async function readFresh(path: string, name: string) {
    const buf = await readFile(path);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    return { file: name, bytes, hash: sha256(bytes) };
  }

  /** Places a file (a variant, a video, a poster): only its bytes are needed. */
  type Emit = (name: string, v: Pick<Variant, 'bytes'>, rel: string, key: string) => Url;

  /**
   * `as=video`: the GIF as an MP4 (or a WebM with `container=webm`; AV1 by rav1e: a build has no WebCodecs), a WebP poster of
   * its first frame at the video's size, and a placeholder. In the dev server both files are
   * made at import and served from memory (a video is one encode, not a ladder).
   */
  async function loadVideo(file: string, rel: string, directives: Directives, src: Source, emit: Emit): Promise<string> {
    const width = directives.widths[0];
    const options: VideoOptions = {};
    if (width !== undefined) options.maxWidth = width;
    if (directives.height !== undefined) options.maxHeight = directives.height;
    if (typeof directives.quality === 'number') options.quality = directives.quality;
    // Only a WebM is named in the options: MP4 imports keep their cache keys.
    if (directives.container === 'webm') options.container = 'webm';
    const ext = directives.container ?? 'mp4';
    const e = getEngine();
    const video = await e.video(src, options);
    if (video.bytes.length >= src.bytes.length) {
      warn(`${rel}: the ${ext === 'webm' ? 'WebM' : 'MP4'} (${video.bytes.length} B) is not smaller than the GIF (${src.bytes.length} B); import the GIF itself for this one`);
    }
    // The poster at the video's (even) size, so the page does not jump when playback starts.
    const posterOptions = { ...defaults, width: video.width, height: video.height, fit: 'fill' as const, format: 'webp' as const };
    const [[poster], placeholder] = await Promise.all([e.variants(src, [posterOptions]), placeholderOf(src, directives.placeholder)]);
    const base = basename(file, extname(file));
    const type = `video/${ext}; codecs="${video.codec}"`;
    let videoUrl: Url;
    let posterUrl: Url;
    if (command === 'serve') {
      videoUrl = dev!.bytesUrl(`${src.hash}\0video\0${JSON.stringify(options)}`, `${base}.${ext}`, video.bytes, `video/${ext}`);
      posterUrl = dev!.bytesUrl(`${src.hash}\0poster\0${JSON.stringify(posterOptions)}`, `${base}-poster.webp`, poster.bytes, 'image/webp');
    } else {
      const videoKey = `${src.hash}:video:${JSON.stringify(options)}`;
      const posterKey = `${src.hash}:${JSON.stringify(posterOptions)}`;
      files.set(videoKey, { source: rel, kind: 'variant', format: ext, width: video.width, height: video.height, before: src.bytes.length, after: video.bytes.length, cached: video.cached, keptOriginal: false });
      if (!files.has(posterKey)) {
        files.set(posterKey, { source: rel, kind: 'variant', format: poster.format, width: poster.width, height: poster.height, before: src.bytes.length, after: poster.bytes.length, cached: poster.cached, keptOriginal: poster.keptOriginal });
      }
      videoUrl = emit(`${base}.${ext}`, video, rel, videoKey);
      posterUrl = emit(`${base}-poster.${EXT[poster.format]}`, poster, rel, posterKey);
    }
    const value: Value = {
      src: new Concat([videoUrl]),
      type,
      poster: new Concat([posterUrl]),
      width: video.width,
      height: video.height,
      duration: video.durationMs / 1000,
      frames: video.frames,
      placeholder: placeholder as Value,
    };
    return `export default ${toCode(value)};\n`;
  }

  /** The JS module for a directive import; `emit` places a variant and returns its URL. */
  async function load(id: string, addWatchFile: (f: string) => void, emit: Emit): Promise<string> {
    startBuild();
    const { file, rel, directives, src, info } = await prepare(id, addWatchFile);
    if (directives.as === 'video') return loadVideo(file, rel, directives, src, emit);
    if (directives.metaOnly) {
      const placeholder = await placeholderOf(src, directives.placeholder);
      return `export default ${toCode({ width: info.width, height: info.height, format: info.format, placeholder: placeholder as Value })};\n`;
    }
    const requests = variantsFor(directives, info.width).map((group) => group.map((r) => ({ ...r, options: { ...defaults, ...r.options } })));
    const base = basename(file, extname(file));
    let groups: Made[][];
    if (command === 'serve') {
      groups = requests.map((group) =>
        group.map(({ options, format }) => {
          const size = plannedSize(info, options);
          const fmt = resolveFormat(format, info.format);
          const url = dev!.url(file, rel, src.hash, options as OptimizeOptions, `${base}-${size.width}w.${EXT[fmt]}`, fmt);
          return { url, width: size.width, height: size.height, format: fmt };
        }),
      );
    } else {
      const flat = requests.flat();
      const made = await getEngine().variants(src, flat.map((r) => r.options));
      const byIndex = made.map((v, i) => {
        const key = `${src.hash}:${JSON.stringify(flat[i].options)}`;
        if (!files.has(key)) {
          files.set(key, { source: rel, kind: 'variant', format: v.format, width: v.width, height: v.height, before: src.bytes.length, after: v.bytes.length, cached: v.cached, keptOriginal: v.keptOriginal });
        }
        const url = emit(`${base}-${v.width}w.${EXT[v.format]}`, v, rel, key);
        return { url, width: v.width, height: v.height, format: v.format };
      });
      let i = 0;
      groups = requests.map((group) => group.map(() => byIndex[i++]));
    }
    // After the variants: a worker that loaded the AVIF module for them serves the placeholder
    // from that same instance (no second wasm memory holding a decoded photo).
    const placeholder = await placeholderOf(src, directives.placeholder);
    return `export default ${toCode(moduleValue(directives, groups, placeholder))};\n`;
  }

  /** Content-hashed name for bundlers that take a fixed file name (webpack, esbuild). */
  function hashedName(name: string, v: Pick<Variant, 'bytes'>): string {
    const ext = extname(name);
    return posix.join(assetsDir, `${basename(name, ext)}-${sha256(v.bytes).slice(0, 8)}${ext}`);
  }

  /** Plain assets of a Rollup/Vite bundle, re-compressed in place. */
  async function compressBundle(ctx: { getFileName(ref: string): string }, bundle: Record<string, { type: string; fileName: string; source?: string | Uint8Array; originalFileNames?: string[]; originalFileName?: string | null }>): Promise<void> {
    const ours = new Set<string>();
    for (const [ref, key] of refs) {
      const fileName = ctx.getFileName(ref);
      ours.add(fileName);
      const entry = files.get(key);
      if (entry) entry.output = fileName;
    }
    if (options.assets === false) return;
    const items = Object.values(bundle).filter((a) => a.type === 'asset' && !ours.has(a.fileName) && isPlainImage(a.fileName));
    const e = getEngine();
    await mapLimit(items, Math.max(2, availableParallelism()) * 2, async (asset) => {
      const origin = asset.originalFileNames?.[0] ?? asset.originalFileName ?? undefined;
      const source = origin ? (isAbsolute(origin) ? inside(root, origin) ?? toPosix(origin) : toPosix(origin)) : asset.fileName;
      if (!filter(source)) return;
      const bytes = typeof asset.source === 'string' ? new Uint8Array(Buffer.from(asset.source, 'latin1')) : asset.source;
      if (!bytes) return;
      const r = await recompress(e, source, bytes, 'asset', defaults, warn);
      if (r.bytes) asset.source = r.bytes;
      if (r.report) files.set(`asset:${asset.fileName}`, { ...r.report, output: asset.fileName });
    });
  }

  /** Vite: images copied from `public/` into the output folder, re-compressed there. */
  async function compressPublic(): Promise<void> {
    if (options.assets === false || options.publicDir === false || !viteCopyPublic || !vitePublicDir || !viteOutDir) return;
    const names = await glob('**/*.{jpg,jpeg,png,webp,JPG,JPEG,PNG,WEBP}', { cwd: vitePublicDir, onlyFiles: true, dot: false }).catch(() => [] as string[]);
    const e = getEngine();
    await mapLimit(names, Math.max(2, availableParallelism()) * 2, async (name) => {
      const rel = inside(root, join(vitePublicDir!, name)) ?? toPosix(join(basename(vitePublicDir!), name));
      if (!filter(rel)) return;
      const out = join(viteOutDir!, name);
      if (!writesInside(viteOutDir!, out)) return; // never write outside the output folder (symlinks followed)
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(out));
      } catch {
        return; // not copied (copyPublicDir off, or removed by another plugin)
      }
      const r = await recompress(e, rel, bytes, 'public', defaults, warn);
      if (r.bytes) await replaceFile(out, r.bytes);
      if (r.report) files.set(`public:${name}`, { ...r.report, output: toPosix(name) });
    });
  }

  const plugin: UnpluginOptions = {
    name: PLUGIN_NAME,
    enforce: 'pre',
    buildStart() {
      startBuild();
    },
  };

  if (framework !== 'webpack') {
    plugin.load = {
      filter: { id: DIRECTIVE_ID_RE },
      async handler(id) {
        if (!isDirectiveImport(id)) return null;
        const ctx = this as unknown as { addWatchFile(f: string): void; emitFile(f: object): string };
        const emit: Emit = (name, v, rel, key) => {
          if (framework === 'esbuild') {
            const fileName = hashedName(name, v);
            const entry = files.get(key);
            if (entry) entry.output = fileName;
            writeVariant(fileName, v.bytes);
            if (esbuildOut?.publicPath) return `${esbuildOut.publicPath.replace(/\/$/, '')}/${fileName}`;
            if (esbuildOut?.esm) return new Expr(`new URL(${JSON.stringify(`./${fileName}`)}, import.meta.url).href`);
            return fileName;
          }
          const ref = ctx.emitFile({ type: 'asset', name, source: v.bytes, originalFileName: rel });
          refs.set(ref, key);
          return framework === 'vite' ? `__VITE_ASSET__${ref}__` : new Expr(`import.meta.ROLLUP_FILE_URL_${ref}`);
        };
        return load(id, (f) => ctx.addWatchFile(f), emit);
      },
    };
  }

  /** esbuild: variants are written straight into the output folder (errors fail the import). */
  function writeVariant(fileName: string, bytes: Uint8Array): void {
    if (!esbuildOut) throw new Error('mediaslim: esbuild needs `outdir` or `outfile` to emit image variants');
    const out = join(esbuildOut.outdir, fileName);
    if (!writesInside(esbuildOut.outdir, out)) throw new Error(`mediaslim: refusing to write ${out} outside ${esbuildOut.outdir}`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, bytes);
  }

  // ---- Rollup ----
  plugin.rollup = {
    options(opts) {
      setRoot(process.cwd());
      return opts;
    },
    async resolveId(source, importer) {
      // Rollup alone does not resolve `./hero.jpg?w=480`: resolve the path, keep the query.
      if (!isDirectiveImport(source)) return null;
      const { file, query } = splitId(source);
      const ctx = this as unknown as { resolve(s: string, i?: string, o?: object): Promise<{ id: string } | null> };
      const resolved = await ctx.resolve(file, importer, { skipSelf: true });
      const path = resolved?.id ?? (importer ? resolve(dirname(importer), file) : resolve(file));
      return `${path}?${query}`;
    },
    buildEnd(err) {
      if (err) failed = true;
    },
    async generateBundle(_out, bundle) {
      await compressBundle(this, bundle as never);
      if (options.runtime !== false) await emitRuntime(this as never, bundle as never);
    },
    async closeBundle() {
      await finishBuild();
    },
  };

  // ---- Vite ----
  plugin.vite = {
    /** For tests and other plugins: what this instance did so far. */
    api: {
      stats: () => ({ ...getEngine().counters, cache: cache ? { ...cache.stats } : undefined, dev: dev ? { ...dev.counters } : undefined }),
    },
    configResolved(config) {
      setRoot(config.root);
      command = config.command;
      viteBase = config.base || '/';
      vitePublicDir = config.publicDir || undefined;
      viteOutDir = resolve(config.root, config.build.outDir);
      viteCopyPublic = config.build.copyPublicDir !== false;
      log = (line) => config.logger.info(line);
      warn = (line) => config.logger.warn(`mediaslim: ${line}`);
      if (command === 'serve') {
        dev = new DevServer(getEngine(), '/');
        dev.setBase(viteBase.startsWith('/') ? viteBase : '/', config.server.origin);
      }
    },
    configureServer(server) {
      server.middlewares.use(dev!.handle);
      server.httpServer?.once('close', () => getEngine().close());
    },
    buildEnd(err) {
      if (err) failed = true;
    },
    async generateBundle(_out, bundle) {
      await compressBundle(this, bundle as never);
    },
    async writeBundle() {
      await compressPublic();
    },
    async closeBundle() {
      if (command === 'serve') {
        getEngine().close();
        return;
      }
      await finishBuild();
    },
  };

  // ---- webpack ----
  plugin.webpack = (compiler) => {
    setRoot(compiler.context);
    const { Compilation, sources } = compiler.webpack;
    const loader = fileURLToPath(new URL('./webpack-loader.js', import.meta.url));
    const handler = async (lc: WebpackLoaderContext): Promise<string> => {
      const emit: Emit = (name, v, rel, key) => {
        const fileName = hashedName(name, v);
        const entry = files.get(key);
        if (entry) entry.output = fileName;
        lc.emitFile(fileName, Buffer.from(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength), undefined, {
          minimized: true,
          immutable: true,
          sourceFilename: rel,
          mediaslim: true,
        });
        return new Expr(`__webpack_public_path__ + ${JSON.stringify(fileName)}`);
      };
      return load(lc.resource, (f) => lc.addDependency(f), emit);
    };
    compiler.options.module.rules.unshift({
      test: /\.(jpe?g|png|webp|gif|bmp)$/i,
      resourceQuery: DIRECTIVE_QUERY_RE,
      enforce: 'pre',
      type: 'javascript/auto',
      use: [{ loader, options: { handler } }],
    });
    // A user's `type: 'asset/resource'` rule for images also matches `hero.jpg?w=480`: the
    // directive module is JavaScript whatever other rules say.
    compiler.hooks.normalModuleFactory.tap(PLUGIN_NAME, (nmf) => {
      nmf.hooks.afterResolve.tap(PLUGIN_NAME, (data) => {
        const cd = data.createData as { resource?: string; type?: string; settings?: Record<string, unknown>; parser?: unknown; generator?: unknown };
        if (!cd.resource || !isDirectiveImport(cd.resource) || cd.type === 'javascript/auto') return;
        cd.type = 'javascript/auto';
        cd.settings = { ...cd.settings, type: 'javascript/auto' };
        cd.parser = nmf.getParser('javascript/auto');
        cd.generator = nmf.getGenerator('javascript/auto');
      });
    });
    compiler.hooks.thisCompilation.tap(PLUGIN_NAME, (compilation) => {
      startBuild();
      if (options.assets === false) return;
      compilation.hooks.processAssets.tapPromise({ name: PLUGIN_NAME, stage: Compilation.PROCESS_ASSETS_STAGE_OPTIMIZE_SIZE }, async (assets) => {
        const names = Object.keys(assets).filter((n) => isPlainImage(n));
        const e = getEngine();
        await mapLimit(names, Math.max(2, availableParallelism()) * 2, async (name) => {
          const asset = compilation.getAsset(name);
          if (!asset || asset.info.minimized || asset.info.mediaslim) return;
          const origin = typeof asset.info.sourceFilename === 'string' ? asset.info.sourceFilename : name;
          if (!filter(origin)) return;
          const buf = asset.source.buffer();
          const r = await recompress(e, origin, new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), 'asset', defaults, (m) => compilation.warnings.push(new compiler.webpack.WebpackError(`mediaslim: ${m}`)));
          if (r.bytes) compilation.updateAsset(name, new sources.RawSource(Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength)), { minimized: true });
          if (r.report) files.set(`asset:${name}`, { ...r.report, output: name });
        });
      });
      // webpack renames assets whose content changed (real content hashes): learn the final names.
      compilation.hooks.processAssets.tap({ name: PLUGIN_NAME, stage: Compilation.PROCESS_ASSETS_STAGE_REPORT }, () => {
        for (const entry of files.values()) {
          if (entry.kind !== 'asset' || !entry.output || compilation.getAsset(entry.output)) continue;
          const renamed = compilation.getAssets().find((a) => a.info.sourceFilename === entry.source && a.info.minimized);
          if (renamed) entry.output = renamed.name;
        }
      });
    });
    compiler.hooks.done.tapPromise(PLUGIN_NAME, async (stats) => {
      if (stats.hasErrors()) failed = true;
      await finishBuild();
    });
    compiler.hooks.failed.tap(PLUGIN_NAME, () => {
      started = false;
      progress.end();
      getEngine().close();
    });
    compiler.hooks.shutdown.tap(PLUGIN_NAME, () => getEngine().close());
  };

  // ---- esbuild ----
  plugin.esbuild = {
    loader: 'js',
    setup(build) {
      const o = build.initialOptions;
      const cwd = o.absWorkingDir ?? process.cwd();
      setRoot(cwd);
      const outdir = o.outdir ? resolve(cwd, o.outdir) : o.outfile ? dirname(resolve(cwd, o.outfile)) : undefined;
      if (o.metafile === undefined) o.metafile = true; // to find the images esbuild copied
      esbuildOut = outdir ? { outdir, publicPath: o.publicPath, esm: o.format === 'esm', write: o.write !== false } : undefined;
      build.onStart(() => startBuild());
      build.onEnd(async (result) => {
        if (result.errors.length) failed = true;
        // Plain images esbuild copied (the `file` loader): re-compressed where they were written.
        if (!failed && options.assets !== false && outdir && result.metafile && o.write !== false) {
          const e = getEngine();
          const written = Object.keys(result.metafile.outputs).filter((n) => isPlainImage(n));
          const ours = new Set([...files.values()].map((f) => f.output && join(outdir, f.output)));
          await mapLimit(written, Math.max(2, availableParallelism()) * 2, async (n) => {
            const out = resolve(cwd, n);
            if (ours.has(out) || !writesInside(outdir, out)) return;
            const inputs = Object.keys(result.metafile!.outputs[n].inputs);
            const origin = inputs[0] ?? n;
            if (!filter(origin)) return;
            const bytes = new Uint8Array(await readFile(out));
            const r = await recompress(e, origin, bytes, 'asset', defaults, warn);
            if (r.bytes) await replaceFile(out, r.bytes);
            if (r.report) files.set(`asset:${n}`, { ...r.report, output: toPosix(relative(outdir, out)) });
          });
        }
        if (!failed && options.runtime !== false && result.metafile && o.write !== false) {
          await writeRuntime(cwd, result.metafile.outputs);
        }
        await finishBuild();
      });
    },
  };

  return plugin;
};

/** Records `need` for `dir`, keeping the stronger of two ('worker' includes 'probe'). */
function addNeed(dirs: Map<string, RuntimeNeed>, dir: string, need: RuntimeNeed | undefined): void {
  if (need && dirs.get(dir) !== 'worker') dirs.set(dir, need);
}

/** Rollup: the runtime as assets beside each chunk that holds mediaslim's pool or core (or only probe). */
async function emitRuntime(
  ctx: { emitFile(file: { type: 'asset'; fileName: string; source: Uint8Array }): string },
  bundle: Record<string, { type: string; fileName: string; modules?: Record<string, unknown> }>,
): Promise<void> {
  const dirs = new Map<string, RuntimeNeed>();
  for (const chunk of Object.values(bundle)) {
    if (chunk.type === 'chunk') addNeed(dirs, posix.dirname(chunk.fileName), bundleNeed(Object.keys(chunk.modules ?? {})));
  }
  for (const [dir, need] of dirs) {
    for (const file of await runtimeFiles(need)) {
      const fileName = dir === '.' ? file.name : `${dir}/${file.name}`;
      if (!(fileName in bundle)) ctx.emitFile({ type: 'asset', fileName, source: file.bytes });
    }
  }
}

/** esbuild: the runtime written beside each output file built from mediaslim's pool or core (or only probe). */
async function writeRuntime(cwd: string, outputs: Record<string, { inputs: Record<string, unknown> }>): Promise<void> {
  const dirs = new Map<string, RuntimeNeed>();
  for (const [out, meta] of Object.entries(outputs)) {
    addNeed(dirs, dirname(resolve(cwd, out)), bundleNeed(Object.keys(meta.inputs).map((input) => resolve(cwd, input))));
  }
  for (const [dir, need] of dirs) {
    for (const file of await runtimeFiles(need)) {
      const target = join(dir, ...file.name.split('/'));
      mkdirSync(dirname(target), { recursive: true });
      await replaceFile(target, file.bytes);
    }
  }
}

/** Writes next to `file`, then renames over it (a copied read-only file is replaced too). */
async function replaceFile(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.mediaslim.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** The part of webpack's loader context the loader uses. */
export interface WebpackLoaderContext {
  resource: string;
  addDependency(file: string): void;
  emitFile(name: string, content: Buffer, sourceMap?: string, assetInfo?: Record<string, unknown>): void;
}

export const unplugin = /* #__PURE__ */ createUnplugin(unpluginFactory);
export default unplugin;
export { DEV_PREFIX };
