// One card per file: a thumbnail (the optimized output once it exists, the original dimmed
// before), its numbers, its error, and its actions. Cards are drawn from the Item alone, so
// any change is one `render(item)`.
import { $, h } from './dom.ts';
import { formatBytes, formatLabel, formatMs, formatSaved, outputName, savedPercent } from './format.ts';
import type { Item, Store } from './items.ts';

export interface CardActions {
  open(item: Item, opener: HTMLElement): void;
  cancel(item: Item): void;
  retry(item: Item): void;
  remove(item: Item): void;
}

const STATUS_LABEL: Record<Item['status'], string> = {
  idle: 'Waiting',
  queued: 'Queued',
  working: 'Encoding…',
  done: 'Done',
  error: 'Failed',
  cancelled: 'Cancelled',
};

/** Errors worth trying again (the others would fail the same way). */
const RETRYABLE = new Set(['WORKER_CRASHED', 'ENCODE_FAILED', 'UNEXPECTED']);

export class Cards {
  private readonly cards = new Map<number, HTMLLIElement>();
  private ticker: number | undefined;

  constructor(
    private readonly list: HTMLUListElement,
    private readonly store: Store,
    private readonly actions: CardActions,
  ) {}

  card(item: Item): HTMLLIElement | undefined {
    return this.cards.get(item.id);
  }

  add(item: Item): HTMLLIElement {
    const nameId = `card-${item.id}-name`;
    const name = item.path.split('/').pop() ?? item.path;
    const thumb = h(
      'button',
      { type: 'button', class: 'thumb', 'aria-label': `Compare ${name}: original and optimized` },
      h('img', { class: 'thumb-img', alt: '', decoding: 'async', loading: 'lazy', hidden: true }),
      h('span', { class: 'thumb-note' }, 'Waiting'),
      h('span', { class: 'thumb-bar', 'aria-hidden': 'true' }),
      h('span', { class: 'thumb-hint', 'aria-hidden': 'true' }, 'Compare'),
    );
    thumb.addEventListener('click', () => this.actions.open(item, thumb));

    const stat = (label: string, cls: string) => h('div', { class: `stat ${cls}` }, h('dt', {}, label), h('dd', {}));
    const cancel = h('button', { type: 'button', class: 'button small subtle cancel', 'aria-label': `Cancel ${name}`, hidden: true }, 'Cancel');
    cancel.addEventListener('click', () => this.actions.cancel(item));
    const retry = h('button', { type: 'button', class: 'button small retry', 'aria-label': `Retry ${name}`, hidden: true }, 'Retry');
    retry.addEventListener('click', () => this.actions.retry(item));
    const remove = h('button', { type: 'button', class: 'button small subtle icon remove', 'aria-label': `Remove ${name}`, title: 'Remove' }, '✕');
    remove.addEventListener('click', () => this.actions.remove(item));

    const card = h(
      'li',
      { class: 'card', 'data-status': 'idle', 'data-file': item.path, 'data-id': item.id },
      h(
        'article',
        { class: 'card-body', 'aria-labelledby': nameId },
        thumb,
        h(
          'div',
          { class: 'card-main' },
          h('div', { class: 'card-head' }, h('h3', { class: 'card-name', id: nameId, title: item.path }, name), h('span', { class: 'badge' })),
          h('p', { class: 'card-source' }),
          h(
            'dl',
            { class: 'stats', hidden: true },
            stat('After', 'stat-after'),
            stat('Saved', 'stat-saved'),
            stat('Size', 'stat-dimensions'),
            stat('Time', 'stat-time'),
            stat('Score', 'stat-score'),
          ),
          h('ul', { class: 'notes', hidden: true }),
          h('p', { class: 'error', hidden: true }, h('code', { class: 'error-code' }), ' ', h('span', { class: 'error-message' })),
          h(
            'div',
            { class: 'card-actions' },
            h('a', { class: 'button small primary download', hidden: true }, 'Download'),
            cancel,
            retry,
            remove,
          ),
        ),
      ),
    );
    this.cards.set(item.id, card);
    this.list.append(card);
    this.render(item);
    return card;
  }

  delete(item: Item): void {
    this.cards.get(item.id)?.remove();
    this.cards.delete(item.id);
  }

  clear(): void {
    this.cards.clear();
    this.list.replaceChildren();
  }

  render(item: Item): void {
    const card = this.cards.get(item.id);
    if (!card) return;
    const q = <T extends HTMLElement = HTMLElement>(s: string) => $<T>(s, card);
    const { status, outcome, error, probe, file } = item;
    card.dataset.status = status;
    card.setAttribute('aria-busy', String(status === 'queued' || status === 'working'));
    card.classList.toggle('is-error', status === 'error');
    card.classList.toggle('is-custom', !!item.override);

    const badge = q('.badge');
    const saved = outcome ? savedPercent(outcome.result.originalBytes, outcome.result.bytes.byteLength) : 0;
    badge.textContent = status === 'done' && saved > 0 ? `−${saved.toFixed(0)}%` : STATUS_LABEL[status];
    badge.className = `badge badge-${status}`;

    // Source line: what the file is, from its header once probed.
    const source = probe ? `${formatLabel(probe.format)} · ${probe.width}×${probe.height} · ${formatBytes(file.size)}` : formatBytes(file.size);
    q('.card-source').textContent = item.override ? `${source} · own settings` : source;

    // Thumbnail: the output once there is one; until then the original, dimmed.
    const img = q<HTMLImageElement>('.thumb-img');
    if (outcome) {
      if (img.dataset.src !== outcome.url) {
        img.src = outcome.url;
        img.dataset.src = outcome.url;
      }
      img.alt = '';
      img.hidden = false;
    } else if (item.visible || item.originalUrl) {
      item.originalUrl ??= URL.createObjectURL(file);
      if (img.dataset.src !== item.originalUrl) {
        img.src = item.originalUrl;
        img.dataset.src = item.originalUrl;
        img.onerror = () => (img.hidden = true);
      }
      img.hidden = false;
    }
    card.classList.toggle('has-output', !!outcome);
    const note = q('.thumb-note');
    note.hidden = status === 'done';
    note.textContent = status === 'working' && item.job ? `Encoding… ${elapsed(item.job.startedAt)}` : STATUS_LABEL[status];
    card.classList.toggle('has-alpha', probe?.hasAlpha ?? false);

    // Numbers.
    const stats = q('.stats');
    stats.hidden = !outcome;
    if (outcome) {
      const r = outcome.result;
      const after = r.bytes.byteLength;
      Object.assign(card.dataset, {
        format: r.format,
        width: String(r.width),
        height: String(r.height),
        originalBytes: String(r.originalBytes),
        outputBytes: String(after),
      });
      q('.stat-after dd').textContent = `${formatLabel(r.format)} ${formatBytes(after)}`;
      const savedEl = q('.stat-saved dd');
      savedEl.textContent = formatSaved(saved);
      savedEl.classList.toggle('better', saved > 0);
      savedEl.classList.toggle('worse', saved < 0);
      q('.stat-dimensions dd').textContent = `${r.width}×${r.height}`;
      const time = q('.stat-time dd');
      time.textContent = formatMs(r.timings.encode);
      time.title = `decode ${formatMs(r.timings.decode)}, resize ${formatMs(r.timings.resize)}, encode ${formatMs(r.timings.encode)}; ${formatMs(outcome.wallMs)} in the worker`;
      q('.stat-score').hidden = outcome.score === undefined;
      q('.stat-score dd').textContent = outcome.score === undefined ? '' : outcome.score.toFixed(1);
      q('.stat-score dd').title = 'SSIMULACRA2: ~90 looks lossless, ~70 medium';
    } else {
      for (const key of ['format', 'width', 'height', 'originalBytes', 'outputBytes']) delete card.dataset[key];
    }

    const notes: string[] = [];
    if (outcome) {
      const r = outcome.result;
      if (r.keptOriginal) notes.push('Kept the original: re-encoding did not make it smaller.');
      else if (saved < 0) notes.push(`The ${formatLabel(r.format)} output is larger than the input; try another format.`);
      notes.push(...r.warnings);
    }
    const notesEl = q('.notes');
    notesEl.replaceChildren(...notes.map((text) => h('li', {}, text)));
    notesEl.hidden = notes.length === 0;

    const errorEl = q('.error');
    errorEl.hidden = !error;
    if (error) {
      card.dataset.errorCode = error.code;
      q('.error-code').textContent = error.code;
      q('.error-message').textContent = error.message;
    } else delete card.dataset.errorCode;

    const download = q<HTMLAnchorElement>('.download');
    download.hidden = !outcome;
    if (outcome) {
      const r = outcome.result;
      const label = formatLabel(r.format);
      download.href = outcome.url;
      download.download = outputName(item.path, r.format).split('/').pop()!;
      download.textContent = 'Download';
      download.title = `${download.download}, ${label}, ${formatBytes(r.bytes.byteLength)}`;
      download.setAttribute('aria-label', `Download ${download.download}, ${label}, ${formatBytes(r.bytes.byteLength)}`);
    } else download.removeAttribute('href');

    const busy = status === 'queued' || status === 'working';
    q('.cancel').hidden = !busy;
    q('.retry').hidden = !(status === 'cancelled' || (status === 'error' && !!error && RETRYABLE.has(error.code)));
    this.tick(busy);
  }

  /** While something encodes, its elapsed time is redrawn every second. */
  private tick(busy: boolean): void {
    if (!busy || this.ticker !== undefined) return;
    this.ticker = window.setInterval(() => {
      let any = false;
      for (const item of this.store.items) {
        if (item.status !== 'working' || !item.job) continue;
        any = true;
        const note = this.cards.get(item.id)?.querySelector('.thumb-note');
        if (note) note.textContent = `Encoding… ${elapsed(item.job.startedAt)}`;
      }
      if (!any && !this.store.items.some((i) => i.status === 'queued')) {
        clearInterval(this.ticker);
        this.ticker = undefined;
      }
    }, 1000);
  }
}

function elapsed(since: number): string {
  const s = Math.floor((performance.now() - since) / 1000);
  return s < 1 ? '' : `${s} s`;
}
