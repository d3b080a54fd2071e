// Build benchmark (`npm run bench:build`): a Vite site whose main.js imports N photos with
//   ?w=480;960;1600&format=avif;webp;jpeg&as=picture
// built with mediaslim/vite and with vite-imagetools (sharp) on the same site and directives:
// cold build (empty cache), warm build (cache filled, nothing changed), peak memory (maxRSS of
// the build's process, workers and libvips threads included) and output bytes. Every build runs
// in a child process of its own. Prints a table (ratios ours / vite-imagetools, lower is
// better) and writes bench/out/build.json.
//   node bench/build.mjs [--photos N] [--formats avif;webp;jpeg] [--widths 480;960;1600]
//                        [--only ours|imagetools] [--keep]
// Defaults: 40 photos (the 24 corpus photos as JPEG q92, then again at q90 so no file repeats).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

// ---- child: one build ---------------------------------------------------------------------------
if (process.argv[2] === '--child') {
  const [, , , tool, root, cacheDir] = process.argv;
  const { build } = await import('vite');
  let plugin;
  let report;
  if (tool === 'ours') {
    const { default: mediaslim } = await import('mediaslim/vite');
    plugin = mediaslim({ cacheDir, report: false, progress: false, onReport: (r) => (report = r) });
  } else {
    const { imagetools } = await import('vite-imagetools');
    plugin = imagetools({ cache: { enabled: true, dir: cacheDir } });
  }
  const t = performance.now();
  await build({ root, configFile: false, logLevel: 'silent', build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false } }, plugins: [plugin] });
  const ms = performance.now() - t;
  const usage = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({ ms, maxRssKB: usage.maxRSS, userMs: usage.userCPUTime / 1000, systemMs: usage.systemCPUTime / 1000, encodes: report?.encodes, cacheHits: report?.cacheHits })}\n`);
  process.exit(0);
}

// ---- parent ---------------------------------------------------------------------------------------
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const PHOTOS = Number(arg('photos', 40));
const FORMATS = arg('formats', 'avif;webp;jpeg');
const WIDTHS = arg('widths', '480;960;1600');
const ONLY = arg('only', undefined);
const KEEP = process.argv.includes('--keep');
const corpus = new URL('../../shared/corpus/photos/', import.meta.url);
if (!existsSync(corpus)) {
  console.log('bench/build: ../shared/corpus/photos is not here; nothing to measure.');
  process.exit(0);
}
const outDir = new URL('./out/', import.meta.url);
mkdirSync(outDir, { recursive: true });
const { default: sharp } = await import('sharp');

const work = await mkdtemp(join(os.tmpdir(), 'mediaslim-bench-build-'));
const site = join(work, 'site');
const names = readdirSync(corpus).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
mkdirSync(join(site, 'photos'), { recursive: true });
console.log(`bench/build: ${PHOTOS} photos x ${WIDTHS.split(';').length} widths x ${FORMATS.split(';').length} formats (${FORMATS}), in ${work}`);

// Sources as a site would have them: JPEG q92 (the corpus PNGs converted), the second round at
// q90 so that no two files are the same.
let sourceBytes = 0;
const imports = [];
for (let i = 0; i < PHOTOS; i++) {
  const name = names[i % names.length];
  const round = Math.floor(i / names.length);
  const file = `p${String(i).padStart(2, '0')}-${name.replace(/\.\w+$/, '')}.jpg`;
  const bytes = await sharp(fileURLToPath(new URL(name, corpus))).flatten({ background: '#ffffff' }).toColourspace('srgb').jpeg({ quality: 92 - 2 * round }).toBuffer();
  await writeFile(join(site, 'photos', file), bytes);
  sourceBytes += bytes.length;
  imports.push(`import p${i} from './photos/${file}?w=${WIDTHS}&format=${FORMATS}&as=picture';`);
}
await writeFile(join(site, 'main.js'), `${imports.join('\n')}\nexport const pictures = [${imports.map((_, i) => `p${i}`).join(', ')}];\nglobalThis.pictures = pictures;\n`);
await writeFile(join(site, 'index.html'), '<!doctype html><title>bench</title><script type="module" src="./main.js"></script>\n');

function runChild(tool, cacheDir) {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, [self, '--child', tool, site, cacheDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${tool} build exited with ${code}`));
      resolve({ ...JSON.parse(out.trim().split('\n').pop()), wallMs: performance.now() - t });
    });
  });
}

async function outputBytes() {
  const dir = join(site, 'dist', 'assets');
  let bytes = 0;
  let files = 0;
  for (const f of await readdir(dir)) {
    if (!/\.(avif|webp|jpe?g|png)$/.test(f)) continue;
    bytes += (await stat(join(dir, f))).size;
    files++;
  }
  return { bytes, files };
}

const results = {};
for (const tool of ['ours', 'imagetools']) {
  if (ONLY && ONLY !== tool) continue;
  const cacheDir = join(work, `cache-${tool}`);
  await rm(cacheDir, { recursive: true, force: true });
  process.stdout.write(`  ${tool}: cold build... `);
  const cold = await runChild(tool, cacheDir);
  const out = await outputBytes();
  process.stdout.write(`${(cold.ms / 1000).toFixed(1)} s; warm build... `);
  const warm = await runChild(tool, cacheDir);
  console.log(`${(warm.ms / 1000).toFixed(2)} s`);
  results[tool] = { cold, warm, output: out };
}

const mb = (kb) => kb / 1024;
const rows = [
  ['cold build (s)', (r) => r.cold.ms / 1000, 1],
  ['warm build (s)', (r) => r.warm.ms / 1000, 2],
  ['cold: CPU time (s)', (r) => (r.cold.userMs + r.cold.systemMs) / 1000, 1],
  ['cold: peak memory (MB)', (r) => mb(r.cold.maxRssKB), 0],
  ['warm: peak memory (MB)', (r) => mb(r.warm.maxRssKB), 0],
  ['output files', (r) => r.output.files, 0],
  ['output bytes (MB)', (r) => r.output.bytes / 1024 / 1024, 2],
];
const lines = [
  `${PHOTOS} photos (${(sourceBytes / 1024 / 1024).toFixed(1)} MB of JPEG q92/q90) x w=${WIDTHS} x format=${FORMATS}, as=picture; vite ${(await import('vite/package.json', { with: { type: 'json' } })).default.version}, ${os.availableParallelism()} cores`,
  '',
  '| | mediaslim/vite | vite-imagetools (sharp) | ratio ours / imagetools |',
  '|---|---:|---:|---:|',
];
for (const [label, get, digits] of rows) {
  const a = results.ours ? get(results.ours) : undefined;
  const b = results.imagetools ? get(results.imagetools) : undefined;
  const fmt = (v) => (v === undefined ? '' : v.toFixed(digits));
  lines.push(`| ${label} | ${fmt(a)} | ${fmt(b)} | ${a !== undefined && b ? (a / b).toFixed(2) : ''} |`);
}
if (results.ours) lines.push('', `mediaslim: cold build ${results.ours.cold.encodes} encodes; warm build ${results.ours.warm.encodes} encodes, ${results.ours.warm.cacheHits} cache hits.`);
lines.push('Each tool at its own default quality (mediaslim: JPEG/WebP 80, AVIF 60 at effort 4; sharp: JPEG/WebP 80, AVIF 50 at effort 4).');
console.log(`\n${lines.join('\n')}`);

const json = { photos: PHOTOS, formats: FORMATS, widths: WIDTHS, sourceBytes, cores: os.availableParallelism(), loadavg: os.loadavg(), node: process.version, date: new Date().toISOString(), results };
writeFileSync(new URL('build.json', outDir), `${JSON.stringify(json, null, 2)}\n`);
writeFileSync(new URL('build.md', outDir), `${lines.join('\n')}\n`);
console.log('\nwrote bench/out/build.json and bench/out/build.md');
if (!KEEP) await rm(work, { recursive: true, force: true });
