// What the page says in the console when it keeps the session another way than in the
// SharedWorker: rare, so the words load only when they are said.

/**
 * How the session is kept instead: in the page (no workers), in a worker per tab (no
 * SharedWorker), or in the page after the worker failed to start.
 */
export type Fallback = 'no-workers' | 'per-tab' | 'failed'

const said = new Set<string>()

/** Says once per page how the session is kept, when it is not the usual way. */
export function sayOnce(fallback: Fallback, error?: unknown): void {
  const message =
    fallback === 'no-workers'
      ? 'this browser runs no workers: the session is kept in this page.'
      : fallback === 'per-tab'
        ? 'SharedWorker is not available: each tab keeps its own session in a token worker.'
        : `the token worker could not start (${(error as Error).message}): the session is kept in this page.`
  if (said.has(message)) return
  said.add(message)
  console.info(`spa-auth: ${message}`)
}
