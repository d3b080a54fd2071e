// The webpack loader behind directive imports (`./hero.jpg?w=480&as=srcset`): it hands the
// request to the plugin instance that installed it (passed in the loader options) and returns
// the JS module the plugin generates. Binary input (`raw`): the image bytes are not needed here.
import type { WebpackLoaderContext } from './core.js';

interface Context extends WebpackLoaderContext {
  async(): (err: Error | null, result?: string) => void;
  getOptions(): { handler: (lc: WebpackLoaderContext) => Promise<string> };
}

export const raw = true;

export default function mediaslimLoader(this: Context): void {
  const callback = this.async();
  const { handler } = this.getOptions();
  handler(this).then(
    (code) => callback(null, code),
    (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
  );
}
