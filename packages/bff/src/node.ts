// The BFF in `node:http` (and in Express 5, whose middleware has the same shape).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import type { ReadableStream as NodeReadableStream } from 'node:stream/web'
import type { Bff } from './bff.js'

/** What serves the requests that are not the BFF's: the app's pages, a dev server's middleware. */
export type Fallback = (
  request: IncomingMessage,
  response: ServerResponse,
  next?: () => void,
) => void

/** The Web `Request` of a Node request, aborted when the browser goes away. */
function toRequest(req: IncomingMessage, res: ServerResponse): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one)
  }
  const aborted = new AbortController()
  res.once('close', () => {
    if (!res.writableFinished) aborted.abort()
  })
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  return new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`), {
    method: req.method ?? 'GET',
    headers,
    signal: aborted.signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } : {}),
  } as RequestInit)
}

async function send(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length) headers['set-cookie'] = cookies
  res.writeHead(response.status, response.statusText, headers)
  if (!response.body) return void res.end()
  Readable.fromWeb(response.body as NodeReadableStream)
    .on('error', () => res.destroy())
    .pipe(res)
}

/**
 * A `node:http` listener (or Express 5 middleware) for `bff`: its paths go to it; every other
 * request to `fallback` (or Express's `next`), else 404.
 *
 * @example
 * ```ts
 * createServer(toNodeListener(bff, vite.middlewares)).listen(5173)
 * ```
 */
export function toNodeListener(bff: Bff, fallback?: Fallback) {
  return (req: IncomingMessage, res: ServerResponse, next?: () => void): void => {
    const url = URL.canParse(req.url ?? '/', 'http://localhost')
      ? new URL(req.url ?? '/', 'http://localhost')
      : undefined
    if (url && !bff.owns(url.pathname)) {
      if (fallback) fallback(req, res, next)
      else if (next) next()
      else res.writeHead(404).end()
      return
    }
    // A request line or Host header no URL can be made of: refused, never a crash.
    let request: Request
    try {
      if (!url) throw new TypeError('unparseable request URL')
      request = toRequest(req, res)
    } catch {
      res.writeHead(400).end()
      return
    }
    bff(request)
      .then((response) => send(response, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500)
        res.end()
      })
  }
}
