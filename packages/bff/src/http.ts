// What every BFF answer shares: its failures (typed for the page client), its cookies, and the
// headers that never cross it.

/** The failure codes a BFF names in `Spa-Auth-Error`; the page client turns them into its own. */
export type FailureCode =
  | 'login_required'
  | 'session_expired'
  | 'authorization_error'
  | 'csrf'
  | 'invalid_request'
  | 'network'
  | 'unavailable'
  | 'timeout'
  | 'configuration'
  | 'server_error'

/** A failure on its way out: thrown by a step, answered by the handler. */
export class BffFailure extends Error {
  override name = 'BffFailure'
  constructor(
    readonly status: number,
    readonly code: FailureCode,
    message: string,
    readonly details: { oauthError?: string; description?: string } = {},
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** An answer no cache keeps, and a proxy between the BFF and the browser does not either. */
export function answer(body: BodyInit | null, init: ResponseInit & { headers?: Headers } = {}) {
  const headers = new Headers(init.headers)
  headers.set('cache-control', 'no-store')
  return new Response(body, { ...init, headers })
}

/** JSON, not cached. */
export const json = (value: unknown, status = 200, headers = new Headers()) => {
  headers.set('content-type', 'application/json')
  return answer(JSON.stringify(value), { status, headers })
}

/** A failure as the page client reads it: `Spa-Auth-Error: code` and `{ error: { … } }`. */
export function failure(error: BffFailure, headers = new Headers()): Response {
  headers.set('spa-auth-error', error.code)
  const { oauthError, description } = error.details
  return json(
    { error: { code: error.code, message: error.message, oauthError, description } },
    error.status,
    headers,
  )
}

/** A redirect, not cached. */
export const redirect = (location: string, headers = new Headers()) => {
  headers.set('location', location)
  return answer(null, { status: 302, headers })
}

/** One cookie of the request's `Cookie` header; `undefined` when absent. */
export function cookieOf(request: Request, name: string): string | undefined {
  for (const pair of (request.headers.get('cookie') ?? '').split(';')) {
    const at = pair.indexOf('=')
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim()
  }
  return undefined
}

/** Every cookie of the request whose name starts with `prefix`. */
export function cookiesStartingWith(request: Request, prefix: string): string[] {
  return (request.headers.get('cookie') ?? '')
    .split(';')
    .map((pair) => pair.slice(0, pair.indexOf('=')).trim())
    .filter((name) => name.startsWith(prefix))
}

/**
 * A `__Host-` cookie: `Secure` (browsers take it on `http://localhost` and `127.0.0.1` too),
 * `HttpOnly`, `Path=/`, no `Domain`. `maxAge` in seconds; 0 clears it.
 */
export function setCookie(
  headers: Headers,
  name: string,
  value: string,
  maxAge: number,
  sameSite: 'Strict' | 'Lax',
): void {
  headers.append(
    'set-cookie',
    `${name}=${value}; Path=/; Max-Age=${Math.max(0, Math.floor(maxAge))}; HttpOnly; Secure; SameSite=${sameSite}`,
  )
}

// RFC 9110 §7.6.1, and what a proxy must not pass on in either direction.
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]

/** Removes hop-by-hop headers, and the ones the `Connection` header names. */
export function withoutHopByHop(headers: Headers): Headers {
  const named = (headers.get('connection') ?? '').split(',').map((h) => h.trim().toLowerCase())
  for (const name of [...HOP_BY_HOP, ...named]) if (name) headers.delete(name)
  return headers
}

/**
 * The request's body, read no further than `limit` bytes (its `Content-Length`, when it says,
 * is believed first). Empty without one.
 *
 * @throws {RangeError} past `limit`.
 */
export async function readBody(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  if (Number(request.headers.get('content-length') ?? 0) > limit) throw new RangeError('too large')
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of (request.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > limit) throw new RangeError('too large')
    chunks.push(chunk)
  }
  const body = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return body
}
