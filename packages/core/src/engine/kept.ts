/**
 * `load`'s promise, kept for every later call while it holds; a failure is forgotten, so that
 * the next call tries again. `forget()` drops it on purpose (the next call loads anew).
 */
export function kept<T>(load: () => Promise<T>) {
  let promise: Promise<T> | undefined
  const get = (): Promise<T> => {
    if (promise) return promise
    const loading: Promise<T> = load().catch((error: unknown) => {
      // Only this load's failure: a newer one, started after `forget()`, stays.
      if (promise === loading) promise = undefined
      throw error
    })
    promise = loading
    return loading
  }
  return Object.assign(get, {
    forget() {
      promise = undefined
    },
  })
}
