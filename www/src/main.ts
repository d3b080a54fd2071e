// The mediaslim demo page: a batch image optimizer on the package's own worker pool.
// Modules by concern: intake (files in), items (the batch), queue (what encodes when),
// cards, compare (the before/after dialog), batch (summary, zip, cancel), settings, offline.
import { defaultPool } from 'mediaslim';
import { BatchBar } from './batch.ts';
import { Cards } from './cards.ts';
import { CompareDialog } from './compare.ts';
import { $, announce } from './dom.ts';
import { sniffFormat } from './format.ts';
import { setUpIntake, type Incoming } from './intake.ts';
import { Store, type Item } from './items.ts';
import { setUpOffline } from './offline.ts';
import { Scheduler } from './queue.ts';
import { defaultSettings, SettingsForm, type Settings } from './settings.ts';
import '../style.css';

const store = new Store();
const pool = defaultPool();
let batchSettings: Settings = defaultSettings();

const scheduler = new Scheduler(store, pool, (item) => item.override ?? batchSettings);

function setBatchSettings(settings: Settings): void {
  batchSettings = settings;
  // Stale jobs are dropped; cards on screen re-encode first.
  scheduler.reconcileAll();
}

const batchForm = new SettingsForm($('#batch-settings'), batchSettings, (settings) => {
  setBatchSettings(settings);
  if (store.items.length > 0) announce('Settings changed: re-encoding the files on screen first.');
});
$('#settings').addEventListener('submit', (e) => e.preventDefault());

const compareDialog = new CompareDialog(store, scheduler, {
  batchSettings: () => batchSettings,
  applyToAll: (settings) => {
    batchForm.set(settings);
    setBatchSettings(settings);
  },
});

const results = $<HTMLUListElement>('#results');
const cards = new Cards(results, store, {
  open: (item, opener) => compareDialog.open(item, opener),
  cancel: (item) => scheduler.cancel(item),
  retry: (item) => scheduler.retry(item),
  remove: (item) => removeItem(item),
});

store.subscribe((item) => {
  if (item) cards.render(item);
});

function removeItem(item: Item): void {
  const card = cards.card(item);
  // Keyboard focus moves to the next card's first control (or the results heading).
  const next = card?.nextElementSibling ?? card?.previousElementSibling;
  scheduler.drop(item);
  if (card) scheduler.unwatch(card);
  cards.delete(item);
  store.remove(item);
  store.changed(null);
  (next?.querySelector<HTMLElement>('.thumb') ?? $('#results-heading')).focus();
  announce(`Removed ${item.path}`);
}

function clearAll(): void {
  for (const item of [...store.items]) {
    scheduler.drop(item);
    store.remove(item);
  }
  store.skipped = 0;
  cards.clear();
  store.changed(null);
  announce('Cleared');
}

async function addFiles(incoming: Incoming[], skipped: number): Promise<void> {
  // The first bytes say what each file is (so "Original" knows where a quality applies).
  const heads = await Promise.all(incoming.map(({ file }) => file.slice(0, 16).arrayBuffer().then((b) => sniffFormat(new Uint8Array(b)))));
  const added: Item[] = [];
  incoming.forEach(({ file, path }, i) => {
    const item = store.create(file, path, heads[i]);
    const card = cards.add(item);
    scheduler.watch(card, item);
    added.push(item);
  });
  store.skipped += skipped;
  store.changed(null);
  const skippedNote = skipped > 0 ? ` Skipped ${skipped} file${skipped === 1 ? '' : 's'} that ${skipped === 1 ? 'is' : 'are'} not an image.` : '';
  if (added.length === 0) {
    announce(`No images added.${skippedNote}`);
    return;
  }
  announce(`Added ${added.length} file${added.length === 1 ? '' : 's'}.${skippedNote}`);
  // Bring the first new card on screen if it is not (or barely) there: cards encode as they
  // come into view. After a frame, once the batch bar above the cards has appeared.
  await new Promise((resolve) => requestAnimationFrame(resolve));
  const firstCard = cards.card(added[0]);
  const box = firstCard?.getBoundingClientRect();
  if (firstCard && box && (box.top > innerHeight - 120 || box.bottom < 0)) firstCard.scrollIntoView({ block: 'nearest' });
}

setUpIntake({
  add: (files, skipped) => void addFiles(files, skipped),
  error: (message) => announce(message),
});

new BatchBar(store, scheduler, clearAll);
setUpOffline();

// For tests and the curious: what ran, and the pool it ran in.
Object.assign(window, { mediaslimDemo: { counters: scheduler.counters, pool, store, settings: () => batchSettings } });
document.body.dataset.ready = 'true';
