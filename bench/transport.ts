/** The API every bench calls; no request leaves the process. */
export const API = 'https://api.example.com/orders'

/**
 * The Authorization header a `fetch` call carries, whichever way it came: a `Request`, or a URL
 * with headers in `init` (a `Headers`, pairs, or a record, as `auth.fetch` sends the common call).
 * Read as cheaply as each form allows: the bench times the callers, not this check.
 */
export function authorizationOf(input: RequestInfo | URL, init?: RequestInit): string | null {
  if (input instanceof Request) return input.headers.get('authorization')
  const headers = init?.headers
  if (!headers) return null
  if (headers instanceof Headers) return headers.get('authorization')
  if (Array.isArray(headers)) return new Headers(headers).get('authorization')
  for (const name in headers) {
    if (name.toLowerCase() === 'authorization') return headers[name] ?? null
  }
  return null
}

/** One way of calling the API, made and checked by `createCaller`. */
export interface Caller {
  call(): Promise<unknown>
  dispose(): void
}
