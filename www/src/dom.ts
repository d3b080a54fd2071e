// Small DOM helpers shared by the demo's modules.

/** The one element matching `selector` under `root`; throws when it is missing (a broken page). */
export function $<T extends Element = HTMLElement>(selector: string, root: ParentNode = document): T {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`missing element ${selector}`);
  return found;
}

type Attrs = Record<string, string | number | boolean | undefined | null>;

/** `h('button', { class: 'button', type: 'button' }, 'Go')`: an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null | undefined | false)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

let nextId = 1;
/** A page-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  return `${prefix}-${nextId++}`;
}

/** Tells screen readers something once, through the page's polite live region. */
export function announce(text: string): void {
  const status = document.querySelector('#status');
  if (!status) return;
  // Clearing first makes a repeated message be read again.
  status.textContent = '';
  requestAnimationFrame(() => (status.textContent = text));
}

/** Saves a Blob as a file through a temporary `<a download>`. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  // Give the browser time to start the download before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
