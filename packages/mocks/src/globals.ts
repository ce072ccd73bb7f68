// MSW's cookie store checks, when it loads in a browser realm, that `localStorage` exists; a worker
// has none, and the mock provider sets no cookie. An empty stand-in passes the check: MSW reads and
// writes the store only through `getItem` and `setItem`, and skips both when they are missing.
// Every entry of this package imports this module before MSW loads; only a worker gets the stand-in.
const scope = globalThis as { localStorage?: object; WorkerGlobalScope?: unknown }
if (scope.WorkerGlobalScope !== undefined) scope.localStorage ??= {}

export {}
