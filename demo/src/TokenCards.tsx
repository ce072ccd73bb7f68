import { useAuth } from '@spa-auth/react'
import { useEffect, useState } from 'react'
import { bffPrefix } from './auth'
import { HOLDERS, useHolder } from './timeline'

/**
 * Whole seconds left until `expiresAt`, rendered again only when the number shown changes: once a
 * second, on the second's edge, not on a fast interval that keeps every open tab busy.
 */
function useSecondsLeft(expiresAt: number | undefined): number | undefined {
  const [, rendered] = useState(0)
  useEffect(() => {
    if (expiresAt === undefined) return
    let id: ReturnType<typeof setTimeout>
    const next = () => {
      const edge = (expiresAt - Date.now()) % 1000
      id = setTimeout(
        () => {
          rendered((n) => n + 1)
          next()
        },
        edge > 0 ? edge + 5 : 1000,
      )
    }
    next()
    return () => clearTimeout(id)
  }, [expiresAt])
  return expiresAt === undefined
    ? undefined
    : Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000))
}

/** The access token's seconds left, ticking. */
export function Countdown() {
  const left = useSecondsLeft(useAuth((s) => s.expiresAt))
  if (left === undefined) return <span className="big">unknown</span>
  return (
    <span className="big" data-testid="countdown">
      {left} s
    </span>
  )
}

/** Where the refresh token lives: the one thing a page script must never reach. */
export function RefreshTokenCard() {
  const holder = useHolder()
  return (
    <section className="card">
      <h2>Refresh token</h2>
      <p className="muted">Held by</p>
      <p className="holder" data-testid="holder">
        {holder ? HOLDERS[holder] : '…'}
      </p>
      <p className="muted small">
        {holder === 'page'
          ? 'No worker could start: page script could reach it here.'
          : bffPrefix
            ? 'This browser has never seen it, nor the access token: the BFF attaches that to each API call.'
            : 'This page has never seen it. It rotates at every refresh.'}
      </p>
    </section>
  )
}
