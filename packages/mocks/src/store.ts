import type { JWK } from 'jose'
import type { SharedFaults } from './faults.js'

/** The servers that check DPoP proofs: the token endpoint, and the API (with userinfo). */
export type MockDpopServer = 'token' | 'api'

/**
 * A DPoP proof the mock saw, for a timeline or a test: what it claimed and how it was answered.
 * It holds no token.
 */
export interface MockDpopProof {
  server: MockDpopServer
  /** The proof's `htm` and `htu` (the request's when the proof does not say). */
  htm: string
  htu: string
  nonce?: string
  /** The SHA-256 thumbprint of the proof's key, once its signature checked out. */
  jkt?: string
  accepted: boolean
  /** `invalid_dpop_proof` or `use_dpop_nonce`, with what was wrong. */
  error?: string
  description?: string
}

/** What the mock keeps of DPoP: nonces, the `jti`s of recent proofs, the proofs seen. */
export interface DpopState {
  nonces?: Record<MockDpopServer, string>
  /** The `jti` of each proof still inside the `iat` window, with its `iat`: replays are refused. */
  jtis: Record<string, number>
  proofs: MockDpopProof[]
}

/** A database the mock provider shares with other realms (pages, workers). */
export interface MockPersistence {
  load(): string | null | Promise<string | null>
  save(value: string): void | Promise<void>
  /** Runs `work` while no other realm changes the database (Web Locks, for one). */
  lock?<T>(work: () => Promise<T>): Promise<T>
}

/** What a sign-in established: who, when, and how strongly (`acr`). */
export interface Session {
  sub: string
  authTime: number
  /** Absent in databases saved before step-up: a password sign-in. */
  acr?: string
}

/** An authorization code's grant. */
export interface CodeRecord {
  clientId: string
  redirectUri: string
  challenge: string
  nonce?: string
  scope: string
  sub: string
  authTime: number
  acr?: string
  /** The `dpop_jkt` of the authorization request: the key the exchange's proof must be of. */
  dpopJkt?: string
  /** The `audience` the authorization request named: the tokens' `aud`. */
  audience?: string
  /** The `resource` indicators the authorization request named (RFC 8707). */
  resources?: string[]
  used: boolean
  family?: string
}

/** A refresh token's grant, stored under the token's hash. */
export interface RefreshRecord {
  family: string
  sub: string
  scope: string
  used: boolean
  authTime?: number
  acr?: string
  /** The thumbprint of the DPoP key the token is bound to. */
  jkt?: string
  /** The `aud` of the grant's access tokens, when the sign-in named one. */
  audience?: string
  /** The resources the sign-in named: a refresh may ask for a token for any of them. */
  resources?: string[]
}

/** What the mock counts, by name. */
export const COUNTS = [
  'discovery',
  'token',
  'code',
  'refresh',
  'revocation',
  'api',
  'userinfo',
  /** `use_dpop_nonce` answers, of either server. */
  'dpopNonce',
  /** DPoP proofs refused (`invalid_dpop_proof`). */
  'dpopRejected',
  /** `insufficient_user_authentication` answers of the API. */
  'stepUp',
  /** Sign-ins that passed the second factor. */
  'mfa',
] as const
export type CountName = (typeof COUNTS)[number]

/** The provider's records: what a real provider keeps on its server. Never a token in clear. */
export interface Db {
  keys?: { privateJwk: JWK; publicJwk: JWK }
  /** Codes by value: single-use. */
  codes: Record<string, CodeRecord>
  /** Refresh tokens by SHA-256 hash, so no token is ever stored in clear. */
  refresh: Record<string, RefreshRecord>
  revokedFamilies: string[]
  revokedJtis: string[]
  issuedJtis: string[]
  /** The grant (family) each access token was issued under, by `jti`. */
  jtiFamilies: Record<string, string>
  session?: Session
  accessTokenLifetime: number
  /** Faults every realm sees (`setFaults`). */
  faults: SharedFaults
  counts: Record<CountName, number>
  dpop: DpopState
}

/** An empty database. */
export function emptyDb(accessTokenLifetime: number): Db {
  return {
    codes: {},
    refresh: {},
    revokedFamilies: [],
    revokedJtis: [],
    issuedJtis: [],
    jtiFamilies: {},
    accessTokenLifetime,
    faults: {},
    counts: Object.fromEntries(COUNTS.map((name) => [name, 0])) as Db['counts'],
    dpop: { jtis: {}, proofs: [] },
  }
}

/**
 * The database of this realm, and how to change it: at once in memory, or, when it is shared,
 * under the lock between a fresh read and a save, so that no realm loses another's change.
 */
export function createStore(persist: MockPersistence | undefined, empty: () => Db) {
  const db = empty()

  /** Reads the database again: other tabs and the token worker are other copies of this provider. */
  async function reload(): Promise<void> {
    if (!persist) return
    let latest = empty()
    try {
      const saved = await persist.load()
      // Counters and DPoP records added since the database was saved start empty.
      if (saved) {
        const read = JSON.parse(saved) as Partial<Db>
        latest = {
          ...latest,
          ...read,
          counts: { ...latest.counts, ...read.counts },
          dpop: { ...latest.dpop, ...read.dpop },
        }
      }
    } catch {}
    for (const key of Object.keys(db)) delete db[key as keyof Db]
    Object.assign(db, latest)
  }

  function change<T>(mutate: () => T | Promise<T>): Promise<T> {
    if (!persist) return Promise.resolve(mutate())
    const work = async () => {
      await reload()
      const result = await mutate()
      await persist.save(JSON.stringify(db))
      return result
    }
    return persist.lock ? persist.lock(work) : work()
  }

  return { db, reload, change }
}
