// The same React app on @azure/msal-react (with @azure/msal-browser).
import { PublicClientApplication } from '@azure/msal-browser'
import { MsalProvider, useIsAuthenticated, useMsal } from '@azure/msal-react'
import { useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'

const API = 'https://api.example.com/me'
const scopes = ['api://spa/read']

const msal = new PublicClientApplication({
  auth: {
    clientId: 'spa',
    authority: 'https://idp.example.com',
    redirectUri: `${location.origin}/callback`,
  },
})

function Profile() {
  const { instance, accounts, inProgress } = useMsal()
  const isAuthenticated = useIsAuthenticated()
  const [me, setMe] = useState('')
  const account = accounts[0]
  useEffect(() => {
    if (!account) return
    instance
      .acquireTokenSilent({ scopes, account })
      .then(({ accessToken }) =>
        fetch(API, { headers: { Authorization: `Bearer ${accessToken}` } }),
      )
      .then((response) => response.text().then(setMe))
  }, [instance, account])
  if (inProgress !== 'none') return <p>Loading…</p>
  if (!isAuthenticated) {
    return (
      <button type="button" onClick={() => instance.loginRedirect({ scopes })}>
        Sign in
      </button>
    )
  }
  return (
    <div>
      <p>{me}</p>
      <button type="button" onClick={() => instance.logoutRedirect()}>
        Sign out
      </button>
    </div>
  )
}

msal.initialize().then(() => {
  createRoot(document.getElementById('root')!).render(
    <MsalProvider instance={msal}>
      <Profile />
    </MsalProvider>,
  )
})
