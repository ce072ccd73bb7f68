// The same app on @auth0/auth0-spa-js.
import { createAuth0Client } from '@auth0/auth0-spa-js'

const API = 'https://api.example.com/me'

async function main(): Promise<void> {
  const auth0 = await createAuth0Client({
    domain: 'idp.example.com',
    clientId: 'spa',
    authorizationParams: { redirect_uri: `${location.origin}/callback` },
    useRefreshTokens: true,
  })
  if (location.pathname === '/callback') await auth0.handleRedirectCallback()
  if (!(await auth0.isAuthenticated())) return auth0.loginWithRedirect()
  const token = await auth0.getTokenSilently()
  const me = await fetch(API, { headers: { Authorization: `Bearer ${token}` } })
  document.body.textContent = await me.text()
  document.querySelector('#logout')?.addEventListener('click', () => auth0.logout())
}

main().catch(console.error)
