import { act, render, renderHook, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { setup } from '../../core/src/harness.test-util.js'
import { createWrapper } from './render.test-util.js'
import { useAuth } from './useAuth.js'
import { useAuthFetch } from './useAuthFetch.js'

afterEach(() => vi.useRealTimers())

const renders = { selector: 0, whole: 0, expiry: 0 }
const seen: string[] = []

function UserName() {
  renders.selector++
  return <span>{useAuth((s) => s.user?.name)}</span>
}

function Whole() {
  renders.whole++
  const { user, isAuthenticated } = useAuth()
  return <span>{isAuthenticated ? user?.email : 'out'}</span>
}

function Expiry() {
  renders.expiry++
  return <span>{useAuth((s) => s.expiresAt)}</span>
}

function Status() {
  const { status, isLoading } = useAuth()
  seen.push(`${status}:${isLoading}`)
  return <span>{status}</span>
}

describe('useAuth', () => {
  it('re-renders no component that reads only the user when a token is refreshed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { auth, idp, signIn } = setup({}, { accessTokenLifetime: 20 })
    await signIn()
    render(
      <>
        <UserName />
        <Whole />
        <Expiry />
      </>,
      { wrapper: createWrapper(auth) },
    )
    await act(async () => {})
    const before = { ...renders }
    const expiresAt = auth.getState().expiresAt

    await act(async () => {
      // A second past the refresh's due time (15 s into a 20 s token): this test counts renders,
      // and the refresh is timed by the lifecycle's own tests.
      await vi.advanceTimersByTimeAsync(16_000)
      // The mock provider signs with WebCrypto, which fake timers do not drive.
      await vi.waitFor(() => expect(idp.counts.refresh).toBe(1))
      await vi.waitFor(() => expect(auth.getState().expiresAt).not.toBe(expiresAt))
    })

    expect(auth.getState().expiresAt).toBeGreaterThan(expiresAt!)
    expect(renders.selector - before.selector).toBe(0)
    expect(renders.whole - before.whole).toBe(0)
    // The control: a component that reads the expiry does re-render.
    expect(renders.expiry - before.expiry).toBeGreaterThan(0)
    console.log(
      `react figures: rerendersOnRefresh userSelector=${renders.selector - before.selector} ` +
        `useAuth()=${renders.whole - before.whole} expiresAtSelector=${renders.expiry - before.expiry}`,
    )
  })

  it('returns status flags and the actions of the client', async () => {
    const { auth, signIn } = setup()
    await signIn()
    const { result } = renderHook(() => useAuth(), { wrapper: createWrapper(auth) })
    expect(result.current).toMatchObject({
      status: 'authenticated',
      isAuthenticated: true,
      isLoading: false,
      user: { sub: 'alice' },
      login: auth.login,
      logout: auth.logout,
    })
    await act(() => result.current.logout({ localOnly: true }))
    expect(result.current.status).toBe('unauthenticated')
    expect(JSON.stringify(result.current)).not.toMatch(/eyJ/)
  })

  it('reports loading until the client has settled', async () => {
    const { auth } = setup()
    seen.length = 0
    render(<Status />, { wrapper: createWrapper(auth) })
    expect(seen[0]).toBe('loading:true')
    expect(await screen.findByText('unauthenticated')).toBeTruthy()
  })
})

describe('useAuthFetch', () => {
  it('returns the same function on every render, and it is the client fetch', async () => {
    const { auth, signIn } = setup()
    await signIn()
    const { result, rerender } = renderHook(() => useAuthFetch(), { wrapper: createWrapper(auth) })
    const first = result.current
    rerender()
    rerender()
    expect(result.current).toBe(first)
    expect(first).toBe(auth.fetch)
    expect((await first('https://api.example.com/api/me')).status).toBe(200)
  })
})
