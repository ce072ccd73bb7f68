// Popup sign-in, both sides: the page that opens the popup (it completes the sign-in) and the
// popup's callback page (it hands the answer over and closes). The window is a stand-in for the
// browser's; the provider is the mock's. Catalogue group L; the whole round trip runs in Chromium
// (test/e2e/popup.test.ts).
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  APP,
  CLIENT_ID,
  ISSUER,
  rejection,
  sentRequests,
  setup,
  tokenRequests,
} from './harness.test-util.js'

const CHANNEL = `spa-auth:popup:${ISSUER}/|${CLIENT_ID}`

/** A popup as the opener sees it: same-origin and readable until it goes to the provider. */
function fakePopup() {
  let href = 'about:blank'
  const popup = {
    closed: false,
    close: vi.fn(() => {
      popup.closed = true
    }),
    location: {
      get href(): string {
        if (!href.startsWith(APP) && href !== 'about:blank')
          throw new DOMException('', 'SecurityError')
        return href
      },
      set href(next: string) {
        href = next
      },
    },
    /** Where the opener sent it, read as the test (not the page) can. */
    sentTo: () => href,
  }
  return popup
}

function opening(popup: ReturnType<typeof fakePopup> | null) {
  const marks: (string | null)[] = []
  const open = vi.spyOn(window, 'open').mockImplementation(() => {
    // A browser copies the opener's sessionStorage into the popup as it opens.
    marks.push(sessionStorage.getItem('spa-auth:popup'))
    return popup as unknown as Window
  })
  return { open, marks }
}

/** Posts on the popup channel as a callback page (or an attacker) would. */
function post(message: unknown) {
  const channel = new BroadcastChannel(CHANNEL)
  channel.postMessage(message)
  channel.close()
}

/** Resolves once the popup has been sent to the provider (again, when it was there already). */
async function sentToProvider(popup: ReturnType<typeof fakePopup>, before = popup.sentTo()) {
  await vi.waitFor(() => {
    expect(popup.sentTo()).toContain(`${ISSUER}/authorize`)
    expect(popup.sentTo()).not.toBe(before)
  })
  return new URL(popup.sentTo())
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('popup sign-in, from the page that opens it', () => {
  it('L1: opens the popup at once, sends it to the provider, and completes the answer its page hands back; this page stays where it was', async () => {
    const { auth, idp, navigations } = setup()
    const popup = fakePopup()
    const { open, marks } = opening(popup)
    history.replaceState(null, '', `${APP}/editor?draft=7`)
    const signedIn = auth.loginWithPopup()
    // Opened in the same task as the click: before anything was awaited.
    expect(open).toHaveBeenCalledTimes(1)
    expect(marks).toEqual(['1'])
    expect(sessionStorage.getItem('spa-auth:popup')).toBeNull()
    const authorize = await sentToProvider(popup)
    const callback = await idp.authorize(authorize.href, { sub: 'alice' })
    post({ v: 1, type: 'popup-callback', url: callback, id: 'p1' })
    await signedIn
    expect(auth.getState()).toMatchObject({ status: 'authenticated', user: { sub: 'alice' } })
    expect(tokenRequests()).toBe(1)
    expect(navigations).toEqual([])
    expect(location.href).toBe(`${APP}/editor?draft=7`)
  })

  it("K1: the popup's authorization request carries the client's authorizationParams", async () => {
    const { auth, idp } = setup({ authorizationParams: { audience: 'https://orders.example.com' } })
    const popup = fakePopup()
    opening(popup)
    const signedIn = auth.loginWithPopup()
    const authorize = await sentToProvider(popup)
    expect(authorize.searchParams.get('audience')).toBe('https://orders.example.com')
    post({ v: 1, type: 'popup-callback', url: await idp.authorize(authorize.href), id: 'k1' })
    await signedIn
    expect(auth.getState().status).toBe('authenticated')
  })

  it('L2: a popup the user closed is popup_closed within about a second', async () => {
    const { auth } = setup()
    const popup = fakePopup()
    opening(popup)
    const signedIn = auth.loginWithPopup()
    await sentToProvider(popup)
    await new Promise((resolve) => setTimeout(resolve, 300)) // seen on the provider's origin
    popup.close()
    const closedAt = Date.now()
    const error = await rejection(signedIn)
    expect(error.code).toBe('popup_closed')
    expect(Date.now() - closedAt).toBeLessThan(1_600)
    expect(tokenRequests()).toBe(0)
  })

  it('L3: a popup the browser refused is popup_blocked, and no authorization request is made', async () => {
    const { auth } = setup()
    opening(null)
    const error = await rejection(auth.loginWithPopup())
    expect(error.code).toBe('popup_blocked')
    expect(error.message).toMatch(/click handler/)
    expect(sentRequests).toEqual([])
  })

  it("L3: a parameter out of bounds (a long acr_values of an API's challenge) is invalid_options at once, and the popup is closed", async () => {
    const { auth } = setup()
    const popup = fakePopup()
    opening(popup)
    const error = await rejection(auth.stepUp({ acrValues: 'x'.repeat(5_000) }, { popup: true }))
    expect(error.code).toBe('invalid_options')
    expect(error.message).toMatch(/^loginWithPopup\(\): `acrValues`/)
    expect(popup.close).toHaveBeenCalled()
    expect(sentRequests).toEqual([])
  })

  it('L4: a message from another window, for another state, from another origin, or malformed, completes nothing; a second popup replaces the first, with one exchange', async () => {
    const { auth, idp } = setup()
    const popup = fakePopup()
    opening(popup)
    const first = auth.loginWithPopup()
    const firstAuthorize = await sentToProvider(popup)
    // The attacker's own sign-in: a real code for another account, another state.
    const elsewhere = new URL(firstAuthorize)
    elsewhere.searchParams.set('state', 'the-attackers-state')
    const theirs = await idp.authorize(elsewhere.href, { sub: 'mallory' })
    const ours = new URL(await idp.authorize(firstAuthorize.href, { sub: 'alice' }))
    const foreign = new URL(ours)
    foreign.host = 'evil.example'
    const twice = new URL(ours)
    twice.searchParams.append('state', 'x')
    for (const message of [
      { v: 1, type: 'popup-callback', url: theirs, id: 'a' },
      { v: 1, type: 'popup-callback', url: foreign.href, id: 'b' },
      { v: 1, type: 'popup-callback', url: twice.href, id: 'c' },
      { v: 2, type: 'popup-callback', url: ours.href, id: 'd' },
      { v: 1, type: 'popup-callback', url: ours.href },
      'popup-callback',
    ])
      post(message)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(tokenRequests()).toBe(0)
    expect(auth.getState().status).not.toBe('authenticated')

    // A second popup sign-in: the first ends, its answer is worth nothing now, and the window
    // (one name: the same one) stays open for the second.
    const second = auth.loginWithPopup()
    expect((await rejection(first)).code).toBe('popup_closed')
    expect(popup.close).not.toHaveBeenCalled()
    const secondAuthorize = await sentToProvider(popup)
    expect(secondAuthorize.searchParams.get('state')).not.toBe(ours.searchParams.get('state'))
    post({ v: 1, type: 'popup-callback', url: ours.href, id: 'e' })
    post({
      v: 1,
      type: 'popup-callback',
      url: await idp.authorize(secondAuthorize.href, { sub: 'alice' }),
      id: 'f',
    })
    await second
    expect(tokenRequests()).toBe(1)
    expect(auth.getState()).toMatchObject({ user: { sub: 'alice' } })
  })

  it('L5: a step-up in a popup asks for what the API asked, and keeps this page as it was', async () => {
    const { auth, idp, signIn, navigations } = setup()
    await signIn({ sub: 'alice' })
    const popup = fakePopup()
    opening(popup)
    history.replaceState(null, '', `${APP}/transfer?amount=100`)
    const stepped = auth.stepUp({ acrValues: 'mfa', maxAge: 0 }, { popup: true })
    const authorize = await sentToProvider(popup)
    expect(authorize.searchParams.get('acr_values')).toBe('mfa')
    expect(authorize.searchParams.get('max_age')).toBe('0')
    post({
      v: 1,
      type: 'popup-callback',
      url: await idp.authorize(authorize.href, { sub: 'alice' }),
      id: 's',
    })
    await stepped
    expect(tokenRequests()).toBe(2)
    expect(navigations).toHaveLength(1) // the first sign-in's redirect only
    expect(location.href).toBe(`${APP}/transfer?amount=100`)
  })
})

describe("the popup's callback page", () => {
  it('L6: hands the answer to the page that opened it, makes no token request, and closes', async () => {
    const { auth } = setup()
    const close = vi.spyOn(window, 'close').mockImplementation(() => {})
    sessionStorage.setItem('spa-auth:popup', '1') // copied from the opener as it opened
    const callback = `${APP}/callback?code=abc&state=s1&iss=${encodeURIComponent(ISSUER)}`
    const opener = new BroadcastChannel(CHANNEL)
    const offered: unknown[] = []
    opener.onmessage = ({ data }) => {
      offered.push(data)
      opener.postMessage({ v: 1, type: 'popup-claimed', id: data.id })
    }
    const result = await auth.handleCallback(callback)
    opener.close()
    expect(result).toEqual({ returnTo: undefined })
    expect(offered).toEqual([
      { v: 1, type: 'popup-callback', url: callback, id: expect.any(String) },
    ])
    expect(close).toHaveBeenCalled()
    expect(tokenRequests()).toBe(0)
    expect(sessionStorage.getItem('spa-auth:popup')).toBeNull()
  })

  it("L6: hands the answer over even when the popup holds a copy of its opener's transaction", async () => {
    // A browser copies the opener's session storage into a window it opens, at a time of its own:
    // the copy may hold the transaction the opener wrote for this very sign-in.
    const { auth, authorizeRedirect } = setup()
    const callback = await authorizeRedirect()
    const close = vi.spyOn(window, 'close').mockImplementation(() => {})
    sessionStorage.setItem('spa-auth:popup', '1')
    const opener = new BroadcastChannel(CHANNEL)
    const offered: unknown[] = []
    opener.onmessage = ({ data }) => {
      offered.push(data)
      opener.postMessage({ v: 1, type: 'popup-claimed', id: data.id })
    }
    const before = tokenRequests()
    const result = await auth.handleCallback(callback)
    opener.close()
    expect(result).toEqual({ returnTo: undefined })
    expect(offered).toHaveLength(1)
    expect(close).toHaveBeenCalled()
    // The opener makes the one code exchange; the popup none.
    expect(tokenRequests()).toBe(before)
  })

  it('L6: a callback in a window that is not a popup is not offered to anyone', async () => {
    const { auth } = setup()
    const listener = new BroadcastChannel(CHANNEL)
    const offered: unknown[] = []
    listener.onmessage = ({ data }) => offered.push(data)
    const error = await rejection(auth.handleCallback(`${APP}/callback?code=abc&state=s1`))
    listener.close()
    expect(error.code).toBe('callback_invalid')
    expect(offered).toEqual([])
  })
})
