import { createBackchannel } from './backchannel.js'
import { answer, BffFailure, failure, json, setCookie } from './http.js'
import { createLogin } from './login.js'
import { type BffOptions, type Resolved, resolveOptions } from './options.js'
import { createProvider } from './provider.js'
import { createProxy } from './proxy.js'
import { createRefresher } from './refresh.js'
import { createSessions, sessionExpiresAt } from './sessions.js'
import { StoreUnavailable } from './store.js'

/** A BFF: a fetch-style handler for its endpoints and API routes. */
export interface Bff {
  (request: Request): Promise<Response>
  /** Whether `pathname` is the BFF's (its endpoints, its API routes), for a server that mounts it. */
  owns(pathname: string): boolean
  /** Stops what the BFF runs itself (the default memory store's sweep). */
  close(): Promise<void>
}

/**
 * Cross-site request forgery: a request must carry the CSRF header (a cross-site form cannot
 * send one, and a cross-origin `fetch` with it needs a preflight the BFF never grants) and, where
 * the browser says where it comes from, come from the app's own origin.
 */
function checkSameOrigin(o: Resolved, request: Request, what: string): void {
  const origin = request.headers.get('origin')
  const site = request.headers.get('sec-fetch-site')
  const why = !request.headers.get(o.csrfHeader)
    ? `no ${o.csrfHeader} header`
    : origin !== null && origin !== o.origin
      ? `Origin ${origin.slice(0, 100)}`
      : site !== null && site !== 'same-origin'
        ? `Sec-Fetch-Site ${site.slice(0, 20)}`
        : undefined
  if (why) throw new BffFailure(403, 'csrf', `${what}: refused (${why}); send it with auth.fetch`)
}

/** The failure a step threw, as the BFF answers it: never a stack, never a token. */
function toFailure(o: Resolved, error: unknown): BffFailure {
  if (error instanceof BffFailure) return error
  if (error instanceof StoreUnavailable)
    return new BffFailure(503, 'unavailable', 'The session store is not answering; try again')
  o.onError(error)
  return new BffFailure(500, 'server_error', 'The BFF failed; see its log')
}

/**
 * Creates a backend-for-frontend: a confidential OAuth client that keeps each browser's session
 * behind an httpOnly cookie and forwards API calls with the session's access token, so that no
 * token ever reaches the browser. The page uses it through `@spa-auth/core/bff`.
 *
 * Endpoints under `prefix` (default `/bff`): `GET login`, `GET callback`, `GET session`,
 * `POST logout`, `POST backchannel-logout`, `GET popup-done` (where a popup sign-in lands); and
 * the API `routes`.
 *
 * @throws {TypeError} naming the option that is not valid.
 * @example
 * ```ts
 * import { createBff } from '@spa-auth/bff'
 * import { toNodeListener } from '@spa-auth/bff/node'
 * const bff = createBff({
 *   issuer: 'https://idp.example.com',
 *   clientId: 'orders-app',
 *   clientAuth: { method: 'client_secret_basic', secret: process.env.CLIENT_SECRET! },
 *   origin: 'https://app.example.com',
 *   routes: { '/api': 'https://orders.internal' },
 * })
 * createServer(toNodeListener(bff)).listen(3000)
 * ```
 */
export function createBff(options: BffOptions): Bff {
  const o = resolveOptions(options)
  const provider = createProvider(o)
  const sessions = createSessions(o, (token) => provider.revoke(token))
  const signIn = createLogin(o, provider, sessions)
  const proxy = createProxy(o, sessions, createRefresher(o, provider, sessions))
  const backchannelLogout = createBackchannel(o, provider, sessions)
  const endpoint = (pathname: string) =>
    pathname.startsWith(`${o.prefix}/`) ? pathname.slice(o.prefix.length + 1) : undefined

  async function session(request: Request): Promise<Response> {
    checkSameOrigin(o, request, `GET ${o.prefix}/session`)
    const headers = new Headers()
    const loaded = await sessions.load(request, 'Session').catch((error: unknown) => {
      const kept = signIn.keptFailure(request, headers)
      if (kept && error instanceof BffFailure) return kept
      throw error
    })
    if (loaded instanceof Response) return loaded
    const { user, expiresAt } = loaded.session
    return json({ user, expiresAt, sessionExpiresAt: sessionExpiresAt(o, loaded.session) })
  }

  // The page a popup sign-in lands on: it tells the page that opened the popup, and closes.
  // Only the page that opened the popup acts on it (it asks for the session, then tells the other
  // tabs), so that a failed sign-in's error is said there, once.
  const popupScript = `new BroadcastChannel(${JSON.stringify(`spa-auth:bff:${o.prefix}`)}).postMessage({v:1,type:'popup-done',popup:new URLSearchParams(location.search).get('popup')});close()`
  let popupPolicy: Promise<string> | undefined
  async function popupDone(): Promise<Response> {
    popupPolicy ??= crypto.subtle
      .digest('SHA-256', new TextEncoder().encode(popupScript))
      .then((digest) => btoa(String.fromCharCode(...new Uint8Array(digest))))
      .then((sha) => `default-src 'none'; script-src 'sha256-${sha}'`)
    const headers = new Headers({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': await popupPolicy,
    })
    const page = `<!doctype html><meta charset="utf-8"><title>Back from sign-in</title><p>You can close this window.</p><script>${popupScript}</script>`
    return answer(page, { headers })
  }

  async function logout(request: Request): Promise<Response> {
    checkSameOrigin(o, request, `POST ${o.prefix}/logout`)
    // No session (none, or over already) is a sign-out done; a store that fails is not.
    const loaded = await sessions.load(request, 'Sign-out').catch((error: unknown) => {
      if (error instanceof BffFailure && error.status === 401) return undefined
      throw error
    })
    if (loaded) await sessions.end(loaded.key, loaded.session)
    if (loaded) void provider.revoke(loaded.session.accessToken)
    const headers = new Headers()
    setCookie(headers, o.cookie.name, '', 0, o.cookie.sameSite)
    return json({ endSessionUrl: await provider.endSessionUrl() }, 200, headers)
  }

  const routes: Record<string, [method: string, run: (r: Request, u: URL) => Promise<Response>]> = {
    login: ['GET', signIn.login],
    callback: ['GET', signIn.callback],
    session: ['GET', session],
    logout: ['POST', logout],
    'popup-done': ['GET', popupDone],
    'backchannel-logout': ['POST', backchannelLogout],
  }

  async function route(request: Request, url: URL): Promise<Response> {
    const name = endpoint(url.pathname)
    if (name === undefined) {
      if (request.method === 'OPTIONS') throw new BffFailure(403, 'csrf', 'API proxy: no CORS here')
      checkSameOrigin(o, request, `API proxy: ${request.method} ${url.pathname}`)
      return proxy.forward(request, url)
    }
    const [method, run] = routes[name] ?? []
    if (!run) throw new BffFailure(404, 'invalid_request', `No endpoint ${o.prefix}/${name}`)
    if (request.method !== method) {
      const refused = failure(
        new BffFailure(405, 'invalid_request', `${o.prefix}/${name} takes ${method} only`),
      )
      refused.headers.set('allow', method as string)
      return refused
    }
    return run(request, url)
  }

  const bff = async (request: Request): Promise<Response> => {
    let response: Response
    try {
      response = await route(request, new URL(request.url))
    } catch (error) {
      response = failure(toFailure(o, error))
      if (response.status === 503) response.headers.set('retry-after', '1')
    }
    if (o.instance) response.headers.set('spa-auth-instance', o.instance)
    return response
  }
  return Object.assign(bff, {
    owns: (pathname: string) => endpoint(pathname) !== undefined || proxy.owns(pathname),
    close: async () => {
      if (!options.store) await o.store.close?.()
    },
  })
}
