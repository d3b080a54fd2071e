// Hostile inputs through the built package in Node: every malformed file, every broken or
// truncated file of the shared corpus (committed fixtures otherwise) and every fuzzer find
// goes through optimize() and probe() on a worker pool. Each settles within 2 s as a valid
// image or a MediaslimError with a known code; no worker traps (the pool replaces none) and
// the workers' wasm memory stays bounded. (tests/hostile.rs runs the same natively, with
// CPU-time and allocation measurements.)
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { optimize, probe, Pool, MediaslimError } from 'mediaslim';
import { CORPUS, FIXTURES, hasCorpus, sniff } from './_helpers.mjs';

const CODES = new Set(['UNSUPPORTED_FORMAT', 'CORRUPT_INPUT', 'TOO_LARGE', 'INVALID_OPTION', 'ENCODE_FAILED']);
const HOSTILE_NAME = /broken|truncat|bad|invalid|junk|bomb|crash|timeout|oom|corrupt|zip-renamed|random/i;
const MiB = 1024 * 1024;

function filesIn(url, keep = () => true) {
  const dir = fileURLToPath(url);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !/\.(md|mjs|json)$/.test(e.name) && !e.name.startsWith('LICENSE') && keep(e.name))
    .map((e) => ({ name: `${url.href.slice(url.href.lastIndexOf('/', url.href.length - 2) + 1)}${e.name}`, path: new URL(e.name, url) }));
}

function hostileFiles() {
  const files = [...filesIn(FIXTURES, (n) => HOSTILE_NAME.test(n)), ...filesIn(new URL('fuzz/', FIXTURES))];
  if (hasCorpus) {
    files.push(...filesIn(new URL('malformed/', CORPUS)));
    for (const sub of ['formats/', 'formats/apng/', 'formats/avif/']) {
      files.push(...filesIn(new URL(sub, CORPUS), (n) => HOSTILE_NAME.test(n)));
    }
  }
  return files;
}

describe('hostile inputs on the worker pool', () => {
  const pool = new Pool({ size: 2 });
  after(() => pool.terminate());

  it('each is a valid image or a typed error within 2 s; no worker traps; memory bounded', async () => {
    const files = hostileFiles();
    assert.ok(files.length >= 5, `found only ${files.length} hostile files`);
    // Warm both workers up so the first file is not charged for loading the wasm.
    await Promise.all([probe(readFileSync(new URL('hopper.png', FIXTURES)), { pool }), probe(readFileSync(new URL('hopper.jpg', FIXTURES)), { pool })]);
    const tally = { ok: 0, codes: {}, slowest: [0, ''], problems: [] };
    for (const { name, path } of files) {
      const bytes = new Uint8Array(readFileSync(path));
      const t0 = performance.now();
      const [probed, out] = await Promise.all([
        probe(bytes, { pool }).then((v) => v, (e) => e),
        optimize(bytes, { pool }).then((v) => v, (e) => e),
      ]);
      const took = performance.now() - t0;
      if (took > tally.slowest[0]) tally.slowest = [took, name];
      if (took > 2000) tally.problems.push(`${name}: ${took.toFixed(0)} ms`);
      for (const r of [probed, out]) {
        if (r instanceof Error && !(r instanceof MediaslimError && CODES.has(r.code))) {
          tally.problems.push(`${name}: ${r.code ?? r.name}: ${r.message}`);
        }
      }
      if (out instanceof MediaslimError) {
        tally.codes[out.code] = (tally.codes[out.code] ?? 0) + 1;
      } else if (!(out instanceof Error)) {
        tally.ok += 1;
        if (sniff(out.bytes) !== out.format) tally.problems.push(`${name}: output is not a ${out.format}`);
      }
    }
    const stats = pool.stats();
    console.log(
      `${files.length} hostile files: ${tally.ok} valid outputs, refused ${JSON.stringify(tally.codes)}; ` +
        `slowest ${tally.slowest[1]} (${tally.slowest[0].toFixed(0)} ms); workers replaced ${stats.replaced}; ` +
        `largest worker wasm memory ${(stats.wasmMemoryBytes / MiB).toFixed(1)} MiB`,
    );
    assert.deepEqual(tally.problems, []);
    assert.equal(stats.replaced, 0, 'a hostile file trapped a worker');
    assert.ok(stats.wasmMemoryBytes < 512 * MiB, `a worker grew to ${(stats.wasmMemoryBytes / MiB).toFixed(0)} MiB`);
  });
});
