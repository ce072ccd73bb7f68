import { AuthProvider } from '@spa-auth/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { auth, realIssuer } from './auth'
import { MockSignIn, MockSignOut } from './MockProvider'
import { startMocks } from './mock'
import { logAuthEvent } from './timeline'
import './styles.css'

auth.on(logAuthEvent)

// With a real provider (VITE_ISSUER) the network is real: no service worker in the way.
// A silent sign-in runs in a hidden frame of this app: the parent reads the frame's URL, so
// the frame needs neither the mocks' service worker nor the app.
const framed = window.top !== window.self
if (!realIssuer && !framed) await startMocks()

// The mock provider's own pages stand for another site: the app and its client stay out of them.
const providerPages: Record<string, () => React.JSX.Element> = {
  '/mock-idp/authorize': MockSignIn,
  '/mock-idp/logout': MockSignOut,
}
const ProviderPage = realIssuer ? undefined : providerPages[location.pathname]

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {ProviderPage ? (
      <ProviderPage />
    ) : framed ? null : (
      <AuthProvider
        client={auth}
        onRedirectCallback={(returnTo) => history.replaceState(null, '', returnTo ?? '/')}
      >
        <App />
      </AuthProvider>
    )}
  </StrictMode>,
)
