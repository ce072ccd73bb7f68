import { HttpResponse, http } from 'msw'
import type { MockContext } from './context.js'
import { checkProof, DpopProofError, understandsDpop, withNonce } from './dpop.js'
import { random, sha256 } from './encoding.js'
import { takeTokenFault } from './faults.js'
import { MOCK_PWD_ACR } from './stepup.js'
import type { RefreshRecord } from './store.js'

/** The people who can sign in, by `sub`. */
export const USERS: Record<string, { name: string; email: string }> = {
  alice: { name: 'Alice Martin', email: 'alice@example.com' },
  bob: { name: 'Bob Chen', email: 'bob@example.com' },
}

/** What a grant issues tokens for. */
interface Grant {
  sub: string
  scope: string
  family: string
  nonce?: string
  authTime: number
  acr: string
  /** The DPoP key to bind the tokens to: none for Bearer tokens. */
  jkt?: string
  /** The access tokens' `aud`, when the sign-in named an `audience`: else the API's origin. */
  audience?: string
  /** The resources the sign-in named (RFC 8707). */
  resources?: string[]
}

/** What one token request asked for beyond its grant: an API's token (RFC 8707 §2.2). */
interface Asked {
  aud?: string
  scope?: string
}

/** The DPoP side of a token request: whether the provider understands it, and the proof's key. */
interface Dpop {
  understood: boolean
  jkt?: string
}

/** An OAuth error answer (RFC 6749 §5.2). */
export const oauthError = (error: string, status = 400, description?: string) =>
  HttpResponse.json(
    { error, ...(description ? { error_description: description } : {}) },
    { status, headers: { 'cache-control': 'no-store' } },
  )

async function issueTokens(ctx: MockContext, grant: Grant, asked: Asked = {}) {
  const { db } = ctx
  const lifetime = db.accessTokenLifetime
  const jti = random()
  db.issuedJtis.push(jti)
  db.jtiFamilies[jti] = grant.family
  const { sub, scope, acr, authTime, jkt, audience, resources } = grant
  const aud = asked.aud ?? audience ?? ctx.apiOrigin
  const accessToken = await ctx.sign(
    {
      ...{ sub, client_id: ctx.clientId, scope: asked.scope ?? scope, jti, aud },
      ...{ acr, auth_time: authTime },
      // The token is the key's alone (RFC 9449 §6).
      ...(jkt ? { cnf: { jkt } } : {}),
    },
    lifetime,
    'at+jwt',
  )
  const refreshToken = random()
  db.refresh[await sha256(refreshToken)] = {
    ...{ family: grant.family, sub, scope, used: false, authTime, acr },
    ...(jkt ? { jkt } : {}),
    ...(audience ? { audience } : {}),
    ...(resources ? { resources } : {}),
  }
  const user = USERS[sub] ?? { name: sub, email: `${sub}@example.com` }
  const nonce = grant.nonce ? { nonce: grant.nonce } : {}
  const idToken = scope.split(' ').includes('openid')
    ? await ctx.sign({ sub, aud: ctx.clientId, ...nonce, auth_time: authTime, acr, ...user }, 3600)
    : undefined
  const body = {
    access_token: accessToken,
    token_type: jkt ? 'DPoP' : 'Bearer',
    expires_in: lifetime,
    refresh_token: refreshToken,
    scope: asked.scope ?? scope,
    ...(idToken ? { id_token: idToken } : {}),
  }
  return HttpResponse.json(ctx.faults.rewrite ? ctx.faults.rewrite(body) : body, {
    headers: { 'cache-control': 'no-store' },
  })
}

async function codeGrant(ctx: MockContext, form: URLSearchParams, dpop: Dpop) {
  const code = ctx.db.codes[form.get('code') ?? '']
  if (!code) return oauthError('invalid_grant', 400, 'unknown code')
  if (code.used) {
    // A code used twice: revoke what the first use issued (RFC 6749 §4.1.2).
    if (code.family) ctx.db.revokedFamilies.push(code.family)
    return oauthError('invalid_grant', 400, 'code already used')
  }
  code.used = true
  if (form.get('client_id') !== code.clientId)
    return oauthError('invalid_grant', 400, 'client mismatch')
  if (form.get('redirect_uri') !== code.redirectUri)
    return oauthError('invalid_grant', 400, 'redirect_uri mismatch')
  if ((await sha256(form.get('code_verifier') ?? '')) !== code.challenge) {
    return oauthError('invalid_grant', 400, 'PKCE verification failed')
  }
  // The code is bound to the key named by `dpop_jkt` (RFC 9449 §10).
  if (dpop.understood && code.dpopJkt && dpop.jkt !== code.dpopJkt) {
    return oauthError('invalid_grant', 400, 'the DPoP proof is not of the dpop_jkt key')
  }
  code.family = random()
  ctx.db.counts.code++
  const { sub, scope, family, nonce, authTime, acr = MOCK_PWD_ACR, audience, resources } = code
  const jkt = dpop.jkt ? { jkt: dpop.jkt } : {}
  return issueTokens(ctx, {
    sub,
    scope,
    family,
    ...(nonce ? { nonce } : {}),
    authTime,
    acr,
    ...jkt,
    ...(audience ? { audience } : {}),
    ...(resources ? { resources } : {}),
  })
}

/**
 * What a refresh asks for beyond its grant: a token for a `resource` the sign-in named (RFC 8707
 * §2.2; another is `invalid_target`), an `audience`, or a `scope`. A provider without resource
 * indicators ignores them all, as it would any unknown parameter.
 */
function askedFor(
  ctx: MockContext,
  form: URLSearchParams,
  record: RefreshRecord,
): Asked | Response {
  if (ctx.ignoresResources) return {}
  const resource = form.get('resource')
  if (resource !== null && !record.resources?.includes(resource)) {
    return oauthError('invalid_target', 400, 'the sign-in did not name this resource')
  }
  const aud = resource ?? form.get('audience') ?? form.get('scope') ?? undefined
  const scope = form.get('scope') ?? undefined
  return { ...(aud ? { aud } : {}), ...(scope ? { scope } : {}) }
}

async function refreshGrant(ctx: MockContext, form: URLSearchParams, dpop: Dpop) {
  const record = ctx.db.refresh[await sha256(form.get('refresh_token') ?? '')]
  if (!record || ctx.db.revokedFamilies.includes(record.family))
    return oauthError('invalid_grant', 400, 'refresh token revoked or unknown')
  // Before the reuse check: without the key, a request neither spends the token nor revokes it.
  if (dpop.understood && record.jkt && dpop.jkt !== record.jkt) {
    return dpop.jkt
      ? oauthError('invalid_grant', 400, 'refresh token bound to another DPoP key')
      : oauthError('invalid_dpop_proof', 400, 'refresh token is DPoP-bound: a proof is required')
  }
  if (record.used) {
    // Reuse of a rotated refresh token: someone else has it. Revoke the whole family.
    ctx.db.revokedFamilies.push(record.family)
    return oauthError('invalid_grant', 400, 'refresh token reused')
  }
  const asked = askedFor(ctx, form, record)
  if (asked instanceof Response) return asked
  record.used = true
  ctx.db.counts.refresh++
  const {
    sub,
    scope,
    family,
    authTime = ctx.seconds(),
    acr = MOCK_PWD_ACR,
    audience,
    resources,
  } = record
  const jkt = dpop.jkt ? { jkt: dpop.jkt } : {}
  const grant = { sub, scope, family, authTime, acr, ...jkt }
  return issueTokens(
    ctx,
    { ...grant, ...(audience ? { audience } : {}), ...(resources ? { resources } : {}) },
    asked,
  )
}

/** A token request, past the faults: its DPoP proof checked, then its grant. */
async function tokenRequest(ctx: MockContext, form: URLSearchParams, proof: string | null) {
  const dpop: Dpop = { understood: understandsDpop(ctx, 'token') }
  if (dpop.understood && proof !== null) {
    const htu = ctx.tokenEndpoint
    try {
      dpop.jkt = (await checkProof(ctx, 'token', proof, { htm: 'POST', htu })).jkt
    } catch (error) {
      if (!(error instanceof DpopProofError)) throw error
      return oauthError(error.code, 400, error.message)
    }
  }
  if (form.get('client_id') !== ctx.clientId) return oauthError('invalid_client', 401)
  const type = form.get('grant_type')
  if (type === 'authorization_code') return codeGrant(ctx, form, dpop)
  if (type === 'refresh_token') return refreshGrant(ctx, form, dpop)
  return oauthError('unsupported_grant_type')
}

/**
 * The token endpoint: the code grant with PKCE S256 checked, refresh with rotation and reuse
 * detection, DPoP-bound tokens for requests with a proof; and the token faults.
 */
export function tokenHandler(ctx: MockContext) {
  return http.post(ctx.tokenEndpoint, async ({ request }) => {
    // The key first: it is made under the lock, which the grant below holds.
    await ctx.keys()
    const { fault, delay } = await ctx.change(() => {
      ctx.db.counts.token++
      const delay = ctx.faults.tokenDelayMs ?? ctx.db.faults.tokenDelayMs
      return { fault: takeTokenFault(ctx.faults, ctx.db.faults), delay }
    })
    if (delay) await new Promise((r) => setTimeout(r, delay))
    if (fault?.kind === 'network') return HttpResponse.error()
    if (fault?.kind === 'hang') return new Promise<never>(() => {})
    if (fault?.kind === 'status') {
      return HttpResponse.json(fault.body ?? ({ error: 'server_error' } as never), {
        status: fault.status,
        headers: fault.headers ?? {},
      })
    }
    const form = new URLSearchParams(await request.text())
    const proof = request.headers.get('dpop')
    const answer = await ctx.change(async () =>
      withNonce(ctx, 'token', await tokenRequest(ctx, form, proof)),
    )
    return fault?.kind === 'lost' ? HttpResponse.error() : answer
  })
}
