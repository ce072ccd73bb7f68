/**
 * Calls `check` when the page wakes: it gains focus, becomes visible, comes back online, or is
 * restored from the back-forward cache. Timers stall in background tabs and sleeping devices;
 * these events are when a stale token is caught. Returns the stop.
 */
export function watchPage(check: () => void): () => void {
  const target = globalThis.window
  if (!target?.addEventListener) return () => {}
  const wake = (event: Event) => {
    // A hidden tab that comes back online retries too; other wake-ups wait for visibility.
    if (event.type === 'online' || globalThis.document?.visibilityState !== 'hidden') check()
  }
  const events = ['focus', 'online', 'pageshow'] as const
  for (const type of events) target.addEventListener(type, wake)
  globalThis.document?.addEventListener('visibilitychange', wake)
  return () => {
    for (const type of events) target.removeEventListener(type, wake)
    globalThis.document?.removeEventListener('visibilitychange', wake)
  }
}
