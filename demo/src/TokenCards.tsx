import { useAuth } from '@spa-auth/react'
import { useEffect, useState } from 'react'
import { bffPrefix } from './auth'
import { HOLDERS, useHolder } from './timeline'

function useNow(intervalMs = 250): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs)
    return () => clearInterval(id)
  }, [intervalMs])
  return now
}

/** The access token's seconds left, ticking. */
export function Countdown() {
  const expiresAt = useAuth((s) => s.expiresAt)
  const now = useNow()
  if (expiresAt === undefined) return <span className="big">unknown</span>
  const left = Math.max(0, Math.ceil((expiresAt - now) / 1000))
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
