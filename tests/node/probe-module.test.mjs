// probe() runs in the calling thread in its own wasm module, `mediaslim_probe` (the core built
// without the `pixels` feature): no worker starts and no other wasm module is read. The three
// builds must answer alike: each glue is loaded directly and asked to probe every fixture and,
// when present, every file of the shared corpus' formats/, malformed/ and orientation/ folders;
// results and errors (code and message) must be identical.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { fileURLToPath } from 'node:url';
import fsp from 'node:fs/promises';
import workerThreads from 'node:worker_threads';
import zlib from 'node:zlib';

// Spies installed before mediaslim is imported: every Worker started, every file read.
const started = [];
const read = [];
const OriginalWorker = workerThreads.Worker;
workerThreads.Worker = class extends OriginalWorker {
  constructor(...args) {
    started.push(String(args[0]));
    super(...args);
  }
};
const originalReadFile = fsp.readFile;
fsp.readFile = (path, ...rest) => {
  read.push(String(path));
  return originalReadFile(path, ...rest);
};
syncBuiltinESMExports();

const { probe, optimize, open, defaultPool } = await import('mediaslim');
const { FIXTURES, CORPUS, hasCorpus } = await import('./_helpers.mjs');

const PKG_WASM = new URL('../../pkg/wasm/', import.meta.url);
const MODULES = ['probe', 'core', 'full'];
// What the probe module reaches today (wasm-opt -Oz): lower it as the module shrinks.
const BUDGET_KIB = 108;

/** Every regular file directly in `dir` (a file: URL), as [name, bytes]. */
function filesIn(dir) {
  const path = fileURLToPath(dir);
  return readdirSync(path)
    .filter((name) => statSync(`${path}/${name}`).isFile())
    .sort()
    .map((name) => [name, new Uint8Array(readFileSync(`${path}/${name}`))]);
}

/** A glue module's answer as plain data: the ProbeInfo, or the error's code and message. */
function answer(glue, bytes) {
  try {
    return { ok: glue.probe(bytes) };
  } catch (err) {
    return { code: err.code, message: err.message };
  }
}

describe('probe runs in the calling thread, in the probe module', () => {
  it('answers without starting a worker or reading another wasm module', async () => {
    const p = await probe(readFileSync(new URL('hopper_orientation_6.jpg', FIXTURES)));
    assert.deepEqual([p.format, p.width, p.height, p.orientation], ['jpeg', 128, 128, 6]);
    const meta = await open(readFileSync(new URL('transparent.png', FIXTURES))).meta();
    assert.equal(meta.hasAlpha, true);
    await assert.rejects(probe(new Uint8Array([1, 2, 3])), (e) => e.code === 'UNSUPPORTED_FORMAT');
    await assert.rejects(probe(readFileSync(new URL('hopper.jpg', FIXTURES)), { signal: AbortSignal.abort() }), (e) => e.code === 'ABORTED');
    assert.deepEqual(started, [], 'no worker started');
    const wasm = read.filter((p) => p.endsWith('.wasm')).map((p) => p.split('/').pop());
    assert.deepEqual(wasm, ['mediaslim_probe_bg.wasm'], 'only the probe module read');
  });

  it('control: optimize does start a worker (the spies see one)', async () => {
    await optimize(readFileSync(new URL('hopper.jpg', FIXTURES)), { format: 'jpeg', width: 32 });
    assert.ok(started.some((s) => s.endsWith('worker.js')), `workers: ${started}`);
    defaultPool().terminate();
  });

  it(`the probe module is at most ${BUDGET_KIB} KiB gzip and exports probe only`, async () => {
    const wasm = readFileSync(new URL('mediaslim_probe_bg.wasm', PKG_WASM));
    const gz = zlib.gzipSync(wasm, { level: 9 }).length;
    console.log(`# mediaslim_probe_bg.wasm: ${(wasm.length / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzip`);
    assert.ok(gz <= BUDGET_KIB * 1024, `${(gz / 1024).toFixed(1)} KiB gzip, over the budget`);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(wasm)).map((e) => e.name);
    assert.ok(exports.includes('probe'));
    for (const name of ['optimize', 'optimizeMany', 'render', 'placeholder', 'compare', 'remux']) assert.ok(!exports.includes(name), `exports ${name}`);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(wasm)).map((i) => i.module);
    assert.deepEqual([...new Set(imports)], ['./mediaslim_probe_bg.js'], 'imports only its glue (no libc from env)');
  });
});

describe('the three wasm builds probe alike', () => {
  const glues = {};
  before(async () => {
    for (const m of MODULES) {
      const glue = await import(new URL(`mediaslim_${m}.js`, PKG_WASM).href);
      glue.initSync({ module: readFileSync(new URL(`mediaslim_${m}_bg.wasm`, PKG_WASM)) });
      glues[m] = glue;
    }
  });

  const compare = (files) => {
    let ok = 0;
    let failed = 0;
    for (const [name, bytes] of files) {
      const want = answer(glues.full, bytes);
      for (const m of ['probe', 'core']) assert.deepEqual(answer(glues[m], bytes), want, `${name}: ${m} vs full`);
      if (want.ok) ok++;
      else failed++;
    }
    return { ok, failed };
  };

  it('on every fixture', () => {
    const { ok, failed } = compare(filesIn(FIXTURES));
    console.log(`# fixtures: ${ok} probed, ${failed} refused, identical in all three modules`);
    assert.ok(ok >= 30 && failed >= 3, 'both answers exercised');
  });

  it('on the corpus (formats, malformed, orientation)', { skip: !hasCorpus && 'no ../shared/corpus' }, () => {
    for (const folder of ['formats', 'malformed', 'orientation']) {
      const { ok, failed } = compare(filesIn(new URL(`${folder}/`, CORPUS)));
      console.log(`# corpus ${folder}/: ${ok} probed, ${failed} refused, identical in all three modules`);
      // malformed/ is fuzzer crashes in every format: refusing them all is right.
      assert.ok(folder === 'malformed' ? failed > 0 : ok > 0, folder);
    }
  });

  it('the public probe() answers as the modules do', async () => {
    for (const [name, bytes] of filesIn(FIXTURES)) {
      const want = answer(glues.full, bytes);
      const got = await probe(bytes).then((ok) => ({ ok }), (e) => ({ code: e.code, message: e.message }));
      assert.deepEqual(got, want, name);
    }
  });
});
