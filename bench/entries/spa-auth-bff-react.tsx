// The same React app in BFF mode (@spa-auth/core/bff + @spa-auth/react): the session is the
// backend-for-frontend's, the API is called through its routes on the page's origin.
import { createAuthClient } from '@spa-auth/core/bff'
import { AuthProvider, useAuth, useAuthFetch } from '@spa-auth/react'
import { useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'

const API = '/api/me'

const auth = createAuthClient({ bff: '/bff' })

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
