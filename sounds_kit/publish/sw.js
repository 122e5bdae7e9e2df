// Offline once loaded. The shell (page, settings, the engine's always-loaded code) is cached at
// install; everything else (a backend's chunks, an instrument's files) is cached the first time the
// page fetches it, so a phone never downloads the backends and instruments it does not use.
const CACHE = "sounds-kit-__CACHE_KEY__";
const SHELL = __FILES__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("sounds-kit-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page hands over what it fetched before this worker controlled it (a first visit).
self.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "keep" || !Array.isArray(event.data.urls)) return;
  const urls = event.data.urls.filter((u) => new URL(u).origin === self.location.origin);
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      Promise.all(urls.map((u) => cache.match(u, { ignoreSearch: true }).then((hit) => hit || cache.add(u).catch(() => {})))),
    ),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    caches.open(CACHE).then((cache) =>
      cache.match(request, { ignoreSearch: true }).then(
        (hit) =>
          hit ||
          fetch(request).then((response) => {
            if (response.ok) cache.put(request, response.clone());
            return response;
          }),
      ),
    ),
  );
});
