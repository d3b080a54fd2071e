// Where files come from: the file picker, the folder picker, drag and drop (files or whole
// folders), and the bundled samples.
import { $ } from './dom.ts';

export interface Incoming {
  file: File;
  /** The name with its folder, for folders; the bare name otherwise. */
  path: string;
}

export const SAMPLES = ['skimage-rocket.jpg', 'flower2.jpg', 'transparent.png', 'hopper.png'];

/** Files in a folder that are worth a card: images by type or name; no hidden files. */
const IMAGE_NAME = /\.(jpe?g|jfif|png|apng|webp|gif|bmp|avif)$/i;
function looksLikeImage(file: File, path: string): boolean {
  if (path.split('/').some((part) => part.startsWith('.'))) return false;
  return file.type.startsWith('image/') || IMAGE_NAME.test(file.name);
}

export interface IntakeHooks {
  add(files: Incoming[], skipped: number): void;
  error(message: string): void;
}

export function setUpIntake(hooks: IntakeHooks): void {
  const fileInput = $<HTMLInputElement>('#file-input');
  const folderInput = $<HTMLInputElement>('#folder-input');
  const dropZone = $('#drop-zone');
  const samplesButton = $<HTMLButtonElement>('#samples-button');

  // Files picked one by one were chosen on purpose: each gets a card, even one that is not an image.
  fileInput.addEventListener('change', () => {
    const files = Array.from(fileInput.files ?? []);
    fileInput.value = '';
    hooks.add(files.map((file) => ({ file, path: file.name })), 0);
  });

  folderInput.addEventListener('change', () => {
    const all = Array.from(folderInput.files ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
    folderInput.value = '';
    const images = all.filter((f) => looksLikeImage(f.file, f.path));
    hooks.add(images, all.length - images.length);
  });

  samplesButton.addEventListener('click', async () => {
    samplesButton.disabled = true;
    try {
      const files = await Promise.all(
        SAMPLES.map(async (name) => {
          const response = await fetch(new URL(`samples/${name}`, document.baseURI));
          if (!response.ok) throw new Error(`could not load the sample ${name}: HTTP ${response.status}`);
          const blob = await response.blob();
          return { file: new File([blob], name, { type: blob.type }), path: name };
        }),
      );
      hooks.add(files, 0);
    } catch (err) {
      hooks.error(err instanceof Error ? err.message : String(err));
    } finally {
      samplesButton.disabled = false;
      samplesButton.focus();
    }
  });

  // Dropping anywhere on the page counts: the browser would otherwise open the file.
  let depth = 0;
  const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
  window.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth += 1;
    dropZone.classList.add('is-dragging');
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) dropZone.classList.remove('is-dragging');
  });
  window.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  window.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    dropZone.classList.remove('is-dragging');
    void dropped(e.dataTransfer!).then(({ files, skipped }) => hooks.add(files, skipped), (err) => hooks.error(String(err)));
  });
}

/** Dropped files, with dropped folders walked (their non-images skipped and counted). */
async function dropped(data: DataTransfer): Promise<{ files: Incoming[]; skipped: number }> {
  const entries = Array.from(data.items ?? [])
    .filter((i) => i.kind === 'file')
    .map((i) => i.webkitGetAsEntry?.() ?? null);
  // Without the entries API (or for plain files) the file list is all there is.
  if (entries.length === 0 || entries.every((e) => !e || e.isFile)) {
    return { files: Array.from(data.files).map((file) => ({ file, path: file.name })), skipped: 0 };
  }
  const files: Incoming[] = [];
  let skipped = 0;
  const walk = async (entry: FileSystemEntry, inFolder: boolean): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      const path = entry.fullPath.replace(/^\//, '');
      if (!inFolder || looksLikeImage(file, path)) files.push({ file, path });
      else skipped += 1;
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries answers in batches until it answers with none.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, true);
      }
    }
  };
  for (const entry of entries) if (entry) await walk(entry, false);
  files.sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
  return { files, skipped };
}
