import type { Transaction } from '../protocol.js'

/** The part of `Storage` spa-auth uses for the login transaction. */
export type TransactionStorage = Pick<
  Storage,
  'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'
>

// The transaction (verifier, state, nonce, where to go afterwards) waits in sessionStorage (per
// tab) under a key derived from the state, so two logins in two tabs never collide, and is
// deleted when the callback reads it. It holds no token.
const PREFIX = 'spa-auth:tx:'
/** A login left unfinished for this long is abandoned: refused at the callback, swept at the next login. */
export const TRANSACTION_LIFETIME_MS = 30 * 60_000

/** Deletes the stored transactions `select` picks (all of them by default). */
export function clearTransactions(
  storage: TransactionStorage,
  select: (tx: Partial<Transaction> | undefined) => boolean = () => true,
): void {
  // Backwards: removing an item shifts the indexes of the ones after it.
  for (let i = storage.length - 1; i >= 0; i--) {
    const key = storage.key(i)
    if (!key?.startsWith(PREFIX)) continue
    if (select(parse(storage.getItem(key)) as Partial<Transaction> | undefined))
      storage.removeItem(key)
  }
}

/** Stores a transaction, sweeping abandoned ones first. */
export function saveTransaction(storage: TransactionStorage, tx: Transaction, now: number): void {
  clearTransactions(storage, (old) => !(now - Number(old?.createdAt) < TRANSACTION_LIFETIME_MS))
  storage.setItem(PREFIX + tx.state, JSON.stringify(tx))
}

/** Reads and deletes the transaction of `state` at once: a transaction is used once. */
export function takeTransaction(
  storage: TransactionStorage,
  state: string,
): Transaction | undefined {
  const key = PREFIX + state
  const raw = storage.getItem(key)
  storage.removeItem(key)
  const tx = parse(raw) as Transaction | undefined
  return tx && typeof tx.verifier === 'string' && tx.state === state ? tx : undefined
}

function parse(raw: string | null): unknown {
  try {
    return raw === null ? undefined : JSON.parse(raw)
  } catch {
    return undefined
  }
}
