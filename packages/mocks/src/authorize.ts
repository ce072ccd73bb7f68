import type { MockContext } from './context.js'
import { understandsDpop } from './dpop.js'
import { random } from './encoding.js'
import { MOCK_MFA_ACR, MOCK_PWD_ACR, requestedAuth, sessionSatisfies } from './stepup.js'
import type { Session } from './store.js'

/**
 * What the person at the sign-in page answers: who signs in (default: whoever the provider's
 * session names, else alice), whether they passed the second factor when one was asked for
 * (`acr_values` with `MOCK_MFA_ACR`), or a refusal.
 */
export type MockAnswer = { sub?: string; mfa?: boolean; deny?: boolean }

/**
 * The authorization request's answer: the redirect back to the app, with a code or an error.
 * The provider's session answers without the user only when it is strong and recent enough for
 * the request's `acr_values` and `max_age`; else `prompt=none` gets `login_required`, and any
 * other request signs the user in again. Call it inside `change`.
 */
export function authorizeNow(ctx: MockContext, params: URLSearchParams, user: MockAnswer): string {
  const redirect = new URL(params.get('redirect_uri') ?? '')
  const reply = (values: Record<string, string>) => {
    const all = { ...values, state: params.get('state') ?? '', iss: ctx.issuer }
    for (const [k, v] of Object.entries(all)) redirect.searchParams.set(k, v)
    return redirect.href
  }
  if (params.get('client_id') !== ctx.clientId) {
    throw new Error('mock provider: unknown client_id')
  }
  if (params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge')) {
    return reply({ error: 'invalid_request', error_description: 'PKCE S256 required' })
  }
  if (user.deny) {
    return reply({ error: 'access_denied', error_description: 'The user denied the request' })
  }
  const wanted = requestedAuth(params)
  const current = ctx.db.session
  const enough = sessionSatisfies(current, wanted, ctx.seconds())
  if (params.get('prompt') === 'none' && !enough) return reply({ error: 'login_required' })
  const session = user.sub || !enough ? signIn(ctx, user, current, wanted.mfa) : current
  const code = random()
  const dpopJkt = params.get('dpop_jkt')
  const audience = params.get('audience')
  const resources = params.getAll('resource')
  ctx.db.codes[code] = {
    clientId: ctx.clientId,
    redirectUri: redirect.href,
    challenge: params.get('code_challenge')!,
    ...(params.get('nonce') ? { nonce: params.get('nonce')! } : {}),
    scope: params.get('scope') ?? 'openid',
    sub: session.sub,
    authTime: session.authTime,
    acr: session.acr ?? MOCK_PWD_ACR,
    // A provider without DPoP ignores the parameter, as any unknown one.
    ...(dpopJkt && understandsDpop(ctx, 'token') ? { dpopJkt } : {}),
    ...(audience ? { audience } : {}),
    ...(resources.length ? { resources } : {}),
    used: false,
  }
  return reply({ code })
}

/** A new session: the user signed in now, with the second factor when asked and passed. */
function signIn(
  ctx: MockContext,
  user: MockAnswer,
  current: Session | undefined,
  mfaWanted: boolean,
): Session {
  const mfa = mfaWanted && user.mfa === true
  if (mfa) ctx.db.counts.mfa++
  const session = {
    sub: user.sub ?? current?.sub ?? 'alice',
    authTime: ctx.seconds(),
    acr: mfa ? MOCK_MFA_ACR : MOCK_PWD_ACR,
  }
  ctx.db.session = session
  return session
}
