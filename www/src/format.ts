// How numbers, formats and file names are written on the page.

export const FORMAT_LABEL: Record<string, string> = { jpeg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', gif: 'GIF', bmp: 'BMP' };
export const EXTENSION: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' };

export function formatLabel(format: string): string {
  return FORMAT_LABEL[format] ?? format.toUpperCase();
}

/** 1023 B, 10.5 KB, 110 KB, 2.31 MB (binary units, as file managers show them). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(2)} MB`;
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Share of bytes saved, in percent; negative when the output grew. */
export function savedPercent(before: number, after: number): number {
  return before > 0 ? (1 - after / before) * 100 : 0;
}

/** "65.2%" saved, or "−12.0%" when it grew (a real minus sign). */
export function formatSaved(percent: number): string {
  return percent >= 0 ? `${percent.toFixed(1)}%` : `−${Math.abs(percent).toFixed(1)}%`;
}

export function stem(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** `photos/cat.jpg` + webp -> `photos/cat.webp`. */
export function outputName(path: string, format: string): string {
  const slash = path.lastIndexOf('/');
  const dir = slash >= 0 ? path.slice(0, slash + 1) : '';
  return `${dir}${stem(path.slice(slash + 1))}.${EXTENSION[format] ?? format}`;
}

/** The format a file's first bytes say it is (what the core will find), or null. */
export function sniffFormat(head: Uint8Array): string | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...head.slice(from, to));
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head[0] === 0x89 && ascii(1, 4) === 'PNG') return 'png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return ascii(12, 16) === 'VP8 ' ? 'webp-lossy' : 'webp';
  if (ascii(0, 3) === 'GIF') return 'gif';
  if (ascii(0, 2) === 'BM') return 'bmp';
  if (ascii(4, 8) === 'ftyp') return 'avif';
  return null;
}
