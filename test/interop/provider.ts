import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import Provider, { type ClientView } from 'oidc-provider'
import {
  keepErrorDetails,
  type ProviderRequest,
  recorder,
  type TokenAnswer,
} from './provider-record.js'

export type { ProviderRequest, TokenAnswer }

/** What the provider is set up with once the apps' origins are known. */
export interface ProviderConfig {
  /** Origins of the apps: their `/callback` and `/` are the client's redirect URIs; CORS allowed. */
  appOrigins: readonly string[]
  /** The resource server's identifier (RFC 8707): the audience of every access token. */
  resource: string
  /** Other APIs' identifiers a client may ask tokens for with `resource` (RFC 8707). */
  otherResources?: readonly string[]
  /** Access-token lifetime in seconds. */
  accessTokenTtl: number
  /**
   * DPoP (RFC 9449) required of the client: every token request carries a proof with a nonce
   * of the provider's, and the tokens are bound to the proof's key. Default: off, as before.
   */
  dpop?: boolean
  /**
   * Origins of apps behind `@spa-auth/bff`: a confidential client ({@link BFF_CLIENT}) with
   * `{origin}/bff/callback` and, for OpenID back-channel logout, `{origin}/bff/backchannel-logout`.
   */
  bffOrigins?: readonly string[]
  /**
   * `Cross-Origin-Opener-Policy: same-origin` on every page of the provider's, as some hosted
   * providers send it: a popup on them is cut off from the page that opened it.
   */
  coop?: boolean
}

/** The BFF's confidential client: `client_secret_basic` with this secret. */
export const BFF_CLIENT = { clientId: 'bff-app', secret: 'bff-secret-not-a-secret' } as const

/** oidc-provider on 127.0.0.1, its public PKCE client, and what it saw. */
export interface InteropProvider {
  readonly issuer: string
  readonly clientId: string
  /** Every request answered, oldest first. */
  readonly requests: ProviderRequest[]
  /**
   * Every token-endpoint answer, oldest first: the tokens the provider issued, known to the
   * tests without the page (or its token worker) having to tell.
   */
  readonly tokenAnswers: TokenAnswer[]
  /** The newest access token and the newest refresh token the provider issued. */
  lastTokens(): { accessToken: string | undefined; refreshToken: string | undefined }
  /** Errors the provider raised internally (`server_error`): a test expects none. */
  readonly serverErrors: unknown[]
  /** Seconds an authorization code lives; a test may shorten it for the next codes. */
  codeTtl: number
  /** Token-endpoint POSTs so far; `fromApp` counts the ones a page sent (they carry `Origin`). */
  tokenRequests(fromApp?: boolean): number
  /** Starts answering: registers the client for the apps' origins. */
  configure(config: ProviderConfig): void
  /**
   * Signs `payload` with the provider's own key, as it signs its logout tokens: for tests of what
   * a BFF accepts. `header` adds to (or overrides) `{ alg: 'RS256', kid, typ: 'logout+jwt' }`.
   */
  sign(payload: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
  close(): Promise<void>
}

const CLIENT_ID = 'demo-spa'
// devInteractions accept any login; a few known ones get a full name, like the mock's users.
const PEOPLE: Record<string, string> = { alice: 'Alice Martin', bob: 'Bob Chen' }

function account(id: string) {
  return {
    accountId: id,
    claims: () => ({
      sub: id,
      name: PEOPLE[id] ?? id,
      email: `${id}@example.com`,
      email_verified: true,
    }),
  }
}

async function signingKeys() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  return {
    privateKey,
    keys: [{ ...(await exportJWK(privateKey)), kid: 'interop-rs256', alg: 'RS256', use: 'sig' }],
  }
}

function bffClient(origins: readonly string[]) {
  return {
    client_id: BFF_CLIENT.clientId,
    client_secret: BFF_CLIENT.secret,
    client_name: 'spa-auth BFF',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: origins.map((origin) => `${origin}/bff/callback`),
    post_logout_redirect_uris: origins.map((origin) => `${origin}/`),
    ...(origins[0]
      ? {
          backchannel_logout_uri: `${origins[0]}/bff/backchannel-logout`,
          backchannel_logout_session_required: true,
        }
      : {}),
  }
}

const ownToken = (_ctx: unknown, client: ClientView, token: { clientId?: string }) =>
  token.clientId === client.clientId

/**
 * oidc-provider's DPoP with server nonces (RFC 9449 §8): a proof without the provider's current
 * nonce gets 400 `use_dpop_nonce` and a `DPoP-Nonce` header. A public client's refresh token is
 * bound to the key of the proof it was issued with.
 */
function dpopFeature() {
  return { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true }
}

function configuration(config: ProviderConfig, keys: { keys: object[] }, codeTtl: () => number) {
  const origins = new Set(config.appOrigins)
  return {
    clients: [
      {
        client_id: CLIENT_ID,
        client_name: 'spa-auth demo',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: config.appOrigins.flatMap((origin) => [
          `${origin}/callback`,
          `${origin}/silent-callback.html`,
        ]),
        post_logout_redirect_uris: config.appOrigins.map((origin) => `${origin}/`),
        // A token request without a proof is refused, not answered with a bearer token.
        ...(config.dpop ? { dpop_bound_access_tokens: true } : {}),
      },
      ...(config.bffOrigins ? [bffClient(config.bffOrigins)] : []),
    ],
    jwks: { keys: keys.keys },
    // Its own requests (back-channel logout) go to the BFF on 127.0.0.1, which oidc-provider's
    // SSRF guard refuses by default: every party of these tests is on this machine.
    fetch: (
      url: URL | string,
      { dispatcher: _, ...init }: RequestInit & { dispatcher?: unknown },
    ) => globalThis.fetch(url, init),
    cookies: { keys: ['interop-cookie-key-not-a-secret'] },
    findAccount: (_ctx: unknown, id: string) => account(id),
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    // The demo shows the user's name from the ID token, not from userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    clientBasedCORS: (_ctx: unknown, origin: string) => origins.has(origin),
    // A refresh token whenever the client may use the grant, not only with offline_access.
    issueRefreshToken: async (_ctx: unknown, client: ClientView) =>
      client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: config.accessTokenTtl,
      AuthorizationCode: codeTtl, // read at each code: a test may shorten it
      IdToken: 3600,
      RefreshToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    features: {
      ...(config.dpop ? { dPoP: dpopFeature() } : {}),
      devInteractions: { enabled: true },
      // A public client may revoke and introspect its own tokens, nobody else's.
      revocation: { enabled: true, allowedPolicy: ownToken },
      introspection: { enabled: true, allowedPolicy: ownToken },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: Boolean(config.bffOrigins) },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.resource,
        // With `openid` in the scope the token would otherwise be for userinfo, not the API.
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          const known = [config.resource, ...(config.otherResources ?? [])]
          if (!known.includes(indicator)) throw new Error(`unknown resource ${indicator}`)
          return {
            scope: 'api:read',
            audience: indicator,
            accessTokenFormat: 'jwt', // RFC 9068
            accessTokenTTL: config.accessTokenTtl,
          }
        },
      },
    },
  }
}

/**
 * Opens oidc-provider's port on 127.0.0.1 at once (so the issuer is known before the apps are
 * built), and answers 503 until {@link InteropProvider.configure} registers the client.
 */
export async function openProvider(port = 0): Promise<InteropProvider> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const server = createServer((req, res) => {
    if (handler) return handler(req, res)
    res.writeHead(503).end()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(port, '127.0.0.1', resolve)
  })
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const keys = await signingKeys()
  const requests: ProviderRequest[] = []
  const tokenAnswers: TokenAnswer[] = []
  const serverErrors: unknown[] = []
  const idp: InteropProvider = {
    issuer,
    clientId: CLIENT_ID,
    requests,
    tokenAnswers,
    serverErrors,
    codeTtl: 60,
    tokenRequests: (fromApp = false) =>
      requests.filter((r) => r.method === 'POST' && r.path === '/token' && (!fromApp || r.origin))
        .length,
    lastTokens: () => ({
      accessToken: tokenAnswers.findLast((a) => a.accessToken)?.accessToken,
      refreshToken: tokenAnswers.findLast((a) => a.refreshToken)?.refreshToken,
    }),
    configure(config) {
      const provider = new Provider(
        issuer,
        configuration(config, keys, () => idp.codeTtl),
      )
      provider.use(recorder(requests, tokenAnswers))
      if (config.coop) {
        provider.use(async (ctx, next) => {
          await next()
          ;(ctx as unknown as { set(name: string, value: string): void }).set(
            'cross-origin-opener-policy',
            'same-origin',
          )
        })
      }
      keepErrorDetails(provider)
      provider.on('server_error', (_ctx, error) => serverErrors.push(error))
      // A back-channel logout the app's BFF refused, or could not be reached for.
      provider.on('backchannel.error', (_ctx, error) => serverErrors.push(error))
      handler = provider.callback()
    },
    sign: (payload, header = {}) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', kid: 'interop-rs256', typ: 'logout+jwt', ...header })
        .sign(keys.privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
  return idp
}
