// The compare dialog: the original and the optimized image on top of each other, split by a
// draggable divider (a keyboard slider), zoomed and panned together up to single pixels;
// the numbers (bytes, saved, dimensions, SSIMULACRA2, time); and this file's own settings.
import { $, h } from './dom.ts';
import { formatBytes, formatLabel, formatMs, formatSaved, outputName, savedPercent } from './format.ts';
import type { Item, Outcome, Store } from './items.ts';
import type { Scheduler } from './queue.ts';
import { describeSettings, SettingsForm, type Settings } from './settings.ts';

const MAX_SCALE = 32;

export interface CompareHooks {
  batchSettings(): Settings;
  /** "Apply to all files": these settings become the batch settings. */
  applyToAll(settings: Settings): void;
}

export class CompareDialog {
  private readonly dialog = $<HTMLDialogElement>('#compare');
  private readonly viewer = $('#viewer');
  private readonly beforeImg = $<HTMLImageElement>('#before-img');
  private readonly afterImg = $<HTMLImageElement>('#after-img');
  private readonly stages = [...this.viewer.querySelectorAll<HTMLElement>('.stage')];
  private readonly split = $('#split');
  private readonly zoomLevel = $<HTMLOutputElement>('#zoom-level');
  private readonly note = $('#viewer-note');
  private readonly stats = $('#compare-stats');
  private readonly download = $<HTMLAnchorElement>('#compare-download');
  private readonly errorEl = $('#compare-error');
  private readonly settingsTag = $('#file-settings-tag');
  private readonly form: SettingsForm;

  private item: Item | null = null;
  private opener: HTMLElement | null = null;
  private scoring: AbortController | null = null;
  /** The output whose score is being measured, and one whose measurement failed. */
  private scoringFor: Outcome | null = null;
  private scoreFailed: Outcome | null = null;
  /** Stage size in image pixels: the output's, else the original's. */
  private size = { width: 0, height: 0 };
  private view = { scale: 1, x: 0, y: 0, fit: true };
  private splitAt = 50;
  private readonly pointers = new Map<number, { x: number; y: number }>();

  constructor(
    private readonly store: Store,
    private readonly scheduler: Scheduler,
    private readonly hooks: CompareHooks,
  ) {
    this.form = new SettingsForm($('#file-settings-form'), hooks.batchSettings(), (settings) => {
      if (!this.item) return;
      this.item.override = settings;
      this.scheduler.prioritize(this.item);
      this.render();
    });
    $('#file-settings-reset').addEventListener('click', () => {
      if (!this.item) return;
      this.item.override = null;
      this.scheduler.prioritize(this.item);
      this.render();
    });
    $('#file-settings-all').addEventListener('click', () => {
      if (!this.item) return;
      const settings = this.form.value;
      this.item.override = null;
      this.hooks.applyToAll(settings);
      this.scheduler.prioritize(this.item);
      this.render();
    });

    $('#compare-close').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => this.closed());
    // A click on the backdrop (outside the dialog's box) closes it too.
    this.dialog.addEventListener('click', (e) => {
      if (e.target === this.dialog) this.dialog.close();
    });
    store.subscribe((item) => {
      if (this.item && (item === this.item || item === null)) {
        if (!store.has(this.item)) this.dialog.close();
        else this.render();
      }
    });

    $('#zoom-in').addEventListener('click', () => this.zoomBy(2));
    $('#zoom-out').addEventListener('click', () => this.zoomBy(0.5));
    $('#zoom-fit').addEventListener('click', () => this.fit());
    $('#zoom-actual').addEventListener('click', () => this.zoomTo(1));
    this.bindSplit();
    this.bindViewer();
    new ResizeObserver(() => {
      if (this.view.fit) this.fit();
      else this.apply();
    }).observe(this.viewer);
    this.beforeImg.addEventListener('load', () => {
      if (!this.size.width) this.setSize(this.beforeImg.naturalWidth, this.beforeImg.naturalHeight);
      this.apply();
    });
  }

  get openItem(): Item | null {
    return this.item;
  }

  open(item: Item, opener: HTMLElement): void {
    this.item = item;
    this.opener = opener;
    this.scoringFor = null;
    this.size = { width: 0, height: 0 };
    this.view.fit = true;
    this.setSplit(50);
    item.originalUrl ??= URL.createObjectURL(item.file);
    this.beforeImg.src = item.originalUrl;
    this.beforeImg.alt = `Original ${item.path}`;
    this.afterImg.removeAttribute('src');
    delete this.afterImg.dataset.src;
    this.form.set(item.override ?? this.hooks.batchSettings());
    ($('#file-settings') as HTMLDetailsElement).open = !!item.override;
    $('#compare-title').textContent = item.path;
    this.dialog.showModal();
    // The user is looking at this file: it goes ahead of everything else.
    this.scheduler.prioritize(item);
    this.render();
    this.split.focus();
  }

  private closed(): void {
    this.scoring?.abort(new Error('dialog closed'));
    this.scoring = null;
    this.scoringFor = null;
    this.item = null;
    this.beforeImg.removeAttribute('src');
    this.afterImg.removeAttribute('src');
    const opener = this.opener;
    this.opener = null;
    if (opener?.isConnected) opener.focus();
  }

  private render(): void {
    const item = this.item;
    if (!item) return;
    const { outcome, error, probe } = item;
    this.settingsTag.hidden = !item.override;

    if (outcome) {
      const r = outcome.result;
      if (this.afterImg.dataset.src !== outcome.url) {
        this.afterImg.src = outcome.url;
        this.afterImg.dataset.src = outcome.url;
        this.setSize(r.width, r.height);
      }
      this.afterImg.alt = `Optimized ${formatLabel(r.format)}, ${r.width}×${r.height}`;
      this.afterImg.hidden = false;
    } else {
      this.afterImg.hidden = true;
      if (probe && !this.size.width) this.setSize(probe.width, probe.height);
    }
    const noteText =
      item.status === 'working' ? 'Encoding…' : item.status === 'queued' ? 'Queued…' : item.status === 'cancelled' ? 'Cancelled' : item.status === 'error' ? 'Failed' : item.status === 'idle' ? 'Waiting' : '';
    this.note.textContent = noteText;
    this.note.hidden = !noteText;
    this.viewer.classList.toggle('has-alpha', probe?.hasAlpha ?? false);

    this.errorEl.hidden = !error;
    this.errorEl.textContent = error ? `${error.code}: ${error.message}` : '';

    const rows: [string, string, string?][] = [];
    const before = item.file.size;
    const from = probe ? `${formatLabel(probe.format)}, ${probe.width}×${probe.height}` : '';
    if (outcome) {
      const r = outcome.result;
      const after = r.bytes.byteLength;
      const saved = savedPercent(r.originalBytes, after);
      rows.push(['Format', probe ? `${formatLabel(probe.format)} → ${formatLabel(r.format)}` : formatLabel(r.format)]);
      rows.push(['Dimensions', probe ? `${probe.width}×${probe.height} → ${r.width}×${r.height}` : `${r.width}×${r.height}`]);
      rows.push(['Bytes', `${formatBytes(r.originalBytes)} → ${formatBytes(after)}`]);
      rows.push(['Saved', formatSaved(saved), saved > 0 ? 'better' : saved < 0 ? 'worse' : undefined]);
      if (r.quality !== undefined) {
        rows.push(['Quality', `${r.quality}${r.encodes > 1 ? ` (found in ${r.encodes} encodes)` : ''}`]);
      } else if (r.lossless) rows.push(['Quality', 'lossless']);
      rows.push([
        'SSIMULACRA2',
        outcome.score !== undefined ? `${outcome.score.toFixed(1)} (${scoreWords(outcome.score)})` : this.scoreFailed === outcome ? 'could not measure' : 'measuring…',
      ]);
      rows.push(['Encode time', `${formatMs(r.timings.encode)} (decode ${formatMs(r.timings.decode)}${r.timings.resize > 0.05 ? `, resize ${formatMs(r.timings.resize)}` : ''})`]);
      rows.push(['Settings', describeSettings(outcome.settings) + (item.override ? ' (this file)' : '')]);
      if (r.keptOriginal) rows.push(['Note', 'Kept the original: re-encoding did not make it smaller.']);
      for (const w of r.warnings) rows.push(['Note', w]);
      this.measureScore(item);
    } else {
      rows.push(['Original', `${from ? `${from}, ` : ''}${formatBytes(before)}`]);
      rows.push(['Status', noteText || item.status]);
    }
    this.stats.replaceChildren(
      ...rows.map(([dt, dd, cls]) => h('div', { class: 'row' }, h('dt', {}, dt), h('dd', { class: cls }, dd))),
    );
    this.stats.dataset.score = outcome?.score !== undefined ? String(outcome.score) : '';

    this.download.hidden = !outcome;
    if (outcome) {
      const r = outcome.result;
      this.download.href = outcome.url;
      this.download.download = outputName(item.path, r.format).split('/').pop()!;
      this.download.textContent = `Download ${formatLabel(r.format)} (${formatBytes(r.bytes.byteLength)})`;
    }
  }

  private measureScore(item: Item): void {
    const outcome = item.outcome;
    if (!outcome || outcome.score !== undefined || this.scoringFor === outcome) return;
    this.scoringFor = outcome;
    this.scoring?.abort(new Error('superseded'));
    const controller = new AbortController();
    this.scoring = controller;
    this.scheduler.score(item, controller.signal).then(
      () => {
        if (this.scoring !== controller) return;
        this.store.changed(item);
      },
      () => {
        if (this.scoring !== controller || controller.signal.aborted) return;
        this.scoreFailed = outcome;
        this.render();
      },
    );
  }

  // ---- split ---------------------------------------------------------------------------

  private setSplit(percent: number): void {
    this.splitAt = Math.min(100, Math.max(0, percent));
    const rounded = Math.round(this.splitAt);
    this.viewer.style.setProperty('--split', `${this.splitAt}%`);
    this.split.setAttribute('aria-valuenow', String(rounded));
    this.split.setAttribute('aria-valuetext', `${rounded}% original, ${100 - rounded}% optimized`);
  }

  private bindSplit(): void {
    this.split.addEventListener('keydown', (e) => {
      const step = e.shiftKey ? 10 : 2;
      const next: Record<string, number> = {
        ArrowLeft: this.splitAt - step,
        ArrowDown: this.splitAt - step,
        ArrowRight: this.splitAt + step,
        ArrowUp: this.splitAt + step,
        PageDown: this.splitAt - 10,
        PageUp: this.splitAt + 10,
        Home: 0,
        End: 100,
      };
      if (!(e.key in next)) return;
      e.preventDefault();
      e.stopPropagation();
      this.setSplit(next[e.key]);
    });
    this.split.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      e.stopPropagation();
      this.split.setPointerCapture(e.pointerId);
      this.split.focus();
      const move = (ev: PointerEvent) => {
        const box = this.viewer.getBoundingClientRect();
        this.setSplit(((ev.clientX - box.left) / box.width) * 100);
      };
      const up = () => {
        this.split.removeEventListener('pointermove', move);
        this.split.removeEventListener('pointerup', up);
        this.split.removeEventListener('pointercancel', up);
      };
      this.split.addEventListener('pointermove', move);
      this.split.addEventListener('pointerup', up);
      this.split.addEventListener('pointercancel', up);
    });
  }

  // ---- zoom and pan --------------------------------------------------------------------

  private setSize(width: number, height: number): void {
    if (!width || !height) return;
    const changed = width !== this.size.width || height !== this.size.height;
    this.size = { width, height };
    for (const stage of this.stages) {
      stage.style.width = `${width}px`;
      stage.style.height = `${height}px`;
    }
    if (changed && this.view.fit) this.fit();
    else this.apply();
  }

  private fitScale(): number {
    const { width, height } = this.size;
    if (!width || !height) return 1;
    return Math.min(this.viewer.clientWidth / width, this.viewer.clientHeight / height);
  }

  private fit(): void {
    const s = this.fitScale();
    this.view = { scale: s, x: (this.viewer.clientWidth - this.size.width * s) / 2, y: (this.viewer.clientHeight - this.size.height * s) / 2, fit: true };
    this.apply();
  }

  /** Zooms to `scale` keeping the point (px, py) of the viewer where it is (default: centre). */
  private zoomTo(scale: number, px = this.viewer.clientWidth / 2, py = this.viewer.clientHeight / 2): void {
    const min = Math.min(this.fitScale(), 1);
    const s = Math.min(MAX_SCALE, Math.max(min, scale));
    const { scale: old, x, y } = this.view;
    this.view = { scale: s, x: px - ((px - x) * s) / old, y: py - ((py - y) * s) / old, fit: false };
    this.apply();
  }

  private zoomBy(factor: number, px?: number, py?: number): void {
    this.zoomTo(this.view.scale * factor, px, py);
  }

  private panBy(dx: number, dy: number): void {
    this.view = { ...this.view, x: this.view.x + dx, y: this.view.y + dy, fit: false };
    this.apply();
  }

  /** Keeps the image from leaving the viewer, then moves both layers the same way. */
  private apply(): void {
    const vw = this.viewer.clientWidth;
    const vh = this.viewer.clientHeight;
    const { scale } = this.view;
    const w = this.size.width * scale;
    const hgt = this.size.height * scale;
    const clamp = (v: number, span: number, room: number) => (span <= room ? (room - span) / 2 : Math.min(0, Math.max(room - span, v)));
    this.view.x = clamp(this.view.x, w, vw);
    this.view.y = clamp(this.view.y, hgt, vh);
    const transform = `translate(${this.view.x}px, ${this.view.y}px) scale(${scale})`;
    for (const stage of this.stages) stage.style.transform = transform;
    // Past 2 screen pixels per image pixel, show pixels as squares, not blurred.
    this.afterImg.classList.toggle('pixelated', scale >= 2);
    const beforeScale = this.beforeImg.naturalWidth ? (scale * this.size.width) / this.beforeImg.naturalWidth : scale;
    this.beforeImg.classList.toggle('pixelated', beforeScale >= 2);
    this.viewer.classList.toggle('is-zoomed', w > vw + 0.5 || hgt > vh + 0.5);
    this.zoomLevel.value = this.view.fit ? `Fit (${Math.round(scale * 100)}%)` : `${Math.round(scale * 100)}%`;
    this.viewer.dataset.scale = String(scale);
  }

  private bindViewer(): void {
    const v = this.viewer;
    v.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        const box = v.getBoundingClientRect();
        this.zoomBy(Math.exp(-e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.002)), e.clientX - box.left, e.clientY - box.top);
      },
      { passive: false },
    );
    v.addEventListener('dblclick', (e) => {
      const box = v.getBoundingClientRect();
      if (this.view.scale >= 1 && !this.view.fit) this.fit();
      else this.zoomTo(Math.max(2, this.view.scale * 2), e.clientX - box.left, e.clientY - box.top);
    });
    v.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      v.setPointerCapture(e.pointerId);
      this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
      v.classList.add('is-panning');
    });
    v.addEventListener('pointermove', (e) => {
      const last = this.pointers.get(e.pointerId);
      if (!last) return;
      if (this.pointers.size === 2) {
        // Pinch: zoom by the change in distance, around the midpoint.
        const [a, b] = [...this.pointers.entries()];
        const other = a[0] === e.pointerId ? b[1] : a[1];
        const before = Math.hypot(last.x - other.x, last.y - other.y);
        const after = Math.hypot(e.clientX - other.x, e.clientY - other.y);
        const box = v.getBoundingClientRect();
        if (before > 0) this.zoomBy(after / before, (e.clientX + other.x) / 2 - box.left, (e.clientY + other.y) / 2 - box.top);
      } else {
        this.panBy(e.clientX - last.x, e.clientY - last.y);
      }
      this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    });
    const end = (e: PointerEvent) => {
      this.pointers.delete(e.pointerId);
      if (this.pointers.size === 0) v.classList.remove('is-panning');
    };
    v.addEventListener('pointerup', end);
    v.addEventListener('pointercancel', end);
    v.addEventListener('keydown', (e) => {
      if (e.target !== v) return;
      const step = Math.max(v.clientWidth, v.clientHeight) * 0.1;
      const actions: Record<string, () => void> = {
        ArrowLeft: () => this.panBy(step, 0),
        ArrowRight: () => this.panBy(-step, 0),
        ArrowUp: () => this.panBy(0, step),
        ArrowDown: () => this.panBy(0, -step),
        '+': () => this.zoomBy(2),
        '=': () => this.zoomBy(2),
        '-': () => this.zoomBy(0.5),
        '0': () => this.fit(),
        '1': () => this.zoomTo(1),
      };
      const action = actions[e.key];
      if (!action) return;
      e.preventDefault();
      action();
    });
  }
}

function scoreWords(score: number): string {
  if (score >= 90) return 'visually lossless';
  if (score >= 80) return 'very good';
  if (score >= 70) return 'good';
  if (score >= 50) return 'medium';
  return 'low';
}
