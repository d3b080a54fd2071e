// The plugin's disk cache: content-addressed keys, verified reads (a truncated or damaged
// entry is never trusted), atomic writes, LRU trimming, concurrent writers in separate
// processes, and leftovers of a killed writer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canonicalJson, DiskCache } from '../../pkg/plugin/cache.js';

const cacheModule = fileURLToPath(new URL('../../pkg/plugin/cache.js', import.meta.url));
const dirs = [];
async function tempDir() {
  const d = await mkdtemp(join(tmpdir(), 'mediaslim-cache-'));
  dirs.push(d);
  return d;
}
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** Every entry file under the cache folder (not temporary files). */
async function entries(dir) {
  const out = [];
  for (const shard of await readdir(dir).catch(() => [])) {
    for (const name of await readdir(join(dir, shard))) out.push({ path: join(dir, shard, name), name });
  }
  return out;
}

const bytes = (n, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('plugin disk cache', () => {
  test('keys change with the source, the options (not their order) and the version', () => {
    const a = new DiskCache('/x', '1.0.0');
    const b = new DiskCache('/x', '1.0.1');
    const k = a.key('variant', 'abc', { width: 480, format: 'webp' });
    assert.equal(k, a.key('variant', 'abc', { format: 'webp', width: 480, quality: undefined }), 'key order and undefined do not matter');
    assert.notEqual(k, a.key('variant', 'abd', { width: 480, format: 'webp' }));
    assert.notEqual(k, a.key('variant', 'abc', { width: 481, format: 'webp' }));
    assert.notEqual(k, a.key('probe', 'abc', { width: 480, format: 'webp' }));
    assert.notEqual(k, b.key('variant', 'abc', { width: 480, format: 'webp' }));
    assert.equal(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 2 }] } }), '{"a":{"c":[3,{"e":2,"f":1}],"d":2},"b":1}');
  });

  test('round trip, then a second instance (another build) reads it', async () => {
    const dir = await tempDir();
    const c = new DiskCache(dir, '1');
    const key = c.key('variant', 'h', { width: 1 });
    assert.equal(await c.get(key), undefined);
    await c.set(key, { format: 'webp', width: 1 }, bytes(1000));
    const again = await new DiskCache(dir, '1').get(key);
    assert.deepEqual(again.meta, { format: 'webp', width: 1 });
    assert.deepEqual(again.payload, bytes(1000));
    assert.equal(c.stats.misses, 1);
    assert.equal(c.stats.writes, 1);
    const files = await entries(dir);
    assert.equal(files.length, 1);
    assert.ok(!files[0].name.endsWith('.tmp'), 'no temporary file left behind');
  });

  for (const [what, damage] of [
    ['truncated', (b) => b.subarray(0, b.length - 10)],
    ['a flipped payload byte', (b) => { const c = Buffer.from(b); c[c.length - 5] ^= 0xff; return c; }],
    ['a damaged header', (b) => { const c = Buffer.from(b); c[10] = 0x00; return c; }],
    ['empty', () => Buffer.alloc(0)],
    ['zeros (a crash before the data reached the disk)', (b) => Buffer.alloc(b.length)],
  ]) {
    test(`an entry that is ${what} is never trusted, and is removed`, async () => {
      const dir = await tempDir();
      const c = new DiskCache(dir, '1');
      const key = c.key('variant', 'h', {});
      await c.set(key, { ok: true }, bytes(5000));
      const [file] = await entries(dir);
      await writeFile(file.path, damage(await readFile(file.path)));
      assert.equal(await c.get(key), undefined);
      assert.equal(c.stats.corrupt, 1);
      assert.deepEqual(await entries(dir), [], 'the damaged entry is deleted');
      await c.set(key, { ok: true }, bytes(5000));
      assert.deepEqual((await c.get(key)).payload, bytes(5000), 'and written again');
    });
  }

  test('LRU: trimming drops the least recently used entries first; a hit makes an entry young', async () => {
    const dir = await tempDir();
    const c = new DiskCache(dir, '1', 25_000); // room for two 10 kB entries
    const keys = ['a', 'b', 'c'].map((k) => c.key('variant', k, {}));
    for (const [i, key] of keys.entries()) {
      await c.set(key, {}, bytes(10_000, i));
      const [file] = (await entries(dir)).filter((f) => f.name === key);
      const t = new Date(Date.now() - (10 - i) * 60_000); // a oldest, c newest
      await utimes(file.path, t, t);
    }
    assert.ok(await c.get(keys[0]), 'reading a makes it the most recently used');
    const r = await c.prune();
    assert.equal(r.removed, 1, 'one entry goes: two fit under 90% of the limit');
    assert.equal(await c.get(keys[1]), undefined, 'b (least recently used) went');
    assert.ok(await c.get(keys[0]), 'a survived (just used, though written first)');
    assert.ok(await c.get(keys[2]), 'c survived (written last)');
    assert.ok(r.bytes <= 25_000 * 0.9);
    // A smaller limit trims further, oldest first.
    const [fileA] = (await entries(dir)).filter((f) => f.name === keys[0]);
    const older = new Date(Date.now() - 60_000);
    await utimes(fileA.path, older, older);
    const small = new DiskCache(dir, '1', 12_000);
    assert.equal((await small.prune()).removed, 1);
    assert.equal(await small.get(keys[0]), undefined, 'a (now the oldest) went');
    assert.ok(await small.get(keys[2]));
  });

  test('a killed writer: its temporary file is ignored, then removed once stale', async () => {
    const dir = await tempDir();
    const c = new DiskCache(dir, '1');
    const key = c.key('variant', 'h', {});
    // What a writer killed mid-write leaves: a partial temporary file, no entry.
    await c.set(c.key('variant', 'other', {}), {}, bytes(10)); // creates the shard folders
    const shard = join(dir, key.slice(0, 2));
    await c.set(key, {}, bytes(10));
    await rm(join(shard, key));
    const tmp = join(shard, `${key}.4242.abcdef.tmp`);
    await writeFile(tmp, Buffer.from('MSC1partial'));
    assert.equal(await c.get(key), undefined, 'no entry is made out of a temporary file');
    await c.prune();
    assert.ok(await stat(tmp), 'a fresh temporary file may belong to a running build: kept');
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(tmp, old, old);
    await c.prune();
    await assert.rejects(stat(tmp), 'a stale one is removed');
  });

  test('concurrent writers in separate processes never produce an entry that fails verification', async () => {
    const dir = await tempDir();
    // Four processes write the same 40 keys (same content, as identical builds would) while
    // reading them back; every read must be a miss or the exact payload.
    const script = `
      const { DiskCache } = await import(${JSON.stringify(cacheModule)});
      const c = new DiskCache(${JSON.stringify(dir)}, '1');
      const payload = (i) => Uint8Array.from({ length: 200000 }, (_, j) => (i * 7 + j) & 255);
      let bad = 0, hits = 0;
      for (let round = 0; round < 3; round++) {
        await Promise.all(Array.from({ length: 40 }, async (_, i) => {
          const key = c.key('variant', String(i), {});
          const got = await c.get(key);
          if (got) {
            hits++;
            const want = payload(i);
            if (got.payload.length !== want.length || got.payload.some((b, j) => b !== want[j])) bad++;
          } else {
            await c.set(key, { i }, payload(i));
          }
        }));
      }
      console.log(JSON.stringify({ bad, hits, corrupt: c.stats.corrupt }));
    `;
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (d) => (out += d));
          child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`writer exited ${code}`))));
        }),
      ),
    );
    for (const r of runs) {
      assert.equal(r.bad, 0, 'a read returned wrong bytes');
      assert.equal(r.corrupt, 0, 'a read saw a partial entry');
    }
    assert.ok(runs.reduce((s, r) => s + r.hits, 0) > 0, 'the processes did share entries');
    const files = await entries(dir);
    assert.equal(files.filter((f) => f.name.endsWith('.tmp')).length, 0, 'no temporary files left');
    assert.equal(files.length, 40);
    const c = new DiskCache(dir, '1');
    for (let i = 0; i < 40; i++) assert.ok(await c.get(c.key('variant', String(i), {})), `entry ${i} verifies`);
  });
});
