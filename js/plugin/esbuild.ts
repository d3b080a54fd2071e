// `import mediaslim from 'mediaslim/esbuild'`: the build plugin for Esbuild (see core.ts).
import { unplugin, type MediaslimPluginOptions } from './core.js';

export type { MediaslimPluginOptions, PlaceholderValue, Report, ReportFile } from './core.js';
export type { Picture, ImageMeta, Srcset } from './types.js';

const mediaslim: (options?: MediaslimPluginOptions) => ReturnType<typeof unplugin.esbuild> = unplugin.esbuild;
export default mediaslim;
