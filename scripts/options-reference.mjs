#!/usr/bin/env node
// Writes docs/options.md, the options reference, from the package's own declarations
// (pkg/**/*.d.ts, which tsc and tsify generate from js/ and src/): every option of every
// front door with its type and its JSDoc comment, so the reference cannot drift from the code.
//
//   node scripts/options-reference.mjs            writes docs/options.md
//   node scripts/options-reference.mjs --out F    writes F instead
//
// Options without a doc comment are listed on stderr and make the exit code 1 (the file is
// written anyway). Uses the TypeScript 7 compiler API (`typescript/unstable/sync`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API } from 'typescript/unstable/sync';
import { SyntaxKind } from 'typescript/unstable/ast';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const PKG = path.join(REPO, 'pkg');
const ENTRIES = ['index.d.ts', 'plugin/core.d.ts'].map((f) => path.join(PKG, f));

/**
 * What the reference documents, in order. `source` names a declaration:
 *   { type: 'Name' }                        an interface, or a type alias of references and literals
 *   { fn: 'name', param: 'p' }              the inline type of a function's parameter
 *   { ctor: 'Class', param: 'p' }           the inline type of a constructor's parameter
 * `own: true` lists an interface's own members only (what it extends is named instead).
 */
const SECTIONS = [
  {
    title: '`optimize(input, options)`',
    text: 'What to make (the core\'s options, refused by name when unknown) and how to run the job. `asset.variant(options, run)` takes the same core options, and `asset.srcset()` takes them under `options`.',
    source: { type: 'OptimizeRequest' },
  },
  { title: '`open(input, options)`', text: 'A lazy asset handle; nothing is read until asked.', source: { fn: 'open', param: 'options' } },
  { title: '`asset.srcset(request)`', text: 'Every width in every format, from one decode.', source: { type: 'SrcsetRequest' } },
  { title: '`remux(input, options)`', text: 'MP4/MOV container rewrite, no re-encode. Its third argument takes `priority`, `signal`, `onProgress` and `pool` as `optimize` does.', source: { type: 'RemuxRequest' } },
  {
    title: '`gifToVideo(input, options)`',
    text: 'An animated GIF as a looping, muted MP4 or WebM with a poster, a placeholder and the markup.',
    source: { type: 'GifToVideoOptions' },
  },
  {
    title: '`transcode(input, options)`',
    text: 'Browsers with WebCodecs: an MP4/MOV or WebM re-encoded as an MP4 or a WebM.',
    source: { type: 'TranscodeOptions' },
  },
  {
    title: '`posterFrame(input, options)`',
    text: 'Browsers with WebCodecs: one key frame as an optimized image with a placeholder.',
    source: { type: 'PosterFrameOptions' },
  },
  { title: '`new Pool(options)`', text: 'A pool of workers, one wasm instance each.', source: { ctor: 'Pool', param: 'options' } },
  { title: '`lazyOptimize(target, options)`', text: 'Browsers only.', source: { type: 'LazyOptions', own: true } },
  {
    title: 'Build plugin: `mediaslim(options)`',
    text: 'The same options for `mediaslim/vite`, `mediaslim/rollup`, `mediaslim/webpack` and `mediaslim/esbuild`. Unknown options are refused by name. Per-import settings are query directives (see the README).',
    source: { type: 'MediaslimPluginOptions' },
  },
];

/** The comment of a node's last JSDoc block, as plain text; undefined when it has none. */
function docOf(node, text) {
  const blocks = node.jsDoc;
  if (!blocks || blocks.length === 0) return undefined;
  const last = blocks[blocks.length - 1];
  const raw = text.slice(last.pos, last.end).trim();
  const body = raw
    .replace(/^\/\*\*/, '')
    .replace(/\*\/$/, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, '').trim())
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return body || undefined;
}

const squash = (s) => s.replace(/\s+/g, ' ').replace(/;\s*}/g, ' }').trim();

/** Loads the package's declarations with the TypeScript compiler. */
function loadDeclarations() {
  const dir = mkdtempSync(path.join(tmpdir(), 'mediaslim-options-'));
  const config = path.join(dir, 'tsconfig.json');
  writeFileSync(config, JSON.stringify({ compilerOptions: { noEmit: true, skipLibCheck: true, lib: ['ES2022', 'DOM'], types: [] }, files: ENTRIES }));
  const api = new API({ cwd: REPO });
  try {
    const snapshot = api.updateSnapshot({ openProjects: [config] });
    const program = snapshot.getProjects()[0].program;
    const files = program
      .getSourceFileNames()
      .filter((f) => f.startsWith(PKG))
      .map((f) => ({ name: path.relative(PKG, f), file: program.getSourceFile(f) }))
      .map(({ name, file }) => ({ name, text: file.text, statements: [...file.statements] }));
    return files;
  } finally {
    api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Name -> { statement, file } for every interface, type alias, function and class. */
function indexDeclarations(files) {
  const byName = new Map();
  for (const f of files) {
    for (const st of f.statements) {
      const name = st.name?.text;
      if (!name || byName.has(name)) continue;
      if ([SyntaxKind.InterfaceDeclaration, SyntaxKind.TypeAliasDeclaration, SyntaxKind.FunctionDeclaration, SyntaxKind.ClassDeclaration].includes(st.kind)) {
        byName.set(name, { statement: st, file: f });
      }
    }
  }
  return byName;
}

/** The options of property signatures (an interface body or a type literal). */
function optionsOf(members, file, owner) {
  return [...members]
    .filter((m) => m.kind === SyntaxKind.PropertySignature)
    .map((m) => ({
      name: m.name.text,
      optional: m.postfixToken?.kind === SyntaxKind.QuestionToken,
      type: m.type ? squash(file.text.slice(m.type.pos, m.type.end)) : 'unknown',
      doc: docOf(m, file.text),
      owner,
      file: file.name,
    }));
}

/** Every option a section's source declares, following type aliases and `extends`. */
function collect(source, byName) {
  const lookup = (name) => {
    const found = byName.get(name);
    if (!found) throw new Error(`options-reference: no declaration named ${name} in pkg/`);
    return found;
  };
  const fromType = (node, file, owner) => {
    if (node.kind === SyntaxKind.TypeLiteral) return optionsOf(node.members, file, owner);
    if (node.kind === SyntaxKind.IntersectionType) return [...node.types].flatMap((t) => fromType(t, file, owner));
    if (node.kind === SyntaxKind.TypeReference) return fromName(node.typeName.text, false);
    if (node.kind === SyntaxKind.ParenthesizedType) return fromType(node.type, file, owner);
    throw new Error(`options-reference: cannot list the options of ${squash(file.text.slice(node.pos, node.end))} (${owner})`);
  };
  const fromName = (name, own) => {
    const { statement, file } = lookup(name);
    if (statement.kind === SyntaxKind.InterfaceDeclaration) {
      const inherited = own ? [] : [...(statement.heritageClauses ?? [])].flatMap((h) => [...h.types].flatMap((t) => fromName(t.expression.text, false)));
      return [...inherited, ...optionsOf(statement.members, file, name)];
    }
    if (statement.kind === SyntaxKind.TypeAliasDeclaration) return fromType(statement.type, file, name);
    throw new Error(`options-reference: ${name} is not an interface or a type alias`);
  };
  const fromParam = (params, file, owner, param) => {
    const p = [...params].find((x) => x.name.text === param);
    if (!p?.type) throw new Error(`options-reference: ${owner} has no typed parameter ${param}`);
    return fromType(p.type, file, owner);
  };
  if (source.type) {
    const options = fromName(source.type, !!source.own);
    const { statement } = lookup(source.type);
    const extended = source.own ? [...(statement.heritageClauses ?? [])].flatMap((h) => [...h.types].map((t) => t.expression.text)) : [];
    return { options, extended };
  }
  if (source.fn) {
    const { statement, file } = lookup(source.fn);
    return { options: fromParam(statement.parameters, file, `${source.fn}()`, source.param), extended: [] };
  }
  const { statement, file } = lookup(source.ctor);
  const ctor = [...statement.members].find((m) => m.kind === SyntaxKind.Constructor);
  return { options: fromParam(ctor.parameters, file, `new ${source.ctor}()`, source.param), extended: [] };
}

const cell = (s) => s.replace(/\|/g, '\\|');

/** `Fit` -> `"inside" | "cover" | ...`: a named union of literals is spelled out for the reader. */
function spelled(type, byName) {
  const found = /^[A-Za-z]+(\[\])?$/.test(type) ? byName.get(type.replace('[]', '')) : undefined;
  const node = found?.statement.kind === SyntaxKind.TypeAliasDeclaration ? found.statement.type : undefined;
  if (!node || node.kind !== SyntaxKind.UnionType || ![...node.types].every((t) => t.kind === SyntaxKind.LiteralType)) return type;
  const union = squash(found.file.text.slice(node.pos, node.end));
  return type.endsWith('[]') ? `(${union})[]` : union;
}

/**
 * The reference as Markdown, the options that have no doc comment, and the declarations it
 * covers (so a test can check that every exported options type is in it).
 */
export function generate() {
  const byName = indexDeclarations(loadDeclarations());
  const missing = [];
  const covered = new Set();
  const out = [
    '# Options reference',
    '',
    '<!-- Generated by `npm run docs:options` (scripts/options-reference.mjs) from the package\'s',
    '     .d.ts files; edit the doc comments in js/ (or src/ for the core\'s options), not this file. -->',
    '',
    'Every option of every front door, with its type and what its doc comment says. Core options come',
    'from the Rust core (`src/`, types generated with tsify); the others from the TypeScript in `js/`.',
    '',
  ];
  for (const section of SECTIONS) {
    const { options, extended } = collect(section.source, byName);
    for (const name of [section.source.type, ...extended, ...options.map((o) => o.owner)]) if (name) covered.add(name);
    out.push(`## ${section.title}`, '', section.text, '');
    if (extended.length) out.push(`Also takes every option of ${extended.map((e) => `\`${e}\``).join(', ')} (the core options of \`optimize\` above).`, '');
    out.push('| option | type | description |', '|---|---|---|');
    for (const o of options) {
      if (!o.doc) missing.push(`${o.owner}.${o.name} (pkg/${o.file})`);
      out.push(`| \`${o.name}${o.optional ? '?' : ''}\` | \`${cell(spelled(o.type, byName))}\` | ${cell(o.doc ?? '')} |`);
    }
    out.push('');
  }
  return { markdown: out.join('\n'), missing: [...new Set(missing)], covered: [...covered].sort() };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const at = process.argv.indexOf('--out');
  const target = at >= 0 ? path.resolve(process.argv[at + 1]) : path.join(REPO, 'docs', 'options.md');
  const { markdown, missing } = generate();
  writeFileSync(target, markdown);
  console.log(`wrote ${path.relative(process.cwd(), target) || target}`);
  if (missing.length) {
    console.error(`options without a doc comment:\n  ${missing.join('\n  ')}`);
    process.exitCode = 1;
  }
}
