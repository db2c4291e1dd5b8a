// normlab's service worker: after the first visit the lab works with no network.
//
// The build (scripts/offline_hook.sh) replaces the two lines below with a hash of dist/
// and the list of every file in it, so a new deployment is a new worker with a cache of its
// own. Paths are relative to this file, which sits beside index.html: the worker's scope is
// the page's folder, at the root of a host or under any sub-path.
const BUILD = "unbuilt";
const FILES = [];

const CACHE = `normlab-${BUILD}`;
// Keep in sync with SKIP_WAITING in src/ui/offline.rs.
const SKIP_WAITING = "skip-waiting";

// Installing saves the whole build at once; the worker only takes over when every file is
// saved. Files are fetched past the HTTP cache, so the copy is the deployment's own.
self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(FILES.map((file) => new Request(file, { cache: "reload" })))),
  );
});

// The new build's cache is complete: older builds' caches go, and a first visit's page is
// controlled at once (there is no older page it could disagree with).
self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("normlab-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// A newer build waits until the page lets it take over (the page's "Reload" button), so
// that one page never mixes two builds' files.
self.addEventListener("message", (event) => {
  if (event.data === SKIP_WAITING) self.skipWaiting();
});

// Cache first for every file of the build, the page itself included: a page, its wasm, its
// lessons and data sets always come from one build, and an update arrives whole, as a
// waiting worker. Anything else (a student's own file is never fetched) goes to the network.
self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  // The page at its folder's address, with any lesson's query (?lesson=l3&lang=en).
  const page = request.mode === "navigate" && (url.pathname === scope.pathname || url.pathname === `${scope.pathname}index.html`);
  event.respondWith(
    caches
      .open(CACHE)
      .then((cache) => (page ? cache.match("index.html") : cache.match(request)))
      .then((saved) => saved ?? fetch(request)),
  );
});
