// Offline use: the production build registers a service worker (sw.js, generated at build
// time with the list of every file the page needs) so that the second visit works without
// a network. The dev server has none, and removes one left over from a build served on the
// same origin, so that it never serves stale files.
import { $ } from './dom.ts';

/** Set by vite.config.mjs: true in `vite build` output only. */
declare const __DEMO_OFFLINE__: boolean;

export function setUpOffline(): void {
  if (!('serviceWorker' in navigator)) return;
  if (!__DEMO_OFFLINE__) {
    void navigator.serviceWorker.getRegistrations().then((registrations) => {
      for (const registration of registrations) void registration.unregister();
    });
    return;
  }
  navigator.serviceWorker.register(new URL('sw.js', document.baseURI), { scope: './' }).catch((err: unknown) => {
    console.info('mediaslim demo: no offline support here:', err);
  });
  void navigator.serviceWorker.ready.then(() => {
    $('#offline-note').textContent = ' Everything this page needs is stored: it works offline.';
    document.body.dataset.offline = 'ready';
  });
}
