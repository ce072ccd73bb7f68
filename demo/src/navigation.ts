import { useSyncExternalStore } from 'react'

// The demo has no router: the address's query is a tiny store of its own, so that what the
// sign-in callback puts there (`?continue=transfer`) reaches the components that wait for it.
const listeners = new Set<() => void>()

function notify(): void {
  for (const listener of listeners) listener()
}

/** Replaces the address (no reload, no history entry) and tells the components that read it. */
export function replaceAddress(path: string): void {
  history.replaceState(null, '', path)
  notify()
}

/** The address's query (`?continue=transfer`), for components. */
export function useSearch(): string {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    () => location.search,
  )
}

/**
 * Whether the address asks to continue `what` after a sign-in (`?continue=what`); removes the
 * marker when it does, so that it is acted on once, whatever renders again.
 */
export function takeContinue(what: string): boolean {
  const params = new URLSearchParams(location.search)
  if (params.get('continue') !== what) return false
  params.delete('continue')
  const query = params.toString()
  replaceAddress(location.pathname + (query ? `?${query}` : '') + location.hash)
  return true
}
