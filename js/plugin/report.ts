// The end-of-build report (printed once, and handed to `onReport`) and the progress line shown
// on a terminal during long builds.

export interface ReportFile {
  /** The source, relative to the project root. */
  source: string;
  /** The emitted file (relative to the output folder), when known. */
  output?: string;
  /** `variant`: made for a directive import; `asset`: a bundled image re-compressed in place;
   * `public`: a file copied from the public folder, re-compressed. */
  kind: 'variant' | 'asset' | 'public';
  format: string;
  width?: number;
  height?: number;
  /** Bytes of the source file. */
  before: number;
  /** Bytes of what was emitted. */
  after: number;
  /** Served from the cache rather than encoded in this build. */
  cached: boolean;
  /** The original was kept (re-encoding did not make it smaller). */
  keptOriginal: boolean;
}

export interface Report {
  /** Distinct source images that directive imports asked for. */
  sources: number;
  /** Files emitted for directive imports. */
  variants: number;
  /** Plain images (bundled or public) re-compressed in place. */
  assets: number;
  /** Bytes before (each emitted file counts its source's size) and after. */
  bytesBefore: number;
  bytesAfter: number;
  /** 100 * (1 - after / before), one decimal. */
  savedPercent: number;
  /** Variants encoded in this build (cache misses). */
  encodes: number;
  /** Variants, probes and placeholders read from the disk cache. */
  cacheHits: number;
  /** Jobs run in the worker pool (0 when everything came from the cache). */
  poolJobs: number;
  /** Wall time from the build's start to the report, in milliseconds. */
  ms: number;
  cacheDir?: string;
  files: ReportFile[];
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

export function summarize(files: ReportFile[], counters: { encodes: number; cacheHits: number; poolJobs: number }, ms: number, cacheDir?: string): Report {
  const bytesBefore = files.reduce((s, f) => s + f.before, 0);
  const bytesAfter = files.reduce((s, f) => s + f.after, 0);
  return {
    sources: new Set(files.filter((f) => f.kind === 'variant').map((f) => f.source)).size,
    variants: files.filter((f) => f.kind === 'variant').length,
    assets: files.filter((f) => f.kind !== 'variant').length,
    bytesBefore,
    bytesAfter,
    savedPercent: bytesBefore ? Math.round(1000 * (1 - bytesAfter / bytesBefore)) / 10 : 0,
    encodes: counters.encodes,
    cacheHits: counters.cacheHits,
    poolJobs: counters.poolJobs,
    ms: Math.round(ms),
    cacheDir,
    files,
  };
}

export function reportLine(r: Report): string {
  const parts: string[] = [];
  if (r.variants) parts.push(`${r.variants} variant${r.variants === 1 ? '' : 's'} of ${r.sources} image${r.sources === 1 ? '' : 's'}`);
  if (r.assets) parts.push(`${r.assets} asset${r.assets === 1 ? '' : 's'} re-compressed`);
  if (!parts.length) parts.push('no images');
  const bytes = r.bytesBefore ? `, ${formatBytes(r.bytesBefore)} -> ${formatBytes(r.bytesAfter)} (${r.savedPercent >= 0 ? '-' : '+'}${Math.abs(r.savedPercent)}%)` : '';
  return `mediaslim: ${parts.join(', ')}${bytes} in ${(r.ms / 1000).toFixed(1)} s; ${r.encodes} encoded, ${r.cacheHits} from cache`;
}

/**
 * Progress for long builds: at most one whole line every `everyMs` on stderr (whole lines, so
 * they never tangle with the bundler's own progress display).
 */
export class Progress {
  private done = 0;
  private startedAt = 0;
  private last = 0;

  constructor(
    private readonly enabled: boolean,
    private readonly everyMs = 5000,
  ) {}

  tick(count = 1): void {
    const now = Date.now();
    if (this.done === 0) this.startedAt = this.last = now;
    this.done += count;
    if (!this.enabled || now - this.last < this.everyMs) return;
    this.last = now;
    const clear = process.stderr.isTTY ? '\r\x1b[K' : '';
    process.stderr.write(`${clear}mediaslim: ${this.done} image${this.done === 1 ? '' : 's'} encoded (${Math.round((now - this.startedAt) / 1000)} s)...\n`);
  }

  end(): void {
    this.done = 0;
  }
}
