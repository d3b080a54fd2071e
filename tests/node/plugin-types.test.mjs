// TypeScript declarations for directive imports (pkg/plugin/client.d.ts): a project that
// references them type-checks its imports, and a misuse is reported.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(repo, 'node_modules', '.bin', 'tsc');
const client = join(repo, 'pkg', 'plugin', 'client.d.ts');

async function typecheck(source) {
  const dir = await mkdtemp(join(tmpdir(), 'mediaslim-types-'));
  try {
    await writeFile(join(dir, 'main.ts'), `/// <reference path=${JSON.stringify(client)} />\n${source}`);
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', types: [] }, files: ['main.ts'] }));
    return await new Promise((resolve) => execFile(tsc, ['-p', dir], (err, stdout, stderr) => resolve({ ok: !err, output: stdout + stderr })));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('directive imports are typed by their `as`', { timeout: 60_000 }, async () => {
  const good = await typecheck(`
import hero from './hero.jpg?w=480;960&format=avif;webp;jpeg&as=picture';
import set from './hero.jpg?w=480;960&format=webp&as=srcset';
import url from './hero.jpg?w=480&format=webp&as=url';
import meta from './hero.jpg?placeholder=color&as=meta';
const a: string = hero.img.src;
const b: number = hero.img.width + hero.img.height;
const c: string[] = hero.sources.map((s) => s.type + s.srcset);
const d: string | undefined = hero.placeholder?.dataUrl;
const e: string = set + url;
const f: number = meta.width;
const g: string | undefined = meta.placeholder?.color;
export { a, b, c, d, e, f, g };
`);
  assert.ok(good.ok, good.output);
  const bad = await typecheck(`
import hero from './hero.jpg?w=480&format=webp&as=picture';
const n: number = hero.img.src;
export { n };
`);
  assert.ok(!bad.ok, 'a string used as a number must be refused');
  assert.match(bad.output, /Type 'string' is not assignable to type 'number'/);
});

test('`/// <reference types="mediaslim/client" />` finds the declarations through package.json', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mediaslim-types-'));
  try {
    await mkdir(join(dir, 'node_modules'));
    await symlink(repo, join(dir, 'node_modules', 'mediaslim'), 'dir');
    await writeFile(join(dir, 'main.ts'), `/// <reference types="mediaslim/client" />
import hero from './hero.jpg?w=480&format=webp;jpeg&as=picture';
export const width: number = hero.img.width;
`);
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', types: [] }, files: ['main.ts'] }));
    const r = await new Promise((resolve) => execFile(tsc, ['-p', dir], (err, stdout, stderr) => resolve({ ok: !err, output: stdout + stderr })));
    assert.ok(r.ok, `package.json needs "exports": { "./client": { "types": "./pkg/plugin/client.d.ts" } }\n${r.output}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
