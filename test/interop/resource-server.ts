import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeJwt, type JWTPayload } from 'jose'
import { createTokenVerifier, type Presented } from './access-token.js'
import { createProofChecker, Refusal, wwwAuthenticate } from './dpop-check.js'

/** One API request and how the resource server answered it. Never a token. */
export interface ApiRequest {
  method: string
  path: string
  status: number
  /** The `Origin` header: set by the browser on a page's calls, absent on the tests' own. */
  origin: string | undefined
  /** The access token's `jti` when its signature verified. */
  jti: string | undefined
  /** Why a token was refused. */
  error: string | undefined
  /** The `Authorization` scheme as sent (`Bearer`, `DPoP`); undefined without the header. */
  scheme: string | undefined
  /** Whether a DPoP proof passed every check; undefined when none was checked. */
  proofValid: boolean | undefined
  /** The nonce the DPoP proof carried. */
  nonce: string | undefined
  /** The `error` of the `WWW-Authenticate` challenge, e.g. `use_dpop_nonce`. */
  challenge: string | undefined
}

/** Options of {@link startResourceServer}. */
export interface ResourceServerOptions {
  /** A fixed port (default: a free one). */
  port?: number
  /**
   * Accept DPoP-bound tokens (RFC 9449 §7) with a proof carrying this server's own nonce, which
   * it hands out in `DPoP-Nonce`. Default: off, bearer tokens only, as before.
   */
  dpop?: boolean
}

/** A protected API on 127.0.0.1 that accepts the provider's RFC 9068 access tokens. */
export interface ResourceServer {
  /** The origin, which is also the resource indicator and audience (with a trailing `/`). */
  readonly origin: string
  readonly resource: string
  readonly requests: ApiRequest[]
  /** Lets these origins call the API from a page (CORS). */
  allowOrigins(origins: readonly string[]): void
  /** Revokes an access token on the server side, by its `jti`: from now on it gets a 401. */
  revoke(jti: string): void
  /** With DPoP: a new nonce, so the next proof with the old one gets `use_dpop_nonce`. */
  rotateNonce(): string
  /**
   * With DPoP, while on: a new nonce at every request, so every proof's nonce is stale and every
   * answer is `use_dpop_nonce`: a server no client can satisfy, to see a client give up.
   */
  refuseEveryNonce(on: boolean): void
  close(): Promise<void>
}

const ORDERS = [
  { id: 1, item: 'Espresso machine' },
  { id: 2, item: 'Coffee beans, 1 kg' },
]

/** What the API learned of a request while authorizing it: what it records. */
interface Seen extends Presented {
  proofValid?: boolean
  nonce?: string | undefined
}

/** The proof's nonce, read without verifying: only for the record. */
function nonceOf(proof: string | undefined): string | undefined {
  try {
    const { nonce } = decodeJwt(proof ?? '')
    return typeof nonce === 'string' ? nonce : undefined
  } catch {
    return undefined
  }
}

/**
 * Starts the API. It verifies bearer JWTs against the provider's JWKS (signature, `typ` at+jwt,
 * issuer, audience, expiry), refuses revoked `jti`s and DPoP-bound tokens sent as bearer tokens,
 * and answers 401 with `WWW-Authenticate`. With `dpop`, it also takes `Authorization: DPoP`
 * with a proof for the request, signed by the token's `cnf.jkt` key, with its current nonce.
 */
export async function startResourceServer(
  issuer: string,
  options: ResourceServerOptions = {},
): Promise<ResourceServer> {
  const dpop = options.dpop ?? false
  const allowed = new Set<string>()
  const requests: ApiRequest[] = []
  const tokens = createTokenVerifier(issuer)
  const proofs = createProofChecker(dpop)
  let origin = ''
  let churn = false

  /** Verifies the token, and its proof when sent with DPoP; `seen` gets what was learned. */
  async function authorize(req: IncomingMessage, path: string, seen: Seen): Promise<JWTPayload> {
    const [scheme, token, ...rest] = (req.headers.authorization ?? '').split(' ')
    if (scheme) seen.scheme = scheme
    const kind = scheme?.toLowerCase()
    if (!token || rest.length || (kind !== 'bearer' && !(dpop && kind === 'dpop')))
      throw new Refusal('invalid_token', 'no token')
    const claims = await tokens.verify(token, `${origin}/`, seen)
    const jkt = (claims.cnf as { jkt?: unknown } | undefined)?.jkt
    if (kind === 'bearer') {
      // RFC 9449 §7.2: a bound token is worth nothing without its key; this API knows DPoP.
      if (jkt !== undefined) throw new Refusal('invalid_token', 'a DPoP-bound token sent as Bearer')
      return claims
    }
    if (typeof jkt !== 'string') throw new Refusal('invalid_token', 'an unbound token sent as DPoP')
    const proof = req.headers.dpop as string | undefined
    seen.nonce = nonceOf(proof)
    seen.proofValid = false
    if (churn) proofs.rotateNonce()
    await proofs.check(proof, {
      method: req.method ?? '',
      url: origin + path,
      accessToken: token,
      jkt,
    })
    seen.proofValid = true
    return claims
  }

  function cors(req: IncomingMessage, res: ServerResponse): void {
    const from = req.headers.origin
    if (!from || !allowed.has(from)) return
    res.setHeader('access-control-allow-origin', from)
    res.setHeader('access-control-expose-headers', 'www-authenticate, dpop-nonce')
    res.setHeader('vary', 'origin')
  }

  function preflight(res: ServerResponse): void {
    res.setHeader('access-control-allow-methods', 'GET')
    res.setHeader('access-control-allow-headers', 'authorization, dpop')
    res.writeHead(204).end()
  }

  function send(res: ServerResponse, status: number, body: unknown, headers = {}): void {
    const nonce = proofs.nonce()
    res.writeHead(status, {
      'content-type': 'application/json',
      ...(nonce ? { 'dpop-nonce': nonce } : {}),
      ...headers,
    })
    res.end(JSON.stringify(body))
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://api').pathname
    const seen: Seen = {}
    const record = (status: number, error?: string, code?: string) =>
      requests.push({
        method: req.method ?? '',
        path,
        status,
        origin: req.headers.origin,
        jti: seen.jti,
        error,
        scheme: seen.scheme,
        proofValid: seen.proofValid,
        nonce: seen.nonce,
        challenge: code,
      })
    cors(req, res)
    if (req.method === 'OPTIONS') return preflight(res)
    if (path !== '/api/me' && path !== '/api/orders') {
      record(404)
      return send(res, 404, { error: 'not_found' })
    }
    let claims: JWTPayload
    try {
      claims = await authorize(req, path, seen)
    } catch (error) {
      const refusal =
        error instanceof Refusal ? error : new Refusal('invalid_token', (error as Error).message)
      record(401, refusal.message, refusal.code)
      const params = { error: refusal.code, error_description: refusal.message }
      const header = req.headers.authorization
        ? wwwAuthenticate(dpop, params)
        : wwwAuthenticate(dpop)
      return send(res, 401, { error: refusal.code }, { 'www-authenticate': header })
    }
    if (
      !String(claims.scope ?? '')
        .split(' ')
        .includes('api:read')
    ) {
      record(403, 'insufficient_scope', 'insufficient_scope')
      const header = wwwAuthenticate(dpop, { error: 'insufficient_scope', scope: 'api:read' })
      return send(res, 403, { error: 'insufficient_scope' }, { 'www-authenticate': header })
    }
    record(200)
    if (path === '/api/orders') return send(res, 200, ORDERS)
    return send(res, 200, { sub: claims.sub, scope: claims.scope, client_id: claims.client_id })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => send(res, 500, { error: String(error) }))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    resource: `${origin}/`,
    requests,
    allowOrigins(origins) {
      for (const o of origins) allowed.add(o)
    },
    revoke: tokens.revoke,
    rotateNonce: proofs.rotateNonce,
    refuseEveryNonce(on) {
      if (on) proofs.rotateNonce() // throws without DPoP, rather than be ignored
      churn = on
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
