import type { Clock } from '../clock.js'
import type { TokenHolderKind } from '../events.js'
import {
  type Answers,
  type Broadcast,
  type EngineConfig,
  fromErrorData,
  fromSnapshotData,
  parseMessage,
  type Request,
  type SnapshotData,
  VERSION,
  workerName,
} from '../protocol.js'
import type { TokenJson } from '../token-json.js'
import type { User } from '../types.js'
import type { Fallback } from './notes.js'

/** Where the engine runs for this page: the `connected` event's `holder`. */
export type LinkKind = TokenHolderKind

/** The page's line to the engine, wherever it runs. */
export interface EngineLink {
  readonly kind: LinkKind
  request<R extends Request>(request: R): Promise<Answers[R['type']]>
  /** Tokens the app's backend gave at `at` (a custom token source; in the page only). */
  adopt?(json: TokenJson, user: User | undefined, at: number): Promise<void>
  close(): void
}

/**
 * How to start the token worker: `false` keeps the session in the page; a URL names a module
 * worker script that calls `serveTokenWorker()`; a function makes the worker itself, with the
 * `name` given (it carries the configuration) and a SharedWorker when `shared` says the browser
 * has one.
 */
export type TokenWorkerOption =
  | false
  | string
  | URL
  | ((init: { name: string; shared: boolean }) => SharedWorker | Worker)

/** What a page needs to link to an engine. */
export interface LinkOptions {
  config: EngineConfig | undefined
  worker: TokenWorkerOption | undefined
  /** Whether tabs share the session: a SharedWorker where there is one. */
  shared: boolean
  clock: Clock
  /** Starts the engine in the page (loaded on demand). */
  inPage(listener: (message: Broadcast) => void): Promise<InPage>
}

/** An engine in the page, as the link uses it. */
export interface InPage {
  request<R extends Request>(request: R): Promise<Answers[R['type']]>
  adopt(json: TokenJson, user: User | undefined, at: number): unknown
  stop(): void
}

// Longer than any request the engine makes (retries and backoff included): past this, the worker
// is gone and the caller gets a typed timeout rather than a promise that never settles.
const DEADLINE_MS = 120_000
// How long a new worker may take to answer its first message before the page keeps the session
// itself.
const START_MS = 10_000

/** Says in the console how the session is kept, when it is not the usual way (notes.ts). */
function sayOnce(fallback: Fallback, error?: unknown): void {
  import('./notes.js').then((notes) => notes.sayOnce(fallback, error)).catch(() => {})
}

type Port = Pick<MessagePort, 'postMessage' | 'addEventListener'> & {
  start?(): void
  close?(): void
}

/** A link over a port: requests with ids, answers matched to them, broadcasts to `listener`. */
export function portLink(
  port: Port,
  kind: LinkKind,
  clock: Clock,
  listener: (message: Broadcast) => void,
): EngineLink {
  let next = 0
  const pending = new Map<number, { settle(ok: boolean, value: unknown): void }>()
  port.addEventListener('message', (event) => {
    const m = parseMessage((event as MessageEvent).data)
    if (m?.type === 'reply') pending.get(m.id)?.settle(m.ok, m.ok ? m.value : m.error)
    else if (m?.type === 'session')
      listener({ type: 'session', session: fromSnapshotData(m.session) })
    else if (m) listener({ type: 'event', event: fromSnapshotData(m.event) })
  })
  port.start?.()
  return {
    kind,
    request(request) {
      const id = ++next
      return new Promise((resolve, reject) => {
        const timer = clock.setTimeout(
          () =>
            settle(false, {
              code: 'timeout',
              message: `The token worker did not answer within ${DEADLINE_MS / 1000} s`,
            }),
          DEADLINE_MS,
        )
        function settle(ok: boolean, value: unknown): void {
          pending.delete(id)
          clock.clearTimeout(timer)
          const snapshot = value as SnapshotData | undefined
          if (!ok) reject(fromErrorData(value as Parameters<typeof fromErrorData>[0]))
          else
            resolve(
              (snapshot?.generation === undefined ? value : fromSnapshotData(snapshot)) as never,
            )
        }
        pending.set(id, { settle })
        port.postMessage({ v: VERSION, id, ...request })
      })
    },
    close() {
      port.close?.()
      for (const { settle } of [...pending.values()]) {
        settle(false, { code: 'login_required', message: 'The client was disposed' })
      }
    },
  }
}

/** Starts the token worker as `choice` says, or undefined where this browser has none. */
function startWorker(
  name: string,
  choice: Exclude<TokenWorkerOption, false> | undefined,
  perTab: boolean,
): { port: Port; target: EventTarget; kind: LinkKind } | undefined {
  const shared = !perTab && typeof SharedWorker === 'function'
  const wrap = (worker: SharedWorker | Worker) =>
    'port' in worker
      ? { port: worker.port, target: worker, kind: 'shared-worker' as const }
      : { port: worker, target: worker, kind: 'worker' as const }
  if (typeof choice === 'function') return wrap(choice({ name, shared }))
  // Chromium keeps the worker alive for a while after its last page unloads (`extendedLifetime`):
  // a reload finds the session where it was. Other engines ignore the option.
  if (choice !== undefined) {
    const options = { type: 'module', name, extendedLifetime: true } as WorkerOptions
    if (shared) return wrap(new SharedWorker(choice, options))
    return typeof Worker === 'function' ? wrap(new Worker(choice, options)) : undefined
  }
  // Written out in full, so that bundlers (Vite, webpack 5) find the worker script and emit it.
  if (shared) {
    return wrap(
      new SharedWorker(new URL('../engine/worker.js', import.meta.url), {
        type: 'module',
        name,
        extendedLifetime: true,
      } as WorkerOptions),
    )
  }
  if (typeof Worker === 'function') {
    return wrap(
      new Worker(new URL('../engine/worker.js', import.meta.url), { type: 'module', name }),
    )
  }
  return undefined
}

/** Links to a token worker, resolving once it has answered its first message. */
async function workerLink(
  options: LinkOptions,
  config: EngineConfig,
  listener: (message: Broadcast) => void,
): Promise<EngineLink | undefined> {
  const started = startWorker(workerName(config), options.worker || undefined, !options.shared)
  if (!started) return undefined
  const link = portLink(started.port, started.kind, options.clock, listener)
  let timer: unknown
  try {
    await Promise.race([
      link.request({ type: 'hello' }),
      new Promise((_, reject) => {
        started.target.addEventListener('error', () => reject(new Error('its script did not load')))
        timer = options.clock.setTimeout(() => reject(new Error('it did not answer')), START_MS)
      }),
    ])
    if (started.kind === 'worker' && options.shared) {
      sayOnce('per-tab')
    }
    return link
  } catch (error) {
    link.close()
    sayOnce('failed', error)
    return undefined
  } finally {
    options.clock.clearTimeout(timer)
  }
}

/** The engine in this page, loaded on demand; requests wait for it. */
function inPageLink(options: LinkOptions, listener: (message: Broadcast) => void): EngineLink {
  let loaded: InPage | undefined
  const engine = options.inPage(listener).then((started) => (loaded = started))
  return {
    kind: 'page',
    request: async (request) => (await engine).request(request),
    adopt: async (json, user, at) => {
      ;(await engine).adopt(json, user, at)
    },
    close: () => {
      if (loaded) loaded.stop()
      else engine.then((started) => started.stop())
    },
  }
}

/**
 * Links this page to the engine: the SharedWorker every tab of the client shares, else a worker
 * of this tab's own, else the engine in the page. Each fallback is said once in the console.
 */
export async function connect(
  options: LinkOptions,
  listener: (message: Broadcast) => void,
): Promise<EngineLink> {
  const { config, worker } = options
  const workers = typeof SharedWorker === 'function' || typeof Worker === 'function'
  // A function of the app's own may make a worker where the constructors are not globals.
  if (config && worker !== false && (workers || typeof worker === 'function')) {
    try {
      const link = await workerLink(options, config, listener)
      if (link) return link
    } catch (error) {
      // A constructor can throw at once (no such constructor, a CSP that forbids the worker).
      sayOnce(workers ? 'failed' : 'no-workers', error)
    }
  } else if (config && worker !== false && globalThis.document) sayOnce('no-workers')
  return inPageLink(options, listener)
}
