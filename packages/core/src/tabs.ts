import type { User } from './session.js'
import type { TokenResponse, TokenSet } from './tokens.js'

/** A token set as one tab hands it to a sibling: lifetimes relative, so clocks need not agree. */
export interface SharedSession {
  tokens: TokenResponse
  user: User | undefined
}

/** A token set as a sibling takes it: the lifetime left, relative to `now`. */
export function toShared(set: TokenSet, user: User | undefined, now: number): SharedSession {
  const tokens: TokenResponse = { accessToken: set.accessToken }
  if (set.expiresAt !== undefined) tokens.expiresIn = Math.max(0, (set.expiresAt - now) / 1000)
  if (set.refreshToken) tokens.refreshToken = set.refreshToken
  if (set.idToken) tokens.idToken = set.idToken
  if (set.scope) tokens.scope = set.scope
  return { tokens, user }
}

/** A message as a tab sends it; every one also carries `v: 1` and the sender's id as `from`. */
type Outgoing =
  | { type: 'session'; seq: number; session: SharedSession }
  | { type: 'logout' }
  | { type: 'ask'; id: string }
  | { type: 'answer'; to: string; id: string; seq: number; session: SharedSession }

type Message = Outgoing & { v: 1; from: string }

/** What the coordinator needs from its client. */
export interface TabPeer {
  /** The session to hand to a sibling that asks, if this tab has one. */
  current(): SharedSession | undefined
  /** A sibling has newer tokens: take them. */
  adopt(session: SharedSession): void
  /** A sibling signed out. */
  signOut(): void
}

const isString = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && v.length < 200

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null

function isSession(value: unknown): value is SharedSession {
  if (!isObject(value)) return false
  const { tokens: t, user } = value as Partial<SharedSession>
  const optional = (v: unknown, type: 'string' | 'number') => v === undefined || typeof v === type
  return (
    isObject(t) &&
    typeof t.accessToken === 'string' &&
    t.accessToken.length > 0 &&
    optional(t.refreshToken, 'string') &&
    optional(t.idToken, 'string') &&
    optional(t.scope, 'string') &&
    optional(t.expiresIn, 'number') &&
    (t.expiresIn === undefined || Number.isFinite(t.expiresIn)) &&
    (user === undefined || isObject(user))
  )
}

/** Checks a message's shape; anything else on the channel is ignored. */
export function parseMessage(data: unknown): Message | undefined {
  const m = data as Record<string, unknown> | null
  if (!isObject(m) || m.v !== 1 || !isString(m.from)) return undefined
  switch (m.type) {
    case 'logout':
      return m as Message
    case 'ask':
      return isString(m.id) ? (m as Message) : undefined
    case 'session':
      return Number.isSafeInteger(m.seq) && isSession(m.session) ? (m as Message) : undefined
    case 'answer':
      return isString(m.to) && isString(m.id) && Number.isSafeInteger(m.seq) && isSession(m.session)
        ? (m as Message)
        : undefined
    default:
      return undefined
  }
}

function randomId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(9)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('')
}

/**
 * One session per browser: tabs of one origin and one client refresh one at a time (Web Locks),
 * hand new tokens to each other and sign out together (BroadcastChannel). Where either API is
 * missing, every method still works, for this tab alone.
 */
export function createTabs(name: string, peer: TabPeer) {
  const id = randomId()
  const locks = globalThis.navigator?.locks
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(name) : undefined
  // A Lamport clock over token sets: the highest number is the newest set in any tab.
  let seq = 0
  const pending = new Map<string, (session: SharedSession | undefined) => void>()

  const post = (message: Outgoing) => channel?.postMessage({ v: 1, from: id, ...message })

  function onMessage(event: MessageEvent): void {
    const m = parseMessage(event.data)
    if (!m || m.from === id) return
    if (m.type === 'logout') {
      peer.signOut()
      return
    }
    if (m.type === 'ask') {
      const session = peer.current()
      if (session) post({ type: 'answer', to: m.from, id: m.id, seq, session })
      return
    }
    if (m.type === 'answer' && m.to !== id) return
    // Older than what this tab holds: a late message, or an answer from a tab that lags.
    if (m.seq <= seq) return
    seq = m.seq
    peer.adopt(m.session)
    if (m.type === 'answer') pending.get(m.id)?.(m.session)
  }
  channel?.addEventListener('message', onMessage)

  return {
    /** Whether this browser lets tabs cooperate. */
    shared: Boolean(locks && channel),
    /**
     * Runs `work` while no other tab of this client refreshes. `waited` tells whether another tab
     * held the lock first: its result may have arrived meanwhile.
     */
    async exclusive<T>(work: (waited: boolean) => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (!locks || !channel) return work(false)
      const free = await locks.request(`${name}:refresh`, { ifAvailable: true }, async (lock) =>
        lock ? { value: await work(false) } : undefined,
      )
      if (free) return free.value
      return locks.request(`${name}:refresh`, signal ? { signal } : {}, () => work(true))
    },
    /**
     * Asks the other tabs for their session and waits at most `ms` for a newer one than ours.
     * Resolves to the session adopted, if any.
     */
    ask(ms: number): Promise<SharedSession | undefined> {
      if (!channel) return Promise.resolve(undefined)
      const ask = randomId()
      return new Promise((resolve) => {
        const done = (session: SharedSession | undefined) => {
          clearTimeout(timer)
          pending.delete(ask)
          resolve(session)
        }
        const timer = setTimeout(() => done(undefined), ms)
        pending.set(ask, done)
        post({ type: 'ask', id: ask })
      })
    },
    /** Tells the other tabs this tab has new tokens. */
    publish(session: SharedSession): void {
      seq += 1
      post({ type: 'session', seq, session })
    },
    /** Tells the other tabs this tab signed out. */
    publishLogout(): void {
      post({ type: 'logout' })
    },
    close(): void {
      channel?.removeEventListener('message', onMessage)
      channel?.close()
      for (const resolve of pending.values()) resolve(undefined)
    },
  }
}

/** The tab coordinator. */
export type Tabs = ReturnType<typeof createTabs>
