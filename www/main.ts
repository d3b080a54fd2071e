// The mediaslim demo page: pick or drop images (or load the samples), choose a format, quality
// and maximum width, and get a card per image with the optimized result and what it saved.
import type { OptimizeOptions, TargetFormat } from 'mediaslim';
import { OptimizeFailure, OptimizerPool, type Outcome } from './pool.ts';
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

// One worker per spare core (at least one, at most four): each holds its own wasm instance.
const pool = new OptimizerPool(Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)));

interface Item {
  file: File;
  card: HTMLLIElement;
  originalUrl: string;
  outputUrl: string | null;
  run: number;
  state: 'queued' | 'working' | 'done' | 'error';
  outputBytes: number;
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
  const lossless = format === 'png' || format === 'webp';
  qualityInput.disabled = lossless;
  qualityInput.closest('.field')?.classList.toggle('is-disabled', lossless);
}

function currentOptions(): OptimizeOptions {
  const options: OptimizeOptions = { format: formatSelect.value as TargetFormat };
  const format = formatSelect.value;
  if (format !== 'png' && format !== 'webp') options.quality = Number(qualityInput.value);
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
  return { file, card, originalUrl, outputUrl: null, run: 0, state: 'queued', outputBytes: 0 };
}

function setStatus(item: Item, state: Item['state'], label: string): void {
  item.state = state;
  item.card.dataset.status = state;
  const badge = $<HTMLElement>('.badge', item.card);
  badge.textContent = label;
  badge.className = `badge badge-${state}`;
  item.card.setAttribute('aria-busy', String(state === 'queued' || state === 'working'));
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

function showFailure(item: Item, err: unknown): void {
  const { card } = item;
  const code = err instanceof OptimizeFailure ? err.code : 'UNEXPECTED';
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
  const pending = total - done.length - failed;
  const parts = [`${total} image${total === 1 ? '' : 's'}`];
  if (pending > 0) parts.push(`${pending} in progress`);
  if (done.length > 0) {
    const before = done.reduce((sum, i) => sum + i.file.size, 0);
    const after = done.reduce((sum, i) => sum + i.outputBytes, 0);
    const saved = before > 0 ? (1 - after / before) * 100 : 0;
    parts.push(`${formatBytes(before)} → ${formatBytes(after)} (${saved >= 0 ? 'saved' : 'grew'} ${Math.abs(saved).toFixed(0)}%)`);
  }
  if (failed > 0) parts.push(`${failed} failed`);
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

async function optimizeItem(item: Item, options: OptimizeOptions): Promise<void> {
  const mine = ++run;
  item.run = mine;
  resetCard(item);
  updateSummary();
  try {
    // The card says "Optimizing" once a worker has the file; until then it is queued.
    const outcome = await pool.run(item.file, options, () => {
      if (item.run !== mine) return;
      setStatus(item, 'working', 'Optimizing…');
      $<HTMLElement>('.output-frame .frame-note', item.card).textContent = 'Optimizing…';
    });
    if (item.run !== mine || !items.includes(item)) return;
    showOutcome(item, outcome);
  } catch (err) {
    if (item.run !== mine || !items.includes(item)) return;
    showFailure(item, err);
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
