import { describe, expect, it } from 'vitest'
import { APP, keptProvider, setup as setupClient } from './harness.test-util.js'

const provider = keptProvider()
const setup = () => setupClient({ restore: { silent: 'redirect' } }, provider)

describe('session restore by top-level redirect (opt-in)', () => {
  it('tries prompt=none once, and a provider without a session ends signed out, quietly, without a loop', async () => {
    const first = setup()
    await first.auth.ready()
    expect(first.navigations).toHaveLength(1)
    const authorize = new URL(first.navigations[0]!)
    expect(authorize.searchParams.get('prompt')).toBe('none')

    // The provider has no session: it answers login_required, and the app loads the callback.
    history.replaceState(null, '', await first.idp.authorize(first.navigations[0]!))
    expect(new URL(location.href).searchParams.get('error')).toBe('login_required')
    const back = setup()
    await back.auth.ready()
    expect(back.auth.getState()).toEqual({ status: 'unauthenticated' })
    expect(back.navigations).toHaveLength(0)
    expect(back.events.filter((e) => e.type === 'error')).toHaveLength(0)

    // The next load of the app does not try again: no redirect loop.
    history.replaceState(null, '', `${APP}/orders`)
    const again = setup()
    await again.auth.ready()
    expect(again.navigations).toHaveLength(0)
    expect(again.auth.getState().status).toBe('unauthenticated')
  })

  it('signs in without a prompt when the provider session lives, and returns to the page', async () => {
    const first = setup()
    await first.signIn()
    await first.auth.logout({ localOnly: true })
    history.replaceState(null, '', `${APP}/orders?page=2`)

    const reload = setup()
    await reload.auth.ready()
    expect(reload.navigations).toHaveLength(1)
    history.replaceState(null, '', await reload.idp.authorize(reload.navigations[0]!))
    const back = setup()
    const result = await back.auth.ready()
    expect(back.auth.getState().status).toBe('authenticated')
    expect(result).toEqual({ returnTo: '/orders?page=2' })
  })
})
