// `probe` in the calling thread: header parsing takes microseconds, so no worker and no pool.
// It runs the third build of the Rust core, `mediaslim_probe` (headers only: no pixel
// decoder, encoder or resizer; a small fraction of the core module), loaded on first use the
// way js/core.ts loads the others: by URL (`new URL('./wasm/...', import.meta.url)`, which
// bundlers follow) and from the file in Node. Nothing here imports the pool, the worker or
// the other modules, so an app that imports only `probe` ships none of them.
import * as probeGlue from './wasm/mediaslim_probe.js';
import type { ProbeInfo } from './wasm/mediaslim_probe.js';
import { abortError, fromCoreError, MediaslimError } from './errors.js';
import { readAll, readHead, type Input } from './input.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node && typeof window === 'undefined';

let loading: Promise<typeof probeGlue> | undefined;

async function instantiate(): Promise<typeof probeGlue> {
  if (isNode) {
    // A computed specifier: bundlers building for browsers must not try to resolve it.
    const fsModule = 'node:fs/promises';
    const { readFile } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fsModule)) as typeof import('node:fs/promises');
    probeGlue.initSync({ module: await readFile(new URL(/* webpackIgnore: true */ './wasm/mediaslim_probe_bg.wasm', import.meta.url)) });
  } else {
    await probeGlue.default({ module_or_path: new URL('./wasm/mediaslim_probe_bg.wasm', import.meta.url) });
  }
  return probeGlue;
}

function load(): Promise<typeof probeGlue> {
  return (loading ??= instantiate().catch((err) => {
    loading = undefined;
    throw new MediaslimError('WORKER_CRASHED', `could not load the mediaslim wasm module (probe): ${String(err)}`, { cause: err });
  }));
}

/** The header facts of `bytes`, or the core's error as a MediaslimError. */
async function probeBytes(bytes: Uint8Array): Promise<ProbeInfo> {
  const glue = await load();
  try {
    return glue.probe(bytes);
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) {
      // A trapped instance may hold broken state; wasm-bindgen's glue keeps one instance per
      // module, so the next call fails the same way rather than answering wrongly.
      throw new MediaslimError('WORKER_CRASHED', `the wasm instance trapped (${err.message})`, { cause: err });
    }
    throw fromCoreError(err);
  }
}

/**
 * Format, displayed size, orientation, alpha and animation from the header: a Blob is read
 * from its first 256 KiB only (all of it when the header turns out to be longer).
 */
export async function probeHeader(input: Input, signal?: AbortSignal): Promise<ProbeInfo> {
  if (signal?.aborted) throw abortError(signal);
  const head = await readHead(input);
  try {
    return await probeBytes(head.bytes);
  } catch (err) {
    // A header longer than the slice we read (a big ICC profile, say): read it all.
    if (!head.complete && err instanceof MediaslimError && err.code === 'CORRUPT_INPUT') {
      if (signal?.aborted) throw abortError(signal);
      return probeBytes(await readAll(input));
    }
    throw err;
  }
}
