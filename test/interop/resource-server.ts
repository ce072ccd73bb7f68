import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose'

/** One API request and how the resource server answered it. */
export interface ApiRequest {
  method: string
  path: string
  status: number
  /** The access token's `jti` when its signature verified. */
  jti: string | undefined
  /** Why a token was refused. */
  error: string | undefined
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
  close(): Promise<void>
}

const REALM = 'Bearer realm="interop-api"'
const ORDERS = [
  { id: 1, item: 'Espresso machine' },
  { id: 2, item: 'Coffee beans, 1 kg' },
]

interface Verified {
  claims: JWTPayload
}

/**
 * Starts the API. It verifies bearer JWTs against the provider's JWKS (signature, `typ` at+jwt,
 * issuer, audience, expiry), refuses revoked `jti`s, and answers 401 with `WWW-Authenticate`.
 */
export async function startResourceServer(issuer: string, port = 0): Promise<ResourceServer> {
  const allowed = new Set<string>()
  const revoked = new Set<string>()
  const requests: ApiRequest[] = []
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined
  let resource = ''

  async function keys() {
    if (jwks) return jwks
    const metadata = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
      jwks_uri: string
    }
    jwks = createRemoteJWKSet(new URL(metadata.jwks_uri))
    return jwks
  }

  /** Verifies the bearer token; `seenJti` gets its `jti` once the signature checks out. */
  async function verify(req: IncomingMessage, seenJti: { value?: string }): Promise<Verified> {
    const [scheme, token, ...rest] = (req.headers.authorization ?? '').split(' ')
    if (scheme?.toLowerCase() !== 'bearer' || !token || rest.length) throw new Error('no token')
    const { payload } = await jwtVerify(token, await keys(), {
      issuer,
      audience: resource,
      typ: 'at+jwt',
      algorithms: ['RS256'],
    })
    if (typeof payload.jti === 'string') seenJti.value = payload.jti
    if (!payload.jti || revoked.has(payload.jti)) throw new Error('the token was revoked')
    return { claims: payload }
  }

  function cors(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin
    if (!origin || !allowed.has(origin)) return
    res.setHeader('access-control-allow-origin', origin)
    res.setHeader('access-control-expose-headers', 'www-authenticate')
    res.setHeader('vary', 'origin')
  }

  function send(res: ServerResponse, status: number, body: unknown, headers = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://api').pathname
    const record = (status: number, jti?: string, error?: string) =>
      requests.push({ method: req.method ?? '', path, status, jti, error })
    cors(req, res)
    if (req.method === 'OPTIONS') {
      res.setHeader('access-control-allow-methods', 'GET')
      res.setHeader('access-control-allow-headers', 'authorization')
      res.writeHead(204).end()
      return
    }
    if (path !== '/api/me' && path !== '/api/orders') {
      record(404)
      return send(res, 404, { error: 'not_found' })
    }
    let verified: Verified
    const jti: { value?: string } = {}
    try {
      verified = await verify(req, jti)
    } catch (error) {
      const reason = (error as Error).message
      record(401, jti.value, reason)
      const challenge = req.headers.authorization
        ? `${REALM}, error="invalid_token", error_description="${reason.replace(/"/g, "'")}"`
        : REALM
      return send(res, 401, { error: 'invalid_token' }, { 'www-authenticate': challenge })
    }
    const { claims } = verified
    if (
      !String(claims.scope ?? '')
        .split(' ')
        .includes('api:read')
    ) {
      record(403, claims.jti, 'insufficient_scope')
      return send(
        res,
        403,
        { error: 'insufficient_scope' },
        {
          'www-authenticate': `${REALM}, error="insufficient_scope", scope="api:read"`,
        },
      )
    }
    record(200, claims.jti)
    if (path === '/api/orders') return send(res, 200, ORDERS)
    return send(res, 200, { sub: claims.sub, scope: claims.scope, client_id: claims.client_id })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => send(res, 500, { error: String(error) }))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(port, '127.0.0.1', resolve)
  })
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  resource = `${origin}/`
  return {
    origin,
    resource,
    requests,
    allowOrigins(origins) {
      for (const o of origins) allowed.add(o)
    },
    revoke(jti) {
      revoked.add(jti)
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
