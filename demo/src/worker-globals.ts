// MSW's cookie store checks, when it loads outside Node, that `localStorage` exists; a worker has
// none, and the mock provider sets no cookie. An empty stand-in passes the check: MSW reads and
// writes the store only through `getItem` and `setItem`, and skips both when they are missing.
// Imported first, before MSW loads.
const scope = globalThis as { localStorage?: object }
scope.localStorage ??= {}
