import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose'
import { type HttpHandler, HttpResponse, http } from 'msw'
import { authorizeNow, type MockAnswer } from './authorize.js'
import type { MockContext, MockResource } from './context.js'
import { DPOP_ALG, newNonces, understandsDpop } from './dpop.js'
import { random, sha256 } from './encoding.js'
import type { SharedFaults } from './faults.js'
import { tokenHandler, USERS } from './grants.js'
import { resourceHandlers } from './resource.js'
import type { MockDpopProof } from './store.js'
import { COUNTS, createStore, emptyDb, type MockPersistence } from './store.js'

export type { MockAnswer } from './authorize.js'
export type { MockFaults, TokenFault } from './faults.js'
export type { MockPersistence } from './store.js'

/** How the mock provider and API are set up. */
export interface MockProviderOptions {
  /** The issuer; every provider endpoint lives under it. */
  issuer: string
  /** The protected API's origin. Default: the issuer's origin. */
  apiOrigin?: string
  /**
   * More protected resources, each taking tokens of its own audience only (`aud`), with
   * `GET {url}/api/me`. A refresh-token grant asks for their tokens by `resource` (one the
   * sign-in named, RFC 8707), `audience` or `scope`.
   */
  resources?: readonly MockResource[]
  /** A provider without resource indicators: it ignores `resource`, `audience` and `scope` at a refresh. */
  ignoreResources?: boolean
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

/** The signing key, made once for every realm. Never called with the lock held. */
function keyMaker(change: MockContext['change'], db: MockContext['db']) {
  let keys: ReturnType<MockContext['keys']> | undefined
  return () => {
    keys ??= (async () => {
      const made = await change(async () => {
        if (db.keys) return db.keys
        const pair = await generateKeyPair('ES256', { extractable: true })
        db.keys = {
          privateJwk: await exportJWK(pair.privateKey),
          publicJwk: {
            ...(await exportJWK(pair.publicKey)),
            ...{ kid: random().slice(0, 8), alg: 'ES256', use: 'sig' },
          },
        }
        return db.keys
      })
      const privateKey = (await importJWK(made.privateJwk, 'ES256')) as CryptoKey
      return { privateKey, publicJwk: made.publicJwk }
    })()
    return keys
  }
}

/** The discovery document (OpenID Connect Discovery, RFC 8414). */
function discovery(issuer: string, advertiseIss: boolean) {
  return {
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
    authorization_response_iss_parameter_supported: advertiseIss,
    // Omitted while the provider plays one without DPoP (RFC 9449 §5.1).
    dpop_signing_alg_values_supported: [DPOP_ALG],
  }
}

/** The access token's `jti`, read without verifying: revocation takes any token it is given. */
function jtiOf(token: string): string | undefined {
  const [, payload] = token.split('.')
  if (!payload) return undefined
  try {
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))).jti
  } catch {
    return undefined
  }
}

/** The provider's own endpoints beside the token endpoint: discovery, JWKS, revocation. */
function providerHandlers(ctx: MockContext, metadata: ReturnType<typeof discovery>) {
  return [
    http.get(`${ctx.issuer}/.well-known/openid-configuration`, async () => {
      const { dpop_signing_alg_values_supported, ...withoutDpop } = metadata
      const understood = await ctx.change(() => {
        ctx.db.counts.discovery++
        return understandsDpop(ctx, 'token')
      })
      return HttpResponse.json(understood ? metadata : withoutDpop)
    }),
    http.get(`${ctx.issuer}/jwks`, async () =>
      HttpResponse.json({ keys: [(await ctx.keys()).publicJwk] }),
    ),
    http.post(`${ctx.issuer}/revoke`, async ({ request }) => {
      const token = new URLSearchParams(await request.text()).get('token') ?? ''
      const hash = await sha256(token)
      await ctx.change(() => {
        ctx.db.counts.revocation++
        const record = ctx.db.refresh[hash]
        const jti = record ? undefined : jtiOf(token)
        if (record) ctx.db.revokedFamilies.push(record.family)
        else if (jti) ctx.db.revokedJtis.push(jti)
      })
      return new HttpResponse(null, { status: 200 })
    }),
  ]
}

/**
 * A mock OpenID provider and protected API as MSW handlers: discovery, JWKS, token (code with a
 * real PKCE S256 check; refresh with rotation and reuse detection; DPoP-bound tokens, RFC 9449),
 * revocation, userinfo and an API that verifies the token's signature, expiry, revocation and
 * DPoP proof, with a route that wants a recent second factor (step-up, RFC 9470).
 *
 * @example
 * ```ts
 * const idp = createMockProvider({ issuer: 'https://idp.test', apiOrigin: 'https://api.test' })
 * const server = setupServer(...idp.handlers)
 * ```
 */
export function createMockProvider(options: MockProviderOptions) {
  const issuer = options.issuer.replace(/\/$/, '')
  const { db, reload, change } = createStore(options.persist, () =>
    emptyDb(options.accessTokenLifetime ?? 3600),
  )
  const keys = keyMaker(change, db)
  const seconds = () => Math.floor((options.now?.() ?? Date.now()) / 1000)
  const ctx: MockContext = {
    issuer,
    clientId: options.clientId ?? 'demo-spa',
    apiOrigin: options.apiOrigin ?? new URL(issuer).origin,
    ignoresResources: options.ignoreResources === true,
    resources: options.resources ?? [],
    tokenEndpoint: `${issuer}/token`,
    db,
    // This realm's faults: they win over the ones every realm shares (`setFaults`).
    faults: {},
    seconds,
    change,
    keys,
    async sign(claims, lifetime, typ = 'JWT') {
      const { privateKey, publicJwk } = await keys()
      const now = seconds()
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: publicJwk.kid!, typ })
        .setIssuer(issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + lifetime)
        .sign(privateKey)
    },
  }
  const metadata = discovery(issuer, options.advertiseIss ?? true)
  const handlers = [...providerHandlers(ctx, metadata), tokenHandler(ctx), ...resourceHandlers(ctx)]
  return controls(ctx, metadata, handlers, reload)
}

/** The provider as its users see it: its handlers, and what tests and demos set and read. */
function controls(
  ctx: MockContext,
  metadata: ReturnType<typeof discovery>,
  handlers: HttpHandler[],
  reload: () => Promise<void>,
) {
  const { db, change } = ctx
  return {
    issuer: ctx.issuer,
    clientId: ctx.clientId,
    apiOrigin: ctx.apiOrigin,
    metadata,
    handlers,
    /** The people who can sign in, by `sub`: what the sign-in page offers. */
    users: USERS as Readonly<typeof USERS>,
    /** What each endpoint was asked, in this realm (or, with a shared database, after `sync()`). */
    get counts() {
      return db.counts
    },
    /**
     * The latest DPoP proofs the token endpoint and the API saw, oldest first (after `sync()`
     * with a shared database): what they claimed and how they were answered, never a token.
     */
    get dpopProofs(): readonly MockDpopProof[] {
      return db.dpop.proofs
    },
    /** This realm's faults; `setFaults` sets the ones every realm sharing the database sees. */
    faults: ctx.faults,
    /** The lifetime of the access tokens issued from now on (after `sync()`). */
    get accessTokenLifetime(): number {
      return db.accessTokenLifetime
    },
    /** Who the provider's own session names, if anyone (after `sync()`). */
    get sessionUser(): string | undefined {
      return db.session?.sub
    },
    /** The faults every realm sees (after `sync()`). */
    get sharedFaults(): SharedFaults {
      return db.faults
    },
    /** Sets the faults every realm sees (a shared database: the page and the token worker). */
    setFaults(shared: SharedFaults): Promise<void> {
      return change(() => {
        db.faults = { ...shared }
      })
    },
    /** Reads the shared database again, for `counts` and `faults` of every realm. */
    sync: reload,
    /** Zeroes every counter and forgets the DPoP proofs seen. */
    resetCounts(): Promise<void> {
      return change(() => {
        for (const name of COUNTS) db.counts[name] = 0
        db.dpop.proofs = []
      })
    },
    /**
     * What the provider's sign-in page does: checks the request and answers with the redirect
     * back to the app (`code`, `state`, `iss`), or an error redirect.
     */
    authorize(authorizationUrl: string, user: MockAnswer = {}): Promise<string> {
      const params = new URL(authorizationUrl).searchParams
      return change(() => authorizeNow(ctx, params, user))
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
    /**
     * New DPoP nonces for the token endpoint and the API (with the `dpopNonce` fault): the next
     * proof with an old one gets `use_dpop_nonce` and the new one, as after a server's restart.
     */
    rotateDpopNonces(): Promise<void> {
      return change(() => {
        db.dpop.nonces = newNonces()
      })
    },
    /** Sets the lifetime of the access tokens issued from now on. */
    setAccessTokenLifetime(lifetime: number): Promise<void> {
      return change(() => {
        db.accessTokenLifetime = lifetime
      })
    },
    /** Signs any claims with the provider's key (for tests of bad ID tokens). */
    sign: ctx.sign,
  }
}

/** A mock provider. */
export type MockProvider = ReturnType<typeof createMockProvider>
