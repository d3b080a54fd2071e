// The worker pool: priority order, raises, deduplication, per-key exclusivity, abort,
// crash recovery and steady memory. All against real workers running the real wasm.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Pool, MediaslimError, optimize } from 'mediaslim';

const fixture = (name) => new Uint8Array(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));
const HOPPER = fixture('hopper.png');
const ROCKET = fixture('skimage-rocket.jpg');
const json = (o) => JSON.stringify(o);

describe('pool', () => {
  it('runs queued jobs by priority, FIFO within a priority, and a raised job jumps ahead', async () => {
    const pool = new Pool({ size: 1 });
    try {
      // Occupy the only worker so that everything after it queues.
      const blocker = pool.run('optimize', ROCKET, json({ format: 'png' }), { priority: 'user' });
      const priorities = ['background', 'prefetch', 'visible', 'user'];
      const order = [];
      const jobs = [];
      for (let i = 0; i < 20; i++) {
        const priority = priorities[(i * 7) % 4];
        const p = pool.run('optimize', HOPPER, json({ width: 20 + i, format: 'png' }), { priority });
        jobs.push({ i, priority, p });
      }
      // Job 0 is background; raise it to user while it waits.
      assert.equal(pool.raise(jobs[0].p, 'user'), true);
      jobs[0].priority = 'user';
      await Promise.all([blocker, ...jobs.map((j) => j.p.then(() => order.push(j.i)))]);
      // Priority order, then submission order; the raised job counts as a user job.
      const lane = { user: 0, visible: 1, prefetch: 2, background: 3 };
      const expected = [...jobs].sort((a, b) => lane[a.priority] - lane[b.priority] || a.i - b.i).map((j) => j.i);
      assert.deepEqual(order, expected);
      assert.equal(order.indexOf(0) < order.findIndex((i) => jobs[i].priority === 'visible'), true, 'raised job ran before all visible jobs');
    } finally {
      pool.terminate();
    }
  });

  it('runs identical jobs once and shares the result', async () => {
    const pool = new Pool({ size: 2 });
    try {
      const options = json({ width: 50, format: 'webp' });
      const results = await Promise.all(Array.from({ length: 5 }, () => pool.run('optimize', HOPPER, options)));
      const s = pool.stats();
      assert.equal(s.done, 1, 'one encode');
      assert.equal(s.deduplicated, 4);
      for (const r of results) assert.deepEqual(r.bytes, results[0].bytes);
      // Not identical (other options): runs again.
      await pool.run('optimize', HOPPER, json({ width: 51, format: 'webp' }));
      assert.equal(pool.stats().done, 2);
    } finally {
      pool.terminate();
    }
  });

  it('never runs two jobs with the same key at once', async () => {
    const pool = new Pool({ size: 2 });
    try {
      const timeline = [];
      const job = (n, key) => pool.run('optimize', ROCKET, json({ width: 300 + n, format: 'png' }), {
        key,
        onProgress: (e) => timeline.push(`${e.stage}:${n}`),
      });
      await Promise.all([job(1, 'variant'), job(2, 'variant'), job(3, 'other')]);
      // Job 2 starts only after job 1 is done; job 3 (another key) runs beside job 1.
      assert.ok(timeline.indexOf('running:2') > timeline.indexOf('done:1'), timeline.join(' '));
      assert.ok(timeline.indexOf('running:3') < timeline.indexOf('done:1'), timeline.join(' '));
    } finally {
      pool.terminate();
    }
  });

  it('drops an aborted queued job at once and discards an aborted running one', async () => {
    const pool = new Pool({ size: 1 });
    try {
      const running = new AbortController();
      const first = pool.run('optimize', ROCKET, json({ format: 'png' }), { signal: running.signal });
      const queued = new AbortController();
      const second = pool.run('optimize', HOPPER, json({ width: 10, format: 'png' }), { signal: queued.signal });
      const third = pool.run('optimize', HOPPER, json({ width: 11, format: 'png' }));
      await new Promise((r) => setTimeout(r, 50));
      const t = performance.now();
      queued.abort(new Error('user scrolled away'));
      await assert.rejects(second, (e) => e instanceof MediaslimError && e.code === 'ABORTED' && /scrolled away/.test(e.message));
      assert.ok(performance.now() - t < 50, 'queued abort is immediate');
      running.abort();
      await assert.rejects(first, (e) => e.code === 'ABORTED');
      const r = await third;
      assert.equal(r.width, 11, 'the pool keeps serving');
      assert.equal(pool.stats().aborted, 2);
      await assert.rejects(pool.run('probe', HOPPER, '{}', { signal: AbortSignal.abort() }), (e) => e.code === 'ABORTED');
    } finally {
      pool.terminate();
    }
  });

  it('replaces a worker whose wasm traps; only that job fails', async () => {
    const pool = new Pool({ size: 1 });
    try {
      const before = pool.run('optimize', HOPPER, json({ width: 40, format: 'png' }));
      const crash = pool.__trapForTests();
      const after = pool.run('optimize', HOPPER, json({ width: 41, format: 'png' }));
      assert.equal((await before).width, 40);
      await assert.rejects(crash, (e) => {
        assert.ok(e instanceof MediaslimError, String(e));
        assert.equal(e.code, 'WORKER_CRASHED');
        return true;
      });
      assert.equal((await after).width, 41);
      const s = pool.stats();
      assert.equal(s.replaced, 1);
      assert.equal(s.workers, 1);
    } finally {
      pool.terminate();
    }
  });

  it('keeps wasm memory and workers steady over 500 jobs', async () => {
    const pool = new Pool({ size: 2 });
    try {
      const batch = (from, n) => Promise.all(Array.from({ length: n }, (_, i) =>
        pool.run('optimize', HOPPER, json({ width: 16 + ((from + i) % 100), quality: 1 + ((from + i) % 97), format: 'jpeg' }))));
      await batch(0, 100);
      const warm = pool.stats().wasmMemoryBytes;
      await batch(100, 400);
      const s = pool.stats();
      assert.equal(s.done, 500);
      assert.equal(s.workers, 2);
      assert.equal(s.running + s.queued, 0);
      assert.ok(warm > 0);
      assert.ok(s.wasmMemoryBytes <= warm * 1.25, `memory grew from ${warm} to ${s.wasmMemoryBytes} bytes`);
    } finally {
      pool.terminate();
    }
  });

  it('reports bytes saved and refuses bad settings by name', async () => {
    const pool = new Pool({ size: 1 });
    try {
      const r = await optimize(ROCKET, { width: 200, pool, priority: 'user' });
      const s = pool.stats();
      assert.equal(s.bytesIn, ROCKET.length);
      assert.equal(s.bytesOut, r.bytes.length);
      assert.equal(s.bytesSaved, ROCKET.length - r.bytes.length);
      assert.throws(() => new Pool({ size: 0 }), (e) => e.code === 'INVALID_OPTION' && /size/.test(e.message));
      await assert.rejects(optimize(ROCKET, { pool, priority: 'soon' }), /priority/);
    } finally {
      pool.terminate();
    }
  });
});
