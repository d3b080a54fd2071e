// Loads the wasm modules once per realm, from a file in Node and by URL elsewhere (the
// `new URL(..., import.meta.url)` pattern that every bundler understands). Three builds of
// the same Rust core, each holding all that the one before it holds:
//   core  JPEG, PNG and WebP decoding, resize, JPEG and WebP output, probe, placeholder:
//         loaded first;
//   plus  also PNG output, scoring (`quality: "auto"`, `format: "auto"`, `score`, `compare`),
//         GIF and BMP pixels, and the AVIF container around a browser's AV1 frames;
//   full  also the AVIF encoder (libaom) and video.
// The bigger two are fetched only when a job first needs them. A job a module cannot do fails
// there with the code NOT_BUILT, naming the cargo feature, and runs again in the module that has it.
import * as coreGlue from './wasm/mediaslim_core.js';
import type * as fullGlue from './wasm/mediaslim_full.js';
import { MediaslimError, fromCoreError } from './errors.js';

/** The full module's API; the smaller modules have a subset (calls outside it fail NOT_BUILT or are routed to a bigger module). */
export type Core = typeof fullGlue;
export type Flavor = 'core' | 'plus' | 'full';
/** Smallest first: each holds everything the ones before it hold. */
const FLAVORS: readonly Flavor[] = ['core', 'plus', 'full'];
const rank = (f: Flavor) => FLAVORS.indexOf(f);
/** The bigger of two modules: the one that can do what both can. */
export const larger = (a: Flavor, b: Flavor): Flavor => (rank(a) >= rank(b) ? a : b);

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

const loading: Partial<Record<Flavor, Promise<Core>>> = {};
const memories: Partial<Record<Flavor, WebAssembly.Memory>> = {};
let generation = 0;

/** Bytes of wasm linear memory this realm's instances hold. */
export function memoryBytes(): number {
  return FLAVORS.reduce((sum, f) => sum + (memories[f]?.buffer.byteLength ?? 0), 0);
}

/**
 * The module to run a job that needs `needed` in: the biggest one already loaded here if it
 * can do the job (so one instance, not two, holds memory), else `needed`.
 */
export function flavorToRun(needed: Flavor): Flavor {
  const loaded = [...FLAVORS].reverse().find((f) => loading[f] !== undefined);
  return loaded ? larger(loaded, needed) : needed;
}

async function glue(flavor: Flavor): Promise<Core> {
  if (generation > 0) {
    // After a trap: a fresh copy of the glue (its instance state is module-private).
    // Built by concatenation so bundlers leave it alone (they rewrite literal patterns); webpack
    // folds and resolves even such expressions, so it is told to ignore them.
    const url = new URL(/* webpackIgnore: true */ './wasm/' + `mediaslim_${flavor}.js?instance=` + generation, import.meta.url).href;
    return import(/* @vite-ignore */ /* webpackIgnore: true */ url) as Promise<Core>;
  }
  // Literal specifiers, one per module, so that bundlers split each into its own chunk.
  if (flavor === 'core') return coreGlue as unknown as Core;
  return (flavor === 'plus' ? await import('./wasm/mediaslim_plus.js') : await import('./wasm/mediaslim_full.js')) as unknown as Core;
}

async function instantiate(flavor: Flavor): Promise<Core> {
  const mod = await glue(flavor);
  let exports: { memory?: WebAssembly.Memory };
  if (isNode) {
    // A computed specifier: bundlers building for browsers must not try to resolve it.
    const fsModule = 'node:fs/promises';
    const { readFile } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsModule)) as typeof import('node:fs/promises');
    const bytes = await readFile(new URL(/* webpackIgnore: true */ `./wasm/mediaslim_${flavor}_bg.wasm`, import.meta.url));
    exports = mod.initSync({ module: bytes }) as typeof exports;
  } else {
    exports = (await mod.default()) as typeof exports;
  }
  memories[flavor] = exports.memory;
  return mod;
}

/** The ready module, loading it on first use. */
export function loadCore(flavor: Flavor = 'core'): Promise<Core> {
  let p = loading[flavor];
  if (!p) {
    p = instantiate(flavor).catch((err) => {
      delete loading[flavor];
      throw new MediaslimError('WORKER_CRASHED', `could not load the mediaslim wasm module (${flavor}): ${String(err)}`, { cause: err });
    });
    loading[flavor] = p;
  }
  return p;
}

/**
 * A trapped wasm instance (out of memory, a bug) may hold broken state: drop the loaded
 * modules so the next call loads fresh copies. This works in Node and unbundled pages;
 * inside a bundle the glue has no URL of its own, so the next call fails with
 * WORKER_CRASHED too. (The worker pool replaces whole workers instead.)
 */
function discard(): void {
  generation += 1;
  for (const f of FLAVORS) delete loading[f];
}

/** True for a module's answer "this build leaves that out" (a bigger module has it). */
export function notBuilt(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'NOT_BUILT';
}

/** The cargo features of the plus module (scripts/build.sh); the full module has all. */
const PLUS_FEATURES = new Set(['png-encode', 'score', 'gif-bmp', 'avif-container']);

/**
 * The module that has what a NOT_BUILT error names in its `feature` (the cargo feature):
 * `plus` holds PNG output, scoring, GIF and BMP pixels and the AVIF container; `full`
 * everything else.
 */
export function flavorWith(err: unknown): Flavor {
  const feature = (err as { feature?: unknown }).feature;
  return typeof feature === 'string' && PLUS_FEATURES.has(feature) ? 'plus' : 'full';
}

/**
 * Runs `fn` against a module, mapping core errors and traps to MediaslimError. What a
 * module leaves out (NOT_BUILT) runs again in the one that has it, loading it.
 */
export async function withCore<T>(fn: (core: Core) => T, flavor: Flavor = 'core'): Promise<T> {
  const core = await loadCore(flavor);
  try {
    return fn(core);
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) {
      discard();
      throw new MediaslimError('WORKER_CRASHED', `the wasm instance trapped (${err.message}); it was replaced`, { cause: err });
    }
    if (flavor !== 'full' && notBuilt(err)) {
      // Always a bigger module than this one, so the retries end.
      const next = larger(flavorWith(err), FLAVORS[rank(flavor) + 1] as Flavor);
      return withCore(fn, flavorToRun(next));
    }
    throw fromCoreError(err);
  }
}
