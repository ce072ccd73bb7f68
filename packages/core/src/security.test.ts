import { describe, expect, it } from 'vitest'
import { CLIENT_ID, ISSUER, placesHoldingTokens, setup } from './harness.test-util.js'
import { simClock } from './sim.test-util.js'

/** A signed-in client on a simulated clock, and a way to make its token due for refresh. */
async function signedIn(sub = 'alice') {
  const sim = simClock()
  const ctx = setup({ clock: sim.clock })
  await ctx.signIn({ sub })
  const due = () => sim.set(ctx.auth.getState().expiresAt! - 30_000)
  return { ...ctx, due }
}

describe('B: what a refresh may change', () => {
  it('B4: a narrower or absent scope is accepted, and the granted scope is exposed', async () => {
    const sim = simClock()
    const { auth, idp, signIn, events } = setup({ clock: sim.clock })
    idp.faults.rewrite = (body) => ({ ...body, scope: 'openid' })
    await signIn()
    expect(auth.getState()).toMatchObject({ status: 'authenticated', scope: 'openid' })
    const first = await auth.getAccessToken()
    // No scope in the refresh answer: the one granted before stays.
    idp.faults.rewrite = ({ scope: _absent, ...body }) => body
    sim.set(auth.getState().expiresAt! - 30_000)
    expect(await auth.getAccessToken()).not.toBe(first)
    expect(idp.counts.refresh).toBe(1)
    expect(auth.getState()).toMatchObject({ status: 'authenticated', scope: 'openid' })
    expect(placesHoldingTokens({ state: auth.getState(), events })).toEqual([])
  })

  it('B6: a refreshed ID token naming another user is rejected and the old session kept', async () => {
    const { auth, idp, due } = await signedIn('alice')
    const mallory = await idp.sign({ sub: 'mallory', aud: CLIENT_ID, name: 'Mallory' }, 3600)
    idp.faults.rewrite = (body) => ({ ...body, id_token: mallory })
    due()
    const error = await auth.getAccessToken().catch((e: unknown) => e)
    expect(idp.counts.refresh).toBe(1)
    expect(error).toMatchObject({ name: 'AuthError', code: 'invalid_response' })
    expect(String((error as Error).message)).toMatch(/another user/)
    // Still Alice, still her token (not yet expired), and nothing of Mallory's in the state.
    expect(auth.getState()).toMatchObject({
      status: 'authenticated',
      user: { sub: 'alice', iss: ISSUER },
    })
    expect(JSON.stringify(auth.getState())).not.toContain('mallory')
  })
})
