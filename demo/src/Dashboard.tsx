import { useAuth, useAuthFetch } from '@spa-auth/react'
import { useEffect, useState } from 'react'
import { apiBase, realIssuer } from './auth'
import { idp } from './mock-idp'
import { clearTimeline, HOLDERS, log, useHolder, useTimeline } from './timeline'

function useNow(intervalMs = 250): number {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs)
    return () => clearInterval(id)
  }, [intervalMs])
  return now
}

function Countdown() {
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

const LIFETIMES = [15, 60, 3600]

/** The signed-in screen: who, how long the token lives, what to try, and what happened. */
export function Dashboard() {
  const { user, error, logout } = useAuth()
  const authFetch = useAuthFetch()
  const [lifetime, setLifetime] = useState(60)
  const [down, setDown] = useState(false)
  const [lastResult, setLastResult] = useState<string>()

  // The token endpoint's state lives with the mock provider's database, which a reload keeps.
  useEffect(() => {
    if (realIssuer) return
    idp.sync().then(() => {
      setDown(Boolean(idp.sharedFaults.token))
      setLifetime(idp.accessTokenLifetime)
    })
  }, [])

  const callApi = async () => {
    try {
      const response = await authFetch(`${apiBase}/api/me`)
      setLastResult(`GET /api/me → ${response.status}`)
      log(response.ok ? 'ok' : 'error', `GET /api/me → ${response.status}`)
    } catch (error) {
      setLastResult(`GET /api/me failed: ${(error as Error).message}`)
      log('error', 'GET /api/me failed', (error as Error).message)
    }
  }

  const burst = async () => {
    // The token worker refreshes: its count is in the mock provider's shared database.
    await idp.sync()
    const before = idp.counts.refresh
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => authFetch('/api/orders')),
    )
    const ok = results.filter((r) => r.status === 'fulfilled' && r.value.ok).length
    await idp.sync()
    const refreshes = idp.counts.refresh - before
    setLastResult(`20 calls: ${ok} ok, ${refreshes} refresh${refreshes === 1 ? '' : 'es'}`)
    log(
      ok === 20 ? 'ok' : 'warn',
      `Burst: 20 parallel calls → ${ok} ok`,
      `${refreshes} token refresh(es) at the provider`,
    )
  }

  const changeLifetime = (seconds: number) => {
    setLifetime(seconds)
    void idp.setAccessTokenLifetime(seconds)
    log('info', `Access tokens now live ${seconds} s`, 'applies from the next token')
  }

  const toggleDown = async () => {
    await idp.setFaults(down ? {} : { token: { kind: 'network' } })
    setDown(!down)
    log(down ? 'ok' : 'warn', down ? 'Token endpoint is back' : 'Token endpoint is down')
  }

  return (
    <main className="grid">
      {error && (
        <p className="notice wide" role="status" data-testid="session-error">
          Still signed in, but the last refresh failed ({error.code}): {error.message}. Retrying.
        </p>
      )}
      <section className="card">
        <h2>Who</h2>
        <dl className="claims" data-testid="claims">
          <dt>name</dt>
          <dd>{user?.name}</dd>
          <dt>email</dt>
          <dd>{user?.email}</dd>
          <dt>sub</dt>
          <dd>
            <code>{user?.sub}</code>
          </dd>
        </dl>
      </section>

      <section className="card">
        <h2>Access token</h2>
        <p className="muted">Expires in</p>
        <Countdown />
        <p className="muted small">Kept in memory only; refreshed before it expires.</p>
        {!realIssuer && (
          <fieldset className="segmented" aria-label="Token lifetime">
            {LIFETIMES.map((s) => (
              <button
                type="button"
                key={s}
                className={s === lifetime ? 'on' : ''}
                onClick={() => changeLifetime(s)}
              >
                {s < 3600 ? `${s} s` : '1 h'}
              </button>
            ))}
          </fieldset>
        )}
      </section>

      <RefreshTokenCard />

      <section className="card wide">
        <h2>Try it</h2>
        <div className="actions">
          <button type="button" className="primary" onClick={callApi}>
            Call the API
          </button>
          {/* These drive the mock provider; a real one is driven from its own side. */}
          {!realIssuer && (
            <>
              <button type="button" onClick={burst}>
                Burst 20 calls
              </button>
              <button
                type="button"
                onClick={async () => {
                  await idp.revokeAccessTokens()
                  log('warn', 'Access token revoked at the server', 'the next call meets a 401')
                }}
              >
                Revoke access token
              </button>
              <button
                type="button"
                onClick={async () => {
                  await idp.revokeRefreshTokens()
                  await idp.revokeAccessTokens()
                  log(
                    'warn',
                    'Refresh token revoked at the server',
                    'the next refresh ends the session',
                  )
                }}
              >
                Revoke refresh token
              </button>
              <button type="button" className={down ? 'danger on' : ''} onClick={toggleDown}>
                {down ? 'Bring token endpoint back' : 'Take token endpoint down'}
              </button>
            </>
          )}
          <button type="button" className="ghost" onClick={() => logout({ returnTo: '/' })}>
            Sign out
          </button>
        </div>
        {lastResult && (
          <p className="result" data-testid="result">
            {lastResult}
          </p>
        )}
      </section>

      <Timeline />
    </main>
  )
}

/** Where the refresh token lives: the one thing a page script must never reach. */
function RefreshTokenCard() {
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
          : 'This page has never seen it. It rotates at every refresh.'}
      </p>
    </section>
  )
}

function Timeline() {
  const entries = useTimeline()
  return (
    <section className="card wide">
      <div className="row spread">
        <h2>Timeline</h2>
        <button type="button" className="ghost small" onClick={clearTimeline}>
          Clear
        </button>
      </div>
      <ol className="timeline" data-testid="timeline">
        {entries.map((e) => (
          <li key={e.id} className={`tone-${e.tone}`}>
            <time>{e.at.toLocaleTimeString()}</time>
            <span className="title">{e.title}</span>
            {e.detail && <span className="detail">{e.detail}</span>}
          </li>
        ))}
        {entries.length === 0 && <li className="muted">Nothing yet.</li>}
      </ol>
    </section>
  )
}
