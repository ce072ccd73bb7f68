import { AuthError } from '../errors.js'
import { sameOriginPath } from './return-to.js'

export { sameOriginPath }

// Authorization response parameters in a fragment: the implicit flow, or someone's forgery.
const FRAGMENT_RESPONSE = /(^|[#&])(access_token|id_token|token|code|state)=/

// With the tokens a forged or implicit-flow response may carry: none may stay in the history.
const CALLBACK_PARAMS = [
  'access_token',
  'id_token',
  'token',
  'refresh_token',
  'code',
  'state',
  'iss',
  'session_state',
  'error',
  'error_description',
  'error_uri',
]

/**
 * Takes the callback's parameters out of the address bar, keeping the rest of the URL.
 * Returns the cleaned URL when it changed the address bar.
 */
export function cleanAddressBar(callback: URL): string | undefined {
  const { location, history } = globalThis
  if (!location?.href || typeof history?.replaceState !== 'function') return undefined
  const current = new URL(location.href)
  if (current.origin !== callback.origin || current.pathname !== callback.pathname) return undefined
  const before = current.href
  for (const name of CALLBACK_PARAMS) current.searchParams.delete(name)
  if (FRAGMENT_RESPONSE.test(current.hash)) current.hash = ''
  if (current.href === before) return undefined
  history.replaceState(history.state, '', current.href)
  return current.href
}

/**
 * Checks `returnTo` before a login starts.
 *
 * @throws {AuthError} `invalid_options` when it is not a target on this page's origin.
 */
export function checkedReturnTo(returnTo: unknown): string | undefined {
  if (returnTo === undefined) return undefined
  const path = typeof returnTo === 'string' ? sameOriginPath(returnTo) : undefined
  if (path === undefined) {
    throw new AuthError(
      'invalid_options',
      `login(): \`returnTo\` must be a path on this origin (like "/orders"), got ${JSON.stringify(returnTo)}`,
    )
  }
  return path
}
