// A typical app on @spa-auth/core: create, log in, handle the callback, get a token, call an API,
// sign out. The size bench bundles this file as a browser app would.
import { createAuthClient } from '@spa-auth/core'

const API = 'https://api.example.com/me'

const auth = createAuthClient({
  issuer: 'https://idp.example.com',
  clientId: 'spa',
  redirectUri: `${location.origin}/callback`,
  apiOrigins: ['https://api.example.com'],
})

async function main(): Promise<void> {
  if (location.pathname === '/callback') await auth.handleCallback()
  if (auth.getState().status !== 'authenticated') return auth.login({ returnTo: '/' })
  const token = await auth.getAccessToken()
  const me = await auth.fetch(API)
  document.body.textContent = `${token.length} ${await me.text()}`
  document.querySelector('#logout')?.addEventListener('click', () => auth.logout())
}

main().catch(console.error)
