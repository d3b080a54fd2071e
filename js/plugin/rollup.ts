// `import mediaslim from 'mediaslim/rollup'`: the build plugin for Rollup (see core.ts).
import { unplugin, type MediaslimPluginOptions } from './core.js';

export type { MediaslimPluginOptions, PlaceholderValue, Report, ReportFile } from './core.js';
export type { Picture, ImageMeta, Srcset } from './types.js';

const mediaslim: (options?: MediaslimPluginOptions) => ReturnType<typeof unplugin.rollup> = unplugin.rollup;
export default mediaslim;
