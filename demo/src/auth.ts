import { createAuthClient } from '@spa-auth/core'
import { idp } from './mock'

/** The app's one auth client, against the mock provider; the API is on the page's own origin. */
export const auth = createAuthClient({
  issuer: idp.issuer,
  clientId: idp.clientId,
  redirectUri: `${location.origin}/callback`,
  scope: 'openid profile email offline_access',
})
