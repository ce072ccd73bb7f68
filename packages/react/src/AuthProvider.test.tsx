import { createAuthClient } from '@spa-auth/core'
import { act, render, renderHook, screen, waitFor } from '@testing-library/react'
import { useEffect } from 'react'
import { describe, expect, it, vi } from 'vitest'
import { APP, clientOptions, setup } from '../../core/src/harness.test-util.js'
import { useAuthClient } from './context.js'
import { createWrapper } from './render.test-util.js'
import { useAuth } from './useAuth.js'

function Profile() {
  const { status, user } = useAuth()
  return <p>{status === 'authenticated' ? `Hello ${user?.name}` : status}</p>
}

/** A router's catch-all redirect: children's effects run before the provider's. */
function Redirecting() {
  useEffect(() => history.replaceState(null, '', '/'), [])
  return <Profile />
}

describe('AuthProvider', () => {
  it('exchanges the code once under StrictMode and calls onRedirectCallback once', async () => {
    const { auth, idp, authorizeRedirect } = setup()
    history.replaceState(null, '', await authorizeRedirect())
    const onRedirectCallback = vi.fn()

    render(<Profile />, { wrapper: createWrapper(auth, { onRedirectCallback }) })

    expect(await screen.findByText('Hello Alice Martin')).toBeTruthy()
    expect(idp.counts.code).toBe(1)
    expect(idp.counts.token).toBe(1)
    expect(onRedirectCallback).toHaveBeenCalledTimes(1)
    expect(onRedirectCallback).toHaveBeenCalledWith('/orders')
    expect(location.href).toBe(`${APP}/callback`)
  })

  it('A14: a child that redirects in its effect, before the provider starts the client, loses no sign-in', async () => {
    const { authorizeRedirect, navigations, idp } = setup()
    history.replaceState(null, '', await authorizeRedirect())
    // The page loads at the callback; its client is created before React renders.
    const page = createAuthClient(clientOptions(navigations))
    const onRedirectCallback = vi.fn()

    render(<Redirecting />, { wrapper: createWrapper(page, { onRedirectCallback }) })

    expect(await screen.findByText('Hello Alice Martin')).toBeTruthy()
    expect(onRedirectCallback).toHaveBeenCalledWith('/orders')
    expect(idp.counts.code).toBe(1)
    page.dispose()
  })

  it('goes to returnTo by default after the callback', async () => {
    const { auth, authorizeRedirect } = setup()
    history.replaceState(null, '', await authorizeRedirect())
    render(<Profile />, { wrapper: createWrapper(auth) })
    await screen.findByText('Hello Alice Martin')
    await waitFor(() => expect(location.pathname).toBe('/orders'))
  })

  it('settles to unauthenticated on a page that is not a callback', async () => {
    const { auth, idp } = setup()
    render(<Profile />, { wrapper: createWrapper(auth) })
    expect(await screen.findByText('unauthenticated')).toBeTruthy()
    expect(idp.counts.token).toBe(0)
  })

  it('stops watching the page on unmount', async () => {
    const { auth } = setup()
    const add = vi.spyOn(window, 'addEventListener')
    const remove = vi.spyOn(window, 'removeEventListener')
    const { unmount } = render(<Profile />, { wrapper: createWrapper(auth) })
    await screen.findByText('unauthenticated')
    unmount()
    const added = add.mock.calls.map((c) => c[0]).sort()
    const removed = remove.mock.calls.map((c) => c[0]).sort()
    expect(added.length).toBeGreaterThan(0)
    expect(removed).toEqual(added)
    add.mockRestore()
    remove.mockRestore()
  })

  it('throws an error that says what to do outside a provider', () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(() => renderHook(() => useAuthClient())).toThrow(/inside <AuthProvider client=\{auth\}>/)
    expect(() => renderHook(() => useAuth())).toThrow(/createAuthClient\(\)/)
    vi.mocked(console.error).mockRestore()
  })

  it('hands the same client to every hook', async () => {
    const { auth } = setup()
    const { result } = renderHook(() => useAuthClient(), { wrapper: createWrapper(auth) })
    expect(result.current).toBe(auth)
    await act(async () => {})
  })
})
