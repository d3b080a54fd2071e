// lazyOptimize: optimize <img> elements as they near the viewport. Images about to be seen
// queue at `prefetch`, are raised to `visible` when they enter the viewport, and are
// cancelled if they leave the margin before their encode starts.
import type { OptimizeResult } from './index.js';
import type { Pool, Priority } from './pool.js';
import type { OptimizeOptions } from './wasm/mediaslim_core.js';

export interface LazyOptions extends OptimizeOptions {
  /** How far outside the viewport an image starts to be prepared (IntersectionObserver rootMargin). */
  rootMargin?: string;
  /** Run in this pool instead of the shared default one. */
  pool?: Pool;
  /** Called with each image's result (also dispatched as a `mediaslim:optimized` event). */
  onOptimized?: (img: HTMLImageElement, result: OptimizeResult) => void;
  /** Called when an image cannot be optimized (also dispatched as a `mediaslim:error` event); its `src` is left as it was. */
  onError?: (img: HTMLImageElement, error: unknown) => void;
}

interface Tracked {
  controller: AbortController;
  promise?: Promise<unknown>;
  started: boolean;
  done: boolean;
}

/** Starts watching; returns a function that stops watching and cancels what is queued. */
export function lazyOptimize(
  target: HTMLImageElement | Iterable<HTMLImageElement> | string,
  options: LazyOptions,
  defaultPool: () => Pool,
): () => void {
  const { rootMargin = '50% 0px', pool: givenPool, onOptimized, onError, ...core } = options;
  const pool = givenPool ?? defaultPool();
  const json = JSON.stringify(core);
  const images =
    typeof target === 'string'
      ? Array.from(document.querySelectorAll<HTMLImageElement>(target))
      : target instanceof HTMLImageElement
        ? [target]
        : Array.from(target);
  const tracked = new Map<HTMLImageElement, Tracked>();
  // Sources download in parallel, but jobs are queued in the order images came near, so
  // that equal-priority work runs in scroll order.
  let queueOrder: Promise<unknown> = Promise.resolve();

  const start = (img: HTMLImageElement, priority: Priority) => {
    const existing = tracked.get(img);
    if (existing && !existing.controller.signal.aborted) return;
    const entry: Tracked = { controller: new AbortController(), started: false, done: false };
    tracked.set(img, entry);
    const source = img.dataset.src ?? img.currentSrc ?? img.src;
    const download = fetch(source).then((r) => {
      if (!r.ok) throw new Error(`could not load ${source}: HTTP ${r.status}`);
      return r.blob();
    });
    const turn = queueOrder.then(() => download);
    queueOrder = turn.catch(() => undefined);
    entry.promise = turn
      .then((blob) => {
        if (entry.controller.signal.aborted) throw entry.controller.signal.reason;
        const job = pool.run('optimize', blob, json, {
          priority,
          signal: entry.controller.signal,
          onProgress: (e) => { if (e.stage === 'running') entry.started = true; },
        });
        entry.promise = job;
        return job;
      })
      .then((value) => {
        const result = value as OptimizeResult;
        entry.done = true;
        nearObserver.unobserve(img);
        visibleObserver.unobserve(img);
        img.src = URL.createObjectURL(new Blob([result.bytes as Uint8Array<ArrayBuffer>], { type: `image/${result.format}` }));
        onOptimized?.(img, result);
        img.dispatchEvent(new CustomEvent('mediaslim:optimized', { detail: result }));
      })
      .catch((err: unknown) => {
        if ((err as { code?: string }).code === 'ABORTED') return; // left the viewport: may start again
        entry.done = true;
        onError?.(img, err);
        img.dispatchEvent(new CustomEvent('mediaslim:error', { detail: err }));
      });
  };

  const nearObserver = new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        const img = e.target as HTMLImageElement;
        const t = tracked.get(img);
        if (e.isIntersecting) start(img, 'prefetch');
        else if (t && !t.started && !t.done) t.controller.abort(new Error('scrolled out of range before it started'));
      }
    },
    { rootMargin },
  );
  const visibleObserver = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      const img = e.target as HTMLImageElement;
      const t = tracked.get(img);
      if (!t || t.controller.signal.aborted) start(img, 'visible');
      else if (t.promise && !t.started) pool.raise(t.promise, 'visible');
    }
  });
  for (const img of images) {
    nearObserver.observe(img);
    visibleObserver.observe(img);
  }
  return () => {
    nearObserver.disconnect();
    visibleObserver.disconnect();
    for (const t of tracked.values()) if (!t.done) t.controller.abort(new Error('lazyOptimize stopped'));
  };
}
