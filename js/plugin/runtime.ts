// The library's browser runtime for bundlers that do not follow
// `new Worker(new URL('./worker.js', import.meta.url))` or `new URL('x.wasm', import.meta.url)`
// (Rollup, esbuild). When a bundle holds mediaslim's pool or core, the plugin emits the worker,
// the modules it imports and the wasm next to that bundle file, where those URLs point; when it
// holds only `probe` (which runs in the page), the probe wasm alone. Vite and webpack 5 emit
// them by themselves.
import { realpathSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the worker starts, and the folder of wasm files it loads by URL (relative to `pkg/`). */
const WORKER = 'worker.js';
const WASM_DIR = 'wasm';

/** The package folder this plugin was installed with (`pkg/`), symlinks resolved. */
const PACKAGE_DIR = realpathSync(fileURLToPath(new URL('../', import.meta.url)));

/** Modules whose code resolves the runtime's URLs: a bundle holding one needs the files. */
const URL_USERS = new Set(['pool.js', 'core.js']);
/** The module that loads the probe wasm in the page, and that wasm (relative to `pkg/`). */
const PROBE_USER = 'probe.js';
const PROBE_WASM = `${WASM_DIR}/mediaslim_probe_bg.wasm`;

/** What a bundle needs next to it: the whole worker runtime, or only the probe wasm. */
export type RuntimeNeed = 'worker' | 'probe';

export interface RuntimeFile {
  /** POSIX path relative to the folder of the bundle file that needs it. */
  name: string;
  bytes: Uint8Array;
}

/** What `moduleId` (a bundler's module id or path) needs beside its bundle, if it is one of ours that loads by URL. */
export function runtimeNeed(moduleId: string): RuntimeNeed | undefined {
  const path = moduleId.split('?')[0];
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return undefined; // virtual modules (`\0...`) and ids that are not files
  }
  const rel = relative(PACKAGE_DIR, real);
  if (URL_USERS.has(rel)) return 'worker';
  return rel === PROBE_USER ? 'probe' : undefined;
}

/** The strongest need among a bundle's modules ('worker' includes the probe wasm). */
export function bundleNeed(moduleIds: Iterable<string>): RuntimeNeed | undefined {
  let need: RuntimeNeed | undefined;
  for (const id of moduleIds) {
    const n = runtimeNeed(id);
    if (n === 'worker') return n;
    need ??= n;
  }
  return need;
}

let files: Promise<RuntimeFile[]> | undefined;

/**
 * The runtime's files (read once per process): for 'worker', the worker, every module it
 * imports, and the wasm; for 'probe', the probe wasm.
 */
export async function runtimeFiles(need: RuntimeNeed): Promise<RuntimeFile[]> {
  const all = await everyRuntimeFile();
  return need === 'worker' ? all : all.filter((f) => f.name === PROBE_WASM);
}

function everyRuntimeFile(): Promise<RuntimeFile[]> {
  files ??= (async () => {
    const names = [...(await importClosure(WORKER))];
    for (const e of await readdir(join(PACKAGE_DIR, WASM_DIR), { withFileTypes: true })) {
      if (e.isFile() && !e.name.endsWith('.d.ts')) names.push(`${WASM_DIR}/${e.name}`);
    }
    return Promise.all(
      [...new Set(names)].map(async (name) => ({ name, bytes: new Uint8Array(await readFile(join(PACKAGE_DIR, ...name.split('/')))) })),
    );
  })();
  return files;
}

/** Relative specifiers in `import ... from './x.js'`, `export ... from` and `import('./x.js')`. */
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/**
 * `entry` and every package module it reaches through relative imports (POSIX paths relative
 * to `pkg/`): computed, so a module the worker starts to import is never left behind.
 */
async function importClosure(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const visit = async (name: string): Promise<void> => {
    if (seen.has(name)) return;
    const source = await readFile(join(PACKAGE_DIR, ...name.split('/')), 'utf8').catch(() => undefined);
    if (source === undefined) return; // a specifier in a comment or string, not a module
    seen.add(name);
    for (const [, spec] of source.matchAll(RELATIVE_IMPORT)) {
      const target = posix.normalize(posix.join(posix.dirname(name), spec));
      if (target.startsWith('../') || !target.endsWith('.js')) continue;
      await visit(target);
    }
  };
  await visit(entry);
  return seen;
}
