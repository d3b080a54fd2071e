// The batch as a whole: the summary line (what was saved in all), the progress of what is
// encoding, and the batch buttons (Optimize all, Download all as a zip, Cancel all, Clear).
import { $, announce, saveBlob } from './dom.ts';
import { formatBytes, savedPercent } from './format.ts';
import type { Item, Store } from './items.ts';
import type { Scheduler } from './queue.ts';
import { zipOutputs } from './zip.ts';

export class BatchBar {
  private readonly summary = $('#summary');
  private readonly bar = $('#batch-bar');
  private readonly progress = $('#batch-progress');
  private readonly progressBar = $<HTMLProgressElement>('#batch-progress-bar');
  private readonly progressLabel = $('#batch-progress-label');
  private readonly optimizeAll = $<HTMLButtonElement>('#optimize-all');
  private readonly downloadAll = $<HTMLButtonElement>('#download-all');
  private readonly cancelAll = $<HTMLButtonElement>('#cancel-all');
  private readonly clear = $<HTMLButtonElement>('#clear');
  private pending = false;
  /** The zip being prepared, if any; Cancel all abandons it. */
  private zipping: { cancelled: boolean } | null = null;
  /** Jobs in flight a moment ago: the batch is announced once when it drains. */
  private wasBusy = false;

  constructor(
    private readonly store: Store,
    private readonly scheduler: Scheduler,
    onClear: () => void,
  ) {
    store.subscribe(() => this.schedule());
    this.optimizeAll.addEventListener('click', () => {
      scheduler.optimizeAll();
      announce(`Optimizing all ${store.items.length} files`);
    });
    this.downloadAll.addEventListener('click', () => void this.download());
    this.cancelAll.addEventListener('click', () => {
      if (this.zipping) this.zipping.cancelled = true;
      scheduler.cancelAll();
      announce('Cancelled');
    });
    this.clear.addEventListener('click', () => {
      if (this.zipping) this.zipping.cancelled = true;
      onClear();
    });
    this.render();
  }

  /** Redraws at most once a frame, however many cards changed. */
  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  private async download(): Promise<void> {
    if (this.zipping) return;
    const zipping = { cancelled: false };
    this.zipping = zipping;
    this.render();
    try {
      // Everything not encoded yet is queued behind what is on screen.
      this.scheduler.optimizeAll();
      const items = [...this.store.items];
      await this.scheduler.settled(items);
      if (zipping.cancelled) return;
      const done = items.filter((i) => i.outcome && this.store.has(i));
      if (done.length === 0) {
        announce('Nothing to download: no file was optimized.');
        return;
      }
      const blob = await zipOutputs(done);
      if (zipping.cancelled) return;
      saveBlob(blob, 'mediaslim-optimized.zip');
      announce(`Downloading a zip of ${done.length} file${done.length === 1 ? '' : 's'}, ${formatBytes(blob.size)}`);
    } finally {
      this.zipping = null;
      this.render();
    }
  }

  private render(): void {
    const items = this.store.items;
    const total = items.length;
    this.bar.hidden = total === 0;
    document.body.dataset.files = String(total);
    if (total === 0) {
      this.summary.textContent = 'No images yet. Choose some, drop them above, or try the samples.';
      this.wasBusy = false;
      return;
    }
    const count = (s: Item['status']) => items.filter((i) => i.status === s).length;
    const done = items.filter((i) => i.status === 'done' && i.outcome);
    const failed = count('error');
    const cancelled = count('cancelled');
    const busy = count('queued') + count('working');
    const waiting = count('idle');

    const parts = [`${total} file${total === 1 ? '' : 's'}`];
    if (done.length > 0) {
      const before = done.reduce((sum, i) => sum + i.outcome!.result.originalBytes, 0);
      const after = done.reduce((sum, i) => sum + i.outcome!.result.bytes.byteLength, 0);
      const saved = savedPercent(before, after);
      parts.push(`${done.length} optimized: ${formatBytes(before)} → ${formatBytes(after)} (${saved >= 0 ? 'saved' : 'grew'} ${Math.abs(saved).toFixed(0)}%)`);
    }
    if (busy > 0) parts.push(`${busy} in progress`);
    if (failed > 0) parts.push(`${failed} failed`);
    if (cancelled > 0) parts.push(`${cancelled} cancelled`);
    if (waiting > 0) parts.push(`${waiting} waiting to scroll into view`);
    if (this.store.skipped > 0) parts.push(`${this.store.skipped} skipped (not images)`);
    this.summary.replaceChildren(
      ...parts.flatMap((text, i) => {
        const span = document.createElement('span');
        span.className = 'nowrap';
        span.textContent = text;
        return i === 0 ? [span] : [' · ', span];
      }),
    );

    // Progress over the files that are being, or have been, encoded at these settings.
    const inPlay = done.length + failed + busy;
    this.progress.hidden = busy === 0;
    this.progressBar.max = Math.max(1, inPlay);
    this.progressBar.value = done.length + failed;
    this.progressLabel.textContent = `${done.length + failed} of ${inPlay} done`;
    document.body.dataset.pending = String(busy);

    this.cancelAll.hidden = busy === 0 && !this.zipping;
    this.optimizeAll.hidden = waiting === 0 && cancelled === 0;
    this.downloadAll.disabled = !!this.zipping;
    this.downloadAll.textContent = this.zipping ? `Preparing zip… ${done.length} of ${total}` : done.length === total ? `Download all (.zip, ${formatBytes(done.reduce((s, i) => s + i.outcome!.result.bytes.byteLength, 0))})` : 'Download all (.zip)';

    if (this.wasBusy && busy === 0) {
      announce(done.length > 0 ? `Done. ${parts.slice(1).join(', ')}` : `Done. ${failed} failed`);
    }
    this.wasBusy = busy > 0;
  }
}
