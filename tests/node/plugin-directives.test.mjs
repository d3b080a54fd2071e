// Import directives of the build plugin: parsing, validation messages (file, directive,
// allowed values), the variants they ask for, and the dev server's size prediction checked
// against what the core really produces.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { optimize, Pool } from 'mediaslim';
import { DirectiveError, isDirectiveImport, parseDirectives, plannedSize, resolveFormat, variantsFor } from '../../pkg/plugin/directives.js';
import { fixture } from './_helpers.mjs';

const parse = (q) => parseDirectives('src/img/hero.jpg', q);

/** Asserts parse(q) throws a DirectiveError whose message names the file, the directive and `allowed`. */
function rejects(q, directive, ...patterns) {
  let err;
  try {
    parse(q);
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${q} to be refused`);
  assert.ok(err instanceof DirectiveError, `got ${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.directive, directive);
  assert.match(err.message, /src\/img\/hero\.jpg/, 'names the file');
  assert.match(err.message, new RegExp('`' + directive), 'names the directive');
  for (const p of patterns) assert.match(err.message, p);
  return err;
}

describe('directive imports: which ids are ours', () => {
  test('an image with one of our directives', () => {
    assert.ok(isDirectiveImport('/a/hero.jpg?w=480&as=srcset'));
    assert.ok(isDirectiveImport('/a/hero.PNG?import&format=webp'));
    assert.ok(isDirectiveImport('/a/hero.jpeg?as=meta'));
  });
  test('other queries and other files are left to the bundler', () => {
    assert.ok(!isDirectiveImport('/a/hero.jpg'));
    assert.ok(!isDirectiveImport('/a/hero.jpg?url'));
    assert.ok(!isDirectiveImport('/a/hero.jpg?raw'));
    assert.ok(!isDirectiveImport('/a/hero.svg?w=100'));
    assert.ok(!isDirectiveImport('/a/main.js?w=100'));
  });
});

describe('directive imports: parsing', () => {
  test('the issue example', () => {
    const d = parse('w=960;480;1600&format=avif;webp;jpeg&as=picture');
    assert.deepEqual(d.widths, [480, 960, 1600], 'sorted ascending');
    assert.deepEqual(d.formats, ['avif', 'webp', 'jpeg'], 'best first, as written');
    assert.equal(d.as, 'picture');
    assert.equal(d.placeholder, 'thumbhash', 'pictures carry a ThumbHash by default');
    assert.equal(d.metaOnly, false);
  });
  test('defaults: one URL of the source in its own format', () => {
    const d = parse('quality=70');
    assert.equal(d.as, 'url');
    assert.deepEqual(d.formats, ['original']);
    assert.deepEqual(d.widths, []);
    assert.equal(d.quality, 70);
    assert.equal(d.placeholder, 'none');
  });
  test('quality=auto, effort, h + fit, placeholder kinds, jpg alias, bundler keys ignored', () => {
    const d = parse('import&w=300&h=200&fit=cover&format=jpg&quality=auto&effort=6&as=meta&placeholder=color&t=12345');
    assert.equal(d.quality, 'auto');
    assert.equal(d.effort, 6);
    assert.equal(d.height, 200);
    assert.equal(d.fit, 'cover');
    assert.deepEqual(d.formats, ['jpeg']);
    assert.equal(d.placeholder, 'color');
  });
  test('as=meta alone asks for no variant', () => {
    assert.equal(parse('as=meta').metaOnly, true);
    assert.equal(parse('as=meta&placeholder=none').metaOnly, true);
    assert.equal(parse('as=meta&w=100').metaOnly, false);
  });
});

describe('directive imports: errors name the file, the directive and the allowed values', () => {
  test('bad width', () => {
    rejects('w=abc&format=webp', 'w', /`w=abc`/, /not a whole number/, /widths in pixels/);
    rejects('w=0&format=webp', 'w', /out of range 1-65535/);
    rejects('w=480;;960&as=srcset', 'w', /empty item/);
    rejects('w=-5', 'w', /`-5` is not a whole number/);
  });
  test('bad format', () => {
    rejects('format=gif', 'format', /`gif` is not an output format/, /`avif`, `webp`, `jpeg`, `png` or `original`/);
    rejects('format=webp;webp&as=picture', 'format', /twice/);
  });
  test('unknown directive names', () => {
    const err = rejects('widht=480&format=webp', 'widht', /unknown directive `widht`/, /allowed directives: `w`, `h`, `fit`, `format`, `quality`, `effort`, `as`, `placeholder`/);
    assert.match(err.message, /^mediaslim: src\/img\/hero\.jpg: /);
  });
  test('bad values of the other directives', () => {
    rejects('w=100&as=img', 'as', /`picture`, `srcset`, `meta`, `url`, or `video`/);
    rejects('as=picture&placeholder=blurhash', 'placeholder', /`thumbhash`, `color` or `none`/);
    rejects('quality=101', 'quality', /1-100/, /or `auto`/);
    rejects('quality=high', 'quality', /not a whole number/);
    rejects('effort=11', 'effort', /0-10/);
    rejects('w=100&h=100&fit=stretch', 'fit', /`inside`, `cover`, `contain` or `fill`/);
    rejects('h=100;200', 'h', /one height/);
    rejects('w=', 'w', /needs a value/);
    rejects('w=100&w=200', 'w', /given twice/);
  });
  test('shapes that cannot hold what is asked', () => {
    rejects('w=480;960&format=webp', 'as', /gives one URL/, /2 variants/, /as=srcset/);
    rejects('w=480&format=webp;jpeg&as=srcset', 'as', /one format/, /as=picture/);
    rejects('w=480;960&as=meta', 'as', /describes one image/);
    rejects('w=480&as=url&placeholder=color', 'placeholder', /only `as=picture`, `as=meta` and `as=video`/);
    rejects('w=100&fit=cover', 'fit', /needs both `w` and `h`/);
  });
});

describe('directive imports: variants', () => {
  test('widths past the source collapse into the source width; formats x widths', () => {
    const groups = variantsFor(parse('w=200;400;9999&format=webp;jpeg&as=picture&quality=70'), 640);
    assert.deepEqual(
      groups.map((g) => g.map((v) => [v.options.width, v.options.format, v.options.quality])),
      [
        [[200, 'webp', 70], [400, 'webp', 70], [640, 'webp', 70]],
        [[200, 'jpeg', 70], [400, 'jpeg', 70], [640, 'jpeg', 70]],
      ],
    );
    const all = variantsFor(parse('w=800;1000&format=avif&as=srcset'), 640);
    assert.deepEqual(all[0].map((v) => v.options.width), [640], 'two widths past the source make one variant');
  });
  test('original resolves to the source format; GIF and BMP become PNG', () => {
    assert.equal(resolveFormat('original', 'jpeg'), 'jpeg');
    assert.equal(resolveFormat('original', 'gif'), 'png');
    assert.equal(resolveFormat('original', 'bmp'), 'png');
    assert.equal(resolveFormat('avif', 'png'), 'avif');
  });
});

describe('dev server size prediction matches the core', () => {
  const pool = new Pool({ size: 1 });
  after(() => pool.terminate());
  const src = fixture('skimage-rocket.jpg'); // 640 x 427
  const cases = [
    { width: 333 },
    { height: 101 },
    { width: 9999 },
    { width: 300, height: 300, fit: 'inside' },
    { width: 300, height: 300, fit: 'cover' },
    { width: 300, height: 300, fit: 'contain' },
    { width: 300, height: 500, fit: 'fill' },
    { width: 1000, height: 200, fit: 'cover' },
    { width: 801, height: 601, fit: 'inside', upscale: true },
  ];
  for (const c of cases) {
    test(JSON.stringify(c), async () => {
      const out = await optimize(src, { ...c, format: 'png', effort: 0, pool });
      assert.deepEqual(plannedSize({ width: 640, height: 427 }, c), { width: out.width, height: out.height });
    });
  }
});
