#!/usr/bin/env node
// Serves the demo page (www/) with the Vite dev server on localhost and keeps running until
// Ctrl-C. `npm start` builds pkg/ first; run directly, this expects pkg/ to be built already.
// Port: 5173, or the next free one (PORT=nnnn or --port nnnn picks another start).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer } from 'vite';

const repo = fileURLToPath(new URL('..', import.meta.url));
const configFile = fileURLToPath(new URL('../www/vite.config.mjs', import.meta.url));

if (!existsSync(new URL('../pkg/index.js', import.meta.url)) || !existsSync(new URL('../pkg/wasm/mediaslim_core_bg.wasm', import.meta.url))) {
  console.error('[start] pkg/ is not built: run `bash scripts/build.sh` (or `npm start`, which builds it) first.');
  process.exit(1);
}

const portArg = process.argv.indexOf('--port');
const port = Number(portArg > 0 ? process.argv[portArg + 1] : (process.env.PORT ?? 5173));
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`[start] invalid port ${JSON.stringify(portArg > 0 ? process.argv[portArg + 1] : process.env.PORT)}`);
  process.exit(1);
}

const server = await createServer({
  configFile,
  server: { host: 'localhost', port, strictPort: false, open: false },
  clearScreen: false,
});
await server.listen();

const urls = server.resolvedUrls?.local ?? [];
const url = urls[0] ?? `http://localhost:${server.config.server.port}/`;
console.log('');
console.log(`  mediaslim demo running at ${url}`);
console.log(`  (Vite dev server, root ${server.config.root}, package from ${repo}pkg/; Ctrl-C to stop)`);
console.log('');

let closing = false;
async function shutdown(signal) {
  if (closing) return;
  closing = true;
  console.log(`[start] ${signal}: stopping the dev server`);
  try {
    await server.close();
  } finally {
    process.exit(0);
  }
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
