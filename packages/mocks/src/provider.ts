import { exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from 'jose'
import { HttpResponse, http } from 'msw'

/** How the mock provider and API are set up. */
export interface MockProviderOptions {
  /** The issuer; every provider endpoint lives under it. */
  issuer: string
  /** The protected API's origin. Default: the issuer's origin. */
  apiOrigin?: string
  clientId?: string
  /** Seconds an access token lives. Default 3600. */
  accessTokenLifetime?: number
  /** Say `authorization_response_iss_parameter_supported` (RFC 9207). Default true. */
  advertiseIss?: boolean
  /**
   * The provider's clock (ms since the epoch). Default `Date.now`; set it apart from the page's
   * to play a device whose clock is off.
   */
  now?: () => number
  /** Where the provider's database survives page loads (the demo); default: memory only. */
  persist?: { load(): string | null; save(value: string): void }
}

/**
 * A fault the token endpoint can be made to show. `lost`: the grant is carried out (a code is
 * used, a refresh token rotated) but the answer is lost on the way back, as a network error.
 */
export type TokenFault =
  | { kind: 'network' }
  | { kind: 'hang' }
  | { kind: 'lost' }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }

/** Faults the mock can be told to show; set and clear them on `provider.faults`. */
export interface MockFaults {
  /** What the token endpoint does instead of answering. */
  token?: TokenFault
  /** How many token requests `token` applies to before it clears itself; default: all. */
  tokenTimes?: number
  /** Milliseconds every token request waits before it is handled. */
  tokenDelayMs?: number
  /** Rewrites every successful token response (odd `expires_in`, no `refresh_token`, …). */
  rewrite?: (body: Record<string, unknown>) => Record<string, unknown>
}

interface Db {
  keys?: { privateJwk: JWK; publicJwk: JWK }
  /** Codes by value: single-use. */
  codes: Record<string, CodeRecord>
  /** Refresh tokens by SHA-256 hash, so no token is ever stored in clear. */
  refresh: Record<
    string,
    { family: string; sub: string; scope: string; used: boolean; authTime?: number }
  >
  revokedFamilies: string[]
  revokedJtis: string[]
  issuedJtis: string[]
  /** The grant (family) each access token was issued under, by `jti`. */
  jtiFamilies: Record<string, string>
  session?: { sub: string; authTime: number }
  accessTokenLifetime: number
}

interface CodeRecord {
  clientId: string
  redirectUri: string
  challenge: string
  nonce?: string
  scope: string
  sub: string
  authTime: number
  used: boolean
  family?: string
}

const enc = new TextEncoder()

function b64url(bytes: ArrayBuffer | Uint8Array): string {
  let text = ''
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

async function sha256(value: string): Promise<string> {
  return b64url(await crypto.subtle.digest('SHA-256', enc.encode(value)))
}

function random(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(24)))
}

const USERS: Record<string, { name: string; email: string }> = {
  alice: { name: 'Alice Martin', email: 'alice@example.com' },
  bob: { name: 'Bob Chen', email: 'bob@example.com' },
}

/**
 * A mock OpenID provider and protected API as MSW handlers: discovery, JWKS, token (code with a
 * real PKCE S256 check; refresh with rotation and reuse detection), revocation, userinfo and an
 * API that verifies the bearer token's signature, expiry and revocation.
 */
export function createMockProvider(options: MockProviderOptions) {
  const issuer = options.issuer.replace(/\/$/, '')
  const clientId = options.clientId ?? 'demo-spa'
  const apiOrigin = options.apiOrigin ?? new URL(issuer).origin
  const db: Db = load()
  const counts = { discovery: 0, token: 0, code: 0, refresh: 0, revocation: 0, api: 0, userinfo: 0 }
  const faults: MockFaults = {}
  const seconds = () => Math.floor((options.now?.() ?? Date.now()) / 1000)
  let keys: Promise<{ privateKey: CryptoKey; publicJwk: JWK }> | undefined

  function load(): Db {
    const fresh: Db = {
      codes: {},
      refresh: {},
      revokedFamilies: [],
      revokedJtis: [],
      issuedJtis: [],
      jtiFamilies: {},
      accessTokenLifetime: options.accessTokenLifetime ?? 3600,
    }
    try {
      const saved = options.persist?.load()
      return saved ? { ...fresh, ...JSON.parse(saved) } : fresh
    } catch {
      return fresh
    }
  }
  function save(): void {
    options.persist?.save(JSON.stringify(db))
  }
  /** Reads the database again: other tabs of the demo are other copies of this provider. */
  function reload(): void {
    if (!options.persist) return
    const latest = load()
    for (const key of Object.keys(db)) delete db[key as keyof Db]
    Object.assign(db, latest)
  }

  function signingKeys() {
    keys ??= (async () => {
      if (!db.keys) {
        const pair = await generateKeyPair('ES256', { extractable: true })
        db.keys = {
          privateJwk: await exportJWK(pair.privateKey),
          publicJwk: {
            ...(await exportJWK(pair.publicKey)),
            kid: random().slice(0, 8),
            alg: 'ES256',
            use: 'sig',
          },
        }
        save()
      }
      const privateKey = (await importJWK(db.keys.privateJwk, 'ES256')) as CryptoKey
      return { privateKey, publicJwk: db.keys.publicJwk }
    })()
    return keys
  }

  async function sign(
    claims: Record<string, unknown>,
    lifetime: number,
    typ = 'JWT',
  ): Promise<string> {
    const { privateKey, publicJwk } = await signingKeys()
    const now = seconds()
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: publicJwk.kid!, typ })
      .setIssuer(issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + lifetime)
      .sign(privateKey)
  }

  const metadata = {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    revocation_endpoint: `${issuer}/revoke`,
    userinfo_endpoint: `${issuer}/userinfo`,
    end_session_endpoint: `${issuer}/logout`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    id_token_signing_alg_values_supported: ['ES256'],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['public'],
    authorization_response_iss_parameter_supported: options.advertiseIss ?? true,
  }

  async function issueTokens(
    sub: string,
    scope: string,
    family: string,
    extra: { nonce?: string; authTime?: number },
  ) {
    const lifetime = db.accessTokenLifetime
    const jti = random()
    db.issuedJtis.push(jti)
    db.jtiFamilies[jti] = family
    const accessToken = await sign(
      { sub, client_id: clientId, scope, jti, aud: apiOrigin },
      lifetime,
      'at+jwt',
    )
    const refreshToken = random()
    const authTime = extra.authTime ?? seconds()
    db.refresh[await sha256(refreshToken)] = { family, sub, scope, used: false, authTime }
    const user = USERS[sub] ?? { name: sub, email: `${sub}@example.com` }
    const idToken = scope.split(' ').includes('openid')
      ? await sign(
          {
            sub,
            aud: clientId,
            ...(extra.nonce ? { nonce: extra.nonce } : {}),
            auth_time: authTime,
            ...user,
          },
          3600,
        )
      : undefined
    save()
    const body = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: lifetime,
      refresh_token: refreshToken,
      scope,
      ...(idToken ? { id_token: idToken } : {}),
    }
    return faults.rewrite ? faults.rewrite(body) : body
  }

  /** The fault for this token request, counting it against `tokenTimes`. */
  function takeTokenFault(): TokenFault | undefined {
    const fault = faults.token
    if (fault && faults.tokenTimes !== undefined) {
      faults.tokenTimes -= 1
      if (faults.tokenTimes <= 0) {
        delete faults.token
        delete faults.tokenTimes
      }
    }
    return fault
  }

  const oauthError = (error: string, status = 400, description?: string) =>
    HttpResponse.json(
      { error, ...(description ? { error_description: description } : {}) },
      { status, headers: { 'cache-control': 'no-store' } },
    )

  async function codeGrant(form: URLSearchParams) {
    const code = db.codes[form.get('code') ?? '']
    if (!code) return oauthError('invalid_grant', 400, 'unknown code')
    if (code.used) {
      // A code used twice: revoke what the first use issued (RFC 6749 §4.1.2).
      if (code.family) db.revokedFamilies.push(code.family)
      save()
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
    code.family = random()
    counts.code++
    return HttpResponse.json(
      await issueTokens(code.sub, code.scope, code.family, {
        ...(code.nonce ? { nonce: code.nonce } : {}),
        authTime: code.authTime,
      }),
      {
        headers: { 'cache-control': 'no-store' },
      },
    )
  }

  async function refreshGrant(form: URLSearchParams) {
    const hash = await sha256(form.get('refresh_token') ?? '')
    const record = db.refresh[hash]
    if (!record || db.revokedFamilies.includes(record.family))
      return oauthError('invalid_grant', 400, 'refresh token revoked or unknown')
    if (record.used) {
      // Reuse of a rotated refresh token: someone else has it. Revoke the whole family.
      db.revokedFamilies.push(record.family)
      save()
      return oauthError('invalid_grant', 400, 'refresh token reused')
    }
    record.used = true
    counts.refresh++
    return HttpResponse.json(
      await issueTokens(record.sub, record.scope, record.family, {
        ...(record.authTime ? { authTime: record.authTime } : {}),
      }),
      {
        headers: { 'cache-control': 'no-store' },
      },
    )
  }

  function grant(form: URLSearchParams) {
    if (form.get('client_id') !== clientId) return oauthError('invalid_client', 401)
    const type = form.get('grant_type')
    if (type === 'authorization_code') return codeGrant(form)
    if (type === 'refresh_token') return refreshGrant(form)
    return oauthError('unsupported_grant_type')
  }

  async function verifyBearer(request: Request) {
    const header = request.headers.get('authorization') ?? ''
    const match = /^Bearer ([\w.-]+)$/i.exec(header)
    if (!match) return undefined
    try {
      const { publicJwk } = await signingKeys()
      const key = await importJWK(publicJwk, 'ES256')
      const { payload } = await jwtVerify(match[1]!, key, {
        issuer,
        audience: apiOrigin,
        algorithms: ['ES256'],
        typ: 'at+jwt',
        currentDate: new Date(seconds() * 1000),
      })
      const jti = String(payload.jti)
      // Revoking a refresh token ends its grant, and the access tokens issued under it (RFC 7009).
      const family = db.jtiFamilies[jti]
      if (db.revokedJtis.includes(jti) || (family && db.revokedFamilies.includes(family))) {
        return undefined
      }
      return payload
    } catch {
      return undefined
    }
  }

  const unauthorized = () =>
    HttpResponse.json(
      { error: 'invalid_token' },
      { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } },
    )

  const handlers = [
    http.get(`${issuer}/.well-known/openid-configuration`, () => {
      counts.discovery++
      return HttpResponse.json(metadata)
    }),
    http.get(`${issuer}/jwks`, async () =>
      HttpResponse.json({ keys: [(await signingKeys()).publicJwk] }),
    ),
    http.post(`${issuer}/token`, async ({ request }) => {
      reload()
      counts.token++
      if (faults.tokenDelayMs) await new Promise((r) => setTimeout(r, faults.tokenDelayMs))
      const fault = takeTokenFault()
      if (fault?.kind === 'network') return HttpResponse.error()
      if (fault?.kind === 'hang') return new Promise<never>(() => {})
      if (fault?.kind === 'status') {
        return HttpResponse.json(fault.body ?? ({ error: 'server_error' } as never), {
          status: fault.status,
          headers: fault.headers ?? {},
        })
      }
      const answer = await grant(new URLSearchParams(await request.text()))
      return fault?.kind === 'lost' ? HttpResponse.error() : answer
    }),
    http.post(`${issuer}/revoke`, async ({ request }) => {
      reload()
      counts.revocation++
      const token = new URLSearchParams(await request.text()).get('token') ?? ''
      const record = db.refresh[await sha256(token)]
      if (record) db.revokedFamilies.push(record.family)
      else {
        const jti =
          token.split('.').length === 3
            ? JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).jti
            : undefined
        if (jti) db.revokedJtis.push(jti)
      }
      save()
      return new HttpResponse(null, { status: 200 })
    }),
    http.get(`${issuer}/userinfo`, async ({ request }) => {
      reload()
      counts.userinfo++
      const claims = await verifyBearer(request)
      if (!claims) return unauthorized()
      return HttpResponse.json({ sub: claims.sub, ...USERS[String(claims.sub)] })
    }),
    http.get(`${apiOrigin}/api/me`, async ({ request }) => {
      reload()
      counts.api++
      const claims = await verifyBearer(request)
      if (!claims) return unauthorized()
      return HttpResponse.json({
        sub: claims.sub,
        ...USERS[String(claims.sub)],
        scope: claims.scope,
      })
    }),
    http.get(`${apiOrigin}/api/orders`, async ({ request }) => {
      reload()
      counts.api++
      const claims = await verifyBearer(request)
      if (!claims) return unauthorized()
      return HttpResponse.json([
        { id: 'A-1001', item: 'Espresso beans, 1 kg', total: 24.5 },
        { id: 'A-1002', item: 'Hand grinder', total: 89 },
      ])
    }),
  ]

  return {
    issuer,
    clientId,
    apiOrigin,
    metadata,
    handlers,
    counts,
    faults,
    /** Zeroes every counter. */
    resetCounts(): void {
      for (const key of Object.keys(counts) as (keyof typeof counts)[]) counts[key] = 0
    },
    /**
     * What the provider's sign-in page does: checks the request and answers with the redirect
     * back to the app (`code`, `state`, `iss`), or an error redirect.
     */
    async authorize(
      authorizationUrl: string,
      user: { sub?: string; deny?: boolean } = {},
    ): Promise<string> {
      reload()
      const params = new URL(authorizationUrl).searchParams
      const redirect = new URL(params.get('redirect_uri') ?? '')
      const reply = (values: Record<string, string>) => {
        for (const [k, v] of Object.entries({
          ...values,
          state: params.get('state') ?? '',
          iss: issuer,
        }))
          redirect.searchParams.set(k, v)
        return redirect.href
      }
      if (params.get('client_id') !== clientId) throw new Error('mock provider: unknown client_id')
      if (params.get('code_challenge_method') !== 'S256' || !params.get('code_challenge')) {
        return reply({ error: 'invalid_request', error_description: 'PKCE S256 required' })
      }
      if (user.deny)
        return reply({ error: 'access_denied', error_description: 'The user denied the request' })
      let session = db.session
      if (params.get('prompt') === 'none' && !session) return reply({ error: 'login_required' })
      if (user.sub || !session) {
        session = { sub: user.sub ?? 'alice', authTime: seconds() }
        db.session = session
      }
      const code = random()
      db.codes[code] = {
        clientId,
        redirectUri: redirect.href,
        challenge: params.get('code_challenge')!,
        ...(params.get('nonce') ? { nonce: params.get('nonce')! } : {}),
        scope: params.get('scope') ?? 'openid',
        sub: session.sub,
        authTime: session.authTime,
        used: false,
      }
      save()
      return reply({ code })
    },
    /** Ends the provider's own session (what its end-session page does). */
    endSession(): void {
      reload()
      delete db.session
      save()
    },
    /** Makes every access token issued so far fail at the API. */
    async revokeAccessTokens(): Promise<void> {
      reload()
      db.revokedJtis.push(...db.issuedJtis)
      save()
    },
    /** Revokes every refresh token issued so far. */
    revokeRefreshTokens(): void {
      reload()
      for (const record of Object.values(db.refresh)) db.revokedFamilies.push(record.family)
      save()
    },
    /** Sets the lifetime of the access tokens issued from now on. */
    setAccessTokenLifetime(seconds: number): void {
      reload()
      db.accessTokenLifetime = seconds
      save()
    },
    /** Signs any claims with the provider's key (for tests of bad ID tokens). */
    sign,
  }
}

/** A mock provider. */
export type MockProvider = ReturnType<typeof createMockProvider>
