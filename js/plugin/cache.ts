// The persistent build cache: content-addressed entries on disk, shared by concurrent builds.
//
// An entry's name is sha256(mediaslim version, kind, source sha256, canonical options), so a
// changed source, option or release never hits a stale entry. An entry is one file:
//   "MSC1" | u32 LE header length | header JSON { sha256, length, meta } | payload
// It is written to a temporary file in the same folder and renamed into place (atomic on one
// filesystem), and the payload's sha256 is checked on every read: a build killed mid-write,
// a truncated or damaged entry is never trusted; it is deleted and recomputed.
// Size is bounded: after a build, the least recently used entries (by mtime, which a hit
// refreshes) are deleted until the folder is under `maxBytes`.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const MAGIC = Buffer.from('MSC1');
const TMP_SUFFIX = '.tmp';
/** An entry's file name (its key), and a temporary one (see `set`). */
const ENTRY_NAME_RE = /^[0-9a-f]{64}$/;
const TMP_NAME_RE = /^[0-9a-f]{64}\.\d+\.[0-9a-f]+\.tmp$/;
/** Temporary files older than this are leftovers of a killed build. */
const STALE_TMP_MS = 60 * 60 * 1000;

export interface CacheEntry<M> {
  meta: M;
  payload: Uint8Array;
}

export interface CacheStats {
  hits: number;
  misses: number;
  writes: number;
  /** Entries that failed verification and were deleted. */
  corrupt: number;
  pruned: number;
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** JSON with sorted keys and no undefined values: equal options give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export class DiskCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, writes: 0, corrupt: 0, pruned: 0 };

  constructor(
    readonly dir: string,
    readonly version: string,
    readonly maxBytes = 512 * 1024 * 1024,
  ) {}

  /** The entry name for `kind` of the source with hash `sourceHash` under `options`. */
  key(kind: string, sourceHash: string, options: unknown): string {
    return sha256(`mediaslim ${this.version}\0${kind}\0${sourceHash}\0${canonicalJson(options)}`);
  }

  private path(key: string): string {
    // Keys are sha256 hex (see `key`): anything else could name a path outside the folder.
    if (!ENTRY_NAME_RE.test(key)) throw new Error(`mediaslim: invalid cache key ${JSON.stringify(key)}`);
    return join(this.dir, key.slice(0, 2), key);
  }

  /** The verified entry, or undefined (missing, truncated, damaged: a damaged one is removed). */
  async get<M>(key: string): Promise<CacheEntry<M> | undefined> {
    const file = this.path(key);
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      this.stats.misses++;
      return undefined;
    }
    const entry = decode<M>(data);
    if (!entry) {
      this.stats.corrupt++;
      this.stats.misses++;
      await unlink(file).catch(() => undefined);
      return undefined;
    }
    this.stats.hits++;
    // Least recently used = oldest mtime: a hit makes the entry young again.
    const now = new Date();
    await utimes(file, now, now).catch(() => undefined);
    return entry;
  }

  /** Writes atomically: a temporary file in the same folder, then rename. Never throws. */
  async set<M>(key: string, meta: M, payload: Uint8Array): Promise<void> {
    let file: string;
    try {
      file = this.path(key);
    } catch {
      return;
    }
    const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}${TMP_SUFFIX}`;
    try {
      await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
      await writeFile(tmp, encode(meta, payload));
      await rename(tmp, file);
      this.stats.writes++;
    } catch {
      // A read-only or full disk makes the cache useless, not the build wrong.
      await rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  /**
   * Deletes least recently used entries until the folder holds at most `maxBytes` (down to
   * 90% of it, so that every build does not prune), and stale temporary files.
   */
  async prune(): Promise<{ entries: number; bytes: number; removed: number }> {
    const files: { path: string; size: number; mtime: number }[] = [];
    let shards: string[];
    try {
      shards = await readdir(this.dir);
    } catch {
      return { entries: 0, bytes: 0, removed: 0 };
    }
    const now = Date.now();
    let removed = 0;
    for (const shard of shards) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      const names = await readdir(join(this.dir, shard)).catch(() => [] as string[]);
      for (const name of names) {
        // Only our own files: `cacheDir` may be a shared folder that holds other things.
        if (!name.startsWith(shard) || !(ENTRY_NAME_RE.test(name) || TMP_NAME_RE.test(name))) continue;
        const path = join(this.dir, shard, name);
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile()) continue;
        if (name.endsWith(TMP_SUFFIX)) {
          if (now - info.mtimeMs > STALE_TMP_MS) {
            await rm(path, { force: true }).catch(() => undefined);
            removed++;
          }
          continue;
        }
        files.push({ path, size: info.size, mtime: info.mtimeMs });
      }
    }
    let total = files.reduce((s, f) => s + f.size, 0);
    if (total > this.maxBytes) {
      const target = this.maxBytes * 0.9;
      files.sort((a, b) => a.mtime - b.mtime);
      while (files.length && total > target) {
        const f = files.shift()!;
        await rm(f.path, { force: true }).catch(() => undefined);
        total -= f.size;
        removed++;
        this.stats.pruned++;
      }
    }
    return { entries: files.length, bytes: total, removed };
  }
}

function encode(meta: unknown, payload: Uint8Array): Buffer {
  const header = Buffer.from(JSON.stringify({ sha256: sha256(payload), length: payload.length, meta }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  return Buffer.concat([MAGIC, len, header, payload]);
}

function decode<M>(data: Buffer): CacheEntry<M> | undefined {
  if (data.length < 8 || !data.subarray(0, 4).equals(MAGIC)) return undefined;
  const headerLength = data.readUInt32LE(4);
  if (8 + headerLength > data.length) return undefined;
  let header: { sha256: string; length: number; meta: M };
  try {
    header = JSON.parse(data.subarray(8, 8 + headerLength).toString('utf8'));
  } catch {
    return undefined;
  }
  const payload = data.subarray(8 + headerLength);
  if (payload.length !== header.length || sha256(payload) !== header.sha256) return undefined;
  return { meta: header.meta, payload: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength) };
}
