import { showProviderPage, startMockProvider } from '@spa-auth/mocks/browser'
import { AuthProvider } from '@spa-auth/react'
import { QueryClientProvider } from '@tanstack/react-query'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { RouterProvider } from 'react-router'
import { auth } from './auth'
import { idp } from './mock-idp'
import { createQueryClient } from './orders'
import { createAppRouter } from './router'

// Started on every page of the origin, the provider's too (MSW's service worker unregisters
// itself when the last page that started it is gone), but not in the hidden silent sign-in
// frame, which only passes through.
if (window.top === window.self) await startMockProvider(idp)
const root = document.getElementById('root')!
// The mock provider's sign-in and sign-out pages: another site, in a real deployment.
if (!showProviderPage(idp, { root })) {
  const router = createAppRouter()
  const queries = createQueryClient()
  // What one user fetched must not be shown to the next.
  auth.on((event) => {
    if (event.type === 'logout') queries.clear()
  })
  createRoot(root).render(
    <StrictMode>
      <AuthProvider
        client={auth}
        onRedirectCallback={(returnTo) => router.navigate(returnTo ?? '/', { replace: true })}
      >
        <QueryClientProvider client={queries}>
          <RouterProvider router={router} />
        </QueryClientProvider>
      </AuthProvider>
    </StrictMode>,
  )
}
