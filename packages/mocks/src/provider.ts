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
  /**
   * Where the provider's database lives beyond this realm (the demo: IndexedDB, read by the
   * page and by the token worker); default: memory only. Every change runs between a `load` and
   * a `save` under `lock`, so that two realms never lose each other's changes.
   */
  persist?: MockPersistence
}

/**
 * What the person at the sign-in page answers: who signs in (default: whoever the provider's
 * session names, else alice), or a refusal.
 */
export type MockAnswer = { sub?: string; deny?: boolean }

/** A database the mock provider shares with other realms (pages, workers). */
export interface MockPersistence {
  load(): string | null | Promise<string | null>
  save(value: string): void | Promise<void>
  /** Runs `work` while no other realm changes the database (Web Locks, for one). */
  lock?<T>(work: () => Promise<T>): Promise<T>
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

/**
 * Faults the mock can be told to show; set and clear them on `provider.faults` (this realm), or
 * with `provider.setFaults()` (every realm sharing the database; no `rewrite` there).
 */
export interface MockFaults {
  /** What the token endpoint does instead of answering. */
  token?: TokenFault
  /** How many token requests `token` applies to before it clears itself; default: all. */
  tokenTimes?: number
  /** Milliseconds every token request waits before it is handled. */
  tokenDelayMs?: number
  /**
   * The sign-in page shows its form even for `prompt=none`, as a provider that ignores it does
   * (see `showProviderPage`).
   */
  promptNone?: 'form'
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
  /** Faults every realm sees (`setFaults`). */
  faults: Omit<MockFaults, 'rewrite'>
  counts: Record<CountName, number>
}

const COUNTS = ['discovery', 'token', 'code', 'refresh', 'revocation', 'api', 'userinfo'] as const
type CountName = (typeof COUNTS)[number]

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
  const db: Db = fresh()
  // This realm's faults: they win over the ones every realm shares (`setFaults`).
  const faults: MockFaults = {}
  const seconds = () => Math.floor((options.now?.() ?? Date.now()) / 1000)
  let keys: Promise<{ privateKey: CryptoKey; publicJwk: JWK }> | undefined

  function fresh(): Db {
    return {
      codes: {},
      refresh: {},
      revokedFamilies: [],
      revokedJtis: [],
      issuedJtis: [],
      jtiFamilies: {},
      accessTokenLifetime: options.accessTokenLifetime ?? 3600,
      faults: {},
      counts: Object.fromEntries(COUNTS.map((name) => [name, 0])) as Db['counts'],
    }
  }

  /** Reads the database again: other tabs and the token worker are other copies of this provider. */
  async function reload(): Promise<void> {
    if (!options.persist) return
    let latest = fresh()
    try {
      const saved = await options.persist.load()
      if (saved) latest = { ...latest, ...JSON.parse(saved) }
    } catch {}
    for (const key of Object.keys(db)) delete db[key as keyof Db]
    Object.assign(db, latest)
  }

  /**
   * Changes the database: at once in memory, or, when it is shared, under the lock between a
   * fresh read and a save, so that no realm loses another's change.
   */
  function change<T>(mutate: () => T | Promise<T>): Promise<T> {
    const { persist } = options
    if (!persist) return Promise.resolve(mutate())
    const work = async () => {
      await reload()
      const result = await mutate()
      await persist.save(JSON.stringify(db))
      return result
    }
    return persist.lock ? persist.lock(work) : work()
  }

  const count = (name: CountName) => change(() => void db.counts[name]++)

  /** The signing key, made once for every realm. Never called with the lock held. */
  function signingKeys() {
    keys ??= (async () => {
      const made = await change(async () => {
        if (db.keys) return db.keys
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
        return db.keys
      })
      const privateKey = (await importJWK(made.privateJwk, 'ES256')) as CryptoKey
      return { privateKey, publicJwk: made.publicJwk }
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

  /** The fault for this token request (this realm's, else the shared one), counted against `tokenTimes`. */
  function takeTokenFault(): TokenFault | undefined {
    const active = faults.token ? faults : db.faults
    const fault = active.token
    if (fault && active.tokenTimes !== undefined) {
      active.tokenTimes -= 1
      if (active.tokenTimes <= 0) {
        delete active.token
        delete active.tokenTimes
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
    db.counts.code++
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
      return oauthError('invalid_grant', 400, 'refresh token reused')
    }
    record.used = true
    db.counts.refresh++
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
    http.get(`${issuer}/.well-known/openid-configuration`, async () => {
      await count('discovery')
      return HttpResponse.json(metadata)
    }),
    http.get(`${issuer}/jwks`, async () =>
      HttpResponse.json({ keys: [(await signingKeys()).publicJwk] }),
    ),
    http.post(`${issuer}/token`, async ({ request }) => {
      // The key first: it is made under the lock, which the grant below holds.
      await signingKeys()
      const { fault, delay } = await change(() => {
        db.counts.token++
        return { fault: takeTokenFault(), delay: faults.tokenDelayMs ?? db.faults.tokenDelayMs }
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
      const answer = await change(() => grant(form))
      return fault?.kind === 'lost' ? HttpResponse.error() : answer
    }),
    http.post(`${issuer}/revoke`, async ({ request }) => {
      const token = new URLSearchParams(await request.text()).get('token') ?? ''
      const hash = await sha256(token)
      await change(() => {
        db.counts.revocation++
        const record = db.refresh[hash]
        if (record) db.revokedFamilies.push(record.family)
        else {
          const jti =
            token.split('.').length === 3
              ? JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))).jti
              : undefined
          if (jti) db.revokedJtis.push(jti)
        }
      })
      return new HttpResponse(null, { status: 200 })
    }),
    http.get(`${issuer}/userinfo`, async ({ request }) => {
      await count('userinfo')
      const claims = await verifyBearer(request)
      if (!claims) return unauthorized()
      return HttpResponse.json({ sub: claims.sub, ...USERS[String(claims.sub)] })
    }),
    http.get(`${apiOrigin}/api/me`, async ({ request }) => {
      await count('api')
      const claims = await verifyBearer(request)
      if (!claims) return unauthorized()
      return HttpResponse.json({
        sub: claims.sub,
        ...USERS[String(claims.sub)],
        scope: claims.scope,
      })
    }),
    http.get(`${apiOrigin}/api/orders`, async ({ request }) => {
      await count('api')
      const claims = await verifyBearer(request)
      if (!claims) return unauthorized()
      return HttpResponse.json([
        { id: 'A-1001', item: 'Espresso beans, 1 kg', total: 24.5 },
        { id: 'A-1002', item: 'Hand grinder', total: 89 },
      ])
    }),
  ]

  /** The authorization request's answer: the redirect back to the app, with a code or an error. */
  function authorizeNow(params: URLSearchParams, user: MockAnswer): string {
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
    return reply({ code })
  }

  return {
    issuer,
    clientId,
    apiOrigin,
    metadata,
    handlers,
    /** The people who can sign in, by `sub`: what the sign-in page offers. */
    users: USERS as Readonly<typeof USERS>,
    /** What each endpoint was asked, in this realm (or, with a shared database, after `sync()`). */
    get counts() {
      return db.counts
    },
    /** This realm's faults; `setFaults` sets the ones every realm sharing the database sees. */
    faults,
    /** The lifetime of the access tokens issued from now on (after `sync()`). */
    get accessTokenLifetime(): number {
      return db.accessTokenLifetime
    },
    /** The faults every realm sees (after `sync()`). */
    get sharedFaults(): Omit<MockFaults, 'rewrite'> {
      return db.faults
    },
    /** Sets the faults every realm sees (a shared database: the page and the token worker). */
    setFaults(shared: Omit<MockFaults, 'rewrite'>): Promise<void> {
      return change(() => {
        db.faults = { ...shared }
      })
    },
    /** Reads the shared database again, for `counts` and `faults` of every realm. */
    sync: reload,
    /** Zeroes every counter. */
    resetCounts(): Promise<void> {
      return change(() => {
        for (const name of COUNTS) db.counts[name] = 0
      })
    },
    /**
     * What the provider's sign-in page does: checks the request and answers with the redirect
     * back to the app (`code`, `state`, `iss`), or an error redirect.
     */
    authorize(authorizationUrl: string, user: MockAnswer = {}): Promise<string> {
      const params = new URL(authorizationUrl).searchParams
      return change(() => authorizeNow(params, user))
    },
    /** Ends the provider's own session (what its end-session page does). */
    endSession(): Promise<void> {
      return change(() => {
        delete db.session
      })
    },
    /** Makes every access token issued so far fail at the API. */
    revokeAccessTokens(): Promise<void> {
      return change(() => {
        db.revokedJtis.push(...db.issuedJtis)
      })
    },
    /** Revokes every refresh token issued so far. */
    revokeRefreshTokens(): Promise<void> {
      return change(() => {
        for (const record of Object.values(db.refresh)) db.revokedFamilies.push(record.family)
      })
    },
    /** Sets the lifetime of the access tokens issued from now on. */
    setAccessTokenLifetime(lifetime: number): Promise<void> {
      return change(() => {
        db.accessTokenLifetime = lifetime
      })
    },
    /** Signs any claims with the provider's key (for tests of bad ID tokens). */
    sign,
  }
}

/** A mock provider. */
export type MockProvider = ReturnType<typeof createMockProvider>
