// What gets encoded, when, and at which priority. Cards on screen encode at `visible`; a card
// the user opens or retries jumps to `user`; cards that are wanted but off screen (encoded
// before, or asked for by "Optimize all") wait at `background`; the rest wait until they
// scroll into view. Changing a setting makes every job stale: queued stale jobs are dropped
// from the pool through their AbortSignal, and the new ones are queued visible cards first.
import { MediaslimError, compare, optimize, probe } from 'mediaslim';
import type { Pool, Priority } from 'mediaslim';
import type { Item, Job, Store } from './items.ts';
import { toOptions, type Settings } from './settings.ts';

const RANK: Record<Priority, number> = { user: 0, visible: 1, prefetch: 2, background: 3 };

export interface Counters {
  /** Encodes a worker started (what "only visible cards encode" counts). */
  started: number;
  done: number;
  failed: number;
  /** Jobs dropped or discarded: stale after a settings change, scrolled away, cancelled. */
  aborted: number;
}

export class Scheduler {
  readonly counters: Counters = { started: 0, done: 0, failed: 0, aborted: 0 };
  /** The key the user asked for explicitly (opened, retried, edited): runs at `user`. */
  private readonly urgent = new WeakMap<Item, string>();
  private readonly observer: IntersectionObserver;
  private readonly cardItem = new WeakMap<Element, Item>();

  constructor(
    private readonly store: Store,
    readonly pool: Pool,
    private readonly settingsOf: (item: Item) => Settings,
  ) {
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        const item = this.cardItem.get(entry.target);
        if (!item || !this.store.has(item)) continue;
        item.visible = entry.isIntersecting;
        this.reconcile(item);
        this.store.changed(item);
      }
    });
  }

  /** The current options (and their key) for an item. */
  optionsOf(item: Item) {
    const settings = this.settingsOf(item);
    const options = toOptions(settings, item.source);
    return { settings, options, key: JSON.stringify(options) };
  }

  watch(card: Element, item: Item): void {
    this.cardItem.set(card, item);
    this.observer.observe(card);
  }

  unwatch(card: Element): void {
    this.observer.unobserve(card);
  }

  /** After a settings change: every item, cards on screen first. */
  reconcileAll(): void {
    const items = this.store.items;
    for (const item of items) if (item.visible) this.reconcile(item);
    for (const item of items) if (!item.visible) this.reconcile(item);
  }

  /** The user asked for this file now (clicked it, edited its settings). */
  prioritize(item: Item): void {
    const { key } = this.optionsOf(item);
    this.urgent.set(item, key);
    if (item.cancelledKey === key) item.cancelledKey = null;
    this.reconcile(item);
  }

  retry(item: Item): void {
    item.cancelledKey = null;
    item.error = null;
    this.prioritize(item);
  }

  /** Queue every file, off-screen ones at `background`. */
  optimizeAll(): void {
    for (const item of this.store.items) {
      item.wanted = true;
      item.cancelledKey = null;
    }
    this.reconcileAll();
  }

  cancel(item: Item): void {
    const job = item.job;
    if (!job) return;
    item.job = null;
    item.cancelledKey = job.key;
    item.status = 'cancelled';
    job.controller.abort(new Error('cancelled by the user'));
    this.counters.aborted += 1;
    this.store.changed(item);
  }

  cancelAll(): void {
    for (const item of this.store.items) {
      // Files that were only waiting for "Optimize all" go back to waiting for their turn on screen.
      if (!item.job && !item.outcome) item.wanted = false;
      this.cancel(item);
    }
  }

  /** Stops whatever runs for an item that is going away. */
  drop(item: Item): void {
    item.job?.controller.abort(new Error('removed'));
    item.job = null;
  }

  /** Resolves once none of `items` has a job in flight. */
  settled(items: Item[]): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (items.every((i) => !i.job || !this.store.has(i))) {
          stop();
          resolve();
        }
      };
      const stop = this.store.subscribe(() => queueMicrotask(check));
      check();
    });
  }

  /** Makes what runs for `item` match what it should have now. */
  reconcile(item: Item): void {
    if (!this.store.has(item)) return;
    const { settings, options, key } = this.optionsOf(item);
    const job = item.job;

    if (item.outcome?.key === key || item.error?.key === key || item.cancelledKey === key) {
      if (job) this.abort(item, 'not needed');
      item.status = item.outcome?.key === key ? 'done' : item.error?.key === key ? 'error' : 'cancelled';
      this.store.changed(item);
      return;
    }
    // Whatever is shown was made with other settings: it goes.
    if (item.outcome) {
      URL.revokeObjectURL(item.outcome.url);
      item.outcome = null;
    }
    item.error = null;

    const want: Priority | null = this.urgent.get(item) === key ? 'user' : item.visible ? 'visible' : item.wanted ? 'background' : null;
    if (job && job.key === key) {
      if (job.started) return;
      if (!want) {
        // Scrolled away before a worker took it: drop it; it comes back when seen again.
        this.abort(item, 'scrolled out of view');
        item.status = 'idle';
        this.store.changed(item);
      } else if (RANK[want] < RANK[job.priority]) {
        // Raise: ask again at the higher priority (the pool shares identical jobs and raises
        // the queued one), then let the old request go.
        this.submit(item, key, options, settings, want);
        job.controller.abort(new Error('raised'));
      }
      return;
    }
    if (job) this.abort(item, 'settings changed');
    if (!want) {
      item.status = 'idle';
      this.store.changed(item);
      return;
    }
    this.submit(item, key, options, settings, want);
  }

  private abort(item: Item, why: string): void {
    const job = item.job;
    if (!job) return;
    item.job = null;
    job.controller.abort(new Error(why));
    this.counters.aborted += 1;
  }

  private submit(item: Item, key: string, options: ReturnType<Scheduler['optionsOf']>['options'], settings: Settings, priority: Priority): void {
    const controller = new AbortController();
    const job: Job = { key, priority, controller, started: false, startedAt: 0 };
    item.job = job;
    item.status = 'queued';
    this.store.changed(item);
    const current = () => item.job === job && this.store.has(item);
    const { signal } = controller;

    if (!item.probe) {
      // Header only: the source's format and size for the card, before the encode is back.
      probe(item.file, { pool: this.pool, priority, signal })
        .then((info) => {
          if (!this.store.has(item)) return;
          item.probe = info;
          this.store.changed(item);
        })
        .catch(() => undefined);
    }

    optimize(item.file, {
      ...options,
      pool: this.pool,
      priority,
      signal,
      onProgress: (event) => {
        if (event.stage !== 'running' || job.started || !current()) return;
        job.started = true;
        job.startedAt = performance.now();
        this.counters.started += 1;
        item.status = 'working';
        this.store.changed(item);
      },
    }).then(
      (result) => {
        if (!current()) return;
        item.job = null;
        this.counters.done += 1;
        const blob = new Blob([result.bytes as BlobPart], { type: `image/${result.format}` });
        item.outcome = {
          key,
          settings,
          result,
          url: URL.createObjectURL(blob),
          wallMs: job.started ? performance.now() - job.startedAt : result.timings.decode + result.timings.resize + result.timings.encode,
          score: result.score ?? undefined,
        };
        item.status = 'done';
        item.wanted = true;
        this.store.changed(item);
      },
      (err: unknown) => {
        if (!current()) return;
        item.job = null;
        if (err instanceof MediaslimError && err.code === 'ABORTED') {
          item.cancelledKey = key;
          item.status = 'cancelled';
        } else {
          this.counters.failed += 1;
          item.error = {
            key,
            code: err instanceof MediaslimError ? err.code : 'UNEXPECTED',
            message: err instanceof Error ? err.message : String(err),
          };
          item.status = 'error';
        }
        this.store.changed(item);
      },
    );
  }

  /**
   * SSIMULACRA2 of an item's output against its original, measured on request (the compare
   * dialog) unless the encode reported it. AVIF output is decoded by the browser first: the
   * core has no AVIF decoder.
   */
  async score(item: Item, signal: AbortSignal): Promise<number> {
    const outcome = item.outcome;
    if (!outcome) throw new Error('no output to score');
    if (outcome.score !== undefined) return outcome.score;
    let distorted: Blob = new Blob([outcome.result.bytes as BlobPart], { type: `image/${outcome.result.format}` });
    if (outcome.result.format === 'avif') distorted = await toPng(distorted);
    const value = await compare(item.file, distorted, { pool: this.pool, priority: 'user', signal });
    if (item.outcome === outcome) outcome.score = value;
    return value;
  }
}

async function toPng(blob: Blob): Promise<Blob> {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
  bitmap.close();
  return canvas.convertToBlob({ type: 'image/png' });
}
