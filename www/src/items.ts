// The batch: one Item per file, and a tiny store that tells the views when one changes.
import type { OptimizeResult, Priority, ProbeInfo } from 'mediaslim';
import type { Settings } from './settings.ts';

export type Status = 'idle' | 'queued' | 'working' | 'done' | 'error' | 'cancelled';

/** One encode in flight for an item. */
export interface Job {
  /** The options it encodes with (JSON): a job whose key is not the item's current one is stale. */
  key: string;
  priority: Priority;
  controller: AbortController;
  /** A worker has it (it can no longer be raised or dropped from the queue). */
  started: boolean;
  startedAt: number;
}

export interface Outcome {
  key: string;
  /** The settings it was made with (shown in the compare dialog). */
  settings: Settings;
  result: OptimizeResult;
  url: string;
  /** From the moment a worker took it to the answer. */
  wallMs: number;
  /** SSIMULACRA2 from the result, or measured later for the compare dialog. */
  score?: number;
}

export interface Item {
  id: number;
  file: File;
  /** Name with its folder (from a folder pick or drop), used in the zip. */
  path: string;
  /** What the first bytes say the file is (null: unknown, the core will say why). */
  source: string | null;
  /** This file's own settings; null follows the batch settings. */
  override: Settings | null;
  status: Status;
  job: Job | null;
  outcome: Outcome | null;
  error: { key: string; code: string; message: string } | null;
  /** The user cancelled this key; it is not restarted until retried or the settings change. */
  cancelledKey: string | null;
  probe: ProbeInfo | null;
  /** On screen now (IntersectionObserver). */
  visible: boolean;
  /** Wanted even when off screen: encoded once already, or "Optimize all" / "Download all". */
  wanted: boolean;
  /** Object URL of the original file, made when the card first shows it. */
  originalUrl: string | null;
}

type Listener = (item: Item | null) => void;

export class Store {
  readonly items: Item[] = [];
  /** Files left out of picked or dropped folders because they are not images. */
  skipped = 0;
  private nextId = 1;
  private readonly listeners = new Set<Listener>();

  create(file: File, path: string, source: string | null): Item {
    const item: Item = {
      id: this.nextId++,
      file,
      path,
      source,
      override: null,
      status: 'idle',
      job: null,
      outcome: null,
      error: null,
      cancelledKey: null,
      probe: null,
      visible: false,
      wanted: false,
      originalUrl: null,
    };
    this.items.push(item);
    return item;
  }

  remove(item: Item): void {
    const i = this.items.indexOf(item);
    if (i >= 0) this.items.splice(i, 1);
    if (item.originalUrl) URL.revokeObjectURL(item.originalUrl);
    if (item.outcome) URL.revokeObjectURL(item.outcome.url);
  }

  has(item: Item): boolean {
    return this.items.includes(item);
  }

  byId(id: number): Item | undefined {
    return this.items.find((i) => i.id === id);
  }

  /** `item` changed (null: the list itself changed). */
  changed(item: Item | null): void {
    for (const listener of this.listeners) listener(item);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
