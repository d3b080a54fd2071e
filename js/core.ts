// Loads the wasm modules once per realm, from a file in Node and by URL elsewhere (the
// `new URL(..., import.meta.url)` pattern that every bundler understands). Two builds of
// the same Rust core: `core` (decode, resize, JPEG and WebP output, probe, placeholder:
// loaded first) and `full` (everything: also PNG output, scoring and `quality: "auto"`,
// video, the AVIF encoder), fetched only when a job first needs it. A job the core cannot
// do fails there with the code NOT_BUILT and runs again in the full module.
import * as coreGlue from './wasm/mediaslim_core.js';
import type * as fullGlue from './wasm/mediaslim_full.js';
import { MediaslimError, fromCoreError } from './errors.js';

/** The full module's API; the core module has a subset (calls outside it fail NOT_BUILT or are routed to full). */
export type Core = typeof fullGlue;
export type Flavor = 'core' | 'full';

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

const loading: Partial<Record<Flavor, Promise<Core>>> = {};
const memories: Partial<Record<Flavor, WebAssembly.Memory>> = {};
let generation = 0;

/** Bytes of wasm linear memory this realm's instances hold. */
export function memoryBytes(): number {
  return (memories.core?.buffer.byteLength ?? 0) + (memories.full?.buffer.byteLength ?? 0);
}

/** Whether the AVIF-capable module is already loaded here. */
export function hasFull(): boolean {
  return loading.full !== undefined;
}

async function glue(flavor: Flavor): Promise<Core> {
  if (generation > 0) {
    // After a trap: a fresh copy of the glue (its instance state is module-private).
    // Built by concatenation so bundlers leave it alone (they rewrite literal patterns); webpack
    // folds and resolves even such expressions, so it is told to ignore them.
    const url = new URL(/* webpackIgnore: true */ './wasm/' + `mediaslim_${flavor}.js?instance=` + generation, import.meta.url).href;
    return import(/* @vite-ignore */ /* webpackIgnore: true */ url) as Promise<Core>;
  }
  return flavor === 'core' ? (coreGlue as unknown as Core) : ((await import('./wasm/mediaslim_full.js')) as unknown as Core);
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
  delete loading.core;
  delete loading.full;
}

/** True for the core's answer "this build leaves that out" (the full module has it). */
export function notBuilt(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'NOT_BUILT';
}

/**
 * Runs `fn` against a module, mapping core errors and traps to MediaslimError. What the
 * core module leaves out (NOT_BUILT) runs again in the full module, loading it.
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
    if (flavor === 'core' && notBuilt(err)) return withCore(fn, 'full');
    throw fromCoreError(err);
  }
}
