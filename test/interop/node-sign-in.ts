// A sign-in at oidc-provider from Node, through devInteractions' login and consent forms, for
// the tests that drive the provider's token endpoint without a browser.
import { createHash, randomBytes } from 'node:crypto'

/** Options of {@link signInFromNode}. */
export interface NodeSignIn {
  issuer: string
  clientId: string
  /** A redirect URI registered for the client; the browser would land there. */
  redirectUri: string
  scope: string
  /** The `dpop_jkt` to bind the code to (RFC 9449 §10). */
  dpopJkt?: string
  /** Any login works with devInteractions. Default `alice`. */
  login?: string
}

/** The authorization code the provider sent back, and the PKCE verifier it was asked with. */
export interface SignedIn {
  code: string
  verifier: string
}

/** The cookies a browser would keep across the redirects (paths left aside: they only narrow). */
export function cookieJar() {
  const cookies = new Map<string, string>()
  return {
    header: () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; '),
    take(response: Response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair = '', ...attributes] = line.split(';')
        const name = pair.slice(0, pair.indexOf('=')).trim()
        const value = pair.slice(pair.indexOf('=') + 1)
        // A cookie cleared by the server comes back empty and expired in the past.
        const expired = attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a))
        if (expired || !value) cookies.delete(name)
        else cookies.set(name, value)
      }
    },
  }
}

/** The prompt of an interaction page (`login` or `consent`): a hidden input of its form. */
async function promptOf(page: Response): Promise<string> {
  const html = await page.text()
  const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1]
  if (!prompt) throw new Error(`no interaction form at ${page.url}: ${page.status}`)
  return prompt
}

/**
 * Follows the authorization request's redirects as a browser would, filling in the login form
 * and accepting consent, until the provider redirects to `redirectUri`. PKCE S256, one state.
 * @throws when the provider answers with an error instead of a code
 */
export async function signInFromNode(options: NodeSignIn): Promise<SignedIn> {
  const verifier = randomBytes(32).toString('base64url')
  const state = randomBytes(16).toString('base64url')
  const auth = new URL(`${options.issuer}/auth`)
  auth.search = new URLSearchParams({
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    scope: options.scope,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...(options.dpopJkt ? { dpop_jkt: options.dpopJkt } : {}),
  }).toString()
  const next = await followSignIn(auth, options)
  const code = next.searchParams.get('code')
  if (!code || next.searchParams.get('state') !== state)
    throw new Error(`no code: ${next.searchParams.get('error') ?? 'wrong state'}`)
  return { code, verifier }
}

/**
 * Follows an authorization request (`start`) through the provider's redirects, login form and
 * consent as a browser would, and returns the URL it redirects to at `redirectUri`: with a
 * `code`, or with the provider's `error`. `jar` keeps the provider's cookies between sign-ins.
 */
export async function followSignIn(
  start: URL,
  options: { issuer: string; redirectUri: string; login?: string | undefined },
  jar = cookieJar(),
): Promise<URL> {
  const go = async (url: URL, body?: Record<string, string>) => {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: jar.header() },
      ...(body ? { method: 'POST', body: new URLSearchParams(body) } : {}),
    })
    jar.take(response)
    return response
  }
  let response = await go(start)
  for (let step = 0; step < 12; step++) {
    const location = response.headers.get('location')
    if (!location) throw new Error(`the sign-in stopped at ${response.status}`)
    const next = new URL(location, options.issuer)
    if (next.href.startsWith(options.redirectUri)) return next
    if (!next.pathname.startsWith('/interaction/')) {
      response = await go(next)
      continue
    }
    const prompt = await promptOf(await go(next))
    const form = prompt === 'login' ? { login: options.login ?? 'alice', password: 'any' } : {}
    response = await go(next, { prompt, ...form })
  }
  throw new Error('the sign-in went round in circles')
}
