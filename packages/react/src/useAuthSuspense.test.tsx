import type { AuthClient } from '@spa-auth/core'
import { act, render, screen } from '@testing-library/react'
import { Suspense } from 'react'
import { describe, expect, it, vi } from 'vitest'
import { setup } from '../../core/src/harness.test-util.js'
import { createWrapper } from './render.test-util.js'
import { useAuthSuspense } from './useAuthSuspense.js'

let renders = 0
const statuses: string[] = []

function Greeting({ name = '' }: { name?: string }) {
  renders++
  const { status, user, isLoading } = useAuthSuspense()
  statuses.push(status)
  expect(isLoading).toBe(false)
  return <p>{status === 'authenticated' ? `${name}Hello ${user?.name}` : `${name}signed out`}</p>
}

/** Every promise `ready()` handed out. */
function readyPromises(auth: AuthClient) {
  const seen = new Set<Promise<unknown>>()
  const ready = auth.ready.bind(auth)
  vi.spyOn(auth, 'ready').mockImplementation(() => {
    const promise = ready()
    seen.add(promise)
    return promise
  })
  return seen
}

let fallbacks = 0
function Restoring() {
  fallbacks++
  return <p>Restoring…</p>
}

/** Renders under StrictMode; React 19 wants a render that suspends inside an awaited `act`. */
function app(auth: AuthClient, names: string[]) {
  fallbacks = 0
  return act(async () => {
    render(
      <Suspense fallback={<Restoring />}>
        {names.map((name) => (
          <Greeting key={name} name={name} />
        ))}
      </Suspense>,
      { wrapper: createWrapper(auth) },
    )
  })
}

describe('useAuthSuspense', () => {
  it('suspends while the callback is handled, then renders the user: one code exchange, one ready(), no loop', async () => {
    const { auth, idp, authorizeRedirect } = setup()
    history.replaceState(null, '', await authorizeRedirect())
    const promises = readyPromises(auth)
    renders = 0
    statuses.length = 0
    await app(auth, ['a: ', 'b: ', 'c: '])
    expect(await screen.findByText('a: Hello Alice Martin')).toBeTruthy()
    expect(fallbacks).toBeGreaterThan(0)
    expect(screen.getByText('c: Hello Alice Martin')).toBeTruthy()
    expect(idp.counts.code).toBe(1)
    expect(promises.size).toBe(1)
    expect(statuses.every((s) => s === 'authenticated')).toBe(true)
    // Three components under StrictMode, each rendered twice per pass: a few passes, not a loop.
    expect(renders).toBeLessThanOrEqual(3 * 2 * 3)
  })

  it('on a page with no session: suspends, then signed out, never loading', async () => {
    const { auth } = setup()
    statuses.length = 0
    await app(auth, [''])
    expect(await screen.findByText('signed out')).toBeTruthy()
    expect(fallbacks).toBeGreaterThan(0)
    expect(statuses).toEqual(statuses.map(() => 'unauthenticated'))
  })

  it('does not suspend once the session is known', async () => {
    const { auth, signIn } = setup()
    await signIn()
    renders = 0
    await app(auth, [''])
    expect(screen.getByText('Hello Alice Martin')).toBeTruthy()
    expect(fallbacks).toBe(0)
    expect(renders).toBeLessThanOrEqual(2)
  })
})
