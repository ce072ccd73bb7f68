import type { AuthorizationServer } from 'oauth4webapi'
import { type Clock, systemClock } from '../clock.js'
import { AuthError } from '../errors.js'
import type { EngineConfig } from '../protocol.js'
import type { TokenSource } from '../token-json.js'
import type { ApiSet } from './apis.js'
import type { TokenWorkerOption } from './link.js'
import type { TransactionStorage } from './transaction.js'

/** How a page with no session tries the provider's session without showing anything. */
export type SilentMode = 'iframe' | 'redirect' | false

/**
 * Options of {@link createAuthClient}.
 */
export interface AuthClientOptions {
  /** The provider's issuer identifier, e.g. `https://idp.example.com`. Discovery starts here. */
  issuer?: string
  /** The client's identifier at the provider. */
  clientId?: string
  /** Where the provider sends the user back; must be on the page's origin. */
  redirectUri?: string
  /** The scope to ask for. Default `openid profile email offline_access`. */
  scope?: string
  /**
   * Parameters sent with every authorization request the client makes: `login()`, the silent
   * restore, step-up and popups, in every tab (`{ audience: 'https://orders.example.com' }`).
   * A call's `extraParams` and named options win over them; the parameters spa-auth sets itself
   * (`client_id`, `scope`, `state`, …) cannot be given.
   */
  authorizationParams?: Readonly<Record<string, string>>
  /**
   * The origins (`https://api.example.com`) `auth.fetch` may send the access token to, matched
   * exactly on scheme, host and port; `https:` only, but for `localhost` and `127.0.0.1`.
   * Default: the page's own origin.
   */
  apiOrigins?: readonly string[]
  /**
   * APIs that each want an access token of their own, from {@link defineApis}: where each token
   * goes (`url`, an origin or an origin and a path), and how it is asked for (`resource`,
   * `audience` or `scope`). The first call to each gets its token with a refresh-token grant;
   * each is refreshed on its own, once for every tab. A URL no API claims goes with the session's
   * token when it is on one of the `apiOrigins`, else with none.
   *
   * ```ts
   * apis: defineApis({
   *   orders: { url: 'https://orders.example.com', resource: 'https://orders.example.com' },
   *   billing: { url: 'https://api.example.com/billing/', scope: 'api://billing/.default' },
   * })
   * ```
   */
  apis?: ApiSet
  /** Where the provider sends the user after sign-out. Default: the page's origin, with its `/`. */
  postLogoutRedirectUri?: string
  /**
   * The least time, in seconds, before expiry at which the access token is refreshed. Default 5.
   *
   * The lead is the larger of this and a tenth of the token's lifetime up to a minute (time for
   * a refresh and its retries), and at most half the lifetime, so a token is refreshed once per
   * lifetime, close to its end: with the default, a 60 s token at 54 s, a 300 s token at 270 s,
   * an hour's token a minute early, a 10 s token at 5 s. Expiry counts from when the token
   * arrived, on this device's clock, so a device clock that is off does not move it.
   */
  refreshLeeway?: number
  /** Milliseconds a request to the provider may take. Default 10 000. */
  requestTimeout?: number
  /** Seconds of clock difference tolerated when checking ID token times. Default 30. */
  clockTolerance?: number
  /** The provider's metadata, to skip discovery. */
  metadata?: AuthorizationServer
  /**
   * Which metadata document discovery reads: `'oidc'` (`/.well-known/openid-configuration`),
   * `'oauth2'` (RFC 8414's `/.well-known/oauth-authorization-server`). Default: the first, then
   * the second. Name the one your provider serves to save a request (and, where the other has no
   * CORS headers, a console error) on every page load.
   */
  discovery?: 'oidc' | 'oauth2'
  /**
   * The transport of the page's requests: `auth.fetch`, and the provider's when the session is
   * kept in the page. A token worker uses its own `fetch`. Default: `fetch`.
   */
  fetch?: typeof fetch
  /** How to send the browser to the provider. Default: `location.assign`. */
  navigate?: (url: string) => void
  /** Where the login transaction waits during the redirect. Default: `sessionStorage`. */
  storage?: TransactionStorage
  /** Time and timers of the page (and of the engine, when it runs in the page). Default: the page's. */
  clock?: Clock
  /**
   * Tokens from somewhere else than an OAuth provider: your backend's own refresh endpoint.
   * With it, `issuer`, `clientId` and `redirectUri` are not needed, and the session is kept in
   * the page (a function cannot run in a worker).
   */
  tokenSource?: TokenSource
  /**
   * Where the refresh token lives. By default a token worker: a SharedWorker that every tab of
   * this origin and client shares (one refresh for all of them), or a dedicated Worker per tab
   * where there is no SharedWorker; page script can reach neither's memory. `false` keeps the
   * session in the page. A URL names a module worker script of your own that calls
   * `serveTokenWorker()` from `@spa-auth/core/worker`; a function makes the worker itself:
   *
   * ```ts
   * tokenWorker: ({ name, shared }) => shared
   *   ? new SharedWorker(new URL('./token-worker.ts', import.meta.url), { type: 'module', name })
   *   : new Worker(new URL('./token-worker.ts', import.meta.url), { type: 'module', name }),
   * ```
   */
  tokenWorker?: TokenWorkerOption
  /**
   * Tabs of this origin and client share one session. With a SharedWorker they do by
   * construction; where each tab keeps its own (a dedicated worker, or the page), a sign-out in
   * one still signs out the others. `false`: every tab to itself. Default true.
   */
  crossTab?: boolean
  /**
   * How a page with no session in memory (a reload, a new tab) gets one back when the token
   * worker has none: the provider with `prompt=none` (`silent`: in a hidden `'iframe'`, the
   * default when the provider is on the page's site, or by a top-level `'redirect'`, opt-in, at
   * most once per tab), else signed out. `silentRedirectUri`: a light page of this origin for the
   * hidden frame to land on instead of the whole app (any empty HTML page; register it at the
   * provider as a redirect URI).
   */
  restore?: { silent?: SilentMode; silentTimeout?: number; silentRedirectUri?: string }
  /**
   * Binds the tokens to a key of this browser (DPoP, RFC 9449), so that a stolen token is
   * useless elsewhere. The key is an ES256 pair made with `extractable: false` (script can use
   * it while the page is open, but never read it out), kept in IndexedDB, deleted at sign-out.
   * Every token request and every `auth.fetch` to the `apiOrigins` carries a proof. The provider
   * and the API must support DPoP: when one does not, calls fail with `configuration`, never
   * falling back to Bearer. Default false.
   */
  dpop?: boolean
  /**
   * Sends the ID token as `id_token_hint` to the end-session endpoint at sign-out, for providers
   * that insist on it. Off by default: it puts a token in a URL, and so in the browser's history.
   * A client option, part of the token worker's configuration: no page script can turn it on
   * for a sign-out of its own.
   */
  idTokenHint?: boolean
  /**
   * Allows `http://` for the provider and the API origins. Only for servers on your own machine
   * in tests; never in production, where it would send codes and tokens in clear text.
   */
  dangerouslyAllowInsecureHttp?: boolean
}

/** Options after validation, with defaults filled in. */
export interface ResolvedOptions {
  /** What the engine needs, when the tokens come from an OAuth provider. */
  engine: EngineConfig | undefined
  tokenSource: TokenSource | undefined
  refreshLeeway: number
  requestTimeout: number
  apiOrigins: ReadonlySet<string>
  /** The APIs with a token of their own. */
  apis: ApiSet | undefined
  postLogoutRedirectUri: string | undefined
  fetch: typeof fetch
  navigate: (url: string) => void
  storage: () => TransactionStorage
  clock: Clock
  tokenWorker: TokenWorkerOption | undefined
  crossTab: boolean
  restore: {
    silent: SilentMode
    silentTimeout: number
    /** The name of the silent sign-in frame; a frame keeps its name as it navigates. */
    frameName: string
  }
  /** Whether `url` is the provider's answer at one of the redirect URIs (with state or error). */
  isCallback(url: URL): boolean
}

const DEFAULT_SCOPE = 'openid profile email offline_access'

// Every option's name: a list (smaller on the page than a Record of them), and a type that fails to
// compile when an option is added without its name here.
const KNOWN_OPTIONS = [
  'issuer',
  'clientId',
  'redirectUri',
  'scope',
  'authorizationParams',
  'apiOrigins',
  'apis',
  'postLogoutRedirectUri',
  'refreshLeeway',
  'requestTimeout',
  'clockTolerance',
  'metadata',
  'discovery',
  'fetch',
  'navigate',
  'storage',
  'clock',
  'tokenSource',
  'tokenWorker',
  'crossTab',
  'restore',
  'dpop',
  'idTokenHint',
  'dangerouslyAllowInsecureHttp',
] as const satisfies readonly (keyof AuthClientOptions)[]
const RESTORE_OPTIONS = [
  'silent',
  'silentTimeout',
  'silentRedirectUri',
] as const satisfies readonly (keyof RestoreOptions)[]

type RestoreOptions = NonNullable<AuthClientOptions['restore']>
/** Compiles only when `Missing` is empty. */
type NoneMissing<Missing extends never> = Missing
/** Every option is in the lists above. */
export type OptionNames = NoneMissing<
  | Exclude<keyof AuthClientOptions, (typeof KNOWN_OPTIONS)[number]>
  | Exclude<keyof RestoreOptions, (typeof RESTORE_OPTIONS)[number]>
>

function fail(message: string): never {
  throw new AuthError('invalid_options', `createAuthClient: ${message}`)
}

function pageOrigin(): string | undefined {
  const origin = globalThis.location?.origin
  return origin && origin !== 'null' ? origin : undefined
}

const isLoopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)

/** `https:`, or `http:` on this machine (or anywhere when the caller said so). */
function secure(url: URL, allowInsecure: boolean): boolean {
  return (
    url.protocol === 'https:' || (url.protocol === 'http:' && (allowInsecure || isLoopback(url)))
  )
}

function parseUrl(name: string, value: unknown, allowInsecure: boolean): URL {
  if (typeof value !== 'string' || value === '') fail(`\`${name}\` is required: a URL string.`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    fail(`\`${name}\` must be an absolute URL, got "${value}".`)
  }
  if (!secure(url, allowInsecure)) fail(`\`${name}\` must use https:, got "${value}".`)
  return url
}

/** A URL of this page's origin (a redirect URI): the callback must run where the login started. */
function parseOwnUrl(name: string, value: unknown): string {
  const url = parseUrl(name, value, true)
  const origin = pageOrigin()
  if (origin && url.origin !== origin) {
    fail(
      `\`${name}\` must be on this page's origin ${origin}, got "${value}": ` +
        'the callback must run where the login started.',
    )
  }
  if (url.hash) fail(`\`${name}\` must not have a fragment.`)
  return url.href
}

function parseOrigin(value: unknown, allowInsecure: boolean): string {
  let url: URL
  try {
    url = new URL(String(value))
  } catch {
    fail(`\`apiOrigins\` entries must be origins like "https://api.example.com", got "${value}".`)
  }
  if (url.origin === 'null' || url.origin !== String(value).replace(/\/$/, '')) {
    fail(
      `\`apiOrigins\` entries must be origins (scheme, host, port; no path), got "${value}"` +
        (url.origin !== 'null' ? `: did you mean "${url.origin}"?` : '.'),
    )
  }
  // The token would travel in clear text.
  if (!secure(url, allowInsecure)) {
    fail(`\`apiOrigins\` entries must use https: (http: only for localhost), got "${value}".`)
  }
  return url.origin
}

/** Edit distance between two short strings (Levenshtein). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, substitution))
    }
    row = next
  }
  return row[b.length]!
}

/** The known option a misspelt one most likely meant (`clientID`, `client_id`, `redirectUrl`). */
function suggestion(key: string, known: readonly string[]): string | undefined {
  const squash = (name: string) => name.toLowerCase().replace(/[-_]/g, '')
  let best: { name: string; cost: number } | undefined
  for (const name of known) {
    const cost = squash(name) === squash(key) ? 0 : distance(name, key)
    if (!best || cost < best.cost) best = { name, cost }
  }
  return best && best.cost <= Math.min(3, Math.ceil(key.length / 3)) ? best.name : undefined
}

// A misspelt option would otherwise be ignored in silence and its default used instead.
function rejectUnknownKeys(options: object, known: readonly string[], prefix = ''): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue
    const guess = suggestion(key, known)
    fail(
      `unknown option \`${prefix}${key}\`${guess ? `: did you mean \`${prefix}${guess}\`?` : '.'}`,
    )
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(`\`${name}\` must be a number ≥ 0, got ${String(value)}.`)
  }
  return value
}

/**
 * The default silent mode: a hidden iframe when the provider is on the page's own site (its
 * cookies reach a frame), nothing otherwise: browsers block third-party cookies in frames.
 */
function defaultSilentMode(issuer: URL): SilentMode {
  const host = globalThis.location?.hostname
  if (!host) return false
  const site = (name: string) =>
    /^[\d.]+$|^\[/.test(name) ? name : name.split('.').slice(-2).join('.')
  return site(issuer.hostname) === site(host) ? 'iframe' : false
}

/** Whether a URL is an answer at one of `redirects`: same path, with a state, code or error. */
function callbackTest(redirects: (string | undefined)[]) {
  const paths = redirects.flatMap((r) => (r ? [new URL(r)] : []))
  return (url: URL) =>
    paths.some((r) => url.origin === r.origin && url.pathname === r.pathname) &&
    ['state', 'code', 'error'].some((name) => url.searchParams.has(name))
}

function silentMode(value: unknown, issuer: URL | undefined): SilentMode {
  if (value !== undefined && value !== false && value !== 'iframe' && value !== 'redirect') {
    fail(`\`restore.silent\` must be 'iframe', 'redirect' or false, got ${JSON.stringify(value)}.`)
  }
  if (!issuer) return false
  return value === undefined ? defaultSilentMode(issuer) : (value as SilentMode)
}

function resolveEngine(
  options: AuthClientOptions,
  refreshLeeway: number,
  requestTimeout: number,
  apis: ApiSet | undefined,
): EngineConfig {
  const allowInsecure = options.dangerouslyAllowInsecureHttp === true
  const issuer = parseUrl('issuer', options.issuer, allowInsecure)
  if (typeof options.clientId !== 'string' || options.clientId.trim() === '') {
    fail('`clientId` is required: the client identifier registered at the provider.')
  }
  if (options.scope !== undefined && (typeof options.scope !== 'string' || !options.scope.trim())) {
    fail('`scope` must be a non-empty string of space-separated scopes.')
  }
  const { discovery } = options
  if (discovery !== undefined && discovery !== 'oidc' && discovery !== 'oauth2') {
    fail(`\`discovery\` must be 'oidc' or 'oauth2', got ${JSON.stringify(discovery)}.`)
  }
  const silent = options.restore?.silentRedirectUri
  // An option not given stays undefined: it is left out of the worker's name (JSON) all the same.
  return {
    issuer: issuer.href,
    clientId: options.clientId,
    redirectUri: parseOwnUrl('redirectUri', options.redirectUri),
    silentRedirectUri:
      silent === undefined ? undefined : parseOwnUrl('restore.silentRedirectUri', silent),
    scope: options.scope?.trim() ?? DEFAULT_SCOPE,
    // Checked by the engine, which also keeps its own parameters (see grants.ts).
    authorizationParams: options.authorizationParams || undefined,
    refreshLeeway,
    requestTimeout,
    clockTolerance: positive('clockTolerance', options.clockTolerance, 30),
    // An http: issuer got past parseUrl only when allowed or on this machine: let its requests go.
    allowInsecure: allowInsecure || issuer.protocol === 'http:',
    discovery,
    metadata: options.metadata || undefined,
    dpop: options.dpop || undefined,
    idTokenHint: options.idTokenHint || undefined,
    apis: apis?.grants,
  }
}

function checkShapes(options: AuthClientOptions): void {
  if (typeof options !== 'object' || options === null) fail('options must be an object.')
  // The BFF mode has an entry of its own: none of this mode's code is in its page.
  if ('bff' in options) fail("with `bff`, import it from '@spa-auth/core/bff'.")
  rejectUnknownKeys(options, KNOWN_OPTIONS)
  if (options.restore !== undefined) {
    if (typeof options.restore !== 'object' || options.restore === null) {
      fail('`restore` must be an object.')
    }
    rejectUnknownKeys(options.restore, RESTORE_OPTIONS, 'restore.')
  }
  if (options.tokenSource !== undefined && typeof options.tokenSource?.refresh !== 'function') {
    fail('`tokenSource.refresh` must be a function.')
  }
  if (options.apiOrigins !== undefined && !Array.isArray(options.apiOrigins)) {
    fail('`apiOrigins` must be an array of origins.')
  }
  for (const name of ['dpop', 'idTokenHint'] as const) {
    const value = options[name]
    if (value !== undefined && typeof value !== 'boolean')
      fail(`\`${name}\` must be true or false.`)
  }
  if (options.dpop && options.tokenSource) {
    fail('`dpop` needs an OAuth provider (no `tokenSource`).')
  }
  for (const name of ['fetch', 'navigate'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      fail(`\`${name}\` must be a function.`)
    }
  }
  const worker = options.tokenWorker
  const kind = typeof worker
  if (
    worker !== undefined &&
    worker !== false &&
    kind !== 'string' &&
    kind !== 'function' &&
    !(worker instanceof URL)
  ) {
    fail('`tokenWorker` must be false, a URL or a function that makes the worker.')
  }
}

/**
 * Checks every option and fills in defaults.
 *
 * @throws {AuthError} `invalid_options`, with a message that names the option and what to fix
 *   (an unknown option gets a did-you-mean suggestion).
 */
export function resolveOptions(options: AuthClientOptions): ResolvedOptions {
  checkShapes(options)
  const refreshLeeway = positive('refreshLeeway', options.refreshLeeway, 5)
  const requestTimeout = positive('requestTimeout', options.requestTimeout, 10_000)
  const allowInsecure = options.dangerouslyAllowInsecureHttp === true
  const { apis } = options
  if (apis !== undefined && (typeof apis?.route !== 'function' || options.tokenSource)) {
    fail('`apis` takes what defineApis() makes, with an OAuth provider.')
  }
  const engine =
    options.tokenSource && !options.issuer
      ? undefined
      : resolveEngine(options, refreshLeeway, requestTimeout, apis)
  const home = pageOrigin()
  const origins = options.apiOrigins ?? (home ? [home] : [])
  const postLogout = options.postLogoutRedirectUri
  return {
    engine,
    tokenSource: options.tokenSource,
    refreshLeeway,
    requestTimeout,
    apiOrigins: new Set(origins.map((origin) => parseOrigin(origin, allowInsecure))),
    apis,
    // With its `/`: providers compare the registered URI exactly.
    postLogoutRedirectUri:
      postLogout === undefined
        ? home && `${home}/`
        : parseUrl('postLogoutRedirectUri', postLogout, true).href,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    navigate: options.navigate ?? ((url) => globalThis.location.assign(url)),
    storage: () => options.storage ?? globalThis.sessionStorage,
    clock: options.clock ?? systemClock,
    // A custom token source is a function: it runs in the page, and so does the session.
    tokenWorker: options.tokenSource ? false : options.tokenWorker,
    crossTab: options.crossTab !== false,
    restore: {
      silent: silentMode(options.restore?.silent, engine && new URL(engine.issuer)),
      silentTimeout: positive('restore.silentTimeout', options.restore?.silentTimeout, 5_000),
      frameName: 'spa-auth:silent',
    },
    isCallback: callbackTest([engine?.redirectUri, engine?.silentRedirectUri]),
  }
}
