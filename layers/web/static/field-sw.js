/* The field page's service worker (served at /field-sw.js, scope /field): the page and its files stay on the
   phone, so /field opens without a network. The server fills in the version (a digest of the files) and the
   list; a new version is a new cache and the old ones are deleted. Findings never pass through here: the page
   keeps them in IndexedDB and posts them itself. */
'use strict';
var CACHE = 'hm-field-__VERSION__';
var FILES = __FILES__;
// The map beneath (the city's roads, outlines and names) as last seen, for a start without a network; kept
// across versions, at most MAP_MAX answers (the oldest go first).
var MAP_CACHE = 'hm-field-map', MAP_MAX = 3000;
var MAP_PATHS = ['/tiles/roads/', '/tiles/admin_areas/', '/api/context/labels'];

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(FILES); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf('hm-field-') === 0 && n !== CACHE && n !== MAP_CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate' && url.pathname === '/field') {
    // The page: fresh from the server when it answers (rounds change), else the last copy kept.
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) {
          cache.put(request, copy.clone());
          cache.put('/field', copy);
        });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (hit) { return hit || caches.match('/field'); });
    }));
    return;
  }
  if (MAP_PATHS.some(function (p) { return url.pathname.indexOf(p) === 0; })) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(MAP_CACHE).then(function (cache) {
          return cache.put(request, copy).then(function () { return cache.keys(); }).then(function (keys) {
            return Promise.all(keys.slice(0, Math.max(0, keys.length - MAP_MAX)).map(function (k) { return cache.delete(k); }));
          });
        });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
  if (FILES.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname).then(function (hit) { return hit || fetch(request); }));
  }
});
