// The same app on @azure/msal-browser.
import { PublicClientApplication } from '@azure/msal-browser'

const API = 'https://api.example.com/me'
const scopes = ['api://spa/read']

const msal = new PublicClientApplication({
  auth: {
    clientId: 'spa',
    authority: 'https://idp.example.com',
    redirectUri: `${location.origin}/callback`,
  },
})

async function main(): Promise<void> {
  await msal.initialize()
  await msal.handleRedirectPromise()
  const account = msal.getAllAccounts()[0]
  if (!account) return msal.loginRedirect({ scopes })
  const { accessToken } = await msal.acquireTokenSilent({ scopes, account })
  const me = await fetch(API, { headers: { Authorization: `Bearer ${accessToken}` } })
  document.body.textContent = await me.text()
  document.querySelector('#logout')?.addEventListener('click', () => msal.logoutRedirect())
}

main().catch(console.error)
