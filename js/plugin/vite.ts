// `import mediaslim from 'mediaslim/vite'`: the build plugin for Vite (see core.ts).
import { unplugin, type MediaslimPluginOptions } from './core.js';

export type { MediaslimPluginOptions, PlaceholderValue, Report, ReportFile } from './core.js';
export type { Picture, ImageMeta, Srcset } from './types.js';

const mediaslim: (options?: MediaslimPluginOptions) => ReturnType<typeof unplugin.vite> = unplugin.vite;
export default mediaslim;
