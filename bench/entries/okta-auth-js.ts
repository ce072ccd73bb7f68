// The same app on @okta/okta-auth-js.
import { OktaAuth } from '@okta/okta-auth-js'

const API = 'https://api.example.com/me'

const okta = new OktaAuth({
  issuer: 'https://idp.example.com/oauth2/default',
  clientId: 'spa',
  redirectUri: `${location.origin}/callback`,
  pkce: true,
})

async function main(): Promise<void> {
  if (okta.isLoginRedirect()) await okta.handleLoginRedirect()
  if (!(await okta.isAuthenticated())) return okta.signInWithRedirect()
  const token = await okta.getOrRenewAccessToken()
  const me = await fetch(API, { headers: { Authorization: `Bearer ${token}` } })
  document.body.textContent = await me.text()
  document.querySelector('#logout')?.addEventListener('click', () => okta.signOut())
}

main().catch(console.error)
