import { abortable, type Clock } from '../clock.js'
import { AuthError } from '../errors.js'
import { clampDelay } from '../wait.js'

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
