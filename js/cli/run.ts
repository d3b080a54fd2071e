// The `mediaslim` command: expand the inputs, refuse anything that would overwrite an input,
// run every file through `optimize` on one Pool (a file's failure never stops the others),
// write outputs atomically, then print a table (or a JSON report).
import { chmod, readFile, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { MediaslimError, optimize, open, Pool, ResultCache, type OptimizeResult } from '../index.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, parse, UsageError, version, type Settings } from './args.js';
import { canonical, escapesFrom, expand, outputPath, predictFormat, removeLiveTempFiles, writeAtomic, type InputFile } from './files.js';
import { failures, table, totals, type Entry, type Report } from './report.js';

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** A 1x1 PNG: the options are tried on it first, so a value the core refuses is a usage error. */
const PROBE_PNG = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwAFAAL/yn8xGQAAAABJRU5ErkJggg=='),
  (c) => c.charCodeAt(0),
);

/** Paths as shown: relative to the cwd when under it, absolute otherwise. */
function rel(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r === '' ? p : r.startsWith('..') || path.isAbsolute(r) ? path.resolve(p) : r;
}

export async function main(argv: string[], io: Io = process): Promise<number> {
  const say = (s: string) => io.stderr.write(s);
  let settings: Settings;
  try {
    const parsed = parse(argv, { out: (s) => io.stdout.write(s), err: say });
    if ('exit' in parsed) return parsed.exit;
    settings = parsed.settings;
    return await run(settings, io);
  } catch (err) {
    if (err instanceof UsageError) {
      say(`mediaslim: ${err.message}\n(run mediaslim --help for usage and examples)\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

async function run(settings: Settings, io: Io): Promise<number> {
  const started = performance.now();
  const outDir = settings.out !== undefined ? canonical(settings.out) : undefined;
  if (outDir) {
    let isDir = true;
    try {
      isDir = statSync(outDir).isDirectory();
    } catch {
      /* made when the first output is written */
    }
    if (!isDir) throw new UsageError(`--out ${settings.out} is a file; it must be a folder`);
  }

  const { files, problems, skipped } = await expand(settings.inputs, outDir);
  planOutputs(files, settings, outDir);

  const entries: Entry[][] = files.map(() => []);
  const problemEntries: Entry[] = problems.map((p) => failed(p.input, null, p.code, p.message));

  const pool = new Pool({ size: settings.concurrency });
  const bar = io.stderr.isTTY && files.length > 0
    ? new cliProgress.SingleBar(
        { stream: io.stderr, format: ' {bar} {value}/{total} files | {failed} failed | {file}', hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const interrupted = () => {
    bar?.stop();
    pool.terminate();
    removeLiveTempFiles();
    io.stderr.write('\nmediaslim: interrupted; files already written are complete, nothing half-written is left\n');
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    if (files.length > 0) await preflight(settings, pool);
    bar?.start(files.length, 0, { file: '', failed: 0 });
    let failedCount = 0;
    const claimed = new Map<string, string>();
    const inputs = new Set(files.map((f) => canonical(f.path)));
    let next = 0;
    // Twice as many files in flight as workers: the next file is read while one encodes,
    // without holding a whole folder in memory.
    const lanes = Array.from({ length: Math.min(files.length, pool.size * 2) }, async () => {
      while (next < files.length) {
        const i = next++;
        entries[i] = await processFile(files[i], settings, pool, { outDir, claimed, inputs });
        if (entries[i].some((e) => e.error)) failedCount++;
        bar?.increment(1, { file: rel(files[i].path), failed: failedCount });
      }
    });
    await Promise.all(lanes);
  } finally {
    bar?.stop();
    pool.terminate();
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }

  const all = [...problemEntries, ...entries.flat()];
  const sum = totals(all, performance.now() - started);
  if (settings.json) {
    const report: Report = {
      version: version(),
      options: { ...settings.options, widths: settings.widths, out: settings.out ?? null, inPlace: settings.inPlace, concurrency: settings.concurrency },
      files: all,
      skipped,
      totals: sum,
    };
    io.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    io.stdout.write(table(all, sum, skipped.length));
  }
  io.stderr.write(failures(all));
  return sum.failed > 0 ? EXIT_FAILED : EXIT_OK;
}

/**
 * Plans the output names and refuses, before anything is read, a run that would overwrite
 * an input (--out pointing at the inputs' own folder, a.png -> a.webp next to an a.webp) or
 * write two inputs to one output. Inputs of one folder whose names differ only by extension
 * (logo.gif, logo.png -> PNG) keep their old extension in the name when it changes:
 * logo.gif.png, logo.png. Formats only the content tells are checked again when written.
 */
function planOutputs(files: InputFile[], settings: Settings, outDir: string | undefined): void {
  const inputs = new Set(files.map((f) => canonical(f.path)));
  const targets = (file: InputFile): string[] => {
    const format = predictFormat(file, settings.options.format);
    return format ? (settings.widths ?? [undefined]).map((w) => canonical(outputPath(file, format, outDir, w))) : [];
  };
  const byTarget = new Map<string, InputFile[]>();
  for (const file of files) for (const t of targets(file)) byTarget.set(t, [...(byTarget.get(t) ?? []), file]);
  for (const group of byTarget.values()) {
    if (group.length < 2) continue;
    for (const file of group) {
      const format = predictFormat(file, settings.options.format)!;
      if (outputPath(file, format, undefined) !== file.path) file.keepOldExt = true; // its extension changes
    }
  }

  const overwrites: string[] = [];
  const clashes: string[] = [];
  const claimed = new Map<string, string>();
  for (const file of files) {
    for (const out of targets(file)) {
      if (inputs.has(out) && !(settings.inPlace && out === canonical(file.path))) {
        overwrites.push(`${rel(file.path)} would be written over the input ${rel(out)}`);
      } else if (claimed.has(out)) {
        clashes.push(`${claimed.get(out)} and ${rel(file.path)} would both be written to ${rel(out)}`);
      } else {
        claimed.set(out, rel(file.path));
      }
    }
  }
  const problems = [...overwrites, ...clashes];
  if (problems.length === 0) return;
  const more = problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : '';
  const hints = [
    overwrites.length && !settings.inPlace ? 'choose an --out folder apart from the inputs (inputs are only rewritten with --in-place)' : '',
    clashes.length ? 'files named alike in different folders: pass their common folder (its layout is kept) or run them separately' : '',
  ].filter(Boolean);
  throw new UsageError(`refusing to overwrite:\n  ${problems.slice(0, 10).join('\n  ')}${more}${hints.map((h) => `\n${h}`).join('')}`);
}

/** Runs the options once on a 1x1 image, so a value the core refuses stops the run at once. */
async function preflight(settings: Settings, pool: Pool): Promise<void> {
  try {
    await optimize(PROBE_PNG, { ...settings.options, pool, priority: 'user' });
  } catch (err) {
    if (err instanceof MediaslimError && err.code === 'INVALID_OPTION') {
      throw new UsageError(err.message.replace(/`([a-zA-Z]+)`/, (_, name: string) => `\`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}\``));
    }
    // Anything else (a broken install) shows up on the files themselves.
  }
}

interface Shared {
  outDir: string | undefined;
  /** Output path -> the input writing it. */
  claimed: Map<string, string>;
  inputs: Set<string>;
}

function failed(input: string, inputBytes: number | null, code: string, message: string, requestedWidth?: number): Entry {
  return {
    input,
    output: null,
    ...(requestedWidth !== undefined ? { requestedWidth } : {}),
    inputBytes,
    outputBytes: null,
    format: null,
    width: null,
    height: null,
    keptOriginal: false,
    written: false,
    warnings: [],
    timeMs: null,
    error: { code, message },
  };
}

async function processFile(file: InputFile, settings: Settings, pool: Pool, shared: Shared): Promise<Entry[]> {
  const name = rel(file.path);
  let bytes: Uint8Array;
  let mode: number;
  try {
    bytes = await readFile(file.path);
    mode = (await stat(file.path)).mode & 0o7777;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return [failed(name, null, e.code === 'ENOENT' ? 'NOT_FOUND' : 'READ_FAILED', `cannot read ${name}: ${e.message}`)];
  }

  // One result (or error) per width; a single one without --widths.
  let results: { width?: number; value?: OptimizeResult; error?: unknown }[];
  if (settings.widths) {
    // Variants asked for together share one decode.
    const asset = open(bytes, { pool, cache: new ResultCache(0) });
    const settled = await Promise.allSettled(settings.widths.map((width) => asset.variant({ ...settings.options, width })));
    results = settled.map((s, i) => ({ width: settings.widths![i], ...(s.status === 'fulfilled' ? { value: s.value } : { error: s.reason }) }));
    // A file that cannot be decoded fails once, not once per width.
    const errs = results.map((r) => r.error);
    if (errs.every((e) => e instanceof MediaslimError) && new Set(errs.map((e) => (e as MediaslimError).message)).size === 1) {
      results = [{ error: errs[0] }];
    }
  } else {
    try {
      results = [{ value: await optimize(bytes, { ...settings.options, pool }) }];
    } catch (error) {
      results = [{ error }];
    }
  }

  const entries: Entry[] = [];
  for (const r of results) {
    if (!r.value) {
      const e = r.error;
      const code = e instanceof MediaslimError ? e.code : 'FAILED';
      entries.push(failed(name, bytes.length, code, e instanceof Error ? e.message : String(e), r.width));
      continue;
    }
    entries.push(await save(file, name, bytes.length, mode, r.value, r.width, settings, shared));
  }
  return entries;
}

async function save(file: InputFile, name: string, inputBytes: number, mode: number, out: OptimizeResult, width: number | undefined, settings: Settings, shared: Shared): Promise<Entry> {
  const target = outputPath(file, out.format, shared.outDir, width);
  const key = canonical(target);
  const self = canonical(file.path);
  if (shared.inputs.has(key) && !(settings.inPlace && key === self)) {
    return failed(name, inputBytes, 'OUTPUT_CONFLICT', `not written: ${rel(target)} is an input file (its content is ${out.format})`, width);
  }
  // Checked at write time, on real paths: a symlink met on the way (a symlinked subfolder of
  // the inputs with --in-place, or of --out) must not carry the write out of its folder.
  const escape = escapesFrom(file, target, shared.outDir);
  if (escape) return failed(name, inputBytes, 'OUTPUT_CONFLICT', `not written: ${escape}`, width);
  const owner = shared.claimed.get(key);
  if (owner !== undefined && owner !== name) {
    return failed(name, inputBytes, 'OUTPUT_CONFLICT', `not written: ${rel(target)} is also the output of ${owner}`, width);
  }
  shared.claimed.set(key, name);

  // --in-place and nothing smaller: the file stays as it is, untouched.
  const unchanged = settings.inPlace && key === self && out.keptOriginal;
  if (!unchanged) {
    try {
      await writeAtomic(target, out.bytes);
      if (settings.inPlace) await chmod(target, mode);
    } catch (err) {
      return failed(name, inputBytes, 'WRITE_FAILED', `cannot write ${rel(target)}: ${(err as Error).message}`, width);
    }
  }
  const t = out.timings;
  return {
    input: name,
    output: rel(target),
    ...(width !== undefined ? { requestedWidth: width } : {}),
    inputBytes,
    outputBytes: out.bytes.length,
    format: out.format,
    width: out.width,
    height: out.height,
    keptOriginal: out.keptOriginal,
    written: !unchanged,
    warnings: out.warnings,
    ...(out.score !== undefined && out.score !== null ? { score: out.score } : {}),
    timeMs: Math.round((t.decode + t.resize + t.encode) * 10) / 10,
    error: null,
  };
}
