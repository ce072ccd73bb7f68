import type { Emitter } from '../events.js'
import type { Snapshot } from '../protocol.js'
import type { ApiSet } from './apis.js'

/**
 * Sends a request once or, for a DPoP nonce, twice (`again`: its body can be sent twice), with
 * the token and its proof in the headers `put` adds.
 */
export type Sign = (
  token: Snapshot,
  href: string,
  method: string,
  put: (headers: Record<string, string>) => Promise<Response>,
  again: boolean,
) => Promise<Response>

interface FetchDeps {
  transport: typeof fetch
  apiOrigins: ReadonlySet<string>
  /** The APIs with a token of their own. */
  apis: ApiSet | undefined
  /** The session's tokens now (with `api`, that API's); throws once signed out. */
  held(api?: string): Snapshot
  /** A valid token: the current one as it is, or, when it is due, a promise of the engine's. */
  token(signal?: AbortSignal, api?: string): Snapshot | Promise<Snapshot>
  /** After a 401 to `sent`: a newer token, one refresh, or the same token when none can cure it. */
  rejected(sent: Snapshot, signal?: AbortSignal, api?: string): Promise<Snapshot>
  emitter: Emitter
  /** With DPoP: sends with a proof (its module is loaded on demand). Default: `Bearer`. */
  sign?: Sign | undefined
}

/** `url` resolved as `fetch` resolves it: against the document's base URL, else the page. */
function resolve(url: string): string | undefined {
  try {
    return new URL(url, globalThis.document?.baseURI ?? globalThis.location?.href).href
  } catch {
    return undefined
  }
}

/**
 * A 401's challenge; when it asks for a stronger sign-in (RFC 9470), that error instead: no
 * refresh can give it.
 */
async function stepUp(response: Response, href: string): Promise<string> {
  const challenge = response.headers.get('www-authenticate') ?? ''
  if (!/error="?insufficient_user_authentication/i.test(challenge)) return challenge
  response.body?.cancel().catch(() => {})
  // Rare, and the error's reading of the challenge is loaded only then.
  throw (await import('./step-up.js')).stepUpRequired(href, challenge)
}

/** One way of sending the caller's request with a token, as often as it may be sent. */
type Send = (token: Snapshot) => Promise<Response>

/**
 * Creates `auth.fetch`: `fetch` that carries the access token to the allowed origins only,
 * refreshes first when the token is due, and after a 401 refreshes once and replays once.
 *
 * The common call (a URL, a body that is not a stream or a form) builds no `Request`: the token
 * goes in a copy of `init` with a copy of its headers. Nothing of the caller's is changed.
 */
export function createAuthFetch(deps: FetchDeps): typeof fetch {
  const { transport, apis } = deps
  const origins = [...deps.apiOrigins]

  /**
   * Whether an absolute URL is on an allowed origin or an API's URL, read from how it starts: in
   * an http(s) URL that starts with an origin and a `/`, the host ends at that `/`. Any other
   * spelling (a relative URL, capitals, a default port, a `blob:` URL) fails here and is parsed
   * first.
   */
  const within = (href: string) => {
    // The API whose own token goes there, of the URL last found allowed: read at once by the call.
    lane = apis?.route(href)
    return (
      lane !== undefined ||
      origins.some((origin) => href.startsWith(origin) && href.charCodeAt(origin.length) === 47)
    )
  }
  let lane: string | undefined

  /** `href` as it will be sent if it goes to an allowed origin, else undefined. */
  function allowed(href: string): string | undefined {
    if (within(href)) return href
    const resolved = resolve(href)
    return resolved !== undefined && within(resolved) ? resolved : undefined
  }

  /**
   * Sends with a valid token (`api`'s own, where the URL is that API's); after a 401 that a newer
   * token may cure, sends once more.
   */
  async function authorized(
    href: string,
    api: string | undefined,
    signal: AbortSignal | undefined,
    send: Send,
    replayable: boolean,
  ) {
    let sent = deps.token(signal, api)
    if (sent instanceof Promise) {
      await sent
      // Whatever the wait, send the newest token, and none once signed out.
      sent = deps.held(api)
    }
    const first = await send(sent)
    // A 401 from where a redirect led (another origin) is not the API's to cure.
    if (first.status !== 401 || (first.url && !allowed(first.url))) return first
    const challenge = await stepUp(first, href)
    // No refresh changes the scope, nor cures a DPoP nonce refused after its one retry, nor a
    // proof refused.
    if (
      !replayable ||
      /error="?(insufficient_scope|use_dpop_nonce|invalid_dpop_proof)/i.test(challenge)
    )
      return first
    // Another call may have refreshed while this one was on the wire: its token is the cure.
    const refreshed = deps.held(api).generation === sent.generation
    if (refreshed) await deps.rejected(sent, signal, api)
    const next = deps.held(api)
    // Nothing could cure it (no refresh token, or the API refused too many fresh tokens).
    if (next.generation === sent.generation) return first
    first.body?.cancel().catch(() => {})
    deps.emitter.emit({ type: 'retry', url: href, refreshed })
    const last = await send(next)
    if (last.status === 401) await stepUp(last, href)
    return last
  }

  return async function authFetch(input, init) {
    const body = init?.body
    const streamed = body instanceof ReadableStream
    // Anything but a string becomes a `Request` of our own before any check: its URL is the one
    // the check reads and the one sent (a `Request` subclass, an own `url`, a `toString` that
    // answers otherwise the second time all end up as that URL). A string is checked and sent
    // as the one value it is.
    let own = typeof input === 'string' ? undefined : new Request(input, init)
    const href = allowed(own ? own.url : (input as string))
    const api = lane
    if (href === undefined) return own ? transport(own) : transport(input, init)
    // A stream is read once, and a form would get a new multipart boundary each time it is
    // sent: they go as a `Request` too, a clone of it kept for the replay.
    if (!own && (streamed || body instanceof FormData)) own = new Request(href, init)
    // With DPoP a redirect is not followed: the browser drops `Authorization` on the way to
    // another origin, but the proof would go on. Read from what is sent: the `Request`, or a
    // copy of `init` (a getter may answer otherwise when `fetch` reads it again).
    if (deps.sign) {
      if (!own) init = { ...init }
      const mode = (own ?? init)!.redirect
      if (mode !== 'manual' && mode !== 'error') {
        if (own) own = new Request(own, { redirect: 'error' })
        else init!.redirect = 'error'
      }
    }
    // The caller's headers are copied; none given, a plain object is all the token needs. Pairs
    // are copied first: a patched `Headers` (MSW's, in Node) keeps the array it was given and
    // would add our token to the caller's.
    const given = init?.headers
    const headers =
      own || given === undefined
        ? undefined
        : new Headers(Array.isArray(given) ? [...given] : given)
    // The caller brought its own credentials: theirs to manage, ours stay out.
    if ((own?.headers ?? headers)?.has('authorization')) {
      return own ? transport(own) : transport(href, init)
    }
    // A stream can be read once; any other body is sent again after a 401 (only a `Request`
    // with a body needs its copy made now: one without is never used up by sending).
    const copy = !streamed && own?.body ? own.clone() : undefined
    let sends = 0
    const put = (pairs: Record<string, string>) => {
      if (!own) {
        if (!headers) return transport(href, { ...init, headers: pairs })
        for (const name in pairs) headers.set(name, pairs[name]!)
        return transport(href, { ...init, headers })
      }
      // The copy stays unread: a nonce's retry and a replay after a 401 may each need one.
      const out = sends++ ? (copy?.clone() ?? new Request(own)) : own
      for (const name in pairs) out.headers.set(name, pairs[name]!)
      return transport(out)
    }
    const { sign } = deps
    const send: Send = (token) =>
      sign
        ? sign(token, href, own?.method ?? init?.method?.toUpperCase() ?? 'GET', put, !streamed)
        : put({ authorization: `Bearer ${token.accessToken}` })
    return authorized(href, api, (own ?? init)?.signal ?? undefined, send, !streamed)
  }
}
