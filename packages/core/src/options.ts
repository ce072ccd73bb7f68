import type { AuthorizationServer } from 'oauth4webapi'
import { type Clock, systemClock } from './clock.js'
import { AuthError } from './errors.js'
import { defaultSilentMode, type SilentMode } from './silent.js'
import type { TokenSource } from './source.js'

/** The part of `Storage` spa-auth uses for the login transaction. */
export type TransactionStorage = Pick<
  Storage,
  'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'
>

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
   * The origins (`https://api.example.com`) `auth.fetch` may send the access token to, matched
   * exactly on scheme, host and port. Default: the page's own origin.
   */
  apiOrigins?: readonly string[]
  /** Where the provider sends the user after sign-out. Default: the page's origin. */
  postLogoutRedirectUri?: string
  /** Seconds before expiry at which the access token is refreshed. Default 60, at most half its lifetime. */
  refreshLeeway?: number
  /** Milliseconds a request to the provider may take. Default 10 000. */
  requestTimeout?: number
  /** Seconds of clock difference tolerated when checking ID token times. Default 30. */
  clockTolerance?: number
  /** The provider's metadata, to skip discovery. */
  metadata?: AuthorizationServer
  /** The transport of every request the client makes (provider and API). Default: `fetch`. */
  fetch?: typeof fetch
  /** How to send the browser to the provider. Default: `location.assign`. */
  navigate?: (url: string) => void
  /** Where the login transaction waits during the redirect. Default: `sessionStorage`. */
  storage?: TransactionStorage
  /** Time and timers. Default: the page's. */
  clock?: Clock
  /**
   * Tokens from somewhere else than an OAuth provider: your backend's own refresh endpoint.
   * With it, `issuer`, `clientId` and `redirectUri` are not needed.
   */
  tokenSource?: TokenSource
  /**
   * Tabs of this origin and client share one session: one refresh at a time across them, new
   * tokens handed to each other, sign-out everywhere at once (Web Locks and BroadcastChannel).
   * Default true; where the browser lacks either, each tab keeps its own session.
   */
  crossTab?: boolean
  /**
   * How a page with no session in memory (a reload, a new tab) gets one back, step by step:
   * ask the other tabs (`siblingWait` ms, default 300), then the provider with `prompt=none`
   * (`silent`: in a hidden `'iframe'`, the default when the provider is on the page's site, or by
   * a top-level `'redirect'`, opt-in, at most once per tab), else signed out.
   */
  restore?: { siblingWait?: number; silent?: SilentMode; silentTimeout?: number }
  /**
   * Allows `http://` for the provider. Only for a provider on your own machine in tests;
   * never in production, where it would send codes and tokens in clear text.
   */
  dangerouslyAllowInsecureHttp?: boolean
}

/** Options after validation, with defaults filled in. */
export interface ResolvedOptions {
  oauth: { issuer: URL; clientId: string; redirectUri: string } | undefined
  scope: string
  apiOrigins: ReadonlySet<string>
  postLogoutRedirectUri: string | undefined
  refreshLeeway: number
  requestTimeout: number
  clockTolerance: number
  metadata: AuthorizationServer | undefined
  fetch: typeof fetch
  navigate: (url: string) => void
  storage: () => TransactionStorage
  clock: Clock
  tokenSource: TokenSource | undefined
  allowInsecure: boolean
  crossTab: boolean
  restore: { siblingWait: number; silent: SilentMode; silentTimeout: number }
}

const DEFAULT_SCOPE = 'openid profile email offline_access'

// Every option's name: a Record so the compiler fails when an option is added without it.
const KNOWN_OPTIONS: Record<keyof AuthClientOptions, true> = {
  issuer: true,
  clientId: true,
  redirectUri: true,
  scope: true,
  apiOrigins: true,
  postLogoutRedirectUri: true,
  refreshLeeway: true,
  requestTimeout: true,
  clockTolerance: true,
  metadata: true,
  fetch: true,
  navigate: true,
  storage: true,
  clock: true,
  tokenSource: true,
  crossTab: true,
  restore: true,
  dangerouslyAllowInsecureHttp: true,
}

function fail(message: string): never {
  throw new AuthError('invalid_options', `createAuthClient: ${message}`)
}

function pageOrigin(): string | undefined {
  const origin = globalThis.location?.origin
  return origin && origin !== 'null' ? origin : undefined
}

function silentMode(value: unknown, oauth: { issuer: URL } | undefined): SilentMode {
  if (value !== undefined && value !== false && value !== 'iframe' && value !== 'redirect') {
    fail(`\`restore.silent\` must be 'iframe', 'redirect' or false, got ${JSON.stringify(value)}.`)
  }
  if (!oauth) return false
  return value === undefined ? defaultSilentMode(oauth.issuer) : (value as SilentMode)
}

function parseUrl(name: string, value: unknown, allowInsecure: boolean): URL {
  if (typeof value !== 'string' || value === '') fail(`\`${name}\` is required: a URL string.`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    fail(`\`${name}\` must be an absolute URL, got "${value}".`)
  }
  const local =
    url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]'
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (allowInsecure || local))) {
    fail(`\`${name}\` must use https:, got "${value}".`)
  }
  return url
}

function parseOrigin(value: unknown): string {
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
function suggestion(key: string): string | undefined {
  const squash = (name: string) => name.toLowerCase().replace(/[-_]/g, '')
  let best: { name: string; cost: number } | undefined
  for (const name of Object.keys(KNOWN_OPTIONS)) {
    const cost = squash(name) === squash(key) ? 0 : distance(name, key)
    if (!best || cost < best.cost) best = { name, cost }
  }
  return best && best.cost <= Math.min(3, Math.ceil(key.length / 3)) ? best.name : undefined
}

// A misspelt option would otherwise be ignored in silence and its default used instead.
function rejectUnknownKeys(options: object): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(KNOWN_OPTIONS, key)) continue
    const guess = suggestion(key)
    fail(`unknown option \`${key}\`${guess ? `: did you mean \`${guess}\`?` : '.'}`)
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(`\`${name}\` must be a number ≥ 0, got ${String(value)}.`)
  }
  return value
}

function resolveOAuth(options: AuthClientOptions) {
  const allowInsecure = options.dangerouslyAllowInsecureHttp === true
  const issuer = parseUrl('issuer', options.issuer, allowInsecure)
  if (typeof options.clientId !== 'string' || options.clientId.trim() === '') {
    fail('`clientId` is required: the client identifier registered at the provider.')
  }
  const redirect = parseUrl('redirectUri', options.redirectUri, true)
  const origin = pageOrigin()
  if (origin && redirect.origin !== origin) {
    fail(
      `\`redirectUri\` must be on this page's origin ${origin}, got "${options.redirectUri}": ` +
        'the callback must run where the login started.',
    )
  }
  if (redirect.hash) fail('`redirectUri` must not have a fragment.')
  return { issuer, clientId: options.clientId, redirectUri: redirect.href }
}

/**
 * Checks every option and fills in defaults.
 *
 * @throws {AuthError} `invalid_options`, with a message that names the option and what to fix
 *   (an unknown option gets a did-you-mean suggestion).
 */
export function resolveOptions(options: AuthClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object.')
  rejectUnknownKeys(options)
  if (options.tokenSource !== undefined && typeof options.tokenSource?.refresh !== 'function') {
    fail('`tokenSource.refresh` must be a function.')
  }
  const oauth = options.tokenSource && !options.issuer ? undefined : resolveOAuth(options)
  if (options.scope !== undefined && (typeof options.scope !== 'string' || !options.scope.trim())) {
    fail('`scope` must be a non-empty string of space-separated scopes.')
  }
  if (options.apiOrigins !== undefined && !Array.isArray(options.apiOrigins)) {
    fail('`apiOrigins` must be an array of origins.')
  }
  const origins = options.apiOrigins ?? [pageOrigin()].filter((o): o is string => o !== undefined)
  for (const name of ['fetch', 'navigate'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      fail(`\`${name}\` must be a function.`)
    }
  }
  const postLogout = options.postLogoutRedirectUri
  // An http: issuer got past parseUrl only when allowed or on this machine: let its requests go.
  const insecureIssuer = oauth?.issuer.protocol === 'http:'
  return {
    oauth,
    scope: options.scope?.trim() ?? DEFAULT_SCOPE,
    apiOrigins: new Set(origins.map(parseOrigin)),
    postLogoutRedirectUri:
      postLogout === undefined
        ? pageOrigin()
        : parseUrl('postLogoutRedirectUri', postLogout, true).href,
    refreshLeeway: positive('refreshLeeway', options.refreshLeeway, 60),
    requestTimeout: positive('requestTimeout', options.requestTimeout, 10_000),
    clockTolerance: positive('clockTolerance', options.clockTolerance, 30),
    metadata: options.metadata,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    navigate: options.navigate ?? ((url) => globalThis.location.assign(url)),
    storage: () => options.storage ?? globalThis.sessionStorage,
    clock: options.clock ?? systemClock,
    tokenSource: options.tokenSource,
    crossTab: options.crossTab !== false,
    restore: {
      siblingWait: positive('restore.siblingWait', options.restore?.siblingWait, 300),
      silent: silentMode(options.restore?.silent, oauth),
      silentTimeout: positive('restore.silentTimeout', options.restore?.silentTimeout, 5_000),
    },
    allowInsecure: options.dangerouslyAllowInsecureHttp === true || insecureIssuer,
  }
}
