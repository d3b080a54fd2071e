// Which files to read and where their outputs go: folders are searched recursively for image
// extensions (the core then sniffs the content), quoted globs are expanded with tinyglobby,
// outputs keep the layout under --out and are written atomically (temp file + rename).
import { realpathSync, statSync, unlinkSync } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { glob, isDynamicPattern } from 'tinyglobby';

/** Extensions looked for in folders and globs, and the format each one names. */
const EXT_FORMAT: Record<string, string> = {
  '.jpg': 'jpeg', '.jpeg': 'jpeg', '.jpe': 'jpeg', '.jfif': 'jpeg',
  '.png': 'png', '.apng': 'png',
  '.gif': 'gif',
  '.webp': 'webp',
  '.bmp': 'bmp', '.dib': 'bmp',
};
const FORMAT_EXT: Record<string, string> = { jpeg: '.jpg', png: '.png', webp: '.webp', avif: '.avif' };

export interface InputFile {
  /** Absolute path. */
  path: string;
  /** Where it lands under --out: relative to the folder or glob base it was found under. */
  rel: string;
  /**
   * The folder it was found under (absolute): with --in-place, outputs must stay inside it,
   * so a symlinked subfolder leading elsewhere is never written through.
   */
  base: string;
  /**
   * Keep the old extension in the output's name (`logo.gif` -> `logo.gif.png`): set when
   * another input in the same folder would otherwise get the same output name.
   */
  keepOldExt?: boolean;
}

/** A command-line argument that named nothing to do. */
export interface Problem {
  input: string;
  code: 'NOT_FOUND' | 'NO_IMAGES';
  message: string;
}

export interface Expanded {
  files: InputFile[];
  problems: Problem[];
  /** Files in folders / glob matches passed over for not having an image extension. */
  skipped: string[];
}

export function isImageName(name: string): boolean {
  return path.extname(name).toLowerCase() in EXT_FORMAT;
}

/** The real path, following symlinks as far as the path exists. */
export function canonical(p: string): string {
  const abs = path.resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(canonical(parent), path.basename(abs));
  }
}

/** True when `rel` (a path.relative result) climbs out of its base or is on another root. */
function climbs(rel: string): boolean {
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !climbs(rel);
}

/** `child` is `parent` or lies inside it. */
export function isWithin(child: string, parent: string): boolean {
  return child === parent || isInside(child, parent);
}

/** The deepest folder holding every path in `paths` (absolute). */
function commonFolder(paths: string[]): string {
  let common = paths[0];
  for (const p of paths) {
    while (!isWithin(p, common)) {
      const up = path.dirname(common);
      if (up === common) return common; // another drive (Windows): nothing holds both
      common = up;
    }
  }
  return common;
}

/** Turns arguments into files. `outDir` (canonical) is never searched: no re-optimizing outputs. */
export async function expand(args: string[], outDir: string | undefined): Promise<Expanded> {
  const files: InputFile[] = [];
  const problems: Problem[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  const add = (abs: string, rel: string, base: string) => {
    const key = canonical(abs);
    if (seen.has(key)) return;
    seen.add(key);
    files.push({ path: path.resolve(abs), rel, base });
  };
  const searched = (found: string[], globBase: string, arg: string, what: string) => {
    let images = 0;
    // A glob can climb past its static base (`*/../../x/*.png`): the layout is then kept from
    // the folder that holds every match, so no relative path starts with `..` and no output
    // lands outside --out.
    const base = found.length ? commonFolder([globBase, ...found.map((f) => path.dirname(path.resolve(f)))]) : globBase;
    // An --out folder inside the searched one holds earlier outputs: not inputs. (An --out
    // that IS the searched folder is not skipped: writing over its files is refused later.)
    const skipOut = outDir !== undefined && isInside(outDir, canonical(base));
    for (const abs of found.sort()) {
      if (skipOut && isInside(canonical(abs), outDir)) continue;
      if (!isImageName(abs)) {
        skipped.push(path.relative(process.cwd(), abs) || abs);
        continue;
      }
      images++;
      add(abs, path.relative(base, abs), base);
    }
    if (images === 0) problems.push({ input: arg, code: 'NO_IMAGES', message: `no image files (${Object.keys(EXT_FORMAT).join(' ')}) ${what}` });
  };

  for (const arg of args) {
    let stat;
    try {
      stat = statSync(arg);
    } catch {
      stat = undefined;
    }
    if (stat?.isDirectory()) {
      const found = await glob('**/*', { cwd: arg, absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: true });
      searched(found, path.resolve(arg), arg, `in the folder ${arg}`);
    } else if (stat) {
      // Named explicitly: always tried (a non-image is reported by the core, by its content).
      add(arg, path.basename(arg), path.dirname(path.resolve(arg)));
    } else if (isDynamicPattern(arg)) {
      const found = await glob(arg, { absolute: true, onlyFiles: true, dot: false, expandDirectories: false });
      const base = path.resolve(picomatch.scan(arg).base || '.');
      searched(found, base, arg, `matched the glob ${arg}`);
    } else {
      problems.push({ input: arg, code: 'NOT_FOUND', message: `no such file or folder: ${arg}` });
    }
  }
  return { files, problems, skipped };
}

/** The output format an input will most likely get, from its extension; undefined if unknown. */
export function predictFormat(file: InputFile, format: string | undefined): string | undefined {
  if (format && format !== 'original') return format;
  const named = EXT_FORMAT[path.extname(file.path).toLowerCase()];
  return named === 'gif' || named === 'bmp' ? 'png' : named;
}

/**
 * Where the output of `file` in `format` goes: under `outDir` at the file's relative path, or
 * next to the input with --in-place. The input's extension stays when it already names the
 * format (`.jpeg`, `.JPG`); otherwise the format's own extension replaces it.
 */
export function outputPath(file: InputFile, format: string, outDir: string | undefined, width?: number): string {
  const ext = path.extname(file.rel);
  const keepExt = EXT_FORMAT[ext.toLowerCase()] === format;
  const stem = ext && (keepExt || !file.keepOldExt) ? file.rel.slice(0, -ext.length) : file.rel;
  const name = `${stem}${width !== undefined ? `-${width}` : ''}${keepExt ? ext : (FORMAT_EXT[format] ?? `.${format}`)}`;
  return outDir ? path.join(outDir, name) : path.join(path.dirname(file.path), path.basename(name));
}

/**
 * Why writing `target` would leave the folder it belongs in (--out, or with --in-place the
 * folder the input was found under), or undefined when it stays inside. Symlinks are
 * followed: the temp file and the rename happen in the target's real folder, so a symlinked
 * subfolder leading elsewhere counts as outside.
 */
export function escapesFrom(file: InputFile, target: string, outDir: string | undefined): string | undefined {
  const allowed = outDir ?? canonical(file.base);
  const folder = canonical(path.dirname(target));
  if (isWithin(folder, allowed)) return undefined;
  return `${target} would be written to ${folder}, outside ${outDir ? 'the --out folder' : 'the folder it was found in'} ${allowed}`;
}

/** Temp files being written, removed if the process is interrupted. */
export const liveTempFiles = new Set<string>();
let tempCounter = 0;

export function removeLiveTempFiles(): void {
  for (const t of liveTempFiles) {
    try {
      unlinkSync(t);
    } catch {
      /* already gone */
    }
  }
  liveTempFiles.clear();
}

/** Writes next to `target` then renames over it: readers never see a half-written file. */
export async function writeAtomic(target: string, bytes: Uint8Array, mode?: number): Promise<void> {
  const dir = path.dirname(target);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.mediaslim-${process.pid}-${++tempCounter}.tmp`);
  liveTempFiles.add(tmp);
  try {
    await writeFile(tmp, bytes, mode === undefined ? {} : { mode });
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  } finally {
    liveTempFiles.delete(tmp);
  }
}

