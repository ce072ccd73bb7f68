import { AuthError } from '../errors.js'

/** Where the app's backend-for-frontend (`@spa-auth/bff`) answers, and how it wants to be called. */
export interface BffOptions {
  /** The path the BFF's endpoints live under, on this page's origin. Default `/bff`. */
  prefix?: string
  /**
   * The header every API and session request carries (with the value `1`), which a cross-site
   * form cannot send. Default `X-CSRF`, as `@spa-auth/bff` expects it.
   */
  csrfHeader?: string
}

/** Options of a client in BFF mode. */
export interface BffClientOptions {
  /**
   * The session lives in the app's backend-for-frontend, and no token ever reaches the browser:
   * `'/bff'` (its prefix), `true` (the default prefix), or {@link BffOptions}.
   */
  bff: string | true | BffOptions
  /** The transport of every request the client makes. Default: `fetch`. */
  fetch?: typeof fetch
  /** How to send the browser to the BFF's sign-in and the provider's sign-out. Default: `location.assign`. */
  navigate?: (url: string) => void
}

/** BFF-mode options after validation. */
export interface ResolvedBffOptions {
  prefix: string
  csrfHeader: string
  fetch: typeof fetch
  navigate: (url: string) => void
}

/**
 * Checks the options of a BFF-mode client.
 *
 * @throws {AuthError} `invalid_options`, naming the first option to fix: one of the token-worker
 *   mode (the BFF holds the provider's settings), a prefix that is not a path, a header name that
 *   is not one.
 */
export function resolveBffOptions(options: BffClientOptions): ResolvedBffOptions {
  const { bff, fetch, navigate, ...other } = options ?? {}
  const given = bff === true ? {} : typeof bff === 'string' ? { prefix: bff } : bff
  const { prefix = '/bff', csrfHeader = 'X-CSRF', ...rest } = given ?? {}
  const wrong =
    Object.keys(other).map((key) => `\`${key}\` (the BFF holds the provider's settings)`)[0] ??
    Object.keys(rest).map((key) => `\`bff.${key}\` (it takes prefix and csrfHeader)`)[0] ??
    ((typeof given !== 'object' || !/^\/(?!\/)[\w\-./~]*$/.test(prefix)
      ? '`bff` (a path like "/bff")'
      : '') ||
      (/^[\w-]+$/.test(csrfHeader) ? '' : '`bff.csrfHeader` (a header name)') ||
      ([fetch, navigate].some((f) => f && typeof f !== 'function') ? '`fetch` or `navigate`' : ''))
  if (wrong) throw new AuthError('invalid_options', `createAuthClient: check ${wrong}`)
  return {
    prefix: prefix.replace(/\/$/, ''),
    csrfHeader,
    fetch: fetch ?? ((input, init) => globalThis.fetch(input, init)),
    navigate: navigate ?? ((url) => globalThis.location.assign(url)),
  }
}
