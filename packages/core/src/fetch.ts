import { abortable } from './abort.js'
import type { Emitter } from './events.js'
import type { Lifecycle } from './refresh.js'
import type { TokenHolder } from './tokens.js'

interface FetchDeps {
  transport: typeof fetch
  apiOrigins: ReadonlySet<string>
  tokens: TokenHolder
  lifecycle: Lifecycle
  emitter: Emitter
}

/** The origin of a request's URL, resolved against the page; undefined when it has none. */
export function originOf(url: string): string | undefined {
  try {
    const origin = new URL(url, globalThis.location?.href).origin
    return origin === 'null' ? undefined : origin
  } catch {
    return undefined
  }
}

function urlOf(input: RequestInfo | URL): string {
  if (input instanceof Request) return input.url
  return input instanceof URL ? input.href : String(input)
}

/** A 401 that a new token may cure: not `insufficient_scope`, which no refresh changes. */
function wantsNewToken(response: Response): boolean {
  if (response.status !== 401) return false
  return !/error="?insufficient_scope/i.test(response.headers.get('www-authenticate') ?? '')
}

function isStream(body: unknown): boolean {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream
}

/**
 * Creates `auth.fetch`: `fetch` that carries the access token to the allowed origins only,
 * refreshes first when the token is due, and after a 401 refreshes once and replays once.
 */
export function createAuthFetch(deps: FetchDeps): typeof fetch {
  const { transport, tokens, lifecycle } = deps

  return async function authFetch(input, init) {
    const url = urlOf(input)
    const origin = originOf(url)
    if (origin === undefined || !deps.apiOrigins.has(origin)) return transport(input, init)
    const request = new Request(input, init)
    // The caller brought its own credentials: theirs to manage, ours stay out.
    if (request.headers.has('authorization')) return transport(request)
    const signal = request.signal
    // A stream can be read once; anything else we can send again after a 401.
    const replay = isStream(init?.body) ? undefined : request.clone()

    const send = (from: Request, token: string) => {
      const headers = new Headers(from.headers)
      headers.set('authorization', `Bearer ${token}`)
      return transport(new Request(from, { headers }))
    }

    const token = await lifecycle.getAccessToken(signal)
    const sentGeneration = tokens.generation()
    const first = await send(request, token)
    if (!wantsNewToken(first) || !replay) return first

    const current = tokens.get()
    let next: string | undefined
    let refreshed = false
    if (current && current.generation !== sentGeneration) {
      // Another call already refreshed while this one was on the wire: use its token.
      next = current.accessToken
    } else if (current && lifecycle.canRefresh()) {
      refreshed = true
      next = (await abortable(lifecycle.refresh('unauthorized'), signal)).accessToken
    }
    if (next === undefined) return first
    await first.body?.cancel().catch(() => {})
    deps.emitter.emit({
      type: 'retry',
      url: new URL(url, globalThis.location?.href).href,
      refreshed,
    })
    return send(replay, next)
  }
}
