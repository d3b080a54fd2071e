// Loads the wasm core once per realm, from a file in Node and by URL elsewhere (the
// `new URL(..., import.meta.url)` pattern that every bundler understands).
import * as glue from './wasm/mediaslim_core.js';
import { MediaslimError, fromCoreError } from './errors.js';

export type Core = typeof glue;

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

let current: Promise<Core> | undefined;
let generation = 0;
let exports: { memory?: WebAssembly.Memory } | undefined;

/** Bytes of wasm linear memory this realm's instance holds (0 before it loads). */
export function memoryBytes(): number {
  return exports?.memory?.buffer.byteLength ?? 0;
}

async function instantiate(mod: Core): Promise<Core> {
  if (isNode) {
    // A computed specifier: bundlers building for browsers must not try to resolve it.
    const fsModule = 'node:fs/promises';
    const { readFile } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsModule)) as typeof import('node:fs/promises');
    const bytes = await readFile(new URL('./wasm/mediaslim_core_bg.wasm', import.meta.url));
    exports = mod.initSync({ module: bytes }) as typeof exports;
  } else {
    exports = (await mod.default()) as typeof exports;
  }
  return mod;
}

/** The ready core, loading it on first use. */
export function loadCore(): Promise<Core> {
  current ??= instantiate(glue).catch((err) => {
    current = undefined;
    throw new MediaslimError('WORKER_CRASHED', `could not load the mediaslim wasm module: ${String(err)}`, { cause: err });
  });
  return current;
}

/**
 * A trapped wasm instance (out of memory, a bug) may hold broken state: drop it and load a
 * fresh copy of the glue module for the next call. This works in Node and unbundled pages;
 * inside a bundle the glue has no URL of its own, so the next call fails with
 * WORKER_CRASHED too. (The worker pool replaces whole workers instead.)
 */
function discard(): void {
  generation += 1;
  // Built by concatenation so bundlers leave it alone (they rewrite literal patterns).
  const url = new URL('./wasm/' + 'mediaslim_core.js?instance=' + generation, import.meta.url).href;
  current = import(/* @vite-ignore */ url).then((fresh: Core) => instantiate(fresh));
  current.catch(() => { /* reported on next use */ });
}

/** Runs `fn` against the core, mapping core errors and traps to MediaslimError. */
export async function withCore<T>(fn: (core: Core) => T): Promise<T> {
  const core = await loadCore();
  try {
    return fn(core);
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) {
      discard();
      throw new MediaslimError('WORKER_CRASHED', `the wasm instance trapped (${err.message}); it was replaced`, { cause: err });
    }
    throw fromCoreError(err);
  }
}
