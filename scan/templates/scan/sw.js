// The scanning page's service worker: its own files from the cache (filled at install), so the page
// opens without a network; the API and the codes always from the network (the page keeps its outbox
// and its copy of the codes in IndexedDB).
const CACHE = "{{ version }}";
const SHELL = {{ shell|safe }};
self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || !SHELL.includes(url.pathname)) return;
  // The page itself: the network first (its session may have changed), the cache when offline.
  event.respondWith(fetch(event.request).then((response) => {
    const copy = response.clone();
    if (response.ok && !response.redirected) caches.open(CACHE).then((cache) => cache.put(event.request, copy));
    return response;
  }).catch(() => caches.match(event.request)));
});
