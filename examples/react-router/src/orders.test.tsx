// A component test as an app writes one: the mock provider on MSW's Node server, a user signed in
// through it, and the component behind RequireAuth.
import { createAuthClient, defineApis } from '@spa-auth/core'
import { createMockProvider, mockBrowser } from '@spa-auth/mocks'
import { AuthProvider, RequireAuth } from '@spa-auth/react'
import { QueryClientProvider } from '@tanstack/react-query'
import { render, screen } from '@testing-library/react'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Billing, createQueryClient, Orders } from './orders'

const billing = { url: 'https://api.test/billing', audience: 'urn:billing' }
const idp = createMockProvider({
  issuer: 'https://idp.test',
  apiOrigin: 'https://api.test',
  resources: [billing],
})
const server = setupServer(...idp.handlers)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterAll(() => server.close())

it("shows the signed-in user's orders, and calls the billing API with a token of its own", async () => {
  const browser = mockBrowser(idp)
  const auth = createAuthClient({
    issuer: idp.issuer,
    clientId: idp.clientId,
    redirectUri: `${location.origin}/callback`,
    apiOrigins: [idp.apiOrigin],
    apis: defineApis({ billing: { url: `${billing.url}/`, audience: billing.audience } }),
    navigate: browser.navigate,
  })
  await browser.signIn(auth)
  render(
    <AuthProvider client={auth}>
      <QueryClientProvider client={createQueryClient()}>
        <RequireAuth>
          <Orders api={idp.apiOrigin} />
          <Billing api={billing.url} />
        </RequireAuth>
      </QueryClientProvider>
    </AuthProvider>,
  )
  expect(await screen.findByText('Hand grinder: 89')).toBeTruthy()
  // The billing API refuses any token but one of its own audience.
  expect(await screen.findByText('Billing API: a token for urn:billing')).toBeTruthy()
})
