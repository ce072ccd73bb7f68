/// <reference types="vite/client" />
// A bare app for the cases the demo cannot show: it handles the callback only when a test asks,
// with the URL the test gives, and hands back the typed error. Built with VITE_DPOP=true, it asks
// for DPoP-bound tokens.
import { AuthError, createAuthClient, defineApis } from '@spa-auth/core'

const env = import.meta.env
const auth = createAuthClient({
  issuer: env.VITE_ISSUER,
  clientId: env.VITE_CLIENT_ID,
  redirectUri: `${location.origin}/callback`,
  scope: env.VITE_SCOPE,
  apiOrigins: [env.VITE_API_ORIGIN],
  dangerouslyAllowInsecureHttp: true,
  // Passed in the DPoP build only: the other tests' builds do not depend on the option.
  ...(env.VITE_DPOP === 'true' ? { dpop: true } : {}),
  // APIs with a token each, in the builds of the several-APIs cases only.
  ...(env.VITE_APIS ? { apis: defineApis(JSON.parse(env.VITE_APIS)) } : {}),
})

/** What a callback came to, as plain data a test can read. */
export type Outcome =
  | { ok: true; status: string }
  | { ok: false; isAuthError: boolean; code?: string; oauthError?: string; message: string }

const show = () => {
  document.getElementById('status')!.textContent = auth.getState().status
}
auth.subscribe(show)
show()
// Events carry no token: the test reads them from the console.
auth.on((event) =>
  console.info(
    `spa-auth event ${event.type}${event.type === 'logout' ? ` revoked=${event.revoked}` : ''}`,
  ),
)

const handle = {
  login: () => auth.login({ returnTo: '/' }),
  async callback(url?: string): Promise<Outcome> {
    try {
      await auth.handleCallback(url)
      return { ok: true, status: auth.getState().status }
    } catch (error) {
      const e = error as AuthError
      return {
        ok: false,
        isAuthError: error instanceof AuthError,
        ...(e.code ? { code: e.code } : {}),
        ...(e.oauthError ? { oauthError: e.oauthError } : {}),
        message: String(e.message),
      }
    }
  },
  logout: () => auth.logout({ returnTo: '/' }),
  /** Calls the API through `auth.fetch`; resolves with the status. */
  async api(path: string): Promise<number> {
    const response = await auth.fetch(`${env.VITE_API_ORIGIN}${path}`)
    return response.status
  },
  /** Calls any URL through `auth.fetch`; resolves with the status. */
  async at(url: string): Promise<number> {
    return (await auth.fetch(url)).status
  },
  /** Calls `url` with the Bearer token of another API, by hand: what that API's server says. */
  async withTokenOf(api: string, url: string): Promise<number> {
    const token = await auth.getAccessToken({ api })
    return (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status
  },
}
Object.assign(globalThis, { interop: handle })

/** The handle the tests drive the app with, as `globalThis.interop`. */
export type Interop = typeof handle
declare global {
  var interop: Interop
}
