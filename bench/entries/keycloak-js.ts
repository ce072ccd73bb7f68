// The same app on keycloak-js (init handles the callback).
import Keycloak from 'keycloak-js'

const API = 'https://api.example.com/me'

const keycloak = new Keycloak({ url: 'https://idp.example.com', realm: 'app', clientId: 'spa' })

async function main(): Promise<void> {
  const authenticated = await keycloak.init({ onLoad: 'check-sso', pkceMethod: 'S256' })
  if (!authenticated) return keycloak.login({ redirectUri: `${location.origin}/callback` })
  await keycloak.updateToken(30)
  const me = await fetch(API, { headers: { Authorization: `Bearer ${keycloak.token}` } })
  document.body.textContent = await me.text()
  document.querySelector('#logout')?.addEventListener('click', () => keycloak.logout())
}

main().catch(console.error)
