// The same React app on @auth0/auth0-react (with @auth0/auth0-spa-js).
import { Auth0Provider, useAuth0 } from '@auth0/auth0-react'
import { useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'

const API = 'https://api.example.com/me'

function Profile() {
  const { isAuthenticated, isLoading, loginWithRedirect, logout, getAccessTokenSilently } =
    useAuth0()
  const [me, setMe] = useState('')
  useEffect(() => {
    if (!isAuthenticated) return
    getAccessTokenSilently()
      .then((token) => fetch(API, { headers: { Authorization: `Bearer ${token}` } }))
      .then((response) => response.text().then(setMe))
  }, [isAuthenticated, getAccessTokenSilently])
  if (isLoading) return <p>Loading…</p>
  if (!isAuthenticated) {
    return (
      <button type="button" onClick={() => loginWithRedirect()}>
        Sign in
      </button>
    )
  }
  return (
    <div>
      <p>{me}</p>
      <button type="button" onClick={() => logout()}>
        Sign out
      </button>
    </div>
  )
}

createRoot(document.getElementById('root')!).render(
  <Auth0Provider
    domain="idp.example.com"
    clientId="spa"
    authorizationParams={{ redirect_uri: `${location.origin}/callback` }}
    useRefreshTokens
  >
    <Profile />
  </Auth0Provider>,
)
