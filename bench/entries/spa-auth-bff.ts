// The same app in BFF mode on @spa-auth/core/bff: the session is the backend-for-frontend's, the
// API is called through its routes on the page's origin, and no token is in the page.
import { createAuthClient } from '@spa-auth/core/bff'

const auth = createAuthClient({ bff: '/bff' })

async function main(): Promise<void> {
  await auth.ready()
  if (auth.getState().status !== 'authenticated') return auth.login({ returnTo: '/' })
  const me = await auth.fetch('/api/me')
  document.body.textContent = await me.text()
  document.querySelector('#logout')?.addEventListener('click', () => auth.logout())
}

main().catch(console.error)
