import { AuthError } from '../errors.js'
import type { Emitter } from '../events.js'
import type { Snapshot } from '../protocol.js'

interface FetchDeps {
  transport: typeof fetch
  apiOrigins: ReadonlySet<string>
  /** The session's tokens now; undefined once signed out. */
  current(): Snapshot | undefined
  /** A valid token: the current one, or the engine's once it is due. */
  token(signal: AbortSignal): Promise<Snapshot>
  /** After a 401 to `sent`: a newer token, one refresh, or the same token when none can cure it. */
  rejected(sent: Snapshot, signal: AbortSignal): Promise<Snapshot>
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
  const { transport } = deps

  const allowed = (url: string): boolean => {
    const origin = originOf(url)
    return origin !== undefined && deps.apiOrigins.has(origin)
  }

  /** The session's tokens now; a request that waited past a sign-out must not go out. */
  function current(): Snapshot {
    const now = deps.current()
    if (!now?.accessToken)
      throw new AuthError('login_required', 'Signed out while the request waited')
    return now
  }

  /** Sends one of our own copies of the caller's request (never the caller's) with `token`. */
  function send(request: Request, token: Snapshot): Promise<Response> {
    request.headers.set('authorization', `Bearer ${token.accessToken}`)
    return transport(request)
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

    await deps.token(signal)
    // Whatever the wait, send the newest token, and none once signed out.
    const sent = current()
    const first = await send(request, sent)
    // A 401 from where a redirect led (another origin) is not the API's to cure.
    if (!replayable || !wantsNewToken(first) || !allowed(first.url || url)) return first

    // Another call may have refreshed while this one was on the wire: its token is the cure.
    const refreshed = current().generation === sent.generation
    if (refreshed) await deps.rejected(sent, signal)
    const next = current()
    // Nothing could cure it (no refresh token, or the API refused too many fresh tokens).
    if (next.generation === sent.generation) return first
    first.body?.cancel().catch(() => {})
    deps.emitter.emit({ type: 'retry', url, refreshed })
    return send(copy ?? new Request(request), next)
  }
}
