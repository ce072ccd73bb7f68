import { systemClock } from '../clock.js'
import { AuthError } from '../errors.js'
import type { AuthEvent } from '../events.js'
import { asAuthError } from '../failure.js'
import { paramsProblem } from '../params.js'
import {
  type Answers,
  type Broadcast,
  type EngineConfig,
  type EventData,
  parseRequest,
  parseWorkerName,
  requestId,
  toErrorData,
  toSnapshotData,
  VERSION,
} from '../protocol.js'
import { dispatch } from './dispatch.js'
import { createEngine, type Engine } from './engine.js'

/** The port side a worker talks through: a `MessagePort`, or a dedicated worker's own scope. */
export interface PortLike {
  postMessage(message: unknown): void
  addEventListener(type: 'message' | 'close', listener: (event: MessageEvent) => void): void
  start?(): void
}

// The requests answered with a snapshot, whose error travels as data.
const SNAPSHOTS = new Set(['hello', 'token', 'callback'])

function eventData(event: AuthEvent): EventData {
  return ('error' in event ? { ...event, error: toErrorData(event.error) } : event) as EventData
}

/**
 * Serves `engine` to a page over `port`: answers its requests and tells it every change. Any
 * script of the origin can open a port: a request that is not well formed is refused with
 * `invalid_options` when it carries an id (so that no caller waits for an answer that will not
 * come), else dropped. Without an engine (a worker named for no configuration) every request is
 * refused.
 */
export function servePort(engine: Engine | undefined, port: PortLike): void {
  const post = (message: object) => port.postMessage({ v: VERSION, ...message })
  const unsubscribe = engine?.subscribe((m: Broadcast) =>
    post(
      m.type === 'session'
        ? { type: 'session', session: toSnapshotData(m.session) }
        : { type: 'event', event: eventData(m.event) },
    ),
  )
  port.addEventListener('message', async (event) => {
    const parsed = parseRequest(event.data)
    const request =
      parsed?.type === 'authorize' && paramsProblem(parsed.params) ? undefined : parsed
    if (!request) {
      const id = requestId(event.data)
      const error = { code: 'invalid_options', message: 'Token worker: a malformed request' }
      if (id !== undefined) post({ type: 'reply', id, ok: false, error })
      return
    }
    const { id, type } = request
    try {
      if (!engine)
        throw new AuthError('configuration', 'Token worker: its name is no configuration')
      const value = await dispatch(engine, request)
      const data = SNAPSHOTS.has(type) ? toSnapshotData(value as Answers['hello']) : value
      if (id !== undefined) post({ type: 'reply', id, ok: true, value: data })
    } catch (caught) {
      const error = toErrorData(asAuthError(caught, 'invalid_response', 'Token worker'))
      if (id !== undefined) post({ type: 'reply', id, ok: false, error })
    }
  })
  // Where the browser says a port's page is gone, stop telling it anything.
  if (unsubscribe) port.addEventListener('close', unsubscribe)
  port.start?.()
}

/** Options of {@link serveTokenWorker}. */
export interface TokenWorkerOptions {
  /**
   * The transport of the worker's requests to the provider. Default: the worker's `fetch`. A
   * mock provider (tests, a demo) can answer here: the page's service worker does not see a
   * worker's requests.
   */
  fetch?: typeof fetch
}

/**
 * Runs the token worker in the current worker scope: one engine, configured by the worker's name
 * (which the page chose: the name is part of what identifies a worker, so a page with another
 * configuration gets a worker of its own), served to every page that connects. Call it at the top
 * of a worker script; the default worker script does only that.
 *
 * @example
 * ```ts
 * // token-worker.ts: a worker whose provider requests a mock answers
 * import { serveTokenWorker } from '@spa-auth/core/worker'
 * serveTokenWorker({ fetch: mockFetch })
 * ```
 */
export function serveTokenWorker(options: TokenWorkerOptions = {}): void {
  const scope = globalThis as unknown as PortLike & { name: string; onconnect?: unknown }
  const config: EngineConfig | undefined = parseWorkerName(scope.name)
  const engine =
    config &&
    createEngine({
      config,
      refreshLeeway: config.refreshLeeway,
      requestTimeout: config.requestTimeout,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      clock: systemClock,
    })
  // A SharedWorker gets a port per page; a dedicated worker is its page's port itself.
  if ('onconnect' in scope) {
    ;(scope as unknown as EventTarget).addEventListener('connect', (event) => {
      const port = (event as MessageEvent).ports[0]
      if (port) servePort(engine, port)
    })
  } else servePort(engine, scope)
}
