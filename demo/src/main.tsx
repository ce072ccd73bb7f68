import { showProviderPage, startMockProvider } from '@spa-auth/mocks/browser'
import { AuthProvider } from '@spa-auth/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { auth, mocked } from './auth'
import { idp } from './mock-idp'
import { replaceAddress } from './navigation'
import { logAuthEvent } from './timeline'
import './styles.css'

auth.on(logAuthEvent)

// With a real provider (VITE_ISSUER) the network is real: no service worker in the way.
// A silent sign-in runs in a hidden frame of this app: the parent reads the frame's URL, so
// the frame needs neither the mocks' service worker nor the app.
const framed = window.top !== window.self
// On every other page of the origin, the provider's too: MSW's service worker unregisters itself
// when the last page that started it is gone.
if (mocked && !framed) await startMockProvider(idp)
const root = document.getElementById('root')!
// The mock provider's own pages stand for another site: the app and its client stay out of them.
const providerPage = mocked && showProviderPage(idp, { root })

if (!providerPage) {
  createRoot(root).render(
    <StrictMode>
      {framed ? null : (
        <AuthProvider
          client={auth}
          onRedirectCallback={(returnTo) => replaceAddress(returnTo ?? '/')}
        >
          <App />
        </AuthProvider>
      )}
    </StrictMode>,
  )
}
