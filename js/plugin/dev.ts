// The dev server: a directive import answers at once with URLs under `<base>@mediaslim/`; a
// variant is encoded when the browser first asks for it, then served from the cache.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { OptimizeOptions } from '../wasm/mediaslim_core.js';
import { canonicalJson, sha256 } from './cache.js';
import type { Engine } from './engine.js';

export const DEV_PREFIX = '@mediaslim/';

interface Registered {
  file: string;
  /** As errors show it. */
  name: string;
  options: OptimizeOptions;
  type: string;
  /** Made already (a video and its poster): served as is. */
  bytes?: Uint8Array;
}

export class DevServer {
  private readonly registry = new Map<string, Registered>();
  /** Requests answered, by how: for tests and curious users (`x-mediaslim-cache` header too). */
  readonly counters = { requests: 0, encoded: 0, cached: 0, failed: 0 };

  constructor(
    private readonly engine: Engine,
    private base: string,
  ) {}

  private origin = '';

  /** Vite's `base` (absolute) and `server.origin`, when set. */
  setBase(base: string, origin?: string): void {
    this.base = base.endsWith('/') ? base : `${base}/`;
    this.origin = origin ? origin.replace(/\/$/, '') : '';
  }

  /** A URL for one variant; nothing is encoded until it is requested. */
  url(file: string, display: string, sourceHash: string, options: OptimizeOptions, name: string, format: string): string {
    const token = sha256(`${sourceHash}\0${file}\0${canonicalJson(options)}`).slice(0, 20);
    this.registry.set(token, { file, name: display, options, type: `image/${format}` });
    return `${this.origin}${this.base}${DEV_PREFIX}${token}/${encodeURIComponent(name)}`;
  }

  /** A URL for bytes made already (`as=video`), served from memory. */
  bytesUrl(identity: string, name: string, bytes: Uint8Array, type: string): string {
    const token = sha256(identity).slice(0, 20);
    this.registry.set(token, { file: '', name, options: {} as OptimizeOptions, type, bytes });
    return `${this.origin}${this.base}${DEV_PREFIX}${token}/${encodeURIComponent(name)}`;
  }

  /** Connect-style middleware. */
  handle = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    const path = (req.url ?? '').split('?')[0];
    const prefix = `${this.base}${DEV_PREFIX}`;
    if (!path.startsWith(prefix)) return next();
    const token = path.slice(prefix.length).split('/')[0];
    const entry = this.registry.get(token);
    this.counters.requests++;
    if (!entry) {
      res.statusCode = 404;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(`mediaslim: no variant ${token} (the page is older than the dev server: reload it)`);
      return;
    }
    if (entry.bytes) {
      this.counters.cached++;
      res.statusCode = 200;
      res.setHeader('content-type', entry.type);
      res.setHeader('content-length', String(entry.bytes.length));
      res.setHeader('cache-control', 'no-cache');
      res.end(req.method === 'HEAD' ? undefined : Buffer.from(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength));
      return;
    }
    void (async () => {
      try {
        // Read afresh: the file may have changed since the module was loaded.
        const buf = await readFile(entry.file);
        const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        const [v] = await this.engine.variants({ file: entry.name, bytes, hash: sha256(bytes) }, [entry.options]);
        this.counters[v.cached ? 'cached' : 'encoded']++;
        res.statusCode = 200;
        res.setHeader('content-type', `image/${v.format}`);
        res.setHeader('content-length', String(v.bytes.length));
        res.setHeader('cache-control', 'no-cache');
        res.setHeader('x-mediaslim-cache', v.cached ? 'hit' : 'miss');
        res.end(req.method === 'HEAD' ? undefined : Buffer.from(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength));
      } catch (err) {
        this.counters.failed++;
        res.statusCode = 500;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end((err as Error).message);
      }
    })();
  };
}
