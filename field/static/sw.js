/* The field app's service worker (scope /field/): keeps the app shell so the app opens offline.
   Only the shell is cached; API answers never are (the app keeps its own copies of lists). */
"use strict";
const CACHE = "onemap-field-v2";  // bumped with the registry (台账) tab: phones take the new shell
const SHELL = ["/field/", "/field/style.css", "/field/i18n.js", "/field/store.js", "/field/app.js", "/field/registry.js",
  "/field/vendor/leaflet.js", "/field/vendor/leaflet.css", "/field/vendor/images/marker-icon.png",
  "/field/vendor/images/marker-icon-2x.png", "/field/vendor/images/marker-shadow.png",
  "/field/manifest.webmanifest", "/field/icons/icon-192.png", "/field/icons/icon-512.png"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// A page that loaded while this worker was activating (or by a hard reload) asks to be claimed:
// without that it would not open offline until its next navigation.
self.addEventListener("message", function (event) {
  if (event.data === "claim") event.waitUntil(self.clients.claim());
});

// The shell: network first (so an update shows at once), the cache when offline.
self.addEventListener("fetch", function (event) {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/field/")) return;
  const key = url.pathname === "/field/index.html" ? "/field/" : url.pathname;
  event.respondWith(fetch(event.request).then(function (response) {
    if (response.ok && SHELL.indexOf(key) >= 0) {
      const copy = response.clone();
      caches.open(CACHE).then(function (c) { c.put(key, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key).then(function (hit) { return hit || Response.error(); });
  }));
});
