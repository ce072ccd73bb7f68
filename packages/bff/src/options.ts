import type { AuthorizationServer } from 'oauth4webapi'
import { type BffStore, memoryStore } from './store.js'

/** How the BFF authenticates to the provider's token endpoint: it is a confidential client. */
export type ClientAuth =
  | { method: 'client_secret_basic' | 'client_secret_post'; secret: string }
  | {
      method: 'private_key_jwt'
      /** A private key the provider knows the public half of (its `jwks` or `jwks_uri`). */
      key: CryptoKey
      kid?: string
    }

/** Options of {@link createBff}. Only `issuer`, `clientId`, `clientAuth` and `origin` are required. */
export interface BffOptions {
  /** The provider's issuer URL; its metadata is discovered (or given as `metadata`). */
  issuer: string
  /** The BFF's client at the provider: a confidential one. */
  clientId: string
  /** How the BFF authenticates to the token endpoint. */
  clientAuth: ClientAuth
  /**
   * The app's origin, as the browser shows it (`https://app.example.com`): the only `Origin` a
   * request may come from, and the base of the redirect URIs.
   */
  origin: string
  /** Where the BFF's endpoints live on the app's origin. Default `/bff`. */
  prefix?: string
  /**
   * The header every API and state-changing request must carry (a cross-site form cannot send
   * one). Default `X-CSRF`, as the page client sends it.
   */
  csrfHeader?: string
  /** Default `openid profile email offline_access`. */
  scope?: string
  /** Default `{origin}{prefix}/callback`; register it at the provider exactly. */
  redirectUri?: string
  /** Where the provider sends the browser after sign-out. Default `{origin}/`. */
  postLogoutRedirectUri?: string
  /** Sent with every authorization request (`audience`, `resource`, …); not the BFF's own. */
  authorizationParams?: Record<string, string>
  /**
   * The API proxy: a path prefix on the app's origin and the upstream it forwards to, with the
   * session's access token attached; the prefix is removed (`/api/orders` → `{upstream}/orders`).
   * An API that wants a token of its own says how it is asked for: `resource` (RFC 8707, also
   * sent with every sign-in), `audience`, or `scope`.
   */
  routes?: Record<string, string | RouteOptions>
  /** Where sessions live. Default {@link memoryStore} (one process). */
  store?: BffStore
  /** The session cookie. Default `__Host-spa-auth`, `SameSite=Strict`. */
  cookie?: { name?: string; sameSite?: 'Strict' | 'Lax' }
  /** Milliseconds. Default idle 30 minutes, absolute 12 hours. */
  session?: { idleTimeout?: number; absoluteTimeout?: number }
  /** The BFF's requests to the provider. Default the global `fetch`. */
  fetch?: typeof fetch
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
  /** A request to the provider gives up after this. Default 10 s. */
  requestTimeout?: number
  /** A request to an API gives up after this (504). Default 30 s. */
  upstreamTimeout?: number
  /** The access token is refreshed this long before it expires. Default 30 s. */
  refreshLeeway?: number
  /** The largest request body the proxy forwards (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number
  /** Allows `http:` URLs for the provider: for development and tests only. */
  allowInsecureRequests?: boolean
  /** The provider's metadata, instead of discovering it. */
  metadata?: AuthorizationServer
  /** Named in a `Spa-Auth-Instance` header of every answer: which instance answered. */
  instance?: string
  /**
   * Told of a failure the BFF did not expect (a bug, an option the provider disagrees with), which
   * it answers with 500. Default `console.error`. The store's and the provider's failures are
   * answered, not logged.
   */
  onError?: (error: unknown) => void
}

/** An API route with a token of its own. */
export interface RouteOptions {
  /** Where the route forwards to (`https://orders.internal/v1`): no query, no fragment. */
  upstream: string
  /** RFC 8707 resource indicator: the token's audience. */
  resource?: string
  /** The `audience` parameter some providers take instead. */
  audience?: string
  /** A scope that names the API (`api://orders/.default`). */
  scope?: string
}

/** A checked route: where it forwards, and the token request's parameters for its own token. */
export interface Route {
  prefix: string
  upstream: string
  /** Undefined: the session's token. Else the parameters of this API's refresh-token grant. */
  token: Record<string, string> | undefined
  /** What the token's `aud` must hold, where the route says (`resource`, `audience`). */
  audience: string | undefined
}

/** {@link BffOptions} with every default applied. */
export interface Resolved {
  issuer: URL
  clientId: string
  clientAuth: ClientAuth
  origin: string
  prefix: string
  csrfHeader: string
  scope: string
  redirectUri: string
  postLogoutRedirectUri: string
  authorizationParams: Record<string, string>
  routes: Route[]
  store: BffStore
  cookie: { name: string; sameSite: 'Strict' | 'Lax' }
  idleTimeout: number
  absoluteTimeout: number
  fetch: typeof fetch
  clock: () => number
  requestTimeout: number
  upstreamTimeout: number
  refreshLeeway: number
  maxBodyBytes: number
  allowInsecureRequests: boolean
  metadata: AuthorizationServer | undefined
  instance: string | undefined
  onError: (error: unknown) => void
}

/** The parameters the BFF sets itself: `authorizationParams` may not override them. */
const PROTECTED = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'scope',
  'request',
  'request_uri',
])

function refuse(name: string, why: string): never {
  throw new TypeError(`createBff: check \`${name}\` (${why})`)
}

function url(name: string, value: unknown, insecure: boolean): URL {
  if (typeof value !== 'string' || !URL.canParse(value)) refuse(name, 'an absolute URL')
  const parsed = new URL(value)
  if (parsed.protocol !== 'https:' && !(insecure && parsed.protocol === 'http:'))
    refuse(name, 'https, or http with allowInsecureRequests')
  return parsed
}

function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    refuse(name, 'milliseconds, above 0')
  return value
}

function checkedClientAuth(auth: unknown): ClientAuth {
  const a = (auth ?? {}) as Partial<Record<string, unknown>>
  if (a.method === 'client_secret_basic' || a.method === 'client_secret_post') {
    if (typeof a.secret !== 'string' || !a.secret) refuse('clientAuth.secret', 'a string')
  } else if (a.method === 'private_key_jwt') {
    if (!(a.key instanceof CryptoKey) || a.key.type !== 'private')
      refuse('clientAuth.key', 'a private CryptoKey')
  } else refuse('clientAuth.method', 'client_secret_basic, client_secret_post or private_key_jwt')
  return auth as ClientAuth
}

function checkedRoute(name: string, value: unknown, insecure: boolean) {
  const route = (typeof value === 'string' ? { upstream: value } : (value ?? {})) as RouteOptions
  const target = url(`${name}.upstream`, route.upstream, true)
  if (target.search || target.hash || target.username)
    refuse(`${name}.upstream`, 'no query, fragment or credentials')
  if (
    target.protocol === 'http:' &&
    !insecure &&
    !/^(127\.|localhost$|\[::1\])/.test(target.hostname)
  )
    refuse(name, 'https, or http to a local host')
  const asked = (['resource', 'audience', 'scope'] as const).filter((k) => route[k] !== undefined)
  if (asked.length > 1) refuse(name, 'one of resource, audience, scope')
  const [kind] = asked
  const value_ = kind && route[kind]
  if (kind && (typeof value_ !== 'string' || !value_)) refuse(`${name}.${kind}`, 'a string')
  if (kind === 'resource') url(`${name}.resource`, value_, true)
  return {
    upstream: target.href.replace(/\/$/, ''),
    token: kind ? { [kind]: value_ as string } : undefined,
    audience: kind && kind !== 'scope' ? (value_ as string) : undefined,
  }
}

function checkedRoutes(routes: unknown, prefix: string, insecure: boolean): Route[] {
  return Object.entries((routes ?? {}) as Record<string, unknown>).map(([path, value]) => {
    const name = `routes['${path}']`
    if (!/^\/[\w.~-]+(\/[\w.~-]+)*$/.test(path)) refuse(name, 'a path like "/api"')
    if (path === prefix || path.startsWith(`${prefix}/`)) refuse(name, `not under ${prefix}`)
    return { prefix: path, ...checkedRoute(name, value, insecure) }
  })
}

function checkedHeader(name: unknown): string {
  if (name === undefined) return 'x-csrf'
  if (typeof name !== 'string' || !/^x-[\w-]+$/i.test(name))
    refuse('csrfHeader', 'a header like "X-CSRF"')
  return name.toLowerCase()
}

/** Checks `options` and fills in the defaults. @throws {TypeError} naming the option. */
export function resolveOptions(options: BffOptions): Resolved {
  const o = options ?? ({} as BffOptions)
  const insecure = o.allowInsecureRequests === true
  if (typeof o.clientId !== 'string' || !o.clientId) refuse('clientId', 'a string')
  const origin = url('origin', o.origin, true)
  if (origin.origin !== o.origin.replace(/\/$/, '')) refuse('origin', 'an origin, no path')
  const prefix = o.prefix ?? '/bff'
  if (!/^\/[\w.~-]+$/.test(prefix)) refuse('prefix', 'one path segment like "/bff"')
  const params = o.authorizationParams ?? {}
  for (const [name, value] of Object.entries(params)) {
    if (PROTECTED.has(name)) refuse(`authorizationParams.${name}`, 'the BFF sets it')
    if (typeof value !== 'string') refuse(`authorizationParams.${name}`, 'a string')
  }
  const sameSite = o.cookie?.sameSite ?? 'Strict'
  if (sameSite !== 'Strict' && sameSite !== 'Lax') refuse('cookie.sameSite', 'Strict or Lax')
  const cookieName = o.cookie?.name ?? '__Host-spa-auth'
  if (!/^__Host-[\w-]+$/.test(cookieName)) refuse('cookie.name', 'a __Host- name')
  return {
    issuer: url('issuer', o.issuer, insecure),
    clientId: o.clientId,
    clientAuth: checkedClientAuth(o.clientAuth),
    origin: origin.origin,
    prefix,
    csrfHeader: checkedHeader(o.csrfHeader),
    scope: o.scope ?? 'openid profile email offline_access',
    redirectUri: url('redirectUri', o.redirectUri ?? `${origin.origin}${prefix}/callback`, true)
      .href,
    postLogoutRedirectUri: url(
      'postLogoutRedirectUri',
      o.postLogoutRedirectUri ?? `${origin.origin}/`,
      true,
    ).href,
    authorizationParams: params,
    routes: checkedRoutes(o.routes, prefix, insecure),
    store: o.store ?? memoryStore(),
    cookie: { name: cookieName, sameSite },
    idleTimeout: duration('session.idleTimeout', o.session?.idleTimeout, 30 * 60_000),
    absoluteTimeout: duration('session.absoluteTimeout', o.session?.absoluteTimeout, 12 * 3600_000),
    fetch: o.fetch ?? ((input, init) => fetch(input, init)),
    clock: o.clock ?? (() => Date.now()),
    requestTimeout: duration('requestTimeout', o.requestTimeout, 10_000),
    upstreamTimeout: duration('upstreamTimeout', o.upstreamTimeout, 30_000),
    refreshLeeway: duration('refreshLeeway', o.refreshLeeway, 30_000),
    maxBodyBytes: duration('maxBodyBytes', o.maxBodyBytes, 1 << 20),
    allowInsecureRequests: insecure,
    metadata: o.metadata,
    instance: o.instance,
    onError: o.onError ?? ((error) => console.error('@spa-auth/bff:', error)),
  }
}
