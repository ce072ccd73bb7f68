import { AuthProvider } from '@spa-auth/react'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { auth } from './auth'
import { startMocks } from './mock'
import { logAuthEvent } from './timeline'
import './styles.css'

auth.on(logAuthEvent)

await startMocks()

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AuthProvider
      client={auth}
      onRedirectCallback={(returnTo) => history.replaceState(null, '', returnTo ?? '/')}
    >
      <App />
    </AuthProvider>
  </StrictMode>,
)
