// A typical React app on @spa-auth/core + @spa-auth/react: the provider and the main hooks.
import { createAuthClient } from '@spa-auth/core'
import { AuthProvider, useAuth, useAuthFetch } from '@spa-auth/react'
import { useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'

const API = 'https://api.example.com/me'

const auth = createAuthClient({
  issuer: 'https://idp.example.com',
  clientId: 'spa',
  redirectUri: `${location.origin}/callback`,
  apiOrigins: ['https://api.example.com'],
})

function Profile() {
  const { isAuthenticated, isLoading, login, logout } = useAuth()
  const authFetch = useAuthFetch()
  const [me, setMe] = useState('')
  useEffect(() => {
    if (isAuthenticated) authFetch(API).then((response) => response.text().then(setMe))
  }, [isAuthenticated, authFetch])
  if (isLoading) return <p>Loading…</p>
  if (!isAuthenticated) {
    return (
      <button type="button" onClick={() => login()}>
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
  <AuthProvider client={auth}>
    <Profile />
  </AuthProvider>,
)
