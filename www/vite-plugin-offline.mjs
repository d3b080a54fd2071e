// Build-time half of the demo's offline support: writes sw.js (from service-worker.js) with
// the list of every file the build emits plus the public files (samples), and a version that
// changes whenever any of them does. Dependency-free; runs only for `vite build`.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const template = fileURLToPath(new URL('./service-worker.js', import.meta.url));

function walk(dir) {
  let out = [];
  let names = [];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(walk(path));
    else out.push(path);
  }
  return out;
}

export function offline() {
  let publicDir = '';
  return {
    name: 'mediaslim-demo-offline',
    apply: 'build',
    enforce: 'post',
    configResolved(config) {
      publicDir = config.publicDir;
    },
    generateBundle(_options, bundle) {
      const hash = createHash('sha256');
      const files = new Set(['./', 'index.html']);
      for (const [fileName, chunk] of Object.entries(bundle)) {
        if (fileName.endsWith('.map') || fileName === 'sw.js') continue;
        files.add(fileName);
        hash.update(fileName);
        hash.update(chunk.type === 'chunk' ? chunk.code : typeof chunk.source === 'string' ? chunk.source : Buffer.from(chunk.source));
      }
      for (const path of publicDir ? walk(publicDir) : []) {
        const name = relative(publicDir, path).split(sep).join('/');
        files.add(name);
        hash.update(name);
        hash.update(readFileSync(path));
      }
      const list = [...files].map((f) => (f === './' ? f : f.split('/').map(encodeURIComponent).join('/')));
      const source = `const PRECACHE = ${JSON.stringify(list, null, 1)};\nconst VERSION = ${JSON.stringify(hash.digest('hex').slice(0, 16))};\n${readFileSync(template, 'utf8')}`;
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}
