/**
 * What a set-up started, to stop again: newest first, every one even when another fails; the
 * first failure is thrown once all have run. Calling `close` again stops nothing twice.
 */
export function createStops() {
  const stops: (() => Promise<unknown>)[] = []
  return {
    push(stop: () => Promise<unknown>): void {
      stops.push(stop)
    },
    async close(): Promise<void> {
      const results = await Promise.allSettled(stops.reverse().map((stop) => stop()))
      stops.length = 0
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) throw failed.reason
    },
  }
}
