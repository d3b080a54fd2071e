// `import mediaslim from 'mediaslim/webpack'`: the build plugin for Webpack (see core.ts).
import { unplugin, type MediaslimPluginOptions } from './core.js';

export type { MediaslimPluginOptions, PlaceholderValue, Report, ReportFile } from './core.js';
export type { Picture, ImageMeta, Srcset } from './types.js';

const mediaslim: (options?: MediaslimPluginOptions) => ReturnType<typeof unplugin.webpack> = unplugin.webpack;
export default mediaslim;
