// The mediaslim demo page: pick or drop images (or load the samples), choose a format, quality
// and maximum width, and get a card per image with the optimized result and what it saved.
// Every call runs in the package's own worker pool (one wasm instance per core), so the page
// stays responsive: the batch at priority `visible`, a card the user retries at `user`.
import { MediaslimError, optimize, probe } from 'mediaslim';
import type { OptimizeOptions, OptimizeResult, Priority, ProbeInfo, TargetFormat } from 'mediaslim';
import './style.css';

const SAMPLES = ['skimage-rocket.jpg', 'flower2.jpg', 'transparent.png', 'hopper.png'];
const FORMAT_LABEL: Record<string, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', gif: 'GIF', bmp: 'BMP' };
const EXTENSION: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' };
/** Default quality per output format when the user has not moved the slider. */
const DEFAULT_QUALITY: Record<string, number> = { avif: 60 };

function $<T extends Element>(selector: string, root: ParentNode = document): T {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`missing element ${selector}`);
  return found;
}

const fileInput = $<HTMLInputElement>('#file-input');
const dropZone = $<HTMLElement>('#drop-zone');
const samplesButton = $<HTMLButtonElement>('#samples-button');
const form = $<HTMLFormElement>('#settings');
const formatSelect = $<HTMLSelectElement>('#format');
const qualityInput = $<HTMLInputElement>('#quality');
const qualityValue = $<HTMLOutputElement>('#quality-value');
const maxWidthInput = $<HTMLInputElement>('#max-width');
const rerunButton = $<HTMLButtonElement>('#rerun');
const clearButton = $<HTMLButtonElement>('#clear');
const results = $<HTMLUListElement>('#results');
const summary = $<HTMLParagraphElement>('#summary');
const template = $<HTMLTemplateElement>('#card-template');

interface Item {
  file: File;
  card: HTMLLIElement;
  originalUrl: string;
  outputUrl: string | null;
  run: number;
  state: 'queued' | 'working' | 'done' | 'error' | 'cancelled';
  outputBytes: number;
  /** Cancels the item's current run; null once it has settled. */
  controller: AbortController | null;
  /** The options of the last run, for a retry. */
  options: OptimizeOptions;
  /** The user pressed Cancel: keyboard focus moves to Retry once the card says so. */
  focusRetry: boolean;
}

interface Outcome {
  result: OptimizeResult;
  probe: ProbeInfo | null;
  /** From the moment a worker took the job to its answer. */
  wallMs: number;
}

const items: Item[] = [];
let run = 0;

// ---- formatting -------------------------------------------------------------------------

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MB`;
}

function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function stem(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

// ---- settings ---------------------------------------------------------------------------

let qualityTouched = false;

function syncQuality(): void {
  qualityValue.value = qualityInput.value;
  const format = formatSelect.value;
  const lossless = format === 'png';
  qualityInput.disabled = lossless;
  qualityInput.closest('.field')?.classList.toggle('is-disabled', lossless);
}

function currentOptions(): OptimizeOptions {
  const options: OptimizeOptions = { format: formatSelect.value as TargetFormat };
  const format = formatSelect.value;
  if (format !== 'png') options.quality = Number(qualityInput.value);
  const maxWidth = Math.floor(Number(maxWidthInput.value));
  if (maxWidthInput.value.trim() !== '' && Number.isFinite(maxWidth) && maxWidth > 0) options.width = maxWidth;
  return options;
}

qualityInput.addEventListener('input', () => {
  qualityTouched = true;
  syncQuality();
});
formatSelect.addEventListener('change', () => {
  if (!qualityTouched) qualityInput.value = String(DEFAULT_QUALITY[formatSelect.value] ?? 80);
  syncQuality();
});
syncQuality();

// ---- cards ------------------------------------------------------------------------------

function createCard(file: File): Item {
  const card = (template.content.firstElementChild as HTMLLIElement).cloneNode(true) as HTMLLIElement;
  const titleId = `card-${Math.random().toString(36).slice(2)}`;
  const name = $<HTMLHeadingElement>('.card-name', card);
  name.textContent = file.name;
  name.id = titleId;
  name.title = file.name;
  $<HTMLElement>('.card-body', card).setAttribute('aria-labelledby', titleId);
  card.dataset.file = file.name;

  const originalUrl = URL.createObjectURL(file);
  const originalImg = $<HTMLImageElement>('.original-img', card);
  originalImg.alt = `Original: ${file.name}`;
  originalImg.addEventListener('error', () => {
    originalImg.hidden = true;
    originalImg.parentElement?.insertAdjacentHTML('beforeend', '<span class="frame-note">No preview</span>');
  });
  originalImg.src = originalUrl;
  $<HTMLElement>('.original-caption', card).textContent = `Original · ${formatBytes(file.size)}`;
  const item: Item = { file, card, originalUrl, outputUrl: null, run: 0, state: 'queued', outputBytes: 0, controller: null, options: {}, focusRetry: false };

  const cancel = $<HTMLButtonElement>('.cancel', card);
  cancel.setAttribute('aria-label', `Cancel ${file.name}`);
  cancel.addEventListener('click', () => {
    item.focusRetry = true;
    item.controller?.abort(new Error('cancelled by the user'));
  });
  const retry = $<HTMLButtonElement>('.retry', card);
  retry.setAttribute('aria-label', `Retry ${file.name}`);
  // The user asked for this one card: it goes ahead of the batch.
  retry.addEventListener('click', () => void optimizeItem(item, item.options, 'user'));
  return item;
}

function setStatus(item: Item, state: Item['state'], label: string): void {
  item.state = state;
  item.card.dataset.status = state;
  const badge = $<HTMLElement>('.badge', item.card);
  badge.textContent = label;
  badge.className = `badge badge-${state}`;
  const busy = state === 'queued' || state === 'working';
  item.card.setAttribute('aria-busy', String(busy));
  $<HTMLButtonElement>('.cancel', item.card).hidden = !busy;
  // A cancelled card, or one whose worker crashed, can be tried again.
  $<HTMLButtonElement>('.retry', item.card).hidden = !(state === 'cancelled' || (state === 'error' && item.card.dataset.errorCode === 'WORKER_CRASHED'));
}

function resetCard(item: Item): void {
  const { card } = item;
  if (item.outputUrl) URL.revokeObjectURL(item.outputUrl);
  item.outputUrl = null;
  item.outputBytes = 0;
  for (const key of ['format', 'width', 'height', 'originalBytes', 'outputBytes', 'errorCode']) delete card.dataset[key];
  const outputImg = $<HTMLImageElement>('.output-img', card);
  outputImg.hidden = true;
  outputImg.removeAttribute('src');
  const note = $<HTMLElement>('.output-frame .frame-note', card);
  note.hidden = false;
  note.textContent = 'Waiting…';
  $<HTMLElement>('.output-caption', card).textContent = 'Optimized';
  $<HTMLElement>('.stats', card).hidden = true;
  $<HTMLElement>('.notes', card).hidden = true;
  $<HTMLElement>('.error', card).hidden = true;
  $<HTMLAnchorElement>('.download', card).hidden = true;
  card.classList.remove('is-error');
  setStatus(item, 'queued', 'Queued');
}

function showWorking(item: Item): void {
  setStatus(item, 'working', 'Optimizing…');
  $<HTMLElement>('.output-frame .frame-note', item.card).textContent = 'Optimizing…';
}

function showOutcome(item: Item, { result, probe, wallMs }: Outcome): void {
  const { card, file } = item;
  const blob = new Blob([result.bytes as BlobPart], { type: `image/${result.format}` });
  const url = URL.createObjectURL(blob);
  item.outputUrl = url;
  item.outputBytes = result.bytes.byteLength;

  const label = FORMAT_LABEL[result.format] ?? result.format.toUpperCase();
  const before = result.originalBytes;
  const after = result.bytes.byteLength;
  const saved = before > 0 ? (1 - after / before) * 100 : 0;

  Object.assign(card.dataset, {
    format: result.format,
    width: String(result.width),
    height: String(result.height),
    originalBytes: String(before),
    outputBytes: String(after),
  });

  const outputImg = $<HTMLImageElement>('.output-img', card);
  outputImg.alt = `Optimized ${label}, ${result.width} by ${result.height} pixels: ${file.name}`;
  outputImg.src = url;
  outputImg.hidden = false;
  $<HTMLElement>('.output-frame .frame-note', card).hidden = true;
  $<HTMLElement>('.output-caption', card).textContent = `Optimized · ${label} · ${result.width}×${result.height} · ${formatBytes(after)}`;

  for (const frame of card.querySelectorAll('.frame')) frame.classList.toggle('has-alpha', probe?.hasAlpha ?? true);
  if (probe) {
    const from = FORMAT_LABEL[probe.format] ?? probe.format.toUpperCase();
    $<HTMLElement>('.original-caption', card).textContent =
      `Original · ${from} · ${probe.width}×${probe.height} · ${formatBytes(file.size)}`;
  }

  $<HTMLElement>('.stat-format', card).textContent = label;
  $<HTMLElement>('.stat-dimensions', card).textContent = `${result.width}×${result.height}`;
  $<HTMLElement>('.stat-before', card).textContent = formatBytes(before);
  $<HTMLElement>('.stat-after', card).textContent = formatBytes(after);
  const savedEl = $<HTMLElement>('.stat-saved', card);
  // Negative when the output grew (a lossless re-encode of a JPEG, say); a note says so too.
  savedEl.textContent = saved >= 0 ? `${saved.toFixed(1)}%` : `−${Math.abs(saved).toFixed(1)}%`;
  savedEl.classList.toggle('worse', saved < 0);
  savedEl.classList.toggle('better', saved > 0);
  const t = result.timings;
  const timeEl = $<HTMLElement>('.stat-time', card);
  timeEl.textContent = formatMs(t.encode);
  timeEl.title = `decode ${formatMs(t.decode)}, resize ${formatMs(t.resize)}, encode ${formatMs(t.encode)}; ${formatMs(wallMs)} in all`;
  $<HTMLElement>('.stats', card).hidden = false;

  const notes: string[] = [...result.warnings];
  if (result.keptOriginal) notes.unshift('Kept the original: re-encoding did not make it smaller.');
  else if (saved < 0) notes.push(`The ${label} output is larger than the input; try another format.`);
  const notesEl = $<HTMLUListElement>('.notes', card);
  notesEl.replaceChildren(
    ...notes.map((text) => {
      const li = document.createElement('li');
      li.textContent = text;
      return li;
    }),
  );
  notesEl.hidden = notes.length === 0;

  const download = $<HTMLAnchorElement>('.download', card);
  download.href = url;
  download.download = `${stem(file.name)}.slim.${EXTENSION[result.format] ?? result.format}`;
  download.textContent = `Download ${label} (${formatBytes(after)})`;
  download.setAttribute('aria-label', `Download optimized ${file.name} as ${label}, ${formatBytes(after)}`);
  download.hidden = false;

  setStatus(item, 'done', saved > 0 ? `−${saved.toFixed(0)}%` : 'Done');
}

function showCancelled(item: Item): void {
  const note = $<HTMLElement>('.output-frame .frame-note', item.card);
  note.hidden = false;
  note.textContent = 'Cancelled';
  $<HTMLElement>('.output-caption', item.card).textContent = 'No output';
  setStatus(item, 'cancelled', 'Cancelled');
  if (item.focusRetry) $<HTMLButtonElement>('.retry', item.card).focus();
  item.focusRetry = false;
}

function showFailure(item: Item, err: unknown): void {
  const { card } = item;
  const code = err instanceof MediaslimError ? err.code : 'UNEXPECTED';
  const message = err instanceof Error ? err.message : String(err);
  card.dataset.errorCode = code;
  card.classList.add('is-error');
  $<HTMLElement>('.error-code', card).textContent = code;
  $<HTMLElement>('.error-message', card).textContent = message;
  $<HTMLElement>('.error', card).hidden = false;
  const note = $<HTMLElement>('.output-frame .frame-note', card);
  note.hidden = false;
  note.textContent = 'Failed';
  $<HTMLElement>('.output-caption', card).textContent = 'No output';
  setStatus(item, 'error', 'Failed');
}

// ---- running ----------------------------------------------------------------------------

function updateSummary(): void {
  const total = items.length;
  rerunButton.disabled = total === 0;
  clearButton.disabled = total === 0;
  if (total === 0) {
    summary.textContent = 'No images yet. Choose some, drop them above, or try the samples.';
    return;
  }
  const done = items.filter((i) => i.state === 'done');
  const failed = items.filter((i) => i.state === 'error').length;
  const cancelled = items.filter((i) => i.state === 'cancelled').length;
  const pending = total - done.length - failed - cancelled;
  const parts = [`${total} image${total === 1 ? '' : 's'}`];
  if (pending > 0) parts.push(`${pending} in progress`);
  if (done.length > 0) {
    const before = done.reduce((sum, i) => sum + i.file.size, 0);
    const after = done.reduce((sum, i) => sum + i.outputBytes, 0);
    const saved = before > 0 ? (1 - after / before) * 100 : 0;
    parts.push(`${formatBytes(before)} → ${formatBytes(after)} (${saved >= 0 ? 'saved' : 'grew'} ${Math.abs(saved).toFixed(0)}%)`);
  }
  if (failed > 0) parts.push(`${failed} failed`);
  if (cancelled > 0) parts.push(`${cancelled} cancelled`);
  // Each part stays on one line; the line breaks between them on narrow screens.
  summary.replaceChildren(
    ...parts.flatMap((text, i) => {
      const span = document.createElement('span');
      span.className = 'nowrap';
      span.textContent = text;
      return i === 0 ? [span] : [' · ', span];
    }),
  );
  document.body.dataset.pending = String(pending);
}

/** Whether a file starts like a JPEG (read from its first bytes, on the page). */
async function isJpeg(file: Blob): Promise<boolean> {
  const head = new Uint8Array(await file.slice(0, 3).arrayBuffer());
  return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

/** The header read and the optimize itself, queued together in the package's worker pool. */
async function runJob(item: Item, options: OptimizeOptions, priority: Priority, signal: AbortSignal, isCurrent: () => boolean): Promise<Outcome> {
  // "Same as input" keeps PNG, GIF and BMP sources lossless (and lossless WebP), where a
  // quality would only earn a warning: pass it for JPEG sources only.
  const opts: OptimizeOptions = { ...options };
  if (opts.format === 'original' && !(await isJpeg(item.file))) delete opts.quality;
  // The header read is cheap and lets the card show the source format and dimensions; a file
  // that cannot even be probed gets its error from optimize(), which says the same.
  const info = probe(item.file, { priority, signal }).catch(() => null);
  let started = performance.now();
  const result = await optimize(item.file, {
    ...opts,
    priority,
    signal,
    // The card says "Optimizing" once a worker has the file; until then it is queued.
    onProgress: (event) => {
      if (event.stage !== 'running') return;
      started = performance.now();
      if (isCurrent()) showWorking(item);
    },
  });
  return { result, probe: await info, wallMs: performance.now() - started };
}

async function optimizeItem(item: Item, options: OptimizeOptions, priority: Priority = 'visible'): Promise<void> {
  const mine = ++run;
  // A new run replaces the item's previous one: the pool drops it if it is still waiting.
  item.controller?.abort(new Error('replaced by a newer run'));
  const controller = new AbortController();
  item.controller = controller;
  item.focusRetry = false;
  item.run = mine;
  item.options = options;
  resetCard(item);
  updateSummary();
  const isCurrent = () => item.run === mine && items.includes(item);
  try {
    const outcome = await runJob(item, options, priority, controller.signal, isCurrent);
    if (!isCurrent()) return;
    showOutcome(item, outcome);
  } catch (err) {
    if (!isCurrent()) return;
    if (controller.signal.aborted && err instanceof MediaslimError && err.code === 'ABORTED') showCancelled(item);
    else showFailure(item, err);
  } finally {
    if (item.controller === controller) item.controller = null;
  }
  updateSummary();
}

function addFiles(files: Iterable<File>): void {
  const options = currentOptions();
  const added: Item[] = [];
  for (const file of files) {
    const item = createCard(file);
    items.push(item);
    results.append(item.card);
    added.push(item);
  }
  if (added.length === 0) return;
  added[0].card.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  for (const item of added) void optimizeItem(item, options);
}

fileInput.addEventListener('change', () => {
  if (fileInput.files) addFiles(Array.from(fileInput.files));
  fileInput.value = '';
});

samplesButton.addEventListener('click', async () => {
  samplesButton.disabled = true;
  try {
    const files = await Promise.all(
      SAMPLES.map(async (name) => {
        const response = await fetch(new URL(`samples/${name}`, document.baseURI));
        if (!response.ok) throw new Error(`could not load sample ${name}: HTTP ${response.status}`);
        const blob = await response.blob();
        return new File([blob], name, { type: blob.type });
      }),
    );
    addFiles(files);
  } catch (err) {
    summary.textContent = err instanceof Error ? err.message : String(err);
  } finally {
    samplesButton.disabled = false;
  }
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const options = currentOptions();
  for (const item of items) void optimizeItem(item, options);
});

clearButton.addEventListener('click', () => {
  for (const item of items) {
    item.controller?.abort(new Error('cleared'));
    URL.revokeObjectURL(item.originalUrl);
    if (item.outputUrl) URL.revokeObjectURL(item.outputUrl);
  }
  items.length = 0;
  results.replaceChildren();
  updateSummary();
});

// ---- drag and drop ----------------------------------------------------------------------

let dragDepth = 0;
const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;

window.addEventListener('dragenter', (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth += 1;
  dropZone.classList.add('is-dragging');
});
window.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) dropZone.classList.remove('is-dragging');
});
// Dropping anywhere on the page counts: the browser would otherwise navigate to the file.
window.addEventListener('dragover', (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
});
window.addEventListener('drop', (event) => {
  if (!hasFiles(event)) return;
  event.preventDefault();
  dragDepth = 0;
  dropZone.classList.remove('is-dragging');
  addFiles(Array.from(event.dataTransfer?.files ?? []));
});

updateSummary();
document.body.dataset.ready = 'true';
