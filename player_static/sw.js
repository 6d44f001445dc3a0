/* kepuscreen player service worker: the player, its last manifest and its media survive a network outage.
 * - player files: network first (a new release shows on the next load), cache when offline;
 * - manifest: network first, the last good copy when offline (marked with X-From-Cache);
 * - media (content-addressed, immutable): cache first; the page fills the cache ahead of time. */
var VERSION = "dev-build";
var PLAYER = "kepu-player-" + VERSION, MANIFEST = "kepu-manifest", MEDIA = "kepu-media";
var ASSETS = ["./", "./index.html", "./player.css", "./player.js"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(PLAYER).then(function (c) { return c.addAll(ASSETS); }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("kepu-player-") === 0 && k !== PLAYER; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function timeout(ms, p) {
  return Promise.race([p, new Promise(function (_, reject) { setTimeout(reject, ms, new Error("timeout")); })]);
}

function playerFile(req) {
  return timeout(4000, fetch(req)).then(function (r) {
    if (r.ok) { var copy = r.clone(); caches.open(PLAYER).then(function (c) { c.put(req.url.split("?")[0], copy); }); }
    return r;
  }).catch(function () {
    return caches.open(PLAYER).then(function (c) {
      return c.match(req, { ignoreSearch: true }).then(function (hit) {
        return hit || (req.mode === "navigate" ? c.match("./index.html") : undefined);
      });
    }).then(function (hit) { return hit || Response.error(); });
  });
}

function manifest(req) {
  var key = req.url.split("?")[0];
  return timeout(8000, fetch(req)).then(function (r) {
    if (r.status === 200) { var copy = r.clone(); caches.open(MANIFEST).then(function (c) { c.put(key, copy); }); }
    return r;
  }).catch(function () {
    return caches.open(MANIFEST).then(function (c) { return c.match(key); }).then(function (hit) {
      if (!hit) return Response.error();
      return hit.blob().then(function (b) {
        return new Response(b, { status: 200, headers: { "Content-Type": "application/json", "X-From-Cache": "1" } });
      });
    });
  });
}

function media(req) {
  return caches.open(MEDIA).then(function (c) {
    return c.match(req.url).then(function (hit) { return hit || fetch(req); });
  });
}

self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.pathname.indexOf("/media/") >= 0) return e.respondWith(media(req));
  if (/\/screens\/[^/]+\/manifest\.json$/.test(url.pathname)) return e.respondWith(manifest(req));
  if (url.origin === location.origin && url.pathname.indexOf(new URL("./", location.href).pathname) === 0) {
    return e.respondWith(playerFile(req));
  }
});
