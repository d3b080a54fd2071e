// What directive imports evaluate to (also declared for TypeScript in client.ts).
import type { PlaceholderValue } from './engine.js';

/** `?as=picture`: `<source>`s best first, then the `<img>` fallback (its largest width as `src`). */
export interface Picture {
  sources: { type: string; srcset: string }[];
  img: { src: string; srcset: string; width: number; height: number };
  /** Absent with `placeholder=none`. */
  placeholder?: PlaceholderValue;
}

/** `?as=meta`: one variant (with `src`), or the source itself when no `w`/`h`/`format` is given. */
export interface ImageMeta {
  src?: string;
  width: number;
  height: number;
  format: string;
  placeholder?: PlaceholderValue;
}

/** `?as=srcset`: `"url 480w, url 960w"`. */
export type Srcset = string;
