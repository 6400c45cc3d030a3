/* hailong kiosk service worker. It keeps the kiosk shell, its script, style and icon in a
   cache, so that a reload or a reboot without network still shows a working kiosk.
   Spoken prompts live in a cache of their own that survives new versions (their URLs name
   their content): the page fills and prunes it from its configuration, this worker serves it.
   Ratings and the kiosk's configuration are not its business: the page keeps those in
   IndexedDB and localStorage, and sends them itself. */
'use strict';

const CACHE = 'hailong-kiosk-{{ version }}';
const SHELL = {{ shell|tojson }};
const PRECACHE = {{ precache|tojson }};
const PROMPTS = {{ prompts|tojson }};   // the path prefix of the recordings
const PROMPT_CACHE = 'hailong-prompts';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((url) => new Request(url, {cache: 'reload'}))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys
        .filter((key) => key.startsWith('hailong-kiosk-') && key !== CACHE)
        .map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

// The cache first: every file here is versioned, and a new version comes with a new worker.
self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(PROMPTS)) {
    event.respondWith(caches.open(PROMPT_CACHE).then((cache) => cache.match(url.pathname)
      .then((cached) => cached || fetch(request).then((response) => {
        if (response.status === 200) cache.put(url.pathname, response.clone());
        return response;
      }))));
    return;
  }
  const key = request.mode === 'navigate' && url.pathname === SHELL ? SHELL : url.pathname + url.search;
  if (!PRECACHE.includes(key)) return;
  event.respondWith(caches.open(CACHE).then((cache) => cache.match(key))
    .then((cached) => cached || fetch(request)));
});
