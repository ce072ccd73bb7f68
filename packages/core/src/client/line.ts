import { abortable, type Clock, monotonic } from '../clock.js'
import { AuthError } from '../errors.js'
import type { Emitter } from '../events.js'
import type { Answers, Request, Snapshot } from '../protocol.js'
import type { TokenJson } from '../token-json.js'
import type { User } from '../types.js'
import { createCopy } from './copy.js'
import { connect, type EngineLink } from './link.js'
import type { ResolvedOptions } from './options.js'
import type { SessionStore } from './session.js'

type Ask = <R extends Request>(request: R) => Promise<Answers[R['type']]>

/** The questions pages ask the engine about tokens: one at a time for every caller that waits. */
function createQuestions(ask: Ask, apply: (s: Snapshot) => Snapshot, clock: Clock) {
  // One question at a time per token (the session's, each API's): by API name, then generation.
  const asking = new Map<string | undefined, Promise<Snapshot>>()
  const curing = new Map<string, Promise<Snapshot>>()
  /** Asks once for every caller that asks meanwhile. */
  const once = <K>(
    map: Map<K, Promise<Snapshot>>,
    key: K,
    request: Request & { type: 'token' },
  ) => {
    let answer = map.get(key)
    if (!answer) {
      answer = ask(request)
        .then(apply)
        .finally(() => map.delete(key))
      map.set(key, answer)
    }
    return answer
  }
  return {
    /**
     * A valid token (with `api`, that API's own): the current one until it is due, as it is (no
     * promise, no wait: the common call), then the engine's. Throws when signed out.
     */
    token(now: Snapshot | undefined, signal?: AbortSignal, api?: string) {
      if (!now?.accessToken) {
        throw new AuthError('login_required', 'Not signed in: call login() first')
      }
      const held = api === undefined ? now : (now.apis?.[api] as Snapshot | undefined)
      // Due by either clock is due, as the engine judges: a wall clock set back holds no token
      // past its time, and one that ran on while the monotonic clock slept does not either.
      if (
        held &&
        (held.refreshIn === undefined ||
          (clock.now() < held.refreshAt! && monotonic(clock) < held.refreshBy!))
      )
        return held
      return abortable(once(asking, api, { type: 'token', reason: 'scheduled', api }), signal)
    },
    /** After a 401 to `sent`: one question per token, whoever else met the same 401. */
    rejected(sent: Snapshot, signal?: AbortSignal, api?: string): Promise<Snapshot> {
      const request = {
        type: 'token',
        reason: 'unauthorized',
        stale: sent.generation,
        api,
      } as const
      return abortable(once(curing, `${api ?? ''} ${sent.generation}`, request), signal)
    },
  }
}

/**
 * The page's line to the engine and its copy of the session, kept in step with the engine's
 * snapshots; where each tab keeps its own session, the others hear of a sign-out.
 */
export function createLine(options: ResolvedOptions, store: SessionStore, emitter: Emitter) {
  const copy = createCopy(store, options.clock)
  let linking: Promise<EngineLink> | undefined
  let linked: EngineLink | undefined
  let channel: BroadcastChannel | undefined

  function link(): Promise<EngineLink> {
    const config = options.engine
    linking ??= connect(
      {
        config,
        worker: options.tokenWorker,
        shared: options.crossTab,
        clock: options.clock,
        inPage: (listener) =>
          import('../engine/in-page.js').then(({ startInPage }) =>
            startInPage({ ...options, config }, listener),
          ),
      },
      (message) => {
        if (message.type === 'session') copy.apply(message.session)
        else emitter.emit(message.event)
      },
    ).then(async (connected) => {
      linked = connected
      emitter.emit({ type: 'connected', holder: connected.kind })
      copy.apply(await connected.request({ type: 'hello' }))
      // Each tab revokes its own tokens when another signs out (loaded only where it is needed).
      if (connected.kind !== 'shared-worker') {
        channel ??= (await import('./channel.js')).logoutChannel(options, onLogout)
      }
      return connected
    })
    return linking
  }

  const request: Ask = async (r) => (await link()).request(r)
  const questions = createQuestions(request, copy.apply, options.clock)

  function onLogout(): void {
    if (!copy.current()) return
    copy.forget()
    request({ type: 'logout', revoke: true }).catch(() => {})
  }

  return {
    ...copy,
    link,
    request,
    /** Tells the other tabs that keep their own session that this one signed out. */
    announceLogout: () => channel?.postMessage({ v: 1, type: 'logout' }),
    token: (signal?: AbortSignal, api?: string) => questions.token(copy.current(), signal, api),
    rejected: questions.rejected,
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
