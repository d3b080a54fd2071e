// `mediaslim` command line: flags -> Settings. Bad values are usage errors (exit 2) whose
// message names the flag and the values it accepts.
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { AcceptFormat, Fit, OptimizeOptions, TargetFormat } from '../wasm/mediaslim_core.js';

/** Exit codes: every file ok, some file failed (the rest written), the command was wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export class UsageError extends Error {}

export interface Settings {
  inputs: string[];
  /** The output folder; undefined with `inPlace`. */
  out?: string;
  inPlace: boolean;
  /** Several widths: one output per width, named `<name>-<width>.<ext>`, from one decode. */
  widths?: number[];
  /** What goes to the core for every file (width for a single width). */
  options: OptimizeOptions;
  concurrency: number;
  json: boolean;
}

const FORMATS: TargetFormat[] = ['original', 'auto', 'jpeg', 'png', 'webp', 'avif'];
const ACCEPT: AcceptFormat[] = ['avif', 'webp', 'jpeg', 'png'];
const FITS: Fit[] = ['inside', 'cover', 'contain', 'fill'];

export function version(): string {
  try {
    // pkg/cli/args.js -> the package root
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function wholeNumber(flag: string, min: number, max: number, unit: string, extra = '') {
  return (value: string): number => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} must be a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}${extra}.`);
    }
    return n;
  };
}

const pixels = (flag: string) => wholeNumber(flag, 1, 65535, 'pixels');

function quality(value: string): number | 'auto' {
  if (value.trim().toLowerCase() === 'auto') return 'auto';
  return wholeNumber('--quality', 1, 100, '', ', or auto')(value);
}

function target(value: string): 'medium' | 'high' | 'max' | number {
  const v = value.trim().toLowerCase();
  if (v === 'medium' || v === 'high' || v === 'max') return v;
  const n = Number(v);
  if (v === '' || !Number.isFinite(n) || n < 30 || n > 100) {
    throw new InvalidArgumentError('--target must be medium (70), high (80), max (90) or a SSIMULACRA2 score from 30 to 100.');
  }
  return n;
}

function acceptList(value: string): AcceptFormat[] {
  const parts = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = parts.find((p) => !(ACCEPT as string[]).includes(p));
  if (parts.length === 0 || bad !== undefined) {
    throw new InvalidArgumentError(`--accept must list formats among ${ACCEPT.join(', ')}, comma-separated${bad ? ` (got "${bad}")` : ''}.`);
  }
  return parts as AcceptFormat[];
}

function widthList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new InvalidArgumentError('--widths must list whole numbers of pixels from 1 to 65535, e.g. 480,960,1600.');
  const parse = pixels('--widths');
  return [...new Set(parts.map((p) => parse(p)))].sort((a, b) => a - b);
}

const EXAMPLES = `
Examples:
  $ mediaslim photos --out dist                       # every image under photos/, same formats, smaller
  $ mediaslim photos --out dist --width 1600 --format webp
  $ mediaslim 'src/**/*.{jpg,png}' --out public/img --format avif --quality 55
  $ mediaslim hero.jpg --out dist --widths 480,960,1600 --format webp   # dist/hero-480.webp ...
  $ mediaslim public --in-place                        # rewrite the files themselves (never bigger)
  $ mediaslim photos --out dist --json > report.json   # machine-readable report on stdout

Folders are searched recursively for .jpg .jpeg .png .gif .webp .bmp files; outputs keep the
layout under --out and take the extension of their format. Inputs are never overwritten
without --in-place. Exit code: 0 all ok, 1 some file failed (the others are written),
2 a usage error.`;

function program(): Command {
  return new Command('mediaslim')
    .description('Make images smaller: resize and re-encode JPEG, PNG, GIF, WebP and BMP files to JPEG, PNG, WebP or AVIF.')
    .version(version(), '-v, --version')
    .argument('<inputs...>', 'image files, folders (searched recursively) or quoted globs')
    .option('-o, --out <dir>', 'folder for the outputs (made if missing); the input layout is kept under it')
    .option('--in-place', 'rewrite the input files themselves (a new format goes next to the original)')
    .option('-w, --width <px>', 'target width; alone, the height follows the aspect ratio', pixels('--width'))
    .option('--height <px>', 'target height; alone, the width follows the aspect ratio', pixels('--height'))
    .option('--widths <list>', 'several widths, comma-separated: one output per width, <name>-<width>.<ext>', widthList)
    .addOption(new Option('--fit <mode>', 'how the image fits --width x --height').choices(FITS))
    .addOption(new Option('-f, --format <format>', 'output format (GIF and BMP become PNG with "original")').choices(FORMATS).default('original'))
    .option('-q, --quality <1-100|auto>', 'quality for JPEG, WebP and AVIF; "auto" aims at a perceptual score', quality)
    .option('--target <medium|high|max|score>', 'the SSIMULACRA2 score "auto" aims for (default high = 80)', target)
    .option('--max-bytes <n>', 'byte budget per output: lower quality, then smaller dimensions, until it fits', wholeNumber('--max-bytes', 1, Number.MAX_SAFE_INTEGER, 'bytes'))
    .option('--accept <list>', 'formats --format auto may pick, e.g. webp,jpeg (default avif,webp,jpeg,png)', acceptList)
    .option('--effort <0-10>', '0 fastest ... 10 smallest (default 4)', wholeNumber('--effort', 0, 10, ''))
    .option('--keep-metadata', 'keep EXIF (orientation reset) and the ICC profile')
    .option('-j, --concurrency <n>', 'files encoded at once (default: one per core)', wholeNumber('--concurrency', 1, 256, 'workers'))
    .option('--json', 'print a machine-readable report on stdout instead of the table')
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError('(run mediaslim --help for usage and examples)');
}

interface Flags {
  out?: string;
  inPlace?: boolean;
  width?: number;
  height?: number;
  widths?: number[];
  fit?: Fit;
  format: TargetFormat;
  quality?: number | 'auto';
  target?: 'medium' | 'high' | 'max' | number;
  maxBytes?: number;
  accept?: AcceptFormat[];
  effort?: number;
  keepMetadata?: boolean;
  concurrency?: number;
  json?: boolean;
}

export type Parsed = { settings: Settings } | { exit: number };

/**
 * Parses argv (without node and the script). Help and version print and return `{ exit: 0 }`;
 * commander's own errors (unknown flag, bad choice, missing argument) are printed by it and
 * return `{ exit: 2 }`; our cross-flag checks throw UsageError.
 */
export function parse(argv: string[], write: { out: (s: string) => void; err: (s: string) => void }): Parsed {
  const cmd = program()
    .exitOverride()
    .configureOutput({ writeOut: write.out, writeErr: write.err });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      return { exit: ok ? EXIT_OK : EXIT_USAGE };
    }
    throw err;
  }
  const flags = cmd.opts<Flags>();
  const inputs = cmd.args;

  if (!flags.out && !flags.inPlace) {
    throw new UsageError('say where the outputs go: --out <dir> (the inputs are left untouched), or --in-place to rewrite the input files');
  }
  if (flags.out && flags.inPlace) throw new UsageError('use either --out <dir> or --in-place, not both');
  if (flags.out !== undefined && flags.out.trim() === '') throw new UsageError('--out needs a folder name');
  if (flags.widths && (flags.width !== undefined || flags.height !== undefined)) {
    throw new UsageError('--widths cannot be combined with --width or --height');
  }
  if (flags.widths && flags.inPlace) throw new UsageError('--widths writes several files per input: use it with --out, not --in-place');

  const options: OptimizeOptions = {};
  if (flags.width !== undefined) options.width = flags.width;
  if (flags.height !== undefined) options.height = flags.height;
  if (flags.fit) options.fit = flags.fit;
  if (flags.format !== 'original') options.format = flags.format;
  // `auto` is passed through as is: the core decides (and names the option if it refuses).
  if (flags.quality !== undefined) options.quality = flags.quality;
  if (flags.target !== undefined) options.target = flags.target;
  if (flags.maxBytes !== undefined) options.maxBytes = flags.maxBytes;
  if (flags.accept !== undefined) options.accept = flags.accept;
  if (flags.effort !== undefined) options.effort = flags.effort;
  if (flags.keepMetadata) options.keepMetadata = true;

  return {
    settings: {
      inputs,
      out: flags.out,
      inPlace: !!flags.inPlace,
      widths: flags.widths,
      options,
      concurrency: flags.concurrency ?? Math.max(1, availableParallelism()),
      json: !!flags.json,
    },
  };
}
