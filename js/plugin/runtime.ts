// The library's browser runtime for bundlers that do not follow
// `new Worker(new URL('./worker.js', import.meta.url))` or `new URL('x.wasm', import.meta.url)`
// (Rollup, esbuild). When a bundle holds mediaslim's pool or core, the plugin emits the worker,
// the modules it imports and the wasm next to that bundle file, where those URLs point.
// Vite and webpack 5 emit them by themselves.
import { realpathSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the worker imports and loads, relative to the package folder (`pkg/`). */
export const RUNTIME_ENTRIES = ['worker.js', 'core.js', 'errors.js', 'input.js', 'webcodecs', 'wasm'] as const;

/** The package folder this plugin was installed with (`pkg/`), symlinks resolved. */
const PACKAGE_DIR = realpathSync(fileURLToPath(new URL('../', import.meta.url)));

/** Modules whose code resolves the runtime's URLs: a bundle holding one needs the files. */
const URL_USERS = new Set(['pool.js', 'core.js']);

export interface RuntimeFile {
  /** POSIX path relative to the folder of the bundle file that needs it. */
  name: string;
  bytes: Uint8Array;
}

/** True when `moduleId` (a bundler's module id or path) is mediaslim's pool or core module. */
export function needsRuntime(moduleId: string): boolean {
  const path = moduleId.split('?')[0];
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return false; // virtual modules (`\0...`) and ids that are not files
  }
  const rel = relative(PACKAGE_DIR, real);
  return URL_USERS.has(rel);
}

let files: Promise<RuntimeFile[]> | undefined;

/** The runtime's files (read once per process): scripts and wasm, no `.d.ts`. */
export function runtimeFiles(): Promise<RuntimeFile[]> {
  files ??= (async () => {
    const out: RuntimeFile[] = [];
    const add = async (rel: string): Promise<void> => {
      const abs = join(PACKAGE_DIR, rel);
      const entries = await readdir(abs, { withFileTypes: true }).catch(() => undefined);
      if (!entries) {
        out.push({ name: rel.split(sep).join(posix.sep), bytes: new Uint8Array(await readFile(abs)) });
        return;
      }
      for (const e of entries) {
        if (e.isDirectory() || (e.isFile() && !e.name.endsWith('.d.ts'))) await add(join(rel, e.name));
      }
    };
    for (const entry of RUNTIME_ENTRIES) await add(entry);
    return out;
  })();
  return files;
}
