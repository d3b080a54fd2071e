// "Download all": every finished output in one zip, stored as is (images are compressed
// already; deflating them again costs time and saves nothing). Built with fflate's streaming
// Zip, so the archive is a list of chunks turned into a Blob, never one big copy.
import { Zip, ZipPassThrough } from 'fflate';
import { outputName } from './format.ts';
import type { Item } from './items.ts';

/** Zip entry names: each output under its folder, made unique ("cat.webp", "cat-2.webp"). */
export function entryNames(items: Item[]): string[] {
  const used = new Set<string>();
  return items.map((item) => {
    const name = outputName(item.path, item.outcome!.result.format);
    let candidate = name;
    const dot = name.lastIndexOf('.');
    for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${name.slice(0, dot)}-${n}${name.slice(dot)}`;
    used.add(candidate.toLowerCase());
    return candidate;
  });
}

/** A zip of the outputs of `items` (those that have one). */
export function zipOutputs(items: Item[]): Promise<Blob> {
  const done = items.filter((i) => i.outcome);
  const names = entryNames(done);
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const zip = new Zip((err, chunk, final) => {
      if (err) return reject(err);
      chunks.push(chunk);
      if (final) resolve(new Blob(chunks as BlobPart[], { type: 'application/zip' }));
    });
    done.forEach((item, i) => {
      const entry = new ZipPassThrough(names[i]);
      entry.mtime = item.file.lastModified || Date.now();
      zip.add(entry);
      entry.push(item.outcome!.result.bytes, true);
    });
    zip.end();
  });
}
