// A script that runs in every page of a browser context before the app does (XSS, a hostile
// dependency): it patches every reader and channel a token could pass through in the page's
// realm, reports every string it sees to the test, and opens its own port to the token worker.
import type { BrowserContext } from 'playwright-core'

/** What the attacker saw, and what it can do once the app has started its worker. */
export interface Attacker {
  /** Every distinct string page script saw, in any page of the context. */
  readonly seen: Set<string>
}

/** Options of {@link installAttacker}. */
export interface AttackerOptions {
  /** Removes SharedWorker and Worker before the app runs: the session is then kept in the page. */
  noWorkers?: boolean
}

/**
 * Installs the attacker in every page of `context`. The test calls `window.__attackerForge()` in
 * a page (after the app started its token worker) to send the worker every kind of message with
 * forged fields on the attacker's own port; it resolves to the answers.
 */
export async function installAttacker(
  context: BrowserContext,
  options: AttackerOptions = {},
): Promise<Attacker> {
  const seen = new Set<string>()
  await context.exposeBinding('__attackerSaw', (_source, value: string) => {
    seen.add(value)
  })
  await context.addInitScript(attack, options)
  return { seen }
}

/** The attacker's script, as it runs in the page (it may use nothing from outside). */
function attack({ noWorkers }: AttackerOptions): void {
  const scope = globalThis as unknown as Record<string, unknown> & Window
  const report = scope.__attackerSaw as (value: string) => void
  const reported = new Set<string>()
  function saw(value: unknown, depth = 0): void {
    if (typeof value === 'string') {
      if (value.length < 8 || reported.has(value)) return
      reported.add(value)
      void report(value)
    } else if (value && typeof value === 'object' && depth < 8) {
      if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return
      for (const key of Object.keys(value)) saw((value as Record<string, unknown>)[key], depth + 1)
    }
  }
  const wrap = (
    target: object,
    name: string,
    after: (result: unknown, args: unknown[]) => void,
  ) => {
    const original = (target as Record<string, unknown>)[name] as (...args: unknown[]) => unknown
    ;(target as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      const result = original.apply(this, args)
      after(result, args)
      return result
    }
  }
  const later = (result: unknown) => {
    if (result instanceof Promise)
      result.then(
        (value) => saw(value),
        () => {},
      )
    else saw(result)
  }

  // Whatever the page reads from a response: bodies, parsed JSON, decoded bytes.
  for (const reader of ['json', 'text', 'formData'] as const)
    wrap(Response.prototype, reader, later)
  for (const reader of ['arrayBuffer', 'blob', 'bytes'] as const) {
    if (!(reader in Response.prototype)) continue
    wrap(Response.prototype, reader, (result) =>
      (result as Promise<ArrayBuffer | Blob | Uint8Array>)
        .then(
          (body) => (body instanceof Blob ? body.text() : new TextDecoder().decode(body)),
          () => '',
        )
        .then((text) => saw(text)),
    )
  }
  wrap(JSON, 'parse', (result, args) => {
    saw(args[0])
    saw(result)
  })
  wrap(TextDecoder.prototype, 'decode', later)

  // Every message on every channel, both ways.
  const onMessage = (event: Event) => saw((event as MessageEvent).data)
  for (const Port of [MessagePort, BroadcastChannel, Worker]) {
    wrap(Port.prototype, 'postMessage', (_result, args) => saw(args[0]))
    const descriptor = Object.getOwnPropertyDescriptor(Port.prototype, 'onmessage')
    if (descriptor?.set) {
      Object.defineProperty(Port.prototype, 'onmessage', {
        ...descriptor,
        set(listener) {
          descriptor.set!.call(this, (event: MessageEvent) => {
            saw(event.data)
            return listener?.call(this, event)
          })
        },
      })
    }
  }
  // Beside every 'message' listener anyone adds, on any target, one of the attacker's.
  const listen = EventTarget.prototype.addEventListener
  EventTarget.prototype.addEventListener = function (type, listener, options) {
    if (type === 'message' && listener) listen.call(this, 'message', onMessage, options)
    return listen.call(this, type, listener, options)
  }
  listen.call(scope, 'message', onMessage)
  wrap(scope, 'postMessage', (_result, args) => saw(args[0]))
  const Broadcast = BroadcastChannel
  scope.BroadcastChannel = class extends Broadcast {
    constructor(name: string) {
      super(name)
      // A channel of its own under the same name: it hears everything posted there.
      listen.call(new Broadcast(name), 'message', onMessage)
    }
  } as never

  // Whatever is written to storage or cookies.
  wrap(Storage.prototype, 'setItem', (_result, args) => saw(args))
  wrap(IDBObjectStore.prototype, 'put', (_result, args) => saw(args[0]))
  wrap(IDBObjectStore.prototype, 'add', (_result, args) => saw(args[0]))
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie')!
  Object.defineProperty(Document.prototype, 'cookie', {
    ...cookie,
    set(value) {
      saw(value)
      cookie.set!.call(this, value)
    },
  })

  // The token worker: the attacker learns its script and name when the app starts it, and opens
  // a port of its own to the very same worker.
  const Shared = scope.SharedWorker as typeof SharedWorker
  let own: MessagePort | undefined
  let workerName = ''
  if (Shared) {
    // A class: the app calls it with `new`, and an arrow function cannot be.
    scope.SharedWorker = class {
      constructor(url: string | URL, options?: WorkerOptions) {
        const worker = new Shared(url, options)
        workerName = options?.name ?? ''
        if (!own) {
          own = new Shared(url, options).port
          listen.call(own, 'message', onMessage)
          own.start()
        }
        // biome-ignore lint/correctness/noConstructorReturn: the app gets the real worker
        return worker
      }
    } as never
  }
  scope.__attackerForge = async () => {
    if (!own) return []
    const config = JSON.parse(workerName.slice('spa-auth:'.length)) as Record<string, string>
    const origin = location.origin
    const forged: unknown[] = [
      { v: 1, type: 'hello', id: 9001 },
      { v: 1, type: 'token', reason: 'unauthorized', stale: 999_999, id: 9002 },
      { v: 1, type: 'token', reason: 'scheduled', id: 9003 },
      { v: 1, type: 'check', id: 9004 },
      {
        v: 1,
        type: 'authorize',
        params: { prompt: 'none', extraParams: { redirect_uri: 'https://evil.example/cb' } },
        id: 9005,
      },
      {
        v: 1,
        type: 'callback',
        url: `${origin}/callback?code=forged-code&state=forged-state&iss=${encodeURIComponent(config.issuer!.replace(/\/$/, ''))}`,
        transaction: {
          state: 'forged-state',
          verifier: 'v'.repeat(43),
          nonce: 'forged-nonce',
          redirectUri: config.redirectUri,
          issuer: config.issuer,
          clientId: config.clientId,
          createdAt: Date.now(),
        },
        id: 9006,
      },
      { v: 1, type: 'callback', url: 'javascript:alert(1)', transaction: null, id: 9007 },
      { v: 1, type: 'logout', revoke: 'yes', idTokenHint: 0, id: 9008 },
      { v: 2, type: 'logout', revoke: true, idTokenHint: false, id: 9009 },
      {
        v: 1,
        type: 'session',
        session: {
          status: 'authenticated',
          generation: 1e6,
          accessToken: 'planted',
          user: { sub: 'mallory' },
        },
      },
      {
        v: 1,
        type: 'adopt',
        json: { access_token: 'planted', refresh_token: 'planted-rt' },
        id: 9010,
      },
      { v: 1, type: 'reply', id: 1, ok: true, value: { status: 'unauthenticated' } },
      JSON.parse('{"v":1,"type":"hello","id":9011,"__proto__":{"type":"logout","revoke":true}}'),
    ]
    const port = own
    const answers: unknown[] = []
    const collect = (event: Event) => answers.push((event as MessageEvent).data)
    listen.call(port, 'message', collect)
    for (const message of forged) port.postMessage(message)
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    port.removeEventListener('message', collect)
    return answers.filter((a) => (a as { type?: string })?.type === 'reply')
  }

  if (noWorkers) {
    delete scope.SharedWorker
    delete scope.Worker
  }
}
