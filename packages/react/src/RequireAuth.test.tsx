import { act, render, screen, waitFor } from '@testing-library/react'
import { HttpResponse, http } from 'msw'
import { describe, expect, it } from 'vitest'
import { API, ISSUER, otherTab, server, setup } from '../../core/src/harness.test-util.js'
import { portWorker } from '../../core/src/port.test-util.js'
import { RequireAuth } from './RequireAuth.js'
import { createWrapper } from './render.test-util.js'

const page = (
  <RequireAuth fallback={<p>Loading…</p>}>
    <p>Orders</p>
  </RequireAuth>
)

describe('RequireAuth', () => {
  it('renders the fallback while loading, then sends a signed-out user to sign in once', async () => {
    const { auth, navigations } = setup()
    history.replaceState(null, '', '/orders?page=2')
    render(page, { wrapper: createWrapper(auth) })
    expect(screen.getByText('Loading…')).toBeTruthy()

    await waitFor(() => expect(navigations).toHaveLength(1))
    await act(async () => {})

    expect(navigations).toHaveLength(1)
    expect(new URL(navigations[0]!).origin).toBe(ISSUER)
    const state = new URL(navigations[0]!).searchParams.get('state')
    expect(JSON.parse(sessionStorage.getItem(`spa-auth:tx:${state}`)!).returnTo).toBe(
      '/orders?page=2',
    )
    expect(screen.getByText('Loading…')).toBeTruthy()
    expect(screen.queryByText('Orders')).toBeNull()
  })

  it('renders the children for a signed-in user, without a redirect', async () => {
    const { auth, signIn, navigations } = setup()
    await signIn()
    const before = navigations.length
    render(page, { wrapper: createWrapper(auth) })
    expect(await screen.findByText('Orders')).toBeTruthy()
    expect(navigations).toHaveLength(before)
  })

  it('after a failed sign-in renders the error, not another redirect', async () => {
    const { auth, authorizeRedirect, navigations } = setup()
    history.replaceState(null, '', await authorizeRedirect({ deny: true }))
    const before = navigations.length
    render(page, { wrapper: createWrapper(auth) })

    expect(await screen.findByRole('alert')).toBeTruthy()
    expect(screen.getByRole('alert').textContent).toContain('The user denied the request')
    await act(async () => {})
    expect(navigations).toHaveLength(before)
  })

  it('renders the error through onError when login() itself fails', async () => {
    const { auth, navigations } = setup()
    server.use(http.get(`${ISSUER}/.well-known/*`, () => HttpResponse.error()))
    render(
      <RequireAuth onError={(e) => <p>Cannot sign in ({e.code})</p>}>
        <p>Orders</p>
      </RequireAuth>,
      { wrapper: createWrapper(auth) },
    )
    expect(await screen.findByText('Cannot sign in (discovery_failed)')).toBeTruthy()
    expect(navigations).toHaveLength(0)
  })

  it('H7: sign-out wins: no sign-in starts in the tab that signed out, nor in another tab', async () => {
    const worker = portWorker()
    const first = setup({ tokenWorker: worker.factory })
    await first.signIn()
    const { auth: other, navigations: otherNavigations } = otherTab(worker)
    await other.ready()
    render(page, { wrapper: createWrapper(first.auth) })
    render(page, { wrapper: createWrapper(other) })
    expect(await screen.findAllByText('Orders')).toHaveLength(2)
    const before = first.navigations.length

    await act(() => first.auth.logout())
    await waitFor(() => expect(screen.getAllByRole('status')).toHaveLength(2))

    // This tab left for the provider's end-session page, and for nothing else; the other stayed.
    const after = first.navigations.slice(before).map((url) => new URL(url).pathname)
    expect(after).toEqual(['/logout'])
    expect(otherNavigations).toEqual([])
    expect(screen.getAllByRole('status')[0]!.textContent).toContain('You signed out.')
    // Signing in again is the user's choice.
    act(() => screen.getAllByRole('button', { name: 'Sign in again' })[1]!.click())
    await waitFor(() =>
      expect(otherNavigations.map((url) => new URL(url).pathname)).toEqual(['/authorize']),
    )
  })

  it('H8: an ended session (the refresh token refused) leads to one sign-in redirect', async () => {
    const { auth, idp, signIn, navigations } = setup()
    await signIn()
    render(page, { wrapper: createWrapper(auth) })
    expect(await screen.findByText('Orders')).toBeTruthy()
    const before = navigations.length

    await idp.revokeRefreshTokens()
    await idp.revokeAccessTokens()
    await act(async () => {
      await auth.fetch(`${API}/api/me`).catch(() => {})
    })
    await waitFor(() => expect(navigations.length).toBe(before + 1))
    await act(async () => {})
    expect(new URL(navigations.at(-1)!).pathname).toBe('/authorize')
    expect(navigations).toHaveLength(before + 1)
    expect(screen.queryByRole('alert')).toBeNull()
    expect(screen.getByText('Loading…')).toBeTruthy()
  })
})
