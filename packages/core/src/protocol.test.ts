// The page ↔ engine protocol over real MessageChannels, in Node: what a page script that opens
// its own port to the token worker can and cannot do, and several pages on one engine.
import { http } from 'msw'
import { describe, expect, it } from 'vitest'
import {
  API,
  APP,
  CLIENT_ID,
  ISSUER,
  issuedTokens,
  otherTab,
  server,
  setup,
  tokenRequests,
} from './harness.test-util.js'
import { ask, portWorker } from './port.test-util.js'
import { parseWorkerName, VERSION, workerName } from './protocol.js'
import { simClock } from './sim.test-util.js'

/** Two pages (clients) on one token worker, and the worker's name. */
function twoPages(options: Parameters<typeof setup>[0] = {}) {
  const worker = portWorker(options.clock ? { clock: options.clock } : {})
  const first = setup({ tokenWorker: worker.factory, ...options })
  const second = otherTab(worker, options).auth
  return { worker, first, second }
}

/** Every string in `value`, however deep. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (typeof value !== 'object' || value === null) return []
  return Object.values(value).flatMap(strings)
}

describe('E: the engine behind a port', () => {
  it('E4: malformed or foreign messages on a port are refused (answered with an error when they carry an id, else dropped), and change nothing', async () => {
    const { worker, first } = twoPages()
    await first.signIn()
    const before = first.auth.getState()
    const token = await first.auth.getAccessToken()
    const attacker = worker.connect(worker.name)
    const big = 'x'.repeat(100_000)
    const junk: unknown[] = [
      null,
      'hello',
      42,
      [],
      {},
      { v: 2, type: 'hello', id: 1 },
      { v: '1', type: 'hello', id: 2 },
      { v: VERSION, type: 'nope', id: 3 },
      { v: VERSION, type: 'hello', id: -1 },
      { v: VERSION, type: 'hello', id: 'x' },
      { v: VERSION, type: 'token', reason: 'because', id: 4 },
      { v: VERSION, type: 'token', reason: 'unauthorized', stale: 'all', id: 5 },
      { v: VERSION, type: 'callback', url: 5, transaction: null, id: 6 },
      { v: VERSION, type: 'callback', url: big, transaction: null, id: 7 },
      { v: VERSION, type: 'callback', url: `${APP}/callback`, transaction: { state: 1 }, id: 8 },
      { v: VERSION, type: 'logout', id: 9 },
      { v: VERSION, type: 'logout', revoke: 'yes', idTokenHint: false, id: 10 },
      { v: VERSION, type: 'authorize', params: { prompt: {} }, id: 11 },
      { v: VERSION, type: 'authorize', params: { extraParams: { a: 1 } }, id: 12 },
      { v: VERSION, type: 'session', session: { status: 'authenticated' }, id: 13 },
      JSON.parse(
        `{"v":${VERSION},"type":"logout","id":14,"__proto__":{"revoke":true,"idTokenHint":false}}`,
      ),
    ]
    const answers = await Promise.all(junk.map((message) => ask(attacker, message)))
    // A message of this version with an id is answered with an error, so that no caller waits;
    // anything else has no one to answer.
    const answerable = (m: unknown) => {
      const { v, id } = (m ?? {}) as { v?: unknown; id?: unknown }
      return v === VERSION && Number.isSafeInteger(id) && (id as number) >= 0
    }
    expect(answers).toEqual(
      junk.map((m) =>
        answerable(m)
          ? expect.objectContaining({
              ok: false,
              error: expect.objectContaining({ code: 'invalid_options' }),
            })
          : undefined,
      ),
    )
    const refused = answers.filter(Boolean).length
    expect(refused).toBe(12)
    expect(first.auth.getState()).toEqual(before)
    expect(await first.auth.getAccessToken()).toBe(token)
    expect(first.idp.counts.revocation).toBe(0)
    console.log(
      `E4 figures: malformedMessages=${junk.length} refusedWithError=${refused} answeredOtherwise=0 sessionChanged=0`,
    )
  })

  it('E5: no request returns the refresh token and no message carries one, through sign-in, refresh, 401, a second page and sign-out', async () => {
    const sim = simClock()
    const { worker, first, second } = twoPages({ clock: sim.clock })
    await first.signIn()
    await second.ready()
    expect(second.getState().status).toBe('authenticated')
    // A refresh when due, a refresh after a 401, and what a listening script would ask for.
    sim.set(first.auth.getState().expiresAt! - 30_000)
    await first.auth.getAccessToken()
    await first.idp.revokeAccessTokens()
    expect((await second.fetch(`${API}/api/me`)).status).toBe(200)
    const attacker = worker.connect(worker.name)
    const asked = await Promise.all([
      ask(attacker, { v: VERSION, type: 'hello', id: 1 }),
      ask(attacker, { v: VERSION, type: 'token', reason: 'scheduled', id: 2 }),
      ask(attacker, { v: VERSION, type: 'authorize', params: {}, id: 3 }),
    ])
    await second.logout()

    const refreshTokens = issuedTokens().filter((t) => !t.startsWith('eyJ'))
    expect(first.idp.counts.refresh).toBe(2)
    expect(refreshTokens.length).toBe(3)
    const crossed = strings([...worker.sent, ...asked])
    for (const token of refreshTokens) expect(crossed).not.toContain(token)
    expect(crossed.some((s) => refreshTokens.some((t) => s.includes(t)))).toBe(false)
    for (const answer of asked)
      expect(JSON.stringify(answer)).not.toMatch(/refresh_?token|idToken|id_token/i)
    console.log(
      `E5 figures: messagesChecked=${worker.sent.length + asked.length} refreshTokensIssued=${refreshTokens.length} refreshTokensOnAPort=0`,
    )
  })

  it('E6: forged callbacks cannot plant a session: a made-up code, a replayed callback, a forged transaction', async () => {
    const { worker, first } = twoPages()
    const callback = await first.authorizeRedirect()
    const state = new URL(callback).searchParams.get('state')!
    const stored = JSON.parse(sessionStorage.getItem(`spa-auth:tx:${state}`)!)
    history.replaceState(null, '', callback)
    await first.auth.handleCallback()
    const signedIn = first.auth.getState()
    const token = await first.auth.getAccessToken()
    const attacker = worker.connect(worker.name)
    const forge = (url: string, transaction: unknown, id: number) =>
      ask(attacker, { v: VERSION, type: 'callback', url, transaction, id }, 2_000)
    const before = tokenRequests()

    // The very callback again: already handled, no token request (a code is used once).
    const replayed = (await forge(callback, stored, 1)) as { ok: boolean; error: { code: string } }
    expect(replayed).toMatchObject({ ok: false, error: { code: 'callback_invalid' } })
    expect(tokenRequests()).toBe(before)

    // A made-up code with a transaction of the attacker's own: not one the engine started (H25).
    const madeUp = `${APP}/callback?code=forged-code&state=s-1&iss=${encodeURIComponent(ISSUER)}`
    const forgedTx = { ...stored, state: 's-1', verifier: 'v'.repeat(43) }
    const refused = (await forge(madeUp, forgedTx, 2)) as { ok: boolean; error: { code: string } }
    expect(refused).toMatchObject({ ok: false, error: { code: 'callback_invalid' } })

    // A transaction naming another redirect URI or client: refused before any request.
    const otherClient = await forge(
      madeUp.replace('s-1', 's-2'),
      { ...forgedTx, state: 's-2', clientId: 'evil' },
      3,
    )
    expect(otherClient).toMatchObject({ ok: false, error: { code: 'callback_invalid' } })
    expect(tokenRequests()).toBe(before)

    expect(first.auth.getState()).toEqual(signedIn)
    expect(await first.auth.getAccessToken()).toBe(token)
    expect(first.events.filter((e) => e.type === 'login')).toHaveLength(1)
  })

  it('E6: a worker answers only to the configuration in its name: another name is another worker', async () => {
    const { first, worker } = twoPages()
    await first.auth.ready()
    const config = parseWorkerName(worker.name)!
    expect(config).toMatchObject({ issuer: `${ISSUER}/`, clientId: CLIENT_ID })
    for (const bad of [
      '',
      'spa-auth:',
      'spa-auth:{',
      'spa-auth:[]',
      'other:{}',
      `spa-auth:${JSON.stringify({ ...config, issuer: 7 })}`,
    ]) {
      expect(parseWorkerName(bad)).toBeUndefined()
    }
    // A name is the whole configuration: one changed field is a different worker.
    expect(workerName({ ...config, metadata: { issuer: 'https://evil.example' } })).not.toBe(
      worker.name,
    )
  })

  it('E1: two pages on one worker whose token is due make one refresh, and both get its token', async () => {
    const sim = simClock()
    const { first, second } = twoPages({ clock: sim.clock })
    await first.signIn()
    await second.ready()
    expect(tokenRequests()).toBe(1)
    sim.set(first.auth.getState().expiresAt! - 30_000)
    const tokens = await Promise.all([
      ...Array.from({ length: 50 }, () => first.auth.getAccessToken()),
      ...Array.from({ length: 50 }, () => second.getAccessToken()),
    ])
    expect(first.idp.counts.refresh).toBe(1)
    expect(new Set(tokens).size).toBe(1)
    expect(second.getState()).toEqual(first.auth.getState())
  })

  it('E3: sign-in in one page reaches the other; sign-out in the other reaches the first', async () => {
    const { first, second } = twoPages()
    await second.ready()
    expect(second.getState().status).toBe('unauthenticated')
    await first.signIn()
    await expect.poll(() => second.getState().status).toBe('authenticated')
    expect(tokenRequests()).toBe(1)

    await second.logout({ localOnly: true })
    await expect.poll(() => first.auth.getState().status).toBe('unauthenticated')
    await expect(first.auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
  })

  it('E2: the page that asked for a refresh goes away mid-refresh: the worker finishes it for the other', async () => {
    const sim = simClock()
    const { first, second } = twoPages({ clock: sim.clock })
    await first.signIn()
    await second.ready()
    let answer: () => void = () => {}
    const held = new Promise<void>((resolve) => {
      answer = resolve
    })
    server.use(
      http.post(`${ISSUER}/token`, async () => {
        await held
        return undefined
      }),
    )
    sim.set(first.auth.getState().expiresAt! - 30_000)
    const asking = first.auth.getAccessToken().catch((e: unknown) => e)
    await expect.poll(() => tokenRequests()).toBe(2)
    first.auth.dispose()
    answer()
    await asking
    const token = await second.getAccessToken()
    expect(first.idp.counts.refresh).toBe(1)
    expect(second.getState().status).toBe('authenticated')
    expect((await second.fetch(`${API}/api/me`)).status).toBe(200)
    expect(token).toBeTruthy()
  })
})
