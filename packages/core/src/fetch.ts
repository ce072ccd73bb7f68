import { abortable } from './abort.js'
import { AuthError } from './errors.js'
import type { Emitter } from './events.js'
import type { Lifecycle } from './refresh.js'
import type { TokenHolder, TokenSet } from './tokens.js'

interface FetchDeps {
  transport: typeof fetch
  apiOrigins: ReadonlySet<string>
  tokens: TokenHolder
  lifecycle: Lifecycle
  emitter: Emitter
}

/** `url` resolved as `fetch` resolves it: against the document's base URL, else the page. */
function resolve(url: string): URL | undefined {
  try {
    return new URL(url, globalThis.document?.baseURI ?? globalThis.location?.href)
  } catch {
    return undefined
  }
}

/**
 * The origin of an http(s) URL, resolved against the page; undefined for any other URL (a
 * `blob:` URL has its creator's origin, but it never reaches the network).
 */
export function originOf(url: string): string | undefined {
  const parsed = resolve(url)
  return parsed?.protocol === 'https:' || parsed?.protocol === 'http:' ? parsed.origin : undefined
}

/** The absolute URL a request goes to, or the input as it came when it does not parse. */
function urlOf(input: RequestInfo | URL): string {
  if (input instanceof Request) return input.url
  const href = input instanceof URL ? input.href : String(input)
  return resolve(href)?.href ?? href
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

  const allowed = (url: string): boolean => {
    const origin = originOf(url)
    return origin !== undefined && deps.apiOrigins.has(origin)
  }

  /** The session's tokens now; a request that waited past a sign-out must not go out. */
  function current(): TokenSet {
    const set = tokens.get()
    if (!set) throw new AuthError('login_required', 'Signed out while the request waited')
    return set
  }

  /** Sends one of our own copies of the caller's request (never the caller's) with `token`. */
  function send(request: Request, token: string): Promise<Response> {
    request.headers.set('authorization', `Bearer ${token}`)
    return transport(request)
  }

  /**
   * After a 401 to a request sent with `sent`: whether a newer token exists already or a refresh
   * is needed; undefined when nothing can cure it. Decided at once, before anything is awaited.
   */
  function cure(sent: TokenSet): 'newer' | 'refresh' | undefined {
    // Another call already refreshed while this one was on the wire: use its token.
    if (current().generation !== sent.generation) return 'newer'
    return lifecycle.canRefresh() ? 'refresh' : undefined
  }

  return async function authFetch(input, init) {
    const url = urlOf(input)
    if (!allowed(url)) return transport(input, init)
    // Built from the resolved URL, so the request goes exactly where the origin check looked.
    const request = new Request(input instanceof Request ? input : url, init)
    // The caller brought its own credentials: theirs to manage, ours stay out.
    if (request.headers.has('authorization')) return transport(request)
    const signal = request.signal
    // A stream can be read once; anything else we can send again after a 401. Only a request
    // with a body needs a copy made now: one without is never used up by sending.
    const replayable = !isStream(init?.body)
    const copy = replayable && request.body !== null ? request.clone() : undefined

    await lifecycle.getAccessToken(signal)
    // Whatever the wait, send the newest token, and none once signed out.
    const sent = current()
    const first = await send(request, sent.accessToken)
    // A 401 from where a redirect led (another origin) is not the API's to cure.
    if (!replayable || !wantsNewToken(first) || !allowed(first.url || url)) return first

    const plan = cure(sent)
    if (!plan) return first
    first.body?.cancel().catch(() => {})
    if (plan === 'refresh') await abortable(lifecycle.refresh('unauthorized'), signal)
    const next = current()
    deps.emitter.emit({ type: 'retry', url, refreshed: plan === 'refresh' })
    return send(copy ?? new Request(request), next.accessToken)
  }
}
