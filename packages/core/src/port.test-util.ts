import { afterEach } from 'vitest'
import { type Clock, systemClock } from './clock.js'
import { createEngine, type Engine } from './engine/engine.js'
import { servePort } from './engine/serve.js'
import type { TokenWorkerOption } from './index.js'
import { parseWorkerName } from './protocol.js'

const open: MessagePort[] = []
afterEach(() => {
  for (const port of open.splice(0)) port.close()
})

/**
 * A token worker in this realm: one engine, made from the worker name the page chose (as the
 * real worker script does), served over a real `MessageChannel` per page that connects. Every
 * message the engine sends is kept, for tests that look for what must never cross a port.
 */
export function portWorker(io: { clock?: Clock } = {}) {
  let engine: Engine | undefined
  let named = ''
  const sent: unknown[] = []
  const pages: MessagePort[] = []

  /** A port to the engine of the worker called `name`, as a page's or an attacker's script gets one. */
  function connect(name: string): MessagePort {
    const config = parseWorkerName(name)
    if (!config) throw new Error(`not a token worker name: ${name}`)
    named = name
    engine ??= createEngine({
      config,
      refreshLeeway: config.refreshLeeway,
      requestTimeout: config.requestTimeout,
      // The realm's fetch, which MSW answers: as the worker's own fetch would go to the network.
      fetch: (input, init) => fetch(input, init),
      clock: io.clock ?? systemClock,
    })
    const { port1, port2 } = new MessageChannel()
    const post = port2.postMessage.bind(port2)
    port2.postMessage = (message: unknown) => {
      sent.push(message)
      post(message)
    }
    servePort(engine, port2 as never)
    open.push(port1, port2)
    pages.push(port1)
    return port1
  }

  const factory: TokenWorkerOption = ({ name }) =>
    Object.assign(new EventTarget(), { port: connect(name) }) as unknown as SharedWorker

  return {
    /** The `tokenWorker` option that starts this worker. */
    factory,
    connect,
    /** Every message the engine sent, to any port, oldest first. */
    sent,
    /** The pages' ends of the ports, oldest first. */
    pages,
    get engine() {
      return engine
    },
    /** The name the pages started the worker with (it carries their configuration). */
    get name() {
      return named
    },
  }
}

/** Sends `message` on `port` and resolves with the engine's answer to it, or undefined after `ms`. */
export function ask(port: MessagePort, message: unknown, ms = 200): Promise<unknown> {
  return new Promise((resolve) => {
    const id = (message as { id?: number } | null)?.id
    const timer = setTimeout(() => {
      port.removeEventListener('message', onMessage)
      resolve(undefined)
    }, ms)
    function onMessage(event: MessageEvent) {
      const data = event.data as { type?: string; id?: number }
      if (data?.type !== 'reply' || data.id !== id) return
      clearTimeout(timer)
      port.removeEventListener('message', onMessage)
      resolve(data)
    }
    port.addEventListener('message', onMessage)
    port.start()
    port.postMessage(message)
  })
}
