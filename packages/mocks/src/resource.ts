import { importJWK, type JWTPayload, jwtVerify } from 'jose'
import { HttpResponse, http } from 'msw'
import type { MockContext } from './context.js'
import { checkProof, DPOP_ALG, DpopProofError, understandsDpop, withNonce } from './dpop.js'
import { random } from './encoding.js'
import { USERS } from './grants.js'
import { stepUpChallenge } from './stepup.js'
import type { CountName } from './store.js'

type Scheme = 'Bearer' | 'DPoP'

/** A request whose access token checked out, and the scheme it came with. */
interface Caller {
  claims: JWTPayload
  scheme: Scheme
}

/** A `WWW-Authenticate` challenge; DPoP's says which proof algorithms it takes. */
function challenge(scheme: Scheme, params: Record<string, string | number>): string {
  const all = scheme === 'DPoP' ? { ...params, algs: DPOP_ALG } : params
  const list = Object.entries(all).map(([k, v]) =>
    typeof v === 'number' ? `${k}=${v}` : `${k}="${v}"`,
  )
  return `${scheme} ${list.join(', ')}`
}

/** A 401 with its challenge (RFC 6750 §3, RFC 9449 §7.1). */
function unauthorized(scheme: Scheme, params: Record<string, string | number>): Response {
  const error = typeof params.error === 'string' ? params.error : 'invalid_token'
  return HttpResponse.json(
    { error },
    { status: 401, headers: { 'www-authenticate': challenge(scheme, params) } },
  )
}

const invalidToken = (scheme: Scheme, description?: string) =>
  unauthorized(scheme, {
    error: 'invalid_token',
    ...(description ? { error_description: description } : {}),
  })

/** The access token's claims when its signature, `typ`, issuer, audience, expiry and revocation check out. */
async function verifyAccessToken(ctx: MockContext, token: string, audience: string) {
  try {
    const key = await importJWK((await ctx.keys()).publicJwk, 'ES256')
    const { payload } = await jwtVerify(token, key, {
      issuer: ctx.issuer,
      audience,
      algorithms: ['ES256'],
      typ: 'at+jwt',
      currentDate: new Date(ctx.seconds() * 1000),
    })
    const jti = String(payload.jti)
    // Revoking a refresh token ends its grant, and the access tokens issued under it (RFC 7009).
    const family = ctx.db.jtiFamilies[jti]
    const { revokedJtis, revokedFamilies } = ctx.db
    if (revokedJtis.includes(jti) || (family && revokedFamilies.includes(family))) return undefined
    return payload
  } catch {
    return undefined
  }
}

/** The thumbprint of the key a token is bound to (`cnf.jkt`, RFC 9449 §6.1). */
const jktOf = (claims: JWTPayload) => (claims.cnf as { jkt?: unknown } | undefined)?.jkt

/**
 * Who calls: a Bearer token, or a DPoP-bound token with its proof (RFC 9449 §7). A resource that
 * does not understand DPoP refuses the scheme and takes any valid token as Bearer. Returns the
 * 401 to answer otherwise.
 */
async function authenticate(
  ctx: MockContext,
  request: Request,
  audience: string,
): Promise<Caller | Response> {
  const credentials = /^(Bearer|DPoP) ([\w.~+/-]+=*)$/i.exec(
    request.headers.get('authorization') ?? '',
  )
  const understood = understandsDpop(ctx, 'api')
  if (!credentials) return invalidToken('Bearer')
  const [, scheme = '', token = ''] = credentials
  const dpop = scheme.toLowerCase() === 'dpop'
  if (dpop && !understood) return unauthorized('Bearer', { realm: 'mock-api' })
  const claims = await verifyAccessToken(ctx, token, audience)
  if (!claims) return invalidToken(dpop ? 'DPoP' : 'Bearer')
  if (dpop) return proven(ctx, request, token, claims)
  if (understood && jktOf(claims) !== undefined)
    return invalidToken('DPoP', 'a DPoP-bound token sent as Bearer')
  return { claims, scheme: 'Bearer' }
}

/** A DPoP-bound token whose proof is of the request, the token and the token's key. */
async function proven(
  ctx: MockContext,
  request: Request,
  token: string,
  claims: JWTPayload,
): Promise<Caller | Response> {
  const jkt = jktOf(claims)
  if (typeof jkt !== 'string') return invalidToken('DPoP', 'the token is not DPoP-bound')
  const proof = request.headers.get('dpop')
  if (proof === null) {
    return unauthorized('DPoP', { error: 'invalid_dpop_proof', error_description: 'no DPoP proof' })
  }
  const { method: htm, url: htu } = request
  try {
    await checkProof(ctx, 'api', proof, { htm, htu, accessToken: token, jkt })
  } catch (error) {
    if (!(error instanceof DpopProofError)) throw error
    return unauthorized('DPoP', { error: error.code, error_description: error.message })
  }
  return { claims, scheme: 'DPoP' }
}

type Answer = (caller: Caller, request: Request) => Response | Promise<Response>

/**
 * A protected route: counted, the caller authenticated (by a token for `audience`, the API's
 * origin by default), the API's nonce on every answer.
 */
function route(
  ctx: MockContext,
  method: 'get' | 'post',
  url: string,
  counted: CountName,
  answer: Answer,
  audience = ctx.apiOrigin,
) {
  return http[method](url, async ({ request }) => {
    // The key first: it is made under the lock, which the check below holds.
    await ctx.keys()
    return ctx.change(async () => {
      ctx.db.counts[counted]++
      const caller = await authenticate(ctx, request, audience)
      const response = caller instanceof Response ? caller : await answer(caller, request)
      return withNonce(ctx, 'api', response)
    })
  })
}

/** Moves money: only with a recent second factor (RFC 9470), else a step-up challenge. */
async function transfer(ctx: MockContext, { claims, scheme }: Caller, request: Request) {
  const needed = stepUpChallenge(claims, ctx.seconds())
  if (needed) {
    ctx.db.counts.stepUp++
    return unauthorized(scheme, needed)
  }
  const body = (await request.json().catch(() => null)) as { amount?: unknown; to?: unknown } | null
  const { amount = null, to = null } = body ?? {}
  return HttpResponse.json({
    ok: true,
    id: `T-${random().slice(0, 6)}`,
    amount,
    to,
    acr: claims.acr,
  })
}

/**
 * The protected resources: userinfo, and the API's `/api/me`, `/api/orders` and the sensitive
 * `POST /api/transfer`. They check the token's signature, expiry and revocation, and DPoP.
 */
export function resourceHandlers(ctx: MockContext) {
  const api = ctx.apiOrigin
  const user = (claims: JWTPayload) => ({ sub: claims.sub, ...USERS[String(claims.sub)] })
  return [
    route(ctx, 'get', `${ctx.issuer}/userinfo`, 'userinfo', ({ claims }) =>
      HttpResponse.json(user(claims)),
    ),
    route(ctx, 'get', `${api}/api/me`, 'api', ({ claims }) =>
      HttpResponse.json({ ...user(claims), scope: claims.scope }),
    ),
    route(ctx, 'get', `${api}/api/orders`, 'api', () =>
      HttpResponse.json([
        { id: 'A-1001', item: 'Espresso beans, 1 kg', total: 24.5 },
        { id: 'A-1002', item: 'Hand grinder', total: 89 },
      ]),
    ),
    route(ctx, 'post', `${api}/api/transfer`, 'api', (caller, request) =>
      transfer(ctx, caller, request),
    ),
    // Each resource says whose token it took, by the token's audience: never the token itself.
    ...ctx.resources.map(({ url, audience }) =>
      route(
        ctx,
        'get',
        `${url}/api/me`,
        'api',
        ({ claims }) =>
          HttpResponse.json({ ...user(claims), aud: claims.aud, scope: claims.scope }),
        audience,
      ),
    ),
  ]
}
