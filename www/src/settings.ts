// The encode settings: what the user picks (format, quality, max size, metadata), the form
// that edits them (one for the whole batch, one per file in the compare dialog), and how
// they become the package's OptimizeOptions.
import type { OptimizeOptions } from 'mediaslim';
import { h, uid } from './dom.ts';

export type FormatChoice = 'auto' | 'avif' | 'webp' | 'jpeg' | 'png' | 'original';
export type AcceptFormat = 'avif' | 'webp' | 'jpeg' | 'png';

export interface Settings {
  format: FormatChoice;
  /** For `auto`: the formats the visitors' browsers decode (the core picks the smallest). */
  accept: AcceptFormat[];
  /** `auto`: the core searches the smallest output that reaches `target`; `fixed`: `quality` as is. */
  qualityMode: 'auto' | 'fixed';
  /** 1-100 for JPEG, lossy WebP and AVIF. */
  quality: number;
  /** SSIMULACRA2 score automatic quality aims for (~90 visually lossless, 80 high, 70 medium). */
  target: number;
  maxWidth: number | null;
  maxHeight: number | null;
  /** A byte budget in KiB: the core lowers quality, then size, until the output fits. */
  maxKiB: number | null;
  keepMetadata: boolean;
}

const ACCEPT_CHOICES: AcceptFormat[] = ['avif', 'webp', 'jpeg', 'png'];
const ACCEPT_LABEL: Record<AcceptFormat, string> = { avif: 'AVIF', webp: 'WebP', jpeg: 'JPEG', png: 'PNG' };

const FORMAT_CHOICES: { value: FormatChoice; label: string; hint?: string }[] = [
  { value: 'auto', label: 'Auto', hint: 'the smallest allowed format that reaches the target score (several encodes per file)' },
  { value: 'avif', label: 'AVIF', hint: 'smallest, slow to encode' },
  { value: 'webp', label: 'WebP' },
  { value: 'jpeg', label: 'JPEG' },
  { value: 'png', label: 'PNG', hint: 'lossless' },
  { value: 'original', label: 'Original', hint: 'same format as each file' },
];

/** The core's own default quality per format. */
export function defaultQuality(format: FormatChoice): number {
  return format === 'avif' ? 60 : 80;
}

export function defaultSettings(): Settings {
  // Fast by default (one encode per file); "Auto" is a click away.
  return {
    format: 'webp',
    accept: ['webp', 'jpeg'],
    qualityMode: 'fixed',
    quality: defaultQuality('webp'),
    target: 80,
    maxWidth: null,
    maxHeight: null,
    maxKiB: null,
    keepMetadata: false,
  };
}

export function sameSettings(a: Settings, b: Settings): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Does a lossy quality number mean anything for this output? */
function takesQuality(settings: Settings, source: string | null): boolean {
  switch (settings.format) {
    case 'png':
      return false;
    case 'original':
      // Kept as their own format, PNG, GIF, BMP and lossless WebP stay lossless.
      return source === 'jpeg' || source === 'webp-lossy' || source === 'avif';
    default:
      return true;
  }
}

/**
 * The package options for one file. `source` is what the file's first bytes say it is
 * (see sniffFormat), so that "Original" passes a quality only where it applies.
 */
export function toOptions(settings: Settings, source: string | null): OptimizeOptions {
  const options: OptimizeOptions = { format: settings.format };
  if (settings.format === 'auto') {
    // Formats are compared at the target score: the quality is always searched.
    Object.assign(options, { accept: settings.accept.length ? settings.accept : ['webp', 'jpeg'], quality: 'auto', target: settings.target });
  } else if (takesQuality(settings, source)) {
    if (settings.qualityMode === 'auto') Object.assign(options, { quality: 'auto', target: settings.target });
    else options.quality = settings.quality;
  }
  if (settings.maxWidth) options.width = settings.maxWidth;
  if (settings.maxHeight) options.height = settings.maxHeight;
  if (settings.maxKiB) options.maxBytes = Math.round(settings.maxKiB * 1024);
  if (settings.keepMetadata) options.keepMetadata = true;
  return options;
}

/** One line that says what a file was encoded with ("WebP q80, max 1600 px wide"). */
export function describeSettings(settings: Settings): string {
  const format = FORMAT_CHOICES.find((c) => c.value === settings.format)?.label ?? settings.format;
  const parts = [settings.format === 'auto' ? `Auto (${settings.accept.map((a) => ACCEPT_LABEL[a]).join(', ')})` : format];
  if (settings.format === 'auto' || (settings.format !== 'png' && settings.qualityMode === 'auto')) parts.push(`target score ${settings.target}`);
  else if (settings.format !== 'png') parts.push(`q${settings.quality}`);
  if (settings.maxWidth && settings.maxHeight) parts.push(`within ${settings.maxWidth}×${settings.maxHeight}`);
  else if (settings.maxWidth) parts.push(`max ${settings.maxWidth} px wide`);
  else if (settings.maxHeight) parts.push(`max ${settings.maxHeight} px high`);
  if (settings.maxKiB) parts.push(`at most ${settings.maxKiB} KB`);
  if (settings.keepMetadata) parts.push('metadata kept');
  return parts.join(', ');
}

function positiveInt(value: string): number | null {
  const n = Math.floor(Number(value));
  return value.trim() !== '' && Number.isFinite(n) && n > 0 ? Math.min(n, 65535) : null;
}

/**
 * The settings controls. Every change calls `onChange` with the new settings; a range or
 * number counts once it is committed (released, Enter, or focus leaving), not per pixel dragged.
 */
export class SettingsForm {
  readonly element: HTMLElement;
  private settings: Settings;
  private qualityTouched = false;
  private readonly formatInputs: HTMLInputElement[] = [];
  private readonly acceptInputs: HTMLInputElement[] = [];
  private readonly acceptField: HTMLElement;
  private readonly modeInputs: HTMLInputElement[] = [];
  private readonly modeField: HTMLElement;
  private readonly range: HTMLInputElement;
  private readonly rangeValue: HTMLOutputElement;
  private readonly rangeLabel: HTMLElement;
  private readonly qualityField: HTMLElement;
  private readonly qualityHint: HTMLElement;
  private readonly maxWidth: HTMLInputElement;
  private readonly maxHeight: HTMLInputElement;
  private readonly maxKiB: HTMLInputElement;
  private readonly keepMetadata: HTMLInputElement;

  constructor(container: HTMLElement, initial: Settings, private readonly onChange: (settings: Settings) => void) {
    this.settings = { ...initial };
    const id = uid('settings');

    // Radios drawn as a row of buttons; each radio lies over its whole label, so a click
    // anywhere on the button hits the radio itself.
    const radios = <T extends string>(name: string, choices: { value: T; label: string; hint?: string }[], onPick: (value: T) => void, into: HTMLInputElement[]) => {
      const row = h('div', { class: 'segmented' });
      for (const choice of choices) {
        const hintId = `${id}-${name}-${choice.value}-hint`;
        const input = h('input', { type: 'radio', name: `${id}-${name}`, value: choice.value, 'aria-describedby': choice.hint ? hintId : undefined });
        input.addEventListener('change', () => input.checked && onPick(choice.value));
        into.push(input);
        row.append(h('label', { title: choice.hint }, input, h('span', {}, choice.label)));
        if (choice.hint) row.append(h('span', { class: 'visually-hidden', id: hintId }, choice.hint));
      }
      return row;
    };

    const formatField = h('fieldset', { class: 'field field-format' }, h('legend', {}, 'Format'), radios('format', FORMAT_CHOICES, (format) => this.update({ format }), this.formatInputs));

    const accept = h('div', { class: 'segmented' });
    for (const format of ACCEPT_CHOICES) {
      const input = h('input', { type: 'checkbox', value: format });
      input.addEventListener('change', () => {
        const chosen = this.acceptInputs.filter((i) => i.checked).map((i) => i.value as AcceptFormat);
        // At least one format: unticking the last one is undone.
        if (chosen.length === 0) {
          input.checked = true;
          return;
        }
        this.update({ accept: chosen });
      });
      this.acceptInputs.push(input);
      accept.append(h('label', {}, input, h('span', {}, ACCEPT_LABEL[format])));
    }
    this.acceptField = h(
      'fieldset',
      { class: 'field field-accept', 'aria-describedby': `${id}-accept-hint` },
      h('legend', {}, 'Auto picks from'),
      accept,
      h('small', { class: 'hint', id: `${id}-accept-hint` }, 'The formats your visitors’ browsers show. AVIF is by far the slowest to search.'),
    );

    this.modeField = h(
      'fieldset',
      { class: 'inline-fieldset' },
      h('legend', {}, 'Quality'),
      radios(
        'mode',
        [
          { value: 'auto' as const, label: 'Auto', hint: 'the smallest output that reaches a target score' },
          { value: 'fixed' as const, label: 'Fixed', hint: 'one encode at a quality you choose' },
        ],
        (qualityMode) => this.update({ qualityMode }),
        this.modeInputs,
      ),
    );
    this.modeField.querySelector('.segmented')!.classList.add('small');

    this.range = h('input', { type: 'range', id: `${id}-quality`, min: 1, max: 100, step: 1, 'aria-describedby': `${id}-quality-hint` });
    // The slider announces its own value: the visible number need not be read twice.
    this.rangeValue = h('output', { for: this.range.id, class: 'range-value', 'aria-hidden': 'true' });
    this.rangeLabel = h('span', {}, 'Quality');
    this.qualityHint = h('small', { class: 'hint', id: `${id}-quality-hint` });
    this.range.addEventListener('input', () => {
      this.rangeValue.value = this.range.value;
    });
    this.range.addEventListener('change', () => {
      const value = Number(this.range.value);
      if (this.autoQuality) this.update({ target: value });
      else {
        this.qualityTouched = true;
        this.update({ quality: value });
      }
    });
    this.qualityField = h(
      'div',
      { class: 'field field-quality' },
      this.modeField,
      h('label', { for: this.range.id, class: 'range-label' }, this.rangeLabel, ' ', this.rangeValue),
      this.range,
      this.qualityHint,
    );

    const number = (name: 'maxWidth' | 'maxHeight' | 'maxKiB', label: string, hint?: string) => {
      const input = h('input', { type: 'number', id: `${id}-${name}`, min: 1, max: 65535, step: 1, inputmode: 'numeric', placeholder: 'Any', 'aria-describedby': hint ? `${id}-${name}-hint` : undefined });
      input.addEventListener('change', () => this.update({ [name]: positiveInt(input.value) } as Partial<Settings>));
      return { input, field: h('div', { class: 'field field-size' }, h('label', { for: input.id }, label), input, hint ? h('small', { class: 'hint', id: `${id}-${name}-hint` }, hint) : null) };
    };
    const width = number('maxWidth', 'Max width (px)');
    const height = number('maxHeight', 'Max height (px)');
    const kib = number('maxKiB', 'Max file size (KB)', 'Lowers quality, then size, to fit.');
    this.maxWidth = width.input;
    this.maxHeight = height.input;
    this.maxKiB = kib.input;

    this.keepMetadata = h('input', { type: 'checkbox', id: `${id}-metadata`, 'aria-describedby': `${id}-metadata-hint` });
    this.keepMetadata.addEventListener('change', () => this.update({ keepMetadata: this.keepMetadata.checked }));
    const metadataField = h(
      'div',
      { class: 'field field-check' },
      h('div', { class: 'check' }, this.keepMetadata, h('label', { for: this.keepMetadata.id }, 'Keep metadata')),
      h('small', { class: 'hint', id: `${id}-metadata-hint` }, 'EXIF and colour profile. Off: stripped, colours converted to sRGB.'),
    );

    this.element = h(
      'div',
      { class: 'settings-grid' },
      formatField,
      this.acceptField,
      this.qualityField,
      h('div', { class: 'size-fields' }, width.field, height.field),
      h('div', { class: 'size-fields' }, kib.field),
      metadataField,
    );
    container.replaceChildren(this.element);
    this.render();
  }

  get value(): Settings {
    return { ...this.settings, accept: [...this.settings.accept] };
  }

  /** Shows `settings` without reporting a change. */
  set(settings: Settings): void {
    this.settings = { ...settings, accept: [...settings.accept] };
    this.render();
  }

  /** The range sets a target score (auto quality, always so for auto format), not a quality. */
  private get autoQuality(): boolean {
    return this.settings.format === 'auto' || this.settings.qualityMode === 'auto';
  }

  private update(patch: Partial<Settings>): void {
    const next = { ...this.settings, ...patch };
    // Until the user sets a quality, it follows the chosen format's default.
    if (patch.format && !this.qualityTouched) next.quality = defaultQuality(patch.format);
    this.settings = next;
    this.render();
    this.onChange(this.value);
  }

  private render(): void {
    const s = this.settings;
    for (const input of this.formatInputs) input.checked = input.value === s.format;
    for (const input of this.acceptInputs) input.checked = s.accept.includes(input.value as AcceptFormat);
    this.acceptField.hidden = s.format !== 'auto';
    const auto = this.autoQuality;
    for (const input of this.modeInputs) {
      input.checked = input.value === (auto ? 'auto' : 'fixed');
      // Auto format compares formats at one score: there is no fixed quality to give it.
      input.disabled = s.format === 'auto' || s.format === 'png';
    }
    this.rangeLabel.textContent = auto ? 'Target score' : 'Encoder quality';
    this.range.min = auto ? '50' : '1';
    this.range.max = auto ? '95' : '100';
    this.range.value = String(auto ? s.target : s.quality);
    this.rangeValue.value = this.range.value;
    const lossless = s.format === 'png';
    this.range.disabled = lossless;
    this.qualityField.classList.toggle('is-disabled', lossless);
    this.qualityHint.textContent = lossless
      ? 'PNG is lossless: no quality to set.'
      : auto
        ? 'SSIMULACRA2 to reach: 90 looks lossless, 80 high, 70 medium. Several encodes per file.'
        : s.format === 'original'
          ? 'Applies to JPEG and lossy WebP files; PNG, GIF and BMP stay lossless.'
          : 'Higher is better looking and larger.';
    if (document.activeElement !== this.maxWidth) this.maxWidth.value = s.maxWidth ? String(s.maxWidth) : '';
    if (document.activeElement !== this.maxHeight) this.maxHeight.value = s.maxHeight ? String(s.maxHeight) : '';
    if (document.activeElement !== this.maxKiB) this.maxKiB.value = s.maxKiB ? String(s.maxKiB) : '';
    this.keepMetadata.checked = s.keepMetadata;
  }
}
