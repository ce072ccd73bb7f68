// The React bindings over a BFF-mode client (MSW plays `@spa-auth/bff`'s HTTP contract): the same
// hooks and RequireAuth, no token anywhere.
import { createAuthClient } from '@spa-auth/core/bff'
import { render, screen } from '@testing-library/react'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RequireAuth } from './RequireAuth.js'
import { createWrapper } from './render.test-util.js'
import { useAuth } from './useAuth.js'
import { useAuthFetch } from './useAuthFetch.js'

const APP = 'https://app.example.com'
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const failure = (code: string) =>
  HttpResponse.json(
    { error: { code, message: code } },
    { status: 401, headers: { 'Spa-Auth-Error': code } },
  )

function Orders() {
  const { user } = useAuth()
  const authFetch = useAuthFetch()
  return (
    <button type="button" onClick={() => authFetch('/api/orders').catch(() => {})}>
      Orders of {user?.name}
    </button>
  )
}

describe('React over a BFF', () => {
  it('RequireAuth signs in once through the BFF when its session ends, never a loop', async () => {
    let sessionLives = true
    server.use(
      http.get(`${APP}/bff/session`, () =>
        sessionLives
          ? HttpResponse.json({ user: { sub: 'alice', name: 'Alice' } })
          : failure('login_required'),
      ),
      http.get(`${APP}/api/orders`, () => {
        sessionLives = false
        return failure('session_expired')
      }),
    )
    const navigations: string[] = []
    const auth = createAuthClient({ bff: '/bff', navigate: (url) => navigations.push(url) })
    render(
      <RequireAuth fallback={<p>Loading…</p>}>
        <Orders />
      </RequireAuth>,
      { wrapper: createWrapper(auth) },
    )
    ;(await screen.findByRole('button', { name: 'Orders of Alice' })).click()
    await screen.findByText('Loading…')
    await expect.poll(() => navigations.length).toBe(1)
    expect(new URL(navigations[0]!, APP).pathname).toBe('/bff/login')
    expect(new URL(navigations[0]!, APP).searchParams.get('returnTo')).toBe('/')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(navigations).toHaveLength(1)
    auth.dispose()
  })
})
