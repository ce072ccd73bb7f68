import { describe, expect, it, vi } from 'vitest'
import { setup } from './harness.test-util.js'
import { createTabs, parseMessage, type SharedSession } from './tabs.js'

const session: SharedSession = {
  tokens: { accessToken: 'at', refreshToken: 'rt', expiresIn: 60 },
  user: { sub: 'alice' },
}

function peer() {
  return { current: vi.fn(() => session), adopt: vi.fn(), signOut: vi.fn() }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20))

describe('tabs of one client', () => {
  it('E4: ignores malformed and foreign messages on the channel', async () => {
    const bad: unknown[] = [
      null,
      'logout',
      42,
      [],
      {},
      { type: 'logout', from: 'x' },
      { v: 2, type: 'logout', from: 'x' },
      { v: 1, type: 'logout' },
      { v: 1, type: 'logout', from: '' },
      { v: 1, type: 'session', from: 'x', seq: 1 },
      { v: 1, type: 'session', from: 'x', seq: 1.5, session },
      { v: 1, type: 'session', from: 'x', seq: 1, session: { tokens: { accessToken: '' } } },
      { v: 1, type: 'session', from: 'x', seq: 1, session: { tokens: { accessToken: 1 } } },
      {
        v: 1,
        type: 'session',
        from: 'x',
        seq: 1,
        session: { tokens: { accessToken: 'a', expiresIn: 'soon' } },
      },
      { v: 1, type: 'answer', from: 'x', id: 'q', seq: 1, session },
      { v: 1, type: 'ask', from: 'x' },
      { v: 1, type: 'evil', from: 'x' },
      { v: 1, type: 'logout', from: 'x'.repeat(500) },
    ]
    for (const message of bad) expect(parseMessage(message)).toBeUndefined()

    const listener = peer()
    const tabs = createTabs('spa-auth:test-e4', listener)
    const sender = new BroadcastChannel('spa-auth:test-e4')
    for (const message of bad) sender.postMessage(message)
    await tick()
    expect(listener.adopt).not.toHaveBeenCalled()
    expect(listener.signOut).not.toHaveBeenCalled()
    // A well-formed message does get through: the test above could fail.
    sender.postMessage({ v: 1, type: 'logout', from: 'other-tab' })
    await tick()
    expect(listener.signOut).toHaveBeenCalledTimes(1)
    console.log(`E4 figures: malformedMessages=${bad.length} acted=0`)
    sender.close()
    tabs.close()
  })

  it('hands the newest session to a tab that asks, and ignores older ones', async () => {
    const a = peer()
    const b = { ...peer(), current: vi.fn(() => undefined) }
    const tabA = createTabs('spa-auth:test-ask', a)
    const tabB = createTabs('spa-auth:test-ask', b)
    tabA.publish(session)
    await tick()
    expect(b.adopt).toHaveBeenCalledTimes(1)
    b.adopt.mockClear()
    // B already holds A's newest set: the answer to its question is no news.
    expect(await tabB.ask(100)).toBeUndefined()
    expect(b.adopt).not.toHaveBeenCalled()
    tabA.close()
    tabB.close()
  })

  it('works per tab, and says so once, where Web Locks are missing', async () => {
    expect(globalThis.navigator.locks).toBeUndefined()
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    const { auth, signIn } = setup()
    const stops = [auth.start(), auth.start()]
    await auth.ready()
    auth.dispose()
    stops.push(auth.start())
    const notices = info.mock.calls.filter(([m]) => String(m).includes('each tab keeps its own'))
    expect(notices).toHaveLength(1)
    await signIn()
    expect((await auth.fetch('https://api.example.com/api/me')).status).toBe(200)
    for (const stop of stops) stop()
    info.mockRestore()
  })
})
