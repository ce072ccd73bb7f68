// The `apis` option: APIs that each want a token of their own, where each token may go, and how
// the engine asks for it. A module an app imports only when it has such APIs (`defineApis`): an
// app with one token for every origin loads none of it.
import { AuthError } from '../errors.js'
import type { ApiGrant } from '../protocol.js'

/** An API with an access token of its own. */
export interface ApiOptions {
  /**
   * Where its token goes: an origin (`https://orders.example.com`), or an origin and a path
   * (`https://api.example.com/orders/`) where two APIs share an origin. A request goes with the
   * token of the longest that it starts with; a path ends at a `/`, `?` or `#` or with the URL.
   */
  url: string
  /** How its token is asked for: an RFC 8707 resource indicator (also sent at every sign-in), */
  resource?: string
  /** or the `audience` parameter some providers take instead, */
  audience?: string
  /** or a scope that names the API (`api://orders/.default`). Exactly one of the three. */
  scope?: string
}

/** Where one API's token goes: requests whose URL starts with `prefix`. */
interface ApiRoute {
  name: string
  prefix: string
  /** The prefix has a path: a request's URL is read normalized before it is matched. */
  path: boolean
}

/** APIs checked by {@link defineApis}: the value of the `apis` option. */
export interface ApiSet {
  /** How the engine asks for each API's token, by name. */
  readonly grants: Readonly<Record<string, ApiGrant>>
  /** The name of the API whose token an absolute URL goes with, if any. */
  route(href: string): string | undefined
}

function fail(message: string): never {
  throw new AuthError('invalid_options', `defineApis: ${message}`)
}

const KINDS = ['resource', 'audience', 'scope'] as const

const isLoopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)

/**
 * Checks the APIs that each want a token of their own, for the `apis` option of
 * `createAuthClient`: each API's name, where its token goes (`url`, `https:` but on this machine,
 * unless `dangerouslyAllowInsecureHttp`), and how it is asked for.
 *
 * @throws {AuthError} `invalid_options`, naming the API and what to fix.
 * @example
 * ```ts
 * const auth = createAuthClient({
 *   issuer, clientId, redirectUri,
 *   apis: defineApis({
 *     orders: { url: 'https://orders.example.com', resource: 'https://orders.example.com' },
 *     billing: { url: 'https://api.example.com/billing/', scope: 'api://billing/.default' },
 *   }),
 * })
 * ```
 */
export function defineApis(
  apis: Readonly<Record<string, ApiOptions>>,
  options: { dangerouslyAllowInsecureHttp?: boolean } = {},
): ApiSet {
  const insecure = options.dangerouslyAllowInsecureHttp === true
  const secure = (url: URL) =>
    url.protocol === 'https:' || (url.protocol === 'http:' && (insecure || isLoopback(url)))
  if (typeof apis !== 'object' || apis === null || Array.isArray(apis)) {
    fail('`apis` must be an object of APIs by name, like { orders: { url, resource } }.')
  }
  const routes: ApiRoute[] = []
  const grants: Record<string, ApiGrant> = {}
  for (const [name, api] of Object.entries(apis)) {
    const at = `\`apis.${name}\``
    if (typeof api !== 'object' || api === null) fail(`${at} must be an object: { url, resource }.`)
    const { url, ...grant } = api as ApiOptions
    const unknown = Object.keys(grant).find((k) => !(KINDS as readonly string[]).includes(k))
    if (unknown)
      fail(
        `${at} has an unknown option \`${unknown}\`: it takes url and one of resource, audience, scope.`,
      )
    const kinds = KINDS.filter((k) => grant[k] !== undefined)
    if (kinds.length !== 1 || typeof grant[kinds[0]!] !== 'string' || !grant[kinds[0]!]) {
      fail(`${at} needs exactly one of resource, audience, scope: how its token is asked for.`)
    }
    let parsed: URL | undefined
    try {
      parsed = new URL(String(url))
    } catch {}
    if (!parsed || parsed.search || parsed.hash || String(url).includes('#') || !secure(parsed)) {
      fail(`${at}.url must be an https: URL with no query or fragment, got "${url}".`)
    }
    const path = parsed.pathname !== '/'
    routes.push({ name, prefix: parsed.origin + parsed.pathname, path })
    if (routes.some((r) => r !== routes.at(-1) && r.prefix === routes.at(-1)!.prefix)) {
      fail(`${at}.url is another API's too: each URL may have one token.`)
    }
    grants[name] = { [kinds[0]!]: grant[kinds[0]!] }
  }
  routes.sort((a, b) => b.prefix.length - a.prefix.length)
  return Object.freeze({
    grants,
    route: (href: string) => routeOf(routes, href)?.name,
  })
}

/**
 * The API whose token `href` (an absolute URL) goes with: the route of the longest prefix it
 * starts with, where the prefix ends at a path boundary. A URL with a path read as written could
 * leave the prefix once normalized (`/orders/../admin`), so it is normalized first.
 */
function routeOf(routes: readonly ApiRoute[], href: string): ApiRoute | undefined {
  for (const route of routes) {
    const { prefix } = route
    if (!href.startsWith(prefix)) continue
    if (route.path && normalized(href) !== href) return routeOf(routes, normalized(href))
    const next = href.charCodeAt(prefix.length)
    // `/`, `?`, `#`, the end, or a prefix that ends with `/` itself.
    if (prefix.endsWith('/') || Number.isNaN(next) || next === 47 || next === 63 || next === 35)
      return route
  }
  return undefined
}

function normalized(href: string): string {
  try {
    return new URL(href).href
  } catch {
    return ''
  }
}
