// Vite config for the demo page. `mediaslim` resolves to the built package in ../pkg (run
// `bash scripts/build.sh` first), so the demo exercises exactly what npm users get, including
// the `new URL('mediaslim_core_bg.wasm', import.meta.url)` wasm load that Vite emits as an asset.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const www = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: www,
  // Relative asset URLs: the built page works from any directory it is served from.
  base: './',
  resolve: {
    alias: [{ find: /^mediaslim$/, replacement: fileURLToPath(new URL('../pkg/index.js', import.meta.url)) }],
  },
  server: {
    // pkg/ lies outside the Vite root; the dev server may serve files from the whole repo.
    fs: { allow: [repo] },
  },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keep the wasm a separate file (never inlined as base64).
    assetsInlineLimit: 0,
  },
});
