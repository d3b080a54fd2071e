// What a run produced: one Entry per output (per input and width with --widths, or per input
// that failed), a summary table for people and a JSON report for programs.

export interface Entry {
  /** The input file (or argument, for a path that named nothing), relative to the cwd. */
  input: string;
  /** The file written (or the input itself, left as it was with --in-place); null on error. */
  output: string | null;
  /** With --widths: the width asked for (the output's name carries it). */
  requestedWidth?: number;
  inputBytes: number | null;
  outputBytes: number | null;
  format: string | null;
  width: number | null;
  height: number | null;
  /** The encoded output was not smaller, so the input's bytes were kept. */
  keptOriginal: boolean;
  /** False when nothing had to be written (--in-place and the original kept). */
  written: boolean;
  warnings: string[];
  /** SSIMULACRA2 of the output, when the core reports one. */
  score?: number;
  /** Milliseconds in the core: decode + resize + encode. */
  timeMs: number | null;
  error: { code: string; message: string } | null;
}

export interface Totals {
  inputs: number;
  ok: number;
  failed: number;
  outputs: number;
  bytesBefore: number;
  bytesAfter: number;
  savedPercent: number;
  wallMs: number;
}

export interface Report {
  version: string;
  options: Record<string, unknown>;
  files: Entry[];
  /** Files in folders or glob matches passed over for not having an image extension. */
  skipped: string[];
  totals: Totals;
}

export function totals(entries: Entry[], wallMs: number): Totals {
  const byInput = new Map<string, { failed: boolean; bytes: number }>();
  let bytesAfter = 0;
  let outputs = 0;
  for (const e of entries) {
    const seen = byInput.get(e.input) ?? { failed: false, bytes: 0 };
    if (e.error) seen.failed = true;
    if (e.inputBytes !== null) seen.bytes = e.inputBytes;
    byInput.set(e.input, seen);
    if (!e.error && e.outputBytes !== null) {
      bytesAfter += e.outputBytes;
      outputs++;
    }
  }
  let bytesBefore = 0;
  let failed = 0;
  for (const v of byInput.values()) {
    if (v.failed) failed++;
    else bytesBefore += v.bytes;
  }
  return {
    inputs: byInput.size,
    ok: byInput.size - failed,
    failed,
    outputs,
    bytesBefore,
    bytesAfter,
    savedPercent: bytesBefore > 0 ? round1((1 - bytesAfter / bytesBefore) * 100) : 0,
    wallMs: Math.round(wallMs),
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function saved(before: number, after: number): string {
  if (before <= 0) return '';
  const p = (1 - after / before) * 100;
  return `${p.toFixed(1)}%`;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `…${s.slice(s.length - max + 1)}`;
}

/** The table printed at the end of a run (no colours: it is read in logs too). */
export function table(entries: Entry[], t: Totals, skipped: number): string {
  const head = ['file', 'before', 'after', 'saved', 'size', 'format', 'time'];
  const rows = entries.map((e) => {
    const name = clip(e.requestedWidth !== undefined ? `${e.input} @${e.requestedWidth}w` : e.input, 60);
    if (e.error) return [name, e.inputBytes === null ? '' : formatBytes(e.inputBytes), '', '', '', `FAILED ${e.error.code}`, ''];
    return [
      name,
      formatBytes(e.inputBytes ?? 0),
      formatBytes(e.outputBytes ?? 0),
      saved(e.inputBytes ?? 0, e.outputBytes ?? 0),
      `${e.width}x${e.height}`,
      e.keptOriginal ? `${e.format} (kept)` : (e.format ?? ''),
      e.timeMs === null ? '' : formatMs(e.timeMs),
    ];
  });
  const right = [false, true, true, true, true, false, true];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  out.push('');
  const files = `${t.inputs} file${t.inputs === 1 ? '' : 's'}: ${t.ok} ok, ${t.failed} failed`;
  const outs = t.outputs !== t.ok ? ` (${t.outputs} outputs)` : '';
  const bytes = `${formatBytes(t.bytesBefore)} -> ${formatBytes(t.bytesAfter)} (saved ${t.savedPercent.toFixed(1)}%)`;
  out.push(`${files}${outs}; ${bytes}; ${formatMs(t.wallMs)}`);
  if (skipped > 0) out.push(`${skipped} non-image file${skipped === 1 ? '' : 's'} skipped (--json lists them)`);
  return out.join('\n') + '\n';
}

/** One line per failure, for stderr: the input, the code and the core's message. */
export function failures(entries: Entry[]): string {
  return entries
    .filter((e) => e.error)
    .map((e) => `mediaslim: ${e.input}${e.requestedWidth !== undefined ? ` @${e.requestedWidth}w` : ''}: ${e.error!.code}: ${e.error!.message}\n`)
    .join('');
}
