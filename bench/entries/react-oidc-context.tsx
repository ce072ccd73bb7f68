// The same React app on react-oidc-context (with oidc-client-ts).
import { useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { AuthProvider, useAuth } from 'react-oidc-context'

const API = 'https://api.example.com/me'

function Profile() {
  const auth = useAuth()
  const [me, setMe] = useState('')
  const token = auth.user?.access_token
  useEffect(() => {
    if (!token) return
    fetch(API, { headers: { Authorization: `Bearer ${token}` } }).then((response) =>
      response.text().then(setMe),
    )
  }, [token])
  if (auth.isLoading) return <p>Loading…</p>
  if (!auth.isAuthenticated) {
    return (
      <button type="button" onClick={() => auth.signinRedirect()}>
        Sign in
      </button>
    )
  }
  return (
    <div>
      <p>{me}</p>
      <button type="button" onClick={() => auth.signoutRedirect()}>
        Sign out
      </button>
    </div>
  )
}

createRoot(document.getElementById('root')!).render(
  <AuthProvider
    authority="https://idp.example.com"
    client_id="spa"
    redirect_uri={`${location.origin}/callback`}
    onSigninCallback={() => history.replaceState(null, '', '/')}
  >
    <Profile />
  </AuthProvider>,
)
