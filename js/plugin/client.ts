// TypeScript declarations for directive imports. Reference them once in the project
// (`/// <reference types="mediaslim/client" />`, or "types": ["mediaslim/client"] in
// tsconfig.json) and put `as=...` last in the query, e.g.
//   import hero from './hero.jpg?w=480;960&format=avif;webp;jpeg&as=picture';
// TypeScript matches module names with one `*` wildcard, so the ending is what counts.
// This file is a script on purpose (no import/export): its `declare module`s are global.

declare module '*as=picture' {
  const picture: {
    sources: { type: string; srcset: string }[];
    img: { src: string; srcset: string; width: number; height: number };
    placeholder?: { color: string; thumbhash?: string; dataUrl?: string };
  };
  export default picture;
}

declare module '*as=srcset' {
  const srcset: string;
  export default srcset;
}

declare module '*as=url' {
  const url: string;
  export default url;
}

declare module '*as=meta' {
  const meta: {
    src?: string;
    width: number;
    height: number;
    format: string;
    placeholder?: { color: string; thumbhash?: string; dataUrl?: string };
  };
  export default meta;
}

declare module '*as=video' {
  const video: {
    /** The MP4 (AV1); a WebM with `container=webm` (give it before `as=video` for these types). */
    src: string;
    /** For `<source type>`, e.g. `video/mp4; codecs="av01.0.00M.08"`. */
    type: string;
    /** The first frame as WebP. */
    poster: string;
    width: number;
    height: number;
    /** Seconds. */
    duration: number;
    frames: number;
    placeholder?: { color: string; thumbhash?: string; dataUrl?: string };
  };
  export default video;
}
