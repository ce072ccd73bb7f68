import type { JWK } from 'jose'
import type { MockFaults } from './faults.js'
import type { Db } from './store.js'

/** A protected resource of its own audience: it answers `GET {url}/api/me`. */
export interface MockResource {
  url: string
  audience: string
}

/** What the mock's endpoints share: who they are, the database, the clock and the keys. */
export interface MockContext {
  readonly issuer: string
  readonly clientId: string
  readonly apiOrigin: string
  /** The provider ignores `resource`, `audience` and `scope` at a refresh (no RFC 8707). */
  readonly ignoresResources: boolean
  /** The protected resources besides the API: each one's URL and the `aud` it takes. */
  readonly resources: readonly MockResource[]
  readonly tokenEndpoint: string
  /** This realm's copy of the database; change it only inside `change`. */
  readonly db: Db
  /** This realm's faults; they win over `db.faults`. */
  readonly faults: MockFaults
  /** The provider's clock, in seconds. */
  seconds(): number
  /** Runs `mutate` on the latest database and saves it (see `createStore`). */
  change<T>(mutate: () => T | Promise<T>): Promise<T>
  /** The signing key, made once. Await it before `change`: making it takes the lock. */
  keys(): Promise<{ privateKey: CryptoKey; publicJwk: JWK }>
  /** Signs claims as the issuer, for `lifetime` seconds. */
  sign(claims: Record<string, unknown>, lifetime: number, typ?: string): Promise<string>
}
