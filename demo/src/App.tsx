import { useAuth } from '@spa-auth/react'
import { useState } from 'react'
import { bffPrefix, mocked } from './auth'
import { Dashboard } from './Dashboard'
import { DpopSettings } from './Dpop'

/** The demo app: a sign-in screen, or the dashboard once signed in. */
export function App() {
  const { status, user, error, login, loginWithPopup } = useAuth()
  const [popupError, setPopupError] = useState<string>()
  // In the click handler itself: a popup opened after an await is blocked.
  const signInInPopup = () => {
    setPopupError(undefined)
    loginWithPopup().catch((failure: { code?: string; message: string }) =>
      setPopupError(`${failure.code}: ${failure.message}`),
    )
  }
  return (
    <div className="page">
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden>
            ◆
          </span>
          spa-auth <span className="muted">demo</span>
        </div>
        <span className={`pill pill-${status}`} data-testid="status">
          {status === 'authenticated' ? `Signed in as ${user?.name}` : status}
        </span>
      </header>
      {status === 'authenticated' ? (
        <Dashboard />
      ) : (
        <main className="hero">
          <h1>Sign-in that stays out of your way</h1>
          <p className="lead">
            OAuth 2.0 authorization code + PKCE, tokens in memory only, refreshed before they
            expire, and a <code>fetch</code> that survives a 401.{' '}
            {mocked
              ? 'This demo runs against a mock provider and API inside your browser.'
              : bffPrefix
                ? 'This demo runs through a backend-for-frontend: the tokens stay on the server.'
                : 'This demo runs against a real OpenID provider and API on this machine.'}
          </p>
          {error && (
            <p className="notice" role="alert">
              {error.code === 'session_expired'
                ? 'Your session ended. Sign in again to continue.'
                : `Sign-in failed: ${error.description ?? error.message}`}
            </p>
          )}
          <button
            type="button"
            className="primary"
            disabled={status === 'loading'}
            onClick={() => login({ returnTo: '/' })}
          >
            {status === 'loading' ? 'Loading…' : 'Sign in'}
          </button>{' '}
          <button type="button" disabled={status === 'loading'} onClick={signInInPopup}>
            Sign in in a popup
          </button>
          {popupError && (
            <p className="notice" role="alert" data-testid="popup-error">
              {popupError}
            </p>
          )}
          <DpopSettings />
        </main>
      )}
    </div>
  )
}
