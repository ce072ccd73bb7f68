import { type Clock, clampDelay } from './clock.js'
import { AuthError } from './errors.js'

/**
 * Settles as `promise` does, or rejects with the signal's reason as soon as it aborts; the work
 * behind `promise` goes on for whoever else waits on it.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * Runs `run` with a signal that aborts after `ms` on `clock` (with an `AuthError('timeout')`) or
 * when `parent` aborts, and rejects at that moment even if `run` ignores its signal.
 */
export async function withTimeout<T>(
  clock: Clock,
  ms: number,
  run: (signal: AbortSignal) => Promise<T>,
  parent?: AbortSignal,
  label = 'Request',
): Promise<T> {
  const controller = new AbortController()
  const onParentAbort = () => controller.abort(parent?.reason)
  if (parent?.aborted) onParentAbort()
  parent?.addEventListener('abort', onParentAbort, { once: true })
  const timer = clock.setTimeout(
    () => controller.abort(new AuthError('timeout', `${label} timed out after ${ms} ms`)),
    clampDelay(ms),
  )
  try {
    return await abortable(run(controller.signal), controller.signal)
  } finally {
    clock.clearTimeout(timer)
    parent?.removeEventListener('abort', onParentAbort)
  }
}
