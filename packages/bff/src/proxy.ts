import { BffFailure, withoutHopByHop } from './http.js'
import type { Resolved } from './options.js'
import type { Refresher } from './refresh.js'
import type { Sessions } from './sessions.js'

// Never upstream: the browser's credentials for this origin, and what only the browser uses.
const NOT_UPSTREAM = ['cookie', 'authorization', 'host', 'origin', 'referer', 'content-length']
// Never back to the browser: the API's cookies would be this origin's; undici has decoded the body.
const NOT_DOWNSTREAM = ['set-cookie', 'set-cookie2', 'content-encoding', 'content-length']

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
  const declared = Number(request.headers.get('content-length') ?? 0)
  const tooLarge = () =>
    new BffFailure(413, 'invalid_request', `API proxy: the body is over ${limit} bytes`)
  if (declared > limit) throw tooLarge()
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > limit) throw tooLarge()
    chunks.push(chunk)
  }
  const body = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return body
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
    for (const name of [...headers.keys()]) if (name.startsWith('sec-')) headers.delete(name)
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
    const signal = AbortSignal.any([request.signal, AbortSignal.timeout(o.upstreamTimeout)])
    try {
      return await o.fetch(target, {
        method: request.method,
        headers,
        ...(body ? { body } : {}),
        redirect: 'manual',
        signal,
      })
    } catch (error) {
      const timedOut = (error as Error)?.name === 'TimeoutError'
      throw new BffFailure(
        timedOut ? 504 : 502,
        timedOut ? 'timeout' : 'network',
        `API proxy: ${request.method} ${target.origin}${target.pathname}: ${timedOut ? `no answer in ${o.upstreamTimeout} ms` : 'no response'}`,
        {},
        { cause: error },
      )
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
      if (/%(2f|5c|2e)|\\/i.test(rest))
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
      const init = { status: response.status, statusText: response.statusText, headers: down }
      // The API's own caching rules stand; only the BFF's own answers are `no-store`.
      return new Response([204, 205, 304].includes(response.status) ? null : response.body, init)
    },
  }
}
