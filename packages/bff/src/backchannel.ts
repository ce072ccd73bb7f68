import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify } from 'jose'
import { hash } from './crypto.js'
import { BffFailure, json, readBody } from './http.js'
import type { Resolved } from './options.js'
import type { Provider } from './provider.js'
import type { Sessions } from './sessions.js'

const EVENT = 'http://schemas.openid.net/event/backchannel-logout'
/** A logout token older than this is refused (its `jti` is remembered as long). */
const MAX_AGE = 10 * 60_000
const MAX_BODY = 16 * 1024

const refused = (why: string) =>
  new BffFailure(400, 'invalid_request', `Back-channel logout: ${why}`)

/**
 * OpenID Connect Back-Channel Logout 1.0: the provider posts a signed `logout_token`; once it is
 * verified (§2.6), every session of its `sid`, or of its `sub`, ends in every instance.
 */
export function createBackchannel(o: Resolved, provider: Provider, sessions: Sessions) {
  let keys: { set: ReturnType<typeof createLocalJWKSet>; at: number } | undefined

  /** The provider's keys, fetched once and again when a token names a key they lack. */
  async function keySet(again: boolean) {
    if (keys && !(again && o.clock() - keys.at > 60_000)) return keys.set
    const as = await provider.metadata()
    if (!as.jwks_uri) throw refused('the provider publishes no keys')
    const response = await o
      .fetch(as.jwks_uri, { signal: AbortSignal.timeout(o.requestTimeout) })
      .catch((cause: unknown) => {
        // The provider tries again on a 5xx: a key it could not fetch is no refusal of its token.
        throw new BffFailure(
          502,
          'network',
          `Back-channel logout: GET ${as.jwks_uri}: no answer`,
          {},
          { cause },
        )
      })
    if (!response.ok)
      throw new BffFailure(
        502,
        'network',
        `Back-channel logout: GET ${as.jwks_uri}: HTTP ${response.status}`,
      )
    keys = { set: createLocalJWKSet((await response.json()) as JSONWebKeySet), at: o.clock() }
    return keys.set
  }

  async function verify(token: string, again = false) {
    const as = await provider.metadata()
    try {
      return await jwtVerify(token, await keySet(again), {
        issuer: as.issuer,
        audience: o.clientId,
        maxTokenAge: MAX_AGE / 1000,
        currentDate: new Date(o.clock()),
        // The provider's clock may run a little ahead of this one.
        clockTolerance: 60,
        algorithms: [
          'RS256',
          'PS256',
          'ES256',
          'ES384',
          'EdDSA',
          'RS384',
          'RS512',
          'PS384',
          'PS512',
        ],
      })
    } catch (error) {
      if (error instanceof BffFailure) throw error
      if (error instanceof errors.JWKSNoMatchingKey && !again) return verify(token, true)
      throw refused(error instanceof Error ? error.message : 'the token is not valid')
    }
  }

  return async function backchannelLogout(request: Request): Promise<Response> {
    const type = request.headers.get('content-type') ?? ''
    if (!type.startsWith('application/x-www-form-urlencoded')) throw refused('expects a form')
    const text = new TextDecoder().decode(
      await readBody(request, MAX_BODY).catch(() => {
        throw refused('the body is too large')
      }),
    )
    const token = new URLSearchParams(text).get('logout_token')
    if (!token) throw refused('no logout_token')
    const { payload, protectedHeader } = await verify(token)
    // §2.4: a logout token is not an ID token, and says what it is for.
    if (protectedHeader.typ !== undefined && protectedHeader.typ.toLowerCase() !== 'logout+jwt')
      throw refused('the token is not a logout token')
    const events = payload.events as Record<string, unknown> | undefined
    if (typeof events?.[EVENT] !== 'object' || events[EVENT] === null)
      throw refused('no logout event')
    if ('nonce' in payload) throw refused('a logout token has no nonce')
    const sid = typeof payload.sid === 'string' ? payload.sid : undefined
    const sub = typeof payload.sub === 'string' ? payload.sub : undefined
    if (!sid && !sub) throw refused('neither sid nor sub')
    if (typeof payload.jti !== 'string') throw refused('no jti')
    if (!(await o.store.claim(`jti:${await hash(payload.jti)}`, '1', MAX_AGE * 2)))
      throw refused('this logout token was used already')
    await sessions.logOut({ sid, sub })
    return json({})
  }
}
