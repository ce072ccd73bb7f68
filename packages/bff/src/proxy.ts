import { BffFailure, readBody, withoutHopByHop } from './http.js'
import type { Resolved } from './options.js'
import type { Refresher } from './refresh.js'
import type { Sessions } from './sessions.js'

// Never upstream: the browser's credentials for this origin, what only the browser uses, what a
// page could forge about the client (its address, the URL the API thinks it was called at), and
// what the BFF's own fetch cannot send (`expect`).
const NOT_UPSTREAM = [
  'cookie',
  'authorization',
  'host',
  'origin',
  'referer',
  'content-length',
  'expect',
  'forwarded',
  'x-real-ip',
  'x-original-url',
  'x-rewrite-url',
]
// Never back to the browser: the API's cookies would be this origin's; the body comes decoded
// (the BFF asks only for encodings its fetch decodes).
const NOT_DOWNSTREAM = ['set-cookie', 'set-cookie2', 'content-encoding', 'content-length']
const DECODED = 'gzip, deflate, br'

/** An API's step-up challenge (RFC 9470) or scope refusal: the browser's to act on, not ours. */
const isChallenge = (response: Response) =>
  /error="?(insufficient_user_authentication|insufficient_scope)/i.test(
    response.headers.get('www-authenticate') ?? '',
  )

/** The request body, read once so that it can be replayed; at most `maxBodyBytes`. */
async function bodyOf(
  request: Request,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (!request.body) return undefined
  return readBody(request, limit).catch(() => {
    throw new BffFailure(413, 'invalid_request', `API proxy: the body is over ${limit} bytes`)
  })
}

/**
 * The API proxy: a request under one of `routes` is forwarded to its upstream with the session's
 * access token, refreshed before it expires; after the API's 401, refreshed once and replayed once.
 */
export function createProxy(o: Resolved, sessions: Sessions, refresher: Refresher) {
  const routeOf = (pathname: string) =>
    o.routes.find((r) => pathname === r.prefix || pathname.startsWith(`${r.prefix}/`))

  function upstreamHeaders(request: Request): Headers {
    const headers = withoutHopByHop(new Headers(request.headers))
    for (const name of [...NOT_UPSTREAM, o.csrfHeader]) headers.delete(name)
    for (const name of [...headers.keys()])
      if (/^(sec-|x-forwarded-)/.test(name)) headers.delete(name)
    headers.set('accept-encoding', DECODED)
    return headers
  }

  async function send(
    target: URL,
    request: Request,
    headers: Headers,
    body: Uint8Array<ArrayBuffer> | undefined,
    token: string,
  ) {
    headers.set('authorization', `Bearer ${token}`)
    // Until the API's headers come: a long download after them is not cut off.
    const deadline = new AbortController()
    const timer = setTimeout(
      () => deadline.abort(new DOMException('no answer', 'TimeoutError')),
      o.upstreamTimeout,
    )
    try {
      return await o.fetch(target, {
        method: request.method,
        headers,
        ...(body ? { body } : {}),
        redirect: 'manual',
        signal: AbortSignal.any([request.signal, deadline.signal]),
      })
    } catch (error) {
      const timedOut = deadline.signal.aborted
      throw new BffFailure(
        timedOut ? 504 : 502,
        timedOut ? 'timeout' : 'network',
        `API proxy: ${request.method} ${target.origin}${target.pathname}: ${timedOut ? `no answer in ${o.upstreamTimeout} ms` : 'no response'}`,
        {},
        { cause: error },
      )
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    owns: (pathname: string) => routeOf(pathname) !== undefined,
    async forward(request: Request, url: URL): Promise<Response> {
      const route = routeOf(url.pathname)
      if (!route) throw new BffFailure(404, 'invalid_request', 'API proxy: no such route')
      const loaded = await sessions.load(request, `API proxy: ${request.method} ${url.pathname}`)
      const body = await bodyOf(request, o.maxBodyBytes)
      const rest = url.pathname.slice(route.prefix.length)
      // Encoded slashes or dots would let the API's own server climb out of the route's upstream.
      if (/%(2f|5c|2e)|\\|(^|\/)\.\.?;/i.test(rest))
        throw new BffFailure(
          400,
          'invalid_request',
          'API proxy: an encoded slash or dot in the path',
        )
      const target = new URL(`${route.upstream}${rest}${url.search}`)
      const headers = upstreamHeaders(request)
      const token = await refresher.fresh(loaded, route)
      let response = await send(target, request, headers, body, token)
      if (response.status === 401 && !isChallenge(response)) {
        await response.body?.cancel().catch(() => undefined)
        // This API's token only: the others' are left as they are.
        response = await send(
          target,
          request,
          headers,
          body,
          await refresher.fresh(loaded, route, token),
        )
      }
      const down = withoutHopByHop(new Headers(response.headers))
      for (const name of NOT_DOWNSTREAM) down.delete(name)
      // The page reads `Spa-Auth-*` as the BFF's own word: an API may not speak for it.
      for (const name of [...down.keys()]) if (name.startsWith('spa-auth-')) down.delete(name)
      const init = { status: response.status, statusText: response.statusText, headers: down }
      // The API's own caching rules stand; only the BFF's own answers are `no-store`.
      return new Response([204, 205, 304].includes(response.status) ? null : response.body, init)
    },
  }
}
