import { abortable } from '../clock.js'
import { AuthError } from '../errors.js'
import type { Emitter } from '../events.js'
import type { Broadcast, Snapshot } from '../protocol.js'
import type { TokenJson } from '../token-json.js'
import type { User } from '../types.js'
import { connect, type EngineLink } from './link.js'
import type { ResolvedOptions } from './options.js'
import {
  type SessionStore,
  toSignedOut,
  toSnapshot,
  toUnauthenticated,
  withError,
} from './session.js'

/**
 * The page's line to the engine and its copy of the session: the access token (never a refresh
 * token), kept in step with the engine's snapshots, and the questions to ask it, one at a time
 * for every caller that waits on the answer.
 */
export function createLine(options: ResolvedOptions, store: SessionStore, emitter: Emitter) {
  const { clock, engine: config } = options
  let session: Snapshot | undefined
  let generation = -1
  // The generation this page signed out at: what the engine sent before it heard of the sign-out
  // (a refresh landing, an answer on its way) must not bring the session back.
  let forgotten = -1
  let linking: Promise<EngineLink> | undefined
  let linked: EngineLink | undefined
  let channel: BroadcastChannel | undefined
  let asking: Promise<Snapshot> | undefined
  const curing = new Map<number, Promise<Snapshot>>()

  /** Takes the engine's snapshot, unless a newer one came first. */
  function apply(s: Snapshot): Snapshot {
    if (s.generation < generation || s.generation <= forgotten) return s
    generation = s.generation
    session = s.status === 'authenticated' ? s : undefined
    // While the first status settles, "nobody signed in" is not an answer yet.
    if (session || store.getState().status !== 'loading') toSnapshot(store, s)
    return s
  }

  function onBroadcast(message: Broadcast): void {
    if (message.type === 'session') apply(message.session)
    else emitter.emit(message.event)
  }

  function link(): Promise<EngineLink> {
    linking ??= connect(
      {
        config,
        worker: options.tokenWorker,
        shared: options.crossTab,
        clock,
        inPage: (listener) =>
          import('../engine/in-page.js').then(({ startInPage }) =>
            startInPage({ ...options, config }, listener),
          ),
      },
      onBroadcast,
    ).then(async (connected) => {
      linked = connected
      const holder = { shared: 'shared-worker', dedicated: 'worker', page: 'page' } as const
      emitter.emit({ type: 'connected', holder: holder[connected.kind] })
      apply(await connected.request({ type: 'hello' }))
      if (connected.kind !== 'shared') openLogoutChannel()
      return connected
    })
    return linking
  }

  const request: EngineLink['request'] = async (r) => (await link()).request(r)

  /** Signs this page out at once: no token is handed out from here on. */
  function forget(): void {
    session = undefined
    forgotten = generation
    toSignedOut(store)
  }

  /**
   * Where each tab keeps its own session, a sign-out in one reaches the others: a message that
   * carries nothing but "signed out", on which each tab revokes its own tokens.
   */
  function openLogoutChannel(): void {
    if (!options.crossTab || typeof BroadcastChannel !== 'function' || channel) return
    const name = config ? `${config.issuer}|${config.clientId}` : 'custom'
    channel = new BroadcastChannel(`spa-auth:${name}`)
    channel.onmessage = (event) => {
      const data = event.data as { v?: unknown; type?: unknown } | null
      if (data?.v !== 1 || data.type !== 'logout' || !session) return
      forget()
      request({ type: 'logout', revoke: true, idTokenHint: false }).catch(() => {})
    }
  }

  return {
    link,
    request,
    apply,
    forget,
    /** The session's tokens now; undefined when signed out. */
    current: () => session,
    /** A failure to show: beside the session, or as the reason there is none (if any). */
    failed(error?: AuthError): void {
      if (session) withError(store, error)
      else toUnauthenticated(store, error)
    },
    /** Tells the other tabs that keep their own session that this one signed out. */
    announceLogout: () => channel?.postMessage({ v: 1, type: 'logout' }),
    /** A valid token: the current one until it is due, then the engine's (one question). */
    async token(signal?: AbortSignal): Promise<Snapshot> {
      const now = session
      if (!now?.accessToken)
        throw new AuthError('login_required', 'Not signed in: call login() first')
      if (now.refreshAt === undefined || clock.now() < now.refreshAt) return now
      asking ??= request({ type: 'token', reason: 'scheduled' })
        .then(apply)
        .finally(() => {
          asking = undefined
        })
      return abortable(asking, signal)
    },
    /** After a 401 to `sent`: one question per token, whoever else met the same 401. */
    rejected(sent: Snapshot, signal: AbortSignal): Promise<Snapshot> {
      let cure = curing.get(sent.generation)
      if (!cure) {
        cure = request({ type: 'token', reason: 'unauthorized', stale: sent.generation })
          .then(apply)
          .finally(() => curing.delete(sent.generation))
        curing.set(sent.generation, cure)
      }
      return abortable(cure, signal)
    },
    /** Hands tokens from the app's backend to the engine in the page (a custom token source). */
    adopt: (json: TokenJson, user: User | undefined, at: number) =>
      link().then((l) => l.adopt?.(json, user, at)),
    /** Closes a worker's port for good (a later call opens another); stops an in-page engine. */
    close(): void {
      channel?.close()
      channel = undefined
      linked?.close()
      if (linked?.kind !== 'page') linking = linked = undefined
    },
  }
}

/** The page's line to the engine. */
export type Line = ReturnType<typeof createLine>
