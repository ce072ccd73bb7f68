import type { AuthError } from '@spa-auth/core'
import { useAuth, useAuthFetch } from '@spa-auth/react'
import { useEffect, useState } from 'react'
import { apiBase, bffPrefix, mocked } from './auth'
import { DpopCard } from './Dpop'
import { billing, idp, setSharedFault } from './mock-idp'
import { Timeline } from './TimelineCard'
import { Countdown, RefreshTokenCard } from './TokenCards'
import { TransferCard } from './Transfer'
import { log } from './timeline'

const LIFETIMES = [15, 60, 3600]

/** Why the session shows an error while the user is still signed in. */
function sessionNotice(error: AuthError): string {
  // A sign-in again (a step-up) that the user declined or the provider refused: the session
  // from before goes on, and nothing retries.
  if (error.code === 'authorization_error') {
    return `Still signed in as before: the sign-in at the provider did not complete (${error.oauthError ?? error.code}).`
  }
  return `Still signed in, but the last refresh failed (${error.code}): ${error.message}. Retrying.`
}

/** The signed-in screen: who, how long the token lives, what to try, and what happened. */
export function Dashboard() {
  const { user, error, logout } = useAuth()
  const authFetch = useAuthFetch()
  const [lifetime, setLifetime] = useState(60)
  const [down, setDown] = useState(false)
  const [lastResult, setLastResult] = useState<string>()

  // The token endpoint's state lives with the mock provider's database, which a reload keeps.
  useEffect(() => {
    if (!mocked) return
    idp.sync().then(() => {
      setDown(Boolean(idp.sharedFaults.token))
      setLifetime(idp.accessTokenLifetime)
    })
  }, [])

  const callApi = async () => {
    try {
      const response = await authFetch(`${apiBase}/api/me`)
      // Behind two BFF instances, which one answered (the demo's BFF names itself).
      const instance = response.headers.get('spa-auth-instance')
      setLastResult(`GET /api/me → ${response.status}`)
      log(
        response.ok ? 'ok' : 'error',
        `GET /api/me → ${response.status}`,
        instance ? `answered by BFF instance ${instance}` : undefined,
      )
    } catch (error) {
      setLastResult(`GET /api/me failed: ${(error as Error).message}`)
      log('error', 'GET /api/me failed', (error as Error).message)
    }
  }

  // The second API answers with the audience of the token it took: which token went where, never
  // the token itself.
  const callBilling = async () => {
    try {
      const response = await authFetch(`${billing.url}/api/me`)
      const { aud } = response.ok ? ((await response.json()) as { aud?: string }) : {}
      const said = `GET /billing/api/me → ${response.status}${aud ? `, a token for ${aud}` : ''}`
      setLastResult(said)
      log(response.ok ? 'ok' : 'error', said, 'the billing API takes its own audience only')
    } catch (error) {
      setLastResult(`GET /billing/api/me failed: ${(error as Error).message}`)
      log('error', 'GET /billing/api/me failed', (error as Error).message)
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
    await setSharedFault('token', down ? undefined : { kind: 'network' })
    setDown(!down)
    log(down ? 'ok' : 'warn', down ? 'Token endpoint is back' : 'Token endpoint is down')
  }

  return (
    <main className="grid">
      {error && (
        <p className="notice wide" role="status" data-testid="session-error">
          {sessionNotice(error)}
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
        <p className="muted small">
          {bffPrefix
            ? 'Held by the BFF, which refreshes it when a call needs it; never in this browser.'
            : 'Kept in memory only; refreshed before it expires.'}
        </p>
        {mocked && (
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

      <DpopCard />
      <TransferCard />

      <section className="card wide">
        <h2>Try it</h2>
        <div className="actions">
          <button type="button" className="primary" onClick={callApi}>
            Call the API
          </button>
          {/* These drive the mock provider; a real one is driven from its own side. */}
          {mocked && (
            <>
              <button type="button" onClick={callBilling}>
                Call the billing API
              </button>
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
