// One `vite build` of a fixture site in its own process (concurrency and kill tests):
//   node build-child.mjs <site root> <cacheDir> [--watch-cache]
// Prints the plugin's report as the last line (JSON). With --watch-cache it also prints
// "entries: N" whenever the number of cache entries changes, so a test can kill it mid-build.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'vite';
import mediaslim from 'mediaslim/vite';

const [root, cacheDir, flag] = process.argv.slice(2);

async function count() {
  let n = 0;
  for (const shard of await readdir(cacheDir).catch(() => [])) {
    n += (await readdir(join(cacheDir, shard)).catch(() => [])).filter((f) => !f.endsWith('.tmp')).length;
  }
  return n;
}

let timer;
if (flag === '--watch-cache') {
  let last = -1;
  timer = setInterval(async () => {
    const n = await count();
    if (n !== last) process.stdout.write(`entries: ${(last = n)}\n`);
  }, 10);
}

let report;
await build({
  root,
  configFile: false,
  logLevel: 'silent',
  build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false } },
  plugins: [mediaslim({ cacheDir, report: false, progress: false, onReport: (r) => (report = r) })],
});
clearInterval(timer);
process.stdout.write(`${JSON.stringify({ ...report, files: undefined })}\n`);
