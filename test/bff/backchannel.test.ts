// OpenID Connect Back-Channel Logout at the BFF: a logout token signed by the provider's key ends
// the sessions it names; every variation of a token that does not hold is refused and ends
// nothing. Catalogue group J.
import { randomUUID } from 'node:crypto'
import { decodeJwt, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APP, browser, startBffStack } from './harness.js'

let stack: Awaited<ReturnType<typeof startBffStack>>
beforeAll(async () => {
  stack = await startBffStack()
})
afterAll(() => stack?.close())

const EVENT = { 'http://schemas.openid.net/event/backchannel-logout': {} }

/** A logout token's claims as the provider makes them, for `sub` (and `sid`). */
const claims = (sub: string, sid?: string) => ({
  iss: stack.idp.issuer,
  aud: 'bff-app',
  iat: Math.floor(Date.now() / 1000),
  jti: randomUUID(),
  sub,
  ...(sid ? { sid } : {}),
  events: EVENT,
})

/** Posts a logout token to the BFF as the provider would (no cookie, no CSRF header). */
async function post(bff: ReturnType<typeof stack.bff>, token: string) {
  return bff(
    new Request(`${APP}/bff/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }),
    }),
  )
}

async function signedIn(bff: ReturnType<typeof stack.bff>, login: string) {
  const user = browser()
  await user.signIn(bff, stack.idp, { login })
  const alive = async () => (await user.fetch(bff, '/bff/session')).status === 200
  return { user, alive }
}

/** Logout tokens that do not hold, each made as an attacker (or a confused provider) would. */
const REFUSED: [string, () => Promise<string>][] = [
  ['another audience', () => stack.idp.sign({ ...claims('frank'), aud: 'demo-spa' })],
  ['another issuer', () => stack.idp.sign({ ...claims('frank'), iss: 'https://evil.example' })],
  ['no events claim', () => stack.idp.sign({ ...claims('frank'), events: undefined })],
  ['the wrong event', () => stack.idp.sign({ ...claims('frank'), events: { other: {} } })],
  ['a nonce (an ID token)', () => stack.idp.sign({ ...claims('frank'), nonce: 'n' })],
  ['an ID token typ', () => stack.idp.sign(claims('frank'), { typ: 'JWT+id' })],
  ['no jti', () => stack.idp.sign({ ...claims('frank'), jti: undefined })],
  ['no iat', () => stack.idp.sign({ ...claims('frank'), iat: undefined })],
  [
    'an old iat',
    () => stack.idp.sign({ ...claims('frank'), iat: Math.floor(Date.now() / 1000) - 3600 }),
  ],
  ['neither sub nor sid', () => stack.idp.sign({ ...claims('frank'), sub: undefined })],
  [
    "a key of the attacker's",
    async () => {
      const { privateKey } = await generateKeyPair('RS256')
      return new SignJWT(claims('frank'))
        .setProtectedHeader({ alg: 'RS256', kid: 'interop-rs256' })
        .sign(privateKey)
    },
  ],
  [
    'alg none',
    async () => {
      const body = Buffer.from(JSON.stringify(claims('frank'))).toString('base64url')
      return `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`
    },
  ],
  ['not a JWT', async () => 'garbage'],
]

describe('back-channel logout', () => {
  it('J21: a provider whose clock runs half a minute ahead is believed', async () => {
    const bff = stack.bff()
    const henry = await signedIn(bff, 'henry')
    const ahead = { ...claims('henry'), iat: Math.floor(Date.now() / 1000) + 30 }
    expect((await post(bff, await stack.idp.sign(ahead))).status).toBe(200)
    expect(await henry.alive()).toBe(false)
  })

  it('J21: a verified logout token for a sub ends every session of that user, and only theirs', async () => {
    const bff = stack.bff()
    const [carol1, carol2, dave] = await Promise.all([
      signedIn(bff, 'carol'),
      signedIn(bff, 'carol'),
      signedIn(bff, 'dave'),
    ])
    const answer = await post(bff, await stack.idp.sign(claims('carol')))
    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(await carol1.alive()).toBe(false)
    expect(await carol2.alive()).toBe(false)
    expect(await dave.alive()).toBe(true)
    // A new sign-in after the logout is a new session, not ended by the old token.
    const again = await signedIn(bff, 'carol')
    expect(await again.alive()).toBe(true)
  })

  it("J22: a logout token naming the provider's session (sid) ends that session", async () => {
    const bff = stack.bff()
    const erin = await signedIn(bff, 'erin')
    // The sid the provider put in the ID token, as the BFF kept it.
    const sid = await lastSid()
    const answer = await post(bff, await stack.idp.sign(claims('someone-else', sid)))
    expect(answer.status).toBe(200)
    expect(await erin.alive()).toBe(false)
  })

  it.each(REFUSED)(
    'J23: a logout token with %s is refused (400) and ends nothing',
    async (_, make) => {
      const bff = stack.bff()
      const frank = await signedIn(bff, 'frank')
      const answer = await post(bff, await make())
      expect(answer.status).toBe(400)
      expect((await answer.json()).error.code).toBe('invalid_request')
      expect(await frank.alive()).toBe(true)
    },
  )

  it('J24: a logout token is used once: its replay is refused, and a form without one, or JSON, too', async () => {
    const bff = stack.bff()
    const token = await stack.idp.sign(claims('grace'))
    expect((await post(bff, token)).status).toBe(200)
    expect((await post(bff, token)).status).toBe(400)
    const json = await bff(
      new Request(`${APP}/bff/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ logout_token: token }),
      }),
    )
    expect(json.status).toBe(400)
    const get = await bff(new Request(`${APP}/bff/backchannel-logout`))
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    const huge = await bff(
      new Request(`${APP}/bff/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `logout_token=${'x'.repeat(100_000)}`,
      }),
    )
    expect(huge.status).toBe(400)
  })
})

/** The `sid` of the last ID token the provider issued: the provider session it names. */
function lastSid(): string {
  const idToken = stack.idp.tokenAnswers.findLast((a) => a.idToken)?.idToken as string
  return decodeJwt(idToken).sid as string
}
