// A component test as an app writes one: the mock provider on MSW's Node server, a user signed in
// through it, and the component behind RequireAuth.
import { createAuthClient } from '@spa-auth/core'
import { createMockProvider, mockBrowser } from '@spa-auth/mocks'
import { AuthProvider, RequireAuth } from '@spa-auth/react'
import { QueryClientProvider } from '@tanstack/react-query'
import { render, screen } from '@testing-library/react'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createQueryClient, Orders } from './orders'

const idp = createMockProvider({ issuer: 'https://idp.test', apiOrigin: 'https://api.test' })
const server = setupServer(...idp.handlers)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterAll(() => server.close())

it("shows the signed-in user's orders", async () => {
  const browser = mockBrowser(idp)
  const auth = createAuthClient({
    issuer: idp.issuer,
    clientId: idp.clientId,
    redirectUri: `${location.origin}/callback`,
    apiOrigins: [idp.apiOrigin],
    navigate: browser.navigate,
  })
  await browser.signIn(auth)
  render(
    <AuthProvider client={auth}>
      <QueryClientProvider client={createQueryClient()}>
        <RequireAuth>
          <Orders api={idp.apiOrigin} />
        </RequireAuth>
      </QueryClientProvider>
    </AuthProvider>,
  )
  expect(await screen.findByText('Hand grinder: 89')).toBeTruthy()
})
