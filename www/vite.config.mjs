// Vite config for the demo page. `mediaslim` resolves to the built package in ../pkg (run
// `bash scripts/build.sh` first), so the demo exercises exactly what npm users get: the
// package's worker (`new Worker(new URL('./worker.js', import.meta.url))`, bundled with
// Vite's default worker settings) and its `new URL('mediaslim_…_bg.wasm', import.meta.url)`
// wasm loads, which Vite emits as assets. Nothing below is needed by the package itself:
// the alias stands in for `npm install`, the rest is about where the demo lives.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { offline } from './vite-plugin-offline.mjs';

const www = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig(({ command }) => ({
  root: www,
  // Relative asset URLs: the built page works from any directory it is served from.
  base: './',
  // sw.js for offline use (build only; the dev server has no service worker).
  plugins: [offline()],
  // Whether this is the built site (which registers sw.js) or the dev server (which must not):
  // decided by the command, not by NODE_ENV, which a parent process may have set either way.
  define: { __DEMO_OFFLINE__: JSON.stringify(command === 'build') },
  resolve: {
    alias: [{ find: /^mediaslim$/, replacement: fileURLToPath(new URL('../pkg/index.js', import.meta.url)) }],
  },
  server: {
    // pkg/ lies outside the Vite root; the dev server may serve files from the whole repo.
    fs: { allow: [repo] },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keep the wasm a separate file (never inlined as base64).
    assetsInlineLimit: 0,
  },
}));
