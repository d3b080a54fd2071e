// Small helpers for bench/quality.mjs: number formatting, means, markdown tables, hashing,
// a JSON result cache and a concurrency limiter.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const sum = (v) => v.reduce((a, b) => a + b, 0);
export const mean = (v) => (v.length ? sum(v) / v.length : NaN);
export const finite = (v) => v.filter(Number.isFinite);
export const median = (v) => {
  const s = finite(v).sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
export const geomean = (v) => {
  const f = v.filter((x) => Number.isFinite(x) && x > 0);
  return f.length ? Math.exp(mean(f.map(Math.log))) : NaN;
};
export const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
export const kb = (b) => fmt(b / 1024, 1);
export const pct = (r) => (Number.isFinite(r) ? `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%` : 'n/a');
export const mkdir = (d) => (mkdirSync(d, { recursive: true }), d);
// The package a bench runs: pkg/, or MEDIASLIM_PKG=<dir> (another build, for A/B runs).
export const packageUrl = () =>
  process.env.MEDIASLIM_PKG ? pathToFileURL(path.resolve(process.env.MEDIASLIM_PKG) + '/') : new URL('../../pkg/', import.meta.url);

export function table(head, rows, align) {
  const al = align ?? head.map((_, i) => (i === 0 ? 'l' : 'r'));
  return [
    `| ${head.join(' | ')} |`,
    `|${al.map((x) => (x === 'l' ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function fnv1a(bytes) {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

// Runs `fn(item, index)` over `items` with at most `n` in flight; results in input order.
export async function mapLimit(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

// A persistent key -> JSON value cache (one file), so a re-run only redoes what changed:
// keys include the reference pixels' hash and the encoder's version (ours: the wasm's hash).
// With `enabled` false nothing is read from it, but what is computed is still written (other
// entries are kept).
export class Cache {
  constructor(file, enabled = true) {
    this.file = file;
    this.enabled = enabled;
    this.map = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    this.dirty = 0;
    this.hits = 0;
  }
  get(key) {
    if (!this.enabled) return undefined;
    const v = this.map[key];
    if (v !== undefined) this.hits++;
    return v;
  }
  set(key, value) {
    this.map[key] = value;
    if (++this.dirty >= 20) this.save();
  }
  save() {
    if (!this.dirty) return;
    mkdir(path.dirname(this.file));
    writeFileSync(this.file, JSON.stringify(this.map));
    this.dirty = 0;
  }
}
