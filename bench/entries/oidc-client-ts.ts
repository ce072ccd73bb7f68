// The same app on oidc-client-ts.
import { UserManager } from 'oidc-client-ts'

const API = 'https://api.example.com/me'

const manager = new UserManager({
  authority: 'https://idp.example.com',
  client_id: 'spa',
  redirect_uri: `${location.origin}/callback`,
  scope: 'openid profile email offline_access',
})

async function main(): Promise<void> {
  if (location.pathname === '/callback') await manager.signinRedirectCallback()
  let user = await manager.getUser()
  if (!user) return manager.signinRedirect()
  if (user.expired) user = await manager.signinSilent()
  const me = await fetch(API, { headers: { Authorization: `Bearer ${user?.access_token}` } })
  document.body.textContent = await me.text()
  document.querySelector('#logout')?.addEventListener('click', () => manager.signoutRedirect())
}

main().catch(console.error)
