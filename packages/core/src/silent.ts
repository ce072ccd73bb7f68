import { type Clock, sleep } from './clock.js'
import { AuthError } from './errors.js'
import { authorizationUrl, type CallbackSession, exchangeCallback, isCallbackUrl } from './login.js'
import type { ResolvedOptions } from './options.js'
import type { Provider } from './provider.js'

/** How a page with no session tries the provider's session without showing anything. */
export type SilentMode = 'iframe' | 'redirect' | false

/** OAuth errors that only mean "no session at the provider": no failure to show. */
export const NO_PROVIDER_SESSION = new Set([
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
])

const TRIED_KEY = 'spa-auth:silent-tried'

// The name the parent gives its silent sign-in frame; a frame keeps its name as it navigates.
const FRAME_NAME = 'spa-auth:silent'

/** Whether this page is a silent sign-in frame, whose callback the parent page handles. */
export function isSilentFrame(): boolean {
  return globalThis.window?.name === FRAME_NAME && globalThis.top !== globalThis.self
}

/**
 * The default silent mode: a hidden iframe when the provider is on the page's own site (its
 * cookies reach a frame), nothing otherwise: browsers block third-party cookies in frames.
 */
export function defaultSilentMode(issuer: URL): SilentMode {
  const host = globalThis.location?.hostname
  if (!host) return false
  const site = (name: string) =>
    /^[\d.]+$|^\[/.test(name) ? name : name.split('.').slice(-2).join('.')
  return site(issuer.hostname) === site(host) ? 'iframe' : false
}

/**
 * Loads `url` (an authorization request with `prompt=none`) in a hidden iframe and resolves to
 * the callback URL the provider sent the frame back to.
 *
 * @throws {AuthError} `timeout` when the frame does not come back within `ms`.
 */
export async function silentFrame(
  url: string,
  redirectUri: string,
  clock: Clock,
  ms: number,
): Promise<string> {
  const frame = document.createElement('iframe')
  frame.hidden = true
  frame.setAttribute('aria-hidden', 'true')
  frame.title = 'silent sign-in'
  frame.name = FRAME_NAME
  frame.src = url
  document.body.append(frame)
  try {
    for (const deadline = clock.now() + ms; clock.now() < deadline; ) {
      await sleep(clock, 50)
      let href: string | undefined
      try {
        // Readable only once the frame is back on our origin.
        href = frame.contentWindow?.location.href
      } catch {}
      if (href && isCallbackUrl(new URL(href), redirectUri)) return href
    }
    throw new AuthError('timeout', `Silent sign-in: the provider did not answer within ${ms} ms`)
  } finally {
    frame.remove()
  }
}

/** Whether a silent redirect was already tried in this tab (so it never loops). */
export function silentRedirectTried(storage: Pick<Storage, 'getItem' | 'setItem'>): boolean {
  if (storage.getItem(TRIED_KEY)) return true
  storage.setItem(TRIED_KEY, '1')
  return false
}

/** Forgets the silent redirect attempt, after a sign-in or sign-out the user asked for. */
export function forgetSilentRedirect(storage: Pick<Storage, 'removeItem'>): void {
  storage.removeItem(TRIED_KEY)
}

/**
 * Tries the provider's session with `prompt=none`: in a hidden iframe, resolving to the new
 * session, or by a top-level redirect (at most once per tab), which leaves the page. Resolves to
 * undefined when the mode is off or the page is leaving.
 *
 * @throws {AuthError} the callback's error: `authorization_error` with `login_required` when the
 *   provider has no session.
 */
export async function silentSignIn(
  provider: Provider,
  options: ResolvedOptions,
): Promise<CallbackSession | undefined> {
  const { silent, silentTimeout } = options.restore
  if (silent === 'redirect' && !silentRedirectTried(options.storage())) {
    const { pathname, search, hash } = globalThis.location ?? {
      pathname: '/',
      search: '',
      hash: '',
    }
    const returnTo = pathname + search + hash
    options.navigate(await authorizationUrl(provider, options, { prompt: 'none', returnTo }))
    return undefined
  }
  if (silent !== 'iframe' || !globalThis.document?.body) return undefined
  const url = await authorizationUrl(provider, options, { prompt: 'none' })
  const callback = await silentFrame(url, provider.config.redirectUri, options.clock, silentTimeout)
  return exchangeCallback(provider, options, new URL(callback))
}
