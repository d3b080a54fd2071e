// docs/options.md is generated from the package's declarations (scripts/options-reference.mjs):
// it must match what the generator writes now, every option must carry a doc comment, and
// every options type the package exports must be in it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generate } from '../../scripts/options-reference.mjs';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const script = join(repo, 'scripts', 'options-reference.mjs');

test('docs/options.md is up to date with the declarations', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mediaslim-options-'));
  try {
    const out = join(dir, 'options.md');
    const run = await new Promise((resolve) => execFile(process.execPath, [script, '--out', out], (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stderr })));
    assert.equal(run.code, 0, run.stderr);
    const fresh = await readFile(out, 'utf8');
    const committed = await readFile(join(repo, 'docs', 'options.md'), 'utf8');
    assert.ok(committed === fresh, 'docs/options.md is stale: run `npm run docs:options`');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('every option has a doc comment, and every exported options type is covered', { timeout: 60_000 }, async () => {
  const { missing, covered, markdown } = generate();
  assert.deepEqual(missing, [], `options without a doc comment:\n  ${missing.join('\n  ')}`);
  // Exported type names that name options: what users pass to a front door.
  const exported = new Set();
  for (const file of ['index.d.ts', 'plugin/core.d.ts']) {
    const text = await readFile(join(repo, 'pkg', file), 'utf8');
    const names = [
      ...[...text.matchAll(/export (?:declare )?(?:interface|type) (\w+)/g)].map((m) => m[1]),
      ...[...text.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((m) => m[1].split(',').map((n) => n.trim().split(/\s+as\s+/).pop())),
    ];
    for (const name of names) if (/^[A-Z]\w*(Options|Request)$/.test(name)) exported.add(name);
  }
  assert.ok(exported.has('OptimizeOptions') && exported.has('MediaslimPluginOptions'), [...exported].join(', '));
  const uncovered = [...exported].filter((name) => !covered.includes(name));
  assert.deepEqual(uncovered, [], `exported options types missing from docs/options.md: ${uncovered.join(', ')}`);
  for (const option of ['width', 'quality', 'maxBytes', 'avifEncoder', 'priority', 'fastStart', 'size', 'cacheDir', 'rootMargin']) {
    assert.match(markdown, new RegExp(`\\| \`${option}\\??\` \\|`), option);
  }
});
