// browser-image-compression in Chromium (Debian's, through playwright-core, as the browser
// tests launch it; never a downloaded browser). The page loads the library's ESM build from
// node_modules; `libURL` points its Web Worker at the UMD build on the same local server
// (its default is a jsDelivr URL, and the bench makes no outside requests: any is aborted).
import { launchBrowser, serveStatic } from '../../tests/browser/helpers.mjs';

const PAGE = `<!doctype html><meta charset="utf-8"><title>bic bench</title>
<script type="module">
import imageCompression from '/node_modules/browser-image-compression/dist/browser-image-compression.mjs';
const libURL = location.origin + '/node_modules/browser-image-compression/dist/browser-image-compression.js';
const b64 = (blob) => new Promise((resolve, reject) => {
  const r = new FileReader();
  r.onload = () => resolve(String(r.result).slice(String(r.result).indexOf(',') + 1));
  r.onerror = () => reject(r.error);
  r.readAsDataURL(blob);
});
window.runBic = async (url, name, type, options) => {
  const blob = await (await fetch(url)).blob();
  const file = new File([blob], name, { type, lastModified: 0 });
  const t = performance.now();
  const out = await imageCompression(file, { ...options, libURL });
  const ms = performance.now() - t;
  return { type: out.type, size: out.size, ms, b64: await b64(out) };
};
window.bicVersion = imageCompression.version;
window.ready = true;
</script>`;

export async function startBic({ root, files }) {
  // files: { '/path': { type, body } } served from memory (corpus originals, reference PNGs).
  const server = await serveStatic(root, { routes: { '/bench-quality.html': { type: 'text/html; charset=utf-8', body: PAGE }, ...files } });
  const browser = await launchBrowser();
  const context = await browser.newContext();
  const outside = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(server.origin) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.origin}/bench-quality.html`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 60_000 });
  const version = await page.evaluate(() => window.bicVersion);
  return {
    version,
    browserVersion: browser.version(),
    outside,
    errors,
    async run(url, name, type, options) {
      const r = await page.evaluate(([u, n, t, o]) => window.runBic(u, n, t, o), [url, name, type, options]);
      return { type: r.type, ms: r.ms, bytes: new Uint8Array(Buffer.from(r.b64, 'base64')) };
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
