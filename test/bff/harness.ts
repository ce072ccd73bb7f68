// A BFF between oidc-provider and a resource server, and browsers in Node that keep its cookies:
// the BFF tests drive its handler as a browser on the app's origin would.
import { type Bff, type BffOptions, createBff } from '@spa-auth/bff'
import { followSignIn, cookieJar as providerJar } from '../interop/node-sign-in.js'
import { BFF_CLIENT, type InteropProvider, openProvider } from '../interop/provider.js'
import { type ResourceServer, startResourceServer } from '../interop/resource-server.js'

/** The app's origin: the BFF is mounted there (the handler needs no server). */
export const APP = 'https://app.test'

/** One cookie as the browser holds it, with the attributes it was set with. */
export interface HeldCookie {
  value: string
  attributes: string[]
}

/** Every answer a browser got from the BFF, as text: no token may ever be in one. */
export type Seen = string[]

/**
 * A browser on {@link APP}: it keeps the BFF's cookies (set and cleared) and the provider's, and
 * sends what a browser sends with a same-origin `fetch` (`Sec-Fetch-Site: same-origin`); on a
 * cross-site navigation, no `SameSite=Strict` cookie.
 */
export function browser() {
  const cookies = new Map<string, HeldCookie>()
  const idpCookies = providerJar()
  const seen: Seen = []
  // A cross-site navigation (the provider's redirect back) carries no `SameSite=Strict` cookie.
  const header = (crossSite: boolean) =>
    [...cookies]
      .filter(([, c]) => !(crossSite && c.attributes.includes('SameSite=Strict')))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ')
  const take = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim())
      const name = pair.slice(0, pair.indexOf('='))
      const value = pair.slice(pair.indexOf('=') + 1)
      if (!value || attributes.includes('Max-Age=0')) cookies.delete(name)
      else cookies.set(name, { value, attributes })
    }
  }
  const b = {
    cookies,
    seen,
    /** A request from this browser; `api` adds the page client's CSRF header. */
    async fetch(bff: Bff, path: string, init: RequestInit & { api?: boolean } = {}) {
      const { api = true, ...rest } = init
      const headers = new Headers(rest.headers)
      if (api && !headers.has('x-csrf')) headers.set('x-csrf', '1')
      if (!headers.has('sec-fetch-site')) headers.set('sec-fetch-site', 'same-origin')
      const crossSite = headers.get('sec-fetch-site') === 'cross-site'
      if (cookies.size && !headers.has('cookie')) headers.set('cookie', header(crossSite))
      const response = await bff(new Request(new URL(path, APP), { ...rest, headers }))
      take(response)
      const text = await response.clone().text()
      seen.push(`${[...response.headers].map(([n, v]) => `${n}: ${v}`).join('\n')}\n\n${text}`)
      return response
    },
    /**
     * Signs in through the BFF: `login`, the provider's forms, and the callback; returns the
     * callback's answer (a redirect to `returnTo`).
     */
    async signIn(bff: Bff, idp: InteropProvider, options: { login?: string; query?: string } = {}) {
      const start = await b.fetch(bff, `/bff/login?${options.query ?? 'returnTo=/'}`, {
        api: false,
        headers: { 'sec-fetch-site': 'none' },
      })
      const location = start.headers.get('location')
      if (start.status !== 302 || !location) throw new Error(`login answered ${start.status}`)
      const back = await followSignIn(
        new URL(location),
        { issuer: idp.issuer, redirectUri: `${APP}/bff/callback`, login: options.login },
        idpCookies,
      )
      // The provider's redirect is a cross-site navigation.
      return b.fetch(bff, back.pathname + back.search, {
        api: false,
        headers: { 'sec-fetch-site': 'cross-site' },
      })
    },
  }
  return b
}

/** Options of {@link startBffStack}. */
export interface StackOptions {
  /** Seconds an access token lives. Default 60. */
  accessTokenTtl?: number
  /** A second resource server, with its own resource indicator, for tokens per API. */
  secondApi?: boolean
}

/** oidc-provider with the BFF's confidential client, and a resource server behind `/api`. */
export async function startBffStack(options: StackOptions = {}) {
  const idp = await openProvider()
  const api: ResourceServer = await startResourceServer(idp.issuer)
  const other = options.secondApi ? await startResourceServer(idp.issuer) : undefined
  idp.configure({
    appOrigins: [],
    resource: api.resource,
    ...(other ? { otherResources: [other.resource] } : {}),
    accessTokenTtl: options.accessTokenTtl ?? 60,
    bffOrigins: [APP],
  })
  const bffs: Bff[] = []
  return {
    idp,
    api,
    /** The second resource server, with `secondApi`. */
    other,
    /** A BFF instance for the stack; every option may be overridden. */
    bff(overrides: Partial<BffOptions> = {}): Bff {
      const bff = createBff({
        issuer: idp.issuer,
        clientId: BFF_CLIENT.clientId,
        clientAuth: { method: 'client_secret_basic', secret: BFF_CLIENT.secret },
        origin: APP,
        scope: 'openid profile email api:read',
        routes: { '/api': `${api.origin}/api` },
        allowInsecureRequests: true,
        ...overrides,
      })
      bffs.push(bff)
      return bff
    },
    async close() {
      await Promise.all(bffs.map((bff) => bff.close()))
      await Promise.all([api.close(), other?.close(), idp.close()])
    },
  }
}

/** Token-endpoint requests of one grant type the provider answered. */
export const grants = (idp: InteropProvider, grantType: string) =>
  idp.requests.filter((r) => r.path === '/token' && r.grantType === grantType).length
